"""GPU slots for a batch: which GPU each run gets, and how many runs share one GPU.

``grader batch --gpus 0,1 --per-gpu 2`` lets four runs go at once, two on
each GPU. A run sees only its own GPU (``CUDA_VISIBLE_DEVICES``) and asks
TensorFlow to take GPU memory as it needs it (``TF_FORCE_GPU_ALLOW_GROWTH``)
instead of all of it at start, so several small CIFAR runs fit on one card.

:class:`GpuSlots` is the bookkeeping of the local worker pool: a new run
goes to the GPU with the fewest runs (the lowest index on a tie), never more
than ``per_gpu`` on one. On a dask cluster the scheduler does the same with
worker resources: each worker declares ``{"GPU": K}`` and each submission
asks for ``{"GPU": 1}`` (:data:`GPU_RESOURCE`, :func:`worker_resources`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from grader.errors import UsageError

__all__ = [
    "GPU_RESOURCE",
    "GpuSlots",
    "SlotsFull",
    "detect_gpus",
    "gpu_env",
    "parse_gpus",
    "task_resources",
    "worker_resources",
]

GPU_RESOURCE = "GPU"

# a device index, a GPU UUID, or a MIG instance, as CUDA_VISIBLE_DEVICES accepts them
_GPU_ID = re.compile(r"^(\d+|GPU-[0-9A-Fa-f-]+|MIG-[0-9A-Za-z/-]+)$")


class SlotsFull(UsageError):
    """Every GPU already runs ``per_gpu`` submissions."""


def gpu_env(gpu: str) -> dict[str, str]:
    """The environment a run on ``gpu`` gets: that GPU only, memory taken as needed."""
    return {"CUDA_VISIBLE_DEVICES": gpu, "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def detect_gpus(environ: Mapping[str, str] | None = None) -> list[str]:
    """The GPUs this machine lets the grader use.

    ``CUDA_VISIBLE_DEVICES`` wins when it is set (a Slurm job or a shared
    machine gave the grader those); otherwise ``nvidia-smi`` lists the cards.
    Empty when there is no GPU or no driver.
    """
    env = os.environ if environ is None else environ
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g for g in (p.strip() for p in visible.split(",")) if g and g != "-1"]
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        done = subprocess.run(
            [exe, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip().isdigit()]


def parse_gpus(text: str, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """``--gpus``: a comma-separated list (``0,1``, GPU UUIDs) or ``all`` (every GPU found)."""
    value = text.strip()
    if value.lower() == "all":
        found = detect_gpus(environ)
        if not found:
            raise UsageError("--gpus all: no GPU found (nvidia-smi lists none)")
        return found
    gpus = [p.strip() for p in value.split(",")]
    if not value or any(not g for g in gpus):
        raise UsageError(f"--gpus {text!r}: expected a list such as 0,1 or 'all'")
    bad = [g for g in gpus if not _GPU_ID.match(g)]
    if bad:
        raise UsageError(
            f"--gpus {text!r}: {', '.join(bad)} is not a GPU index or UUID (expected e.g. 0,1)"
        )
    dupes = sorted({g for g in gpus if gpus.count(g) > 1})
    if dupes:
        raise UsageError(
            f"--gpus {text!r}: {', '.join(dupes)} given twice; use --per-gpu to run "
            "several submissions on one GPU"
        )
    return gpus


def worker_resources(per_gpu: int) -> dict[str, float]:
    """What a dask worker that owns one GPU declares: room for ``per_gpu`` runs."""
    return {GPU_RESOURCE: float(per_gpu)}


def task_resources() -> dict[str, float]:
    """What one submission asks the dask scheduler for: one run's share of a GPU."""
    return {GPU_RESOURCE: 1.0}


class GpuSlots:
    """Assigns runs to GPUs, at most ``per_gpu`` at once on each."""

    def __init__(self, gpus: Sequence[str], per_gpu: int) -> None:
        if not gpus:
            raise UsageError("GPU slots need at least one GPU")
        if per_gpu < 1:
            raise UsageError(f"--per-gpu {per_gpu}: expected 1 or more")
        if len(set(gpus)) != len(gpus):
            raise UsageError(f"GPU listed twice: {', '.join(gpus)}")
        self.gpus = list(gpus)
        self.per_gpu = per_gpu
        self._runs = dict.fromkeys(self.gpus, 0)

    @property
    def capacity(self) -> int:
        return len(self.gpus) * self.per_gpu

    @property
    def free(self) -> int:
        return self.capacity - sum(self._runs.values())

    def runs(self, gpu: str) -> int:
        """Runs on ``gpu`` now."""
        return self._runs[gpu]

    def acquire(self) -> str:
        """A GPU for a new run: the least busy one, the first listed on a tie."""
        gpu = min(self.gpus, key=lambda g: self._runs[g])  # min keeps the first of equals
        if self._runs[gpu] >= self.per_gpu:
            raise SlotsFull(f"all {self.capacity} GPU slots are in use")
        self._runs[gpu] += 1
        return gpu

    def release(self, gpu: str) -> None:
        """A run on ``gpu`` finished (or was lost)."""
        if self._runs.get(gpu, 0) <= 0:
            raise UsageError(f"GPU {gpu} has no run to release")
        self._runs[gpu] -= 1
