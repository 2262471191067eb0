"""What ``grader batch`` was asked to do, checked before anything is read or started.

:class:`BatchOptions` holds the class-level choices (where the class is, where
the results go, how many workers, which cluster); how each notebook runs is
one :class:`~grader.execute.records.RunOptions` (``run``; None grades the
stored outputs only). :func:`settings_fingerprint` is what decides whether a
finished submission must be graded again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from grader.errors import UsageError
from grader.execute.records import RunOptions
from grader.intake.archive import ZipLimits
from grader.intake.submission import Submission

__all__ = ["HARNESS_VERSION", "BatchOptions", "batch_lock", "check_options", "settings_fingerprint"]

HARNESS_VERSION = "batch-1"  # bump when a change of the batch itself must regrade everything


def _full_run() -> RunOptions:
    return RunOptions(profile="full")


@dataclass(frozen=True)
class BatchOptions:
    """What ``grader batch`` was asked to do."""

    source: Path
    out: Path
    roster: Path | None = None
    rubric: Path | None = None
    run: RunOptions | None = field(default_factory=_full_run)  # None: stored outputs only
    workers: int | None = None  # parallel runs (local pool, local dask cluster); default 1
    retries: int = 2
    force: bool = False
    bands: Path | None = None
    file_times: bool = False
    zip_limits: ZipLimits = field(default_factory=ZipLimits)
    gpus: str | None = None  # "0,1" or "all"
    per_gpu: int = 1
    scheduler: str | None = None  # address of a running dask scheduler
    cluster: Literal["local", "slurm"] | None = None  # a dask cluster started for this batch
    cluster_config: Path | None = None  # the Slurm settings (docs/cluster.md)
    only: tuple[str, ...] = ()  # regrade these students (id, student id or name), keep the rest
    language: str = "en"  # what the reports, the feedback and the grades' texts are written in

    @property
    def mode(self) -> str:
        """``static`` (stored outputs), or the run's profile."""
        return self.run.profile if self.run is not None else "static"

    @property
    def remote(self) -> bool:
        """The workers are on other machines (their own memory and sandbox tools)."""
        return bool(self.scheduler) or self.cluster == "slurm"


def settings_fingerprint(options: BatchOptions, rubric_text: str, sub: Submission) -> str:
    """What a submission's grade depends on besides its notebook's bytes."""
    run = options.run
    defaults = RunOptions()
    r = run or defaults
    h = hashlib.sha256()
    for part in (
        HARNESS_VERSION,
        _package_version(),
        options.mode,
        f"language={options.language}",
        rubric_text,
        str(r.data or "") if run else "",
        str(r.weights or "") if run else "",
        str(r.seed),
        str(r.deterministic),
        *([f"threads={r.threads}"] if r.threads else []),
        f"sandbox={r.backend}",
        _bands_digest(options.bands),
        *([f"memory={r.limits.memory_bytes}"] if r.limits.memory_bytes else []),
        *([] if r.verify else ["no-verify"]),
        f"timeouts={r.timeout_cell},{r.timeout_run}",
        sub.context.model_dump_json(),
    ):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:20]


def _bands_digest(path: Path | None) -> str:
    """What the band comparison depends on: the band files' contents."""
    if path is None:
        return "bands=none"
    h = hashlib.sha256()
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for f in files:
        with contextlib.suppress(OSError):
            h.update(f.name.encode() + b"\x00" + f.read_bytes())
    return "bands=" + h.hexdigest()[:16]


@cache
def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hw-grader")
    except PackageNotFoundError:
        return "unknown"


@contextlib.contextmanager
def batch_lock(out: Path) -> Iterator[None]:
    """One batch at a time writes into an output folder."""
    out.mkdir(parents=True, exist_ok=True)
    fh = (out / ".batch.lock").open("w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{out}: another batch is writing into this folder") from None
        yield
    finally:
        fh.close()


def check_options(options: BatchOptions) -> None:
    """Refuse options that contradict each other, before anything is read or started."""
    if options.workers is not None and options.workers < 1:
        raise UsageError(f"--workers {options.workers}: expected 1 or more")
    if options.per_gpu < 1:
        raise UsageError(f"--per-gpu {options.per_gpu}: expected 1 or more")
    if options.per_gpu != 1 and not options.gpus and options.cluster != "slurm":
        raise UsageError("--per-gpu needs --gpus (which GPUs to share)")
    if options.scheduler and options.cluster:
        raise UsageError("--scheduler and --cluster exclude each other")
    if options.run is not None:
        _check_run(options.run, options)
    if options.cluster not in (None, "local", "slurm"):
        raise UsageError(f"--cluster {options.cluster!r}: expected 'local' or 'slurm'")
    if options.cluster == "slurm":
        _check_slurm(options)
    elif options.cluster_config is not None:
        raise UsageError("--cluster-config goes with --cluster slurm")
    if options.scheduler:
        _check_scheduler(options)
    elif options.gpus:
        from grader.batch.gpus import parse_gpus

        parse_gpus(options.gpus)  # a bad list is refused now, not after the intake


def _check_run(run: RunOptions, options: BatchOptions) -> None:
    if run.threads is not None and run.threads < 1:
        raise UsageError(f"--threads {run.threads}: expected 1 or more")
    for name, value in (("--timeout-cell", run.timeout_cell), ("--timeout-run", run.timeout_run)):
        if value is not None and value <= 0:
            raise UsageError(f"{name} {value}: expected a positive number of seconds")
    memory = run.limits.memory_bytes
    if memory is not None and memory < 64 * 1024**2:
        raise UsageError(f"--memory {memory} bytes: a run needs at least 64M")
    from grader.execute.sandbox.registry import SANDBOX_CHOICES, make_backend

    if run.backend not in SANDBOX_CHOICES:
        raise UsageError(f"--sandbox {run.backend!r}: choose one of {', '.join(SANDBOX_CHOICES)}")
    if run.backend != "auto" and not options.remote:
        make_backend(run.backend)  # refuses, with the reason, one that does not work here


def _check_slurm(options: BatchOptions) -> None:
    if options.cluster_config is None:
        raise UsageError("--cluster slurm needs --cluster-config FILE (see docs/cluster.md)")
    if options.gpus or options.per_gpu != 1:
        raise UsageError(
            "with --cluster slurm the GPUs are set in the cluster config (gpu, per_gpu)"
        )
    if options.workers is not None:
        raise UsageError("with --cluster slurm the number of jobs is set in the cluster config")


def _check_scheduler(options: BatchOptions) -> None:
    if options.workers is not None:
        raise UsageError("--workers does not apply to --scheduler: the cluster's workers decide")
    if options.gpus and options.gpus.strip().lower() != "all":
        raise UsageError(
            "with --scheduler the workers own their GPUs (start each with "
            "CUDA_VISIBLE_DEVICES and --resources GPU=K); pass --gpus all to have every "
            "submission ask for one GPU slot"
        )
    if options.per_gpu != 1:
        raise UsageError(
            "with --scheduler runs per GPU are set where the workers start (--resources GPU=K)"
        )
