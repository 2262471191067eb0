"""Resource limits of a run's kernel: what every sandbox backend enforces, as plain data.

:class:`ResourceLimits` is what a user asks for (``None`` means "the default
for this machine"); :func:`resolve_limits` turns it into the numbers applied
to one run, and says why a limit is off (an address-space limit breaks CUDA,
so it is off where a GPU is visible and the memory cgroup carries the load).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "THREAD_VARIABLES",
    "EffectiveLimits",
    "ResourceLimits",
    "gpu_visible",
    "parse_size",
    "physical_memory",
    "resolve_limits",
]

#: the environment variables that set TensorFlow's and the BLAS libraries' thread pools
THREAD_VARIABLES = (
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
)

GiB = 1024**3
MiB = 1024**2
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": MiB, "g": GiB, "t": 1024 * GiB}


def parse_size(text: str) -> int:
    """``"8G"``, ``"512M"``, ``"2GiB"`` or a byte count -> bytes (ValueError when malformed)."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size (expected e.g. 8G, 512M or a byte count)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


class ResourceLimits(BaseModel):
    """Limits for one run's kernel; ``None`` picks the machine's default, ``0`` turns one off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_bytes: int | None = Field(
        default=None,
        description="memory cgroup limit of the kernel and its children (default: 3/4 of RAM)",
    )
    address_space_bytes: int | None = Field(
        default=None,
        description="RLIMIT_AS per process (default: the machine's RAM, at least 8 GiB; "
        "off where a GPU is visible, since CUDA reserves large address ranges)",
    )
    processes: int = Field(default=4096, description="processes and threads (pids cgroup / NPROC)")
    file_bytes: int = Field(default=2 * GiB, description="RLIMIT_FSIZE: the largest file written")
    open_files: int = Field(default=4096, description="RLIMIT_NOFILE")
    disk_bytes: int = Field(
        default=4 * GiB, description="bytes the run may write into its own folders"
    )
    disk_files: int = Field(default=100_000, description="files the run may create")
    tmp_bytes: int = Field(default=1 * GiB, description="size of the private /tmp and /dev/shm")
    output_bytes: int = Field(
        default=64 * MiB, description="cell output kept for the executed notebook, whole run"
    )
    message_bytes: int = Field(
        default=256 * MiB, description="the largest single message accepted from the kernel"
    )
    verify_seconds: float = Field(
        default=900.0, description="time the out-of-process verification may take"
    )
    verify_rows: int = Field(
        default=2000,
        description="test rows re-evaluated per model (an even sample; the smoke profile uses 300)",
    )


class EffectiveLimits(BaseModel):
    """The numbers applied to one run (``None``: not applied) and why some are off."""

    model_config = ConfigDict(extra="forbid")

    memory_bytes: int | None
    address_space_bytes: int | None
    processes: int
    file_bytes: int
    open_files: int
    disk_bytes: int
    disk_files: int
    tmp_bytes: int
    output_bytes: int
    message_bytes: int
    verify_seconds: float
    verify_rows: int
    notes: list[str] = Field(default_factory=list)


def physical_memory() -> int | None:
    """Bytes of RAM of this machine; None when it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def gpu_visible() -> bool:
    """True when an NVIDIA device node exists and CUDA_VISIBLE_DEVICES does not hide it."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    return Path("/dev/nvidiactl").exists() or Path("/dev/nvidia0").exists()


def resolve_limits(
    limits: ResourceLimits, *, gpu: bool | None = None, ram: int | None = None
) -> EffectiveLimits:
    """The limits for one run on this machine."""
    gpu = gpu_visible() if gpu is None else gpu
    ram = physical_memory() if ram is None else ram
    notes: list[str] = []
    memory = limits.memory_bytes
    if memory is None:
        memory = ram * 3 // 4 if ram else None
    elif memory == 0:
        memory = None
    space = limits.address_space_bytes
    if space is None:
        if gpu:
            space = None
            notes.append(
                "address-space limit off: a GPU is visible and CUDA reserves large address "
                "ranges; memory is limited by the memory cgroup where one is available"
            )
        else:
            space = max(8 * GiB, ram or 0)
    elif space == 0:
        space = None
    return EffectiveLimits(
        memory_bytes=memory,
        address_space_bytes=space,
        processes=limits.processes,
        file_bytes=limits.file_bytes,
        open_files=limits.open_files,
        disk_bytes=limits.disk_bytes,
        disk_files=limits.disk_files,
        tmp_bytes=limits.tmp_bytes,
        output_bytes=limits.output_bytes,
        message_bytes=limits.message_bytes,
        verify_seconds=limits.verify_seconds,
        verify_rows=limits.verify_rows,
        notes=notes,
    )
