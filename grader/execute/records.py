"""Plain data of a run: what to run (:class:`RunOptions`) and what ran (:class:`RunRecord`).

A run records what the kernel did (the executed notebook, the capture, the
manifest); turning that into evidence is the extraction stage's work
(:func:`grader.extract.runtime.extract_run`), which the pipeline calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.execute.capture import CaptureRecord
from grader.execute.manifest import RunManifest
from grader.execute.sandbox.limits import ResourceLimits
from grader.settings import DEFAULT_TIMEOUT_CELL, DEFAULT_TIMEOUT_RUN

if TYPE_CHECKING:
    from grader.evidence import Evidence
    from grader.execute.data import DataSpec
    from grader.execute.reevaluate import VerificationReport
    from grader.execute.sandbox.report import SandboxReport
    from grader.execute.served import ServedData
    from grader.intake.notebook import LoadedNotebook

__all__ = [
    "CellMap",
    "FailureKind",
    "Inspect",
    "KernelOutcome",
    "Progress",
    "RunFailure",
    "RunFiles",
    "RunOptions",
    "RunRecord",
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
    timeout_cell: float | None = Field(
        default=DEFAULT_TIMEOUT_CELL, description="seconds one cell may run"
    )
    timeout_run: float | None = Field(
        default=DEFAULT_TIMEOUT_RUN, description="seconds the whole notebook may run"
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
        description="re-check each model's test accuracy out of process (grader.execute.reevaluate)",
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


class CellMap(BaseModel):
    """Kernel execution counts -> cell indices of the submitted notebook.

    IPython kernels differ in when they advance the counter, so a count seen in
    the capture is shifted by ``offset`` before it is looked up among the
    executed notebook's execution counts; a count past the last one belongs to
    the cell that was running when the run stopped.
    """

    model_config = ConfigDict(extra="forbid")

    offset: int = 0
    running: int | None = Field(default=None, description="the cell running when the run ended")

    def resolver(self, executed: Any) -> Callable[[int | None], int | None]:
        """A function from kernel execution count to cell index, for the executed notebook."""
        counts = {
            int(c["execution_count"]): i
            for i, c in enumerate(executed.cells)
            if c.get("cell_type") == "code" and c.get("execution_count") is not None
        }
        offset, running = self.offset, self.running

        def cell_of(count: int | None) -> int | None:
            if count is None:
                return None
            count -= offset
            if count in counts:
                return counts[count]
            if counts and count > max(counts):
                return running
            return running if not counts else None

        return cell_of


class RunRecord(BaseModel):
    """What ran: the outcome, the files it left, the capture and the environment manifest."""

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
    cells: CellMap = Field(
        default_factory=CellMap,
        description="how the kernel's execution counts map to the notebook's cells",
    )
    store_changed: list[str] = Field(
        default_factory=list, description="served data files the run changed (a writable store)"
    )


@dataclass
class KernelOutcome:
    """What a run hands to its inspection hook once the kernel has stopped.

    The capture folder (with the models and inputs the prelude saved for
    verification) still exists while the hook runs; :meth:`verify` re-checks
    the test accuracies that evidence claims, out of process, with the run's
    own sandbox.
    """

    notebook: LoadedNotebook
    executed: Any  # the executed notebook (nbformat 4), injected cell and error banners removed
    capture: CaptureRecord
    cells: CellMap
    failure: RunFailure | None
    profile: str
    data: DataSpec | None
    served: ServedData | None
    sandbox: SandboxReport | None
    store_changed: list[str]
    verifier: Callable[[Evidence, dict[str, str]], VerificationReport | None] = field(repr=False)
    verification: VerificationReport | None = None

    def cell_of(self) -> Callable[[int | None], int | None]:
        return self.cells.resolver(self.executed)

    def verify(self, evidence: Evidence, fit_models: dict[str, str]) -> VerificationReport | None:
        """Re-check the test accuracies ``evidence`` claims (None when verification is off)."""
        self.verification = self.verifier(evidence, fit_models)
        return self.verification


#: the hook a run calls with what ran; the evidence it returns is saved as ``evidence.json``
Inspect = Callable[[KernelOutcome], "Evidence | None"]


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
