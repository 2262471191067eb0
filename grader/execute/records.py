"""Plain data of a run: what to run (:class:`RunOptions`) and what came of it (:class:`RunResult`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.evidence import Evidence
from grader.execute.capture import CaptureRecord
from grader.execute.manifest import RunManifest
from grader.execute.sandbox.limits import ResourceLimits

__all__ = [
    "FailureKind",
    "Progress",
    "RunFailure",
    "RunFiles",
    "RunOptions",
    "RunResult",
]


class RunOptions(BaseModel):
    """How to run one notebook. Every field that changes the outcome is part of the cache key."""

    model_config = ConfigDict(extra="forbid")

    profile: str = Field(default="smoke", description="smoke or full (see grader.execute.profiles)")
    data: str | None = Field(
        default=None,
        description="'synthetic', 'cifar10' (seeded store), a cifar-10-python.tar.gz path, "
        "or None: CIFAR-10 when seeded, else synthetic in the smoke profile",
    )
    weights: Path | None = Field(
        default=None, description="folder of Keras application weight files"
    )
    seed: int | None = Field(default=None, description="seed Python, NumPy and TensorFlow")
    deterministic: bool = Field(
        default=False, description="TensorFlow deterministic ops (implies a seed)"
    )
    force: bool = Field(default=False, description="re-run even when the cache has a result")
    cache: bool = Field(default=True, description="look up and store results in the cache")
    out: Path | None = Field(
        default=None, description="copy the run's files here (default: the cache entry)"
    )
    home: Path | None = Field(
        default=None, description="data store and cache (default $GRADER_HOME or ~/.cache/grader)"
    )
    timeout_cell: float | None = Field(default=900.0, description="seconds one cell may run")
    timeout_run: float | None = Field(
        default=3600.0, description="seconds the whole notebook may run"
    )
    start_timeout: float = Field(default=120.0, description="seconds the kernel may take to start")
    threads: int | None = Field(default=None, description="TensorFlow/BLAS threads in the kernel")
    python: str | None = Field(
        default=None, description="interpreter of the kernel (default: the harness's own Python)"
    )
    backend: str = Field(
        default="auto",
        description="how the kernel is launched: auto (the strongest sandbox that works here), "
        "bwrap, container, none (resource limits only) or local (trusted notebooks only)",
    )
    limits: ResourceLimits = Field(
        default_factory=ResourceLimits, description="resource limits of the kernel"
    )
    verify: bool = Field(
        default=True,
        description="re-check each model's test accuracy out of process (grader.execute.verify)",
    )
    synthetic_size: tuple[int, int] = Field(
        default=(50000, 10000), description="synthetic train/test sizes"
    )
    repro_tolerance: float = Field(
        default=0.05, description="claimed vs re-run test accuracy tolerance"
    )
    keep_workdir: bool = Field(default=False, description="keep the kernel's working folder")


class FailureKind(StrEnum):
    exception = "exception"  # student code raised
    cell_timeout = "cell_timeout"
    run_timeout = "run_timeout"
    kernel_died = "kernel_died"  # out of memory, segfault, os._exit
    missing_data = "missing_data"
    missing_weights = "missing_weights"
    missing_package = "missing_package"
    network_blocked = "network_blocked"
    limit_exceeded = "limit_exceeded"  # stopped by the sandbox: disk, memory, processes
    cannot_start = (
        "cannot_start"  # unreadable notebook, kernel that does not start, prelude failure
    )


class RunFailure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FailureKind
    message: str
    cell: int | None = Field(
        default=None, description="0-based index of the cell in the submitted notebook"
    )
    execution_count: int | None = None
    seconds: float | None = Field(default=None, description="time into the run when it failed")
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] = Field(
        default_factory=list, description="last lines, colour codes removed"
    )
    package: str | None = Field(
        default=None, description="the missing package, for missing_package"
    )
    exit_code: int | None = Field(default=None, description="kernel exit status, for kernel_died")
    models_captured: int = Field(default=0, description="fits that finished before the failure")


class RunFiles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: str
    executed: str | None = None
    capture: str | None = None
    evidence: str | None = None
    manifest: str | None = None
    log: str | None = None
    output_log: str | None = None
    kernel_log: str | None = None
    result: str | None = None

    def moved(self, folder: Path) -> RunFiles:
        """The same files under another folder."""
        data: dict[str, Any] = {
            k: (str(folder / Path(v).name) if v else None) for k, v in self.model_dump().items()
        }
        data["folder"] = str(folder)
        return RunFiles.model_validate(data)


class RunResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "failed"]
    failure: RunFailure | None = None
    notebook: str
    sha256: str
    profile: str
    cache_key: str
    from_cache: bool = False
    wall_seconds: float
    files: RunFiles
    capture: CaptureRecord
    manifest: RunManifest
    evidence: Evidence | None = None


class Progress(BaseModel):
    """What the run is doing now, for a progress display."""

    model_config = ConfigDict(extra="forbid")

    phase: Literal["starting", "cell", "epoch", "finished", "cached"]
    cell: int | None = Field(default=None, description="0-based index of the running cell")
    cell_number: int | None = Field(default=None, description="1-based number among the code cells")
    code_cells: int | None = None
    model: str | None = None
    epoch: int | None = None
    epochs: int | None = None
    elapsed: float = 0.0
    message: str = ""
