"""Batch grading of a whole class: intake, parallel grading, reports, exports.

:func:`run_batch` is what ``grader batch`` calls. It is resumable: the journal
(:mod:`grader.batch.journal`) records every submission's state, so running the
same command after a crash or a SIGKILL grades only what is not finished. The
class-level outputs (dashboard, gradebook, JUnit, JSON Lines) are rebuilt from
the stored per-submission results at the end of every run.

Each submission is graded in a worker process with its own folder under
``<out>/submissions/<id>/``. Grading one submission is one call of a *grading
function* (:data:`GradeFn`): :func:`grade_static` reads the stored outputs,
:func:`grade_executed` runs the notebook first (its kernel is a process of its
own, never the worker). A failed submission is a result; only failures that
are not the student's (a kernel that could not start, a worker that died) are
tried again.

Where the workers are is an :class:`Executor`: a local process pool
(``--workers N``, the default) or a dask.distributed cluster (``--scheduler``,
``--cluster local|slurm``, :mod:`grader.batch.dask_executor`). Either way the
worker returns a :class:`~grader.report.results.JobResult` as plain data and
the journal is written here, by the process that runs the batch. With
``--gpus`` each run gets a GPU of its own (:mod:`grader.batch.gpus`); which
one is recorded per attempt in ``<out>/journal/placements/<id>.json``.

Output folder layout::

    <out>/index.html                    the class dashboard
    <out>/gradebook.csv, junit.xml, evidence.jsonl, intake.json
    <out>/submissions/<id>/report.html  the student's report
    <out>/submissions/<id>/evidence.json, results.json, result.json, run/...
    <out>/journal/<id>.json             the batch journal
    <out>/journal/placements/<id>.json  where each attempt ran (host, worker, GPU)
    <out>/intake/...                    notebooks taken out of zip archives
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import json
import multiprocessing
import os
import signal
import socket
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from grader.batch.gpus import GpuSlots, gpu_env, parse_gpus
from grader.batch.journal import Journal, JournalEntry, atomic_write_text
from grader.errors import GraderError, NotANotebookError, UsageError
from grader.execute.sandbox.limits import THREAD_VARIABLES
from grader.grade.result import CheckReport
from grader.intake.classroom import ClassIntake, Submission, ZipLimits, collect_class
from grader.report.exports import gradescope_results, write_exports
from grader.report.results import ClassResults, JobResult, ResultStatus, RunInfo, build_rows

if TYPE_CHECKING:
    from grader.check.bands import Band, BandSet
    from grader.evidence import Evidence, Finding
    from grader.grade.rubric import Rubric

__all__ = [
    "EXECUTORS",
    "BatchEvent",
    "BatchOptions",
    "BatchSummary",
    "Executor",
    "ExecutorFailed",
    "GradeFn",
    "Graded",
    "InfrastructureError",
    "Job",
    "LocalPoolExecutor",
    "Mode",
    "Outcome",
    "Placement",
    "WorkerLost",
    "check_options",
    "grade_executed",
    "grade_static",
    "make_executor",
    "process_job",
    "run_batch",
]

Mode = Literal["static", "smoke", "full"]

HARNESS_VERSION = "batch-1"  # bump when a change of the batch itself must regrade everything


# ----------------------------------------------------------------- the job


class Job(BaseModel):
    """Everything a worker needs to grade one submission (picklable, plain data)."""

    model_config = ConfigDict(extra="forbid")

    submission: Submission
    mode: Mode
    folder: str = Field(description="the submission's own output folder")
    out: str = Field(description="the batch output folder")
    rubric: str | None = None
    bands: str | None = None
    data: str | None = Field(default=None, description="synthetic, cifar10 or an archive path")
    weights: str | None = None
    seed: int | None = None
    deterministic: bool = False
    threads: int | None = Field(default=None, description="TensorFlow/BLAS threads of the kernel")
    gpu: str | None = Field(
        default=None, description="the GPU this run was given (local pool with --gpus)"
    )
    sandbox: str = Field(default="auto", description="sandbox backend of the kernel")
    memory_bytes: int | None = Field(
        default=None, description="memory limit of the kernel (None: the machine's default)"
    )
    verify: bool = Field(default=True, description="re-check test accuracies out of process")
    timeout_cell: float | None = Field(default=900.0, description="seconds one cell may run")
    timeout_run: float | None = Field(default=3600.0, description="seconds the whole run may take")
    title: str = ""


@dataclass
class Graded:
    """What a grading function returns: a report, a run, or why there is no report."""

    report: CheckReport | None
    run: RunInfo | None = None
    status: ResultStatus = "graded"
    reason: str | None = None
    retryable: bool = False


GradeFn = Callable[[Job], Graded]


class InfrastructureError(GraderError):
    """The grader could not grade a submission for a reason that is not the student's."""


def _stamp(path: str | None) -> tuple[tuple[str, int, int], ...]:
    """What changes when a file, or a folder's files, change (a long-lived dask worker
    must not grade with a rubric or bands it read for an earlier batch)."""
    if not path:
        return ()
    root = Path(path)
    files = sorted(root.rglob("*")) if root.is_dir() else [root]
    stamps = []
    for f in files:
        with contextlib.suppress(OSError):
            st = f.stat()
            stamps.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(stamps)


def _rubric(path: str | None) -> Rubric:
    return _load_rubric(path, _stamp(path))


@cache
def _load_rubric(path: str | None, stamp: tuple[tuple[str, int, int], ...]) -> Rubric:
    from grader.grade.rubric import load_rubric

    return load_rubric(Path(path) if path else None)


def grade_static(job: Job) -> Graded:
    """Grade from the stored outputs only (no execution)."""
    from grader.pipeline import check_notebook

    assert job.submission.notebook is not None
    report = check_notebook(
        Path(job.submission.notebook.path),
        rubric=_rubric(job.rubric),
        context=job.submission.context,
        bands=_load_band_sets(job.bands, _stamp(job.bands)) if job.bands else None,
    )
    return Graded(report=report)


def grade_executed(job: Job) -> Graded:
    """Run the notebook (profile ``job.mode``) and grade what ran.

    A run that stops in the student's code is graded on what it captured before
    the failure; a kernel that could not start is the grader's problem and is
    tried again.
    """
    from grader.execute import RunOptions, run_notebook
    from grader.execute.records import FailureKind
    from grader.intake.notebook import load_notebook

    assert job.submission.notebook is not None
    path = Path(job.submission.notebook.path)
    load_notebook(path)  # a file that is not a notebook is the student's, not a failed start
    folder = Path(job.folder)
    options = RunOptions.model_validate(
        {
            "profile": job.mode,
            "data": job.data,
            "weights": Path(job.weights) if job.weights else None,
            "seed": job.seed,
            "deterministic": job.deterministic,
            "threads": job.threads,
            "out": folder / "run",
            "backend": job.sandbox,
            "limits": {"memory_bytes": job.memory_bytes},
            "verify": job.verify,
            "timeout_cell": job.timeout_cell,
            "timeout_run": job.timeout_run,
        }
    )
    result = run_notebook(path, options)
    failure = result.failure
    files: dict[str, str] = {}
    for label, value in (
        ("executed notebook", result.files.executed),
        ("run log", result.files.log),
        ("notebook output", result.files.output_log),
        ("kernel log", result.files.kernel_log),
        ("capture record", result.files.capture),
        ("environment", result.files.manifest),
    ):
        if value:
            target = Path(value)
            href = os.path.relpath(target if target.is_absolute() else folder / target, folder)
            if not href.startswith(".."):
                files[label] = href
    run = RunInfo(
        profile=result.profile,
        status=result.status,
        failure=failure.message if failure is not None else None,
        failure_kind=failure.kind.value if failure is not None else None,
        failure_cell=failure.cell if failure is not None else None,
        cached=result.from_cache,
        seconds=result.wall_seconds,
        files=files,
        **_protection_info(result.manifest),
    )
    if failure is not None and failure.kind == FailureKind.cannot_start:
        return Graded(
            report=None, run=run, status="infrastructure", reason=failure.message, retryable=True
        )
    if result.evidence is None:
        return Graded(
            report=None,
            run=run,
            status="error",
            reason=run.failure or "the run produced no evidence",
        )
    evidence = result.evidence
    evidence.findings.extend(_band_findings(job, evidence, result))
    grade = _rubric(job.rubric).grade(evidence, job.submission.context)
    report = CheckReport(**evidence.model_dump(), grade=grade)
    if failure is not None:
        return Graded(report=report, run=run, status="run-failed", reason=failure.message)
    return Graded(report=report, run=run)


def _protection_info(manifest: Any) -> dict[str, Any]:
    """The sandbox and the verification of a run, from its manifest, for the reports."""
    from grader.report.results import VerifiedAccuracy

    info: dict[str, Any] = {}
    box = getattr(manifest, "sandbox", None)
    if box is not None:
        info["sandbox"] = box.backend
        info["sandbox_reason"] = box.reason or None
        info["unprotected"] = [f"{p.name} ({p.status}): {p.detail}" for p in box.missing()]
    check = getattr(manifest, "verification", None)
    if check is not None:
        info["verification"] = [
            VerifiedAccuracy(
                model=c.name or c.model,
                status=c.status,
                claimed=c.claimed,
                verified=c.verified,
                reason=c.reason,
            )
            for c in check.checks
        ]
        info["verification_note"] = "; ".join(check.notes) or None
    elif manifest is not None:
        info["verification_note"] = "the claimed test accuracies were not re-checked out of process"
    return info


# ------------------------------------------------------------ worker side


def process_job(job: Job, grade: GradeFn) -> JobResult:
    """Grade one submission and write its files; never raises for a bad submission."""
    started = time.monotonic()
    folder = Path(job.folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in ("error.txt", "report-error.txt"):  # left by an earlier attempt
        with contextlib.suppress(FileNotFoundError):
            (folder / stale).unlink()
    sub = job.submission
    graded: Graded
    if sub.notebook is None:
        names = ", ".join(f.name for f in sub.files) or "nothing"
        graded = Graded(
            report=None,
            status="no-notebook",
            reason=f"no notebook (.ipynb) handed in (found: {names})",
        )
    else:
        try:
            with _environment(_run_env(job)):
                graded = grade(job)
        except NotANotebookError as exc:
            # name the file as the student handed it in, not by its path on this machine
            reason = exc.message.replace(sub.notebook.path, sub.notebook.origin)
            graded = Graded(report=None, status="not-a-notebook", reason=reason)
        except InfrastructureError as exc:
            graded = Graded(
                report=None, status="infrastructure", reason=exc.message, retryable=True
            )
        except GraderError as exc:
            graded = Graded(report=None, status="error", reason=exc.message)
        except Exception as exc:  # a bug of the grader must not stop the class
            (folder / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
            graded = Graded(
                report=None,
                status="error",
                reason=f"the grader failed: {type(exc).__name__}: {exc}",
            )
    report = graded.report
    max_points = report.grade.max_points if report is not None else _max_points(job)
    state: Literal["done", "failed"] = "done" if report is not None else "failed"
    result = JobResult(
        submission=sub.id,
        state=state,
        status=graded.status,
        reason=graded.reason,
        retryable=graded.retryable,
        points=report.grade.points if report is not None else None,
        max_points=max_points,
        seconds=round(time.monotonic() - started, 3),
        worker=os.getpid(),
        run=graded.run,
    )
    if graded.retryable:
        return result  # nothing is written for an attempt that will be made again
    evidence_path = folder / "evidence.json"
    if report is not None:
        atomic_write_text(evidence_path, report.model_dump_json(indent=1), durable=False)
    else:
        with contextlib.suppress(FileNotFoundError):
            evidence_path.unlink()
    atomic_write_text(
        folder / "results.json",
        json.dumps(
            gradescope_results(report, result, max_points=max_points), indent=1, ensure_ascii=False
        ),
        durable=False,
    )
    try:
        _write_report(job, report, result)
    except Exception as exc:  # the grade stands even if its page cannot be drawn
        result = result.model_copy(update={"report_error": f"{type(exc).__name__}: {exc}"})
        (folder / "report-error.txt").write_text(traceback.format_exc(), encoding="utf-8")
    atomic_write_text(folder / "result.json", result.model_dump_json(indent=1))
    return result


def _run_env(job: Job) -> dict[str, str]:
    """What every process of this run inherits from the worker: its GPU, its thread limit.

    The kernel gets the thread limit from the execution layer too; the
    processes it starts besides the kernel (the out-of-process check of the
    reported accuracies) get it only from here.
    """
    env = gpu_env(job.gpu) if job.gpu else {}
    if job.threads:
        env.update(dict.fromkeys(THREAD_VARIABLES, str(job.threads)))
    return env


_ENV_LOCK = threading.Lock()
_ENV_USERS: dict[str, int] = {}  # variable -> runs in this process that set it
_ENV_SAVED: dict[str, str | None] = {}  # its value before the first of them


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the processes a run starts inside the block.

    A kernel inherits the worker's environment. A worker of the local pool
    grades one submission at a time; a dask worker may grade several at once
    in threads, so a variable is put back only when the last run that set it
    ends.
    """
    with _ENV_LOCK:
        for name, value in values.items():
            if _ENV_USERS.get(name, 0) == 0:
                _ENV_SAVED[name] = os.environ.get(name)
            _ENV_USERS[name] = _ENV_USERS.get(name, 0) + 1
            os.environ[name] = value
    try:
        yield
    finally:
        with _ENV_LOCK:
            for name in values:
                _ENV_USERS[name] -= 1
                if _ENV_USERS[name] == 0:
                    old = _ENV_SAVED.pop(name, None)
                    if old is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = old


def _max_points(job: Job) -> int:
    try:
        return _rubric(job.rubric).max_points
    except GraderError:
        return 0


def _bands(path: str | None) -> dict[str, Band]:
    return _load_bands(path, _stamp(path))


@cache
def _load_bands(path: str | None, stamp: tuple[tuple[str, int, int], ...]) -> dict[str, Band]:
    from grader.check.bands import load_bands

    return load_bands(Path(path) if path else None)


def _band_findings(job: Job, evidence: Evidence, run: Any = None) -> list[Finding]:
    """The checks against the reference bands (none when the batch has no bands): a run is
    compared with the band of its own data and profile, stored outputs with CIFAR-10's."""
    if not job.bands:
        return []
    from grader.check.band_checks import BandContext, band_findings

    sets = _load_band_sets(job.bands, _stamp(job.bands))
    ctx = BandContext.for_run(run) if run is not None else BandContext.static(evidence)
    return band_findings(evidence, sets, ctx)


@cache
def _load_band_sets(path: str, stamp: tuple[tuple[str, int, int], ...]) -> list[BandSet]:
    from grader.check.bands import load_band_sets

    return load_band_sets(Path(path))


def _write_report(job: Job, report: CheckReport | None, result: JobResult) -> None:
    from grader.report.html import render_student_report

    folder = Path(job.folder)
    links: list[tuple[str, str]] = [
        ("class dashboard", os.path.relpath(Path(job.out) / "index.html", folder))
    ]
    if report is not None:
        links.append(("evidence (JSON)", "evidence.json"))
    links.append(("results.json", "results.json"))
    if result.run is not None:
        links += [
            (label, href) for label, href in result.run.files.items() if (folder / href).exists()
        ]
    if (folder / "error.txt").exists():
        links.append(("grader error log", "error.txt"))
    html = render_student_report(
        report=report,
        submission=job.submission,
        result=result,
        bands=_bands(job.bands),
        links=links,
        rubric_title=job.title,
    )
    atomic_write_text(folder / "report.html", html, durable=False)


def _worker_init() -> None:
    """Workers die with the batch (SIGKILL included) and leave Ctrl-C to it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the batch died before the line above took effect
            os._exit(1)


# ------------------------------------------------------------ batch side


@dataclass(frozen=True)
class BatchOptions:
    """What ``grader batch`` was asked to do."""

    source: Path
    out: Path
    roster: Path | None = None
    rubric: Path | None = None
    mode: Mode = "full"
    workers: int | None = None  # parallel runs (local pool, local dask cluster); default 1
    retries: int = 2
    force: bool = False
    bands: Path | None = None
    data: str | None = None
    weights: Path | None = None
    seed: int | None = None
    deterministic: bool = False
    file_times: bool = False
    limits: ZipLimits = field(default_factory=ZipLimits)
    threads: int | None = None  # per run; default: the cores shared among the local runs
    gpus: str | None = None  # "0,1" or "all"
    per_gpu: int = 1
    scheduler: str | None = None  # address of a running dask scheduler
    cluster: Literal["local", "slurm"] | None = None  # a dask cluster started for this batch
    cluster_config: Path | None = None  # the Slurm settings (docs/cluster.md)
    sandbox: str = "auto"  # how each kernel is isolated (grader.execute.sandbox)
    memory: int | None = None  # bytes per run; default: 3/4 of RAM shared among local runs
    verify: bool = True  # re-check test accuracies out of process
    timeout_cell: float | None = 900.0  # seconds one cell may run (None: no limit)
    timeout_run: float | None = 3600.0  # seconds one whole run may take (None: no limit)


@dataclass
class BatchEvent:
    """Progress of the batch, for a progress bar."""

    kind: Literal["planned", "started", "finished", "retry", "done"]
    total: int  # submissions in the class
    finished: int  # with a result, those from earlier runs (skipped) included
    failed: int  # finished in this run without a grade
    running: int
    skipped: int  # finished in an earlier run, not graded again
    submission: str | None = None
    status: str | None = None


@dataclass
class BatchSummary:
    out: Path
    intake: ClassIntake
    results: ClassResults
    graded_now: int
    skipped: int
    failed: int
    files: dict[str, Path]
    executor: str = "local"

    @property
    def dashboard(self) -> Path:
        return self.files["dashboard"]


def _settings_fingerprint(options: BatchOptions, rubric_text: str, sub: Submission) -> str:
    h = hashlib.sha256()
    for part in (
        HARNESS_VERSION,
        _package_version(),
        options.mode,
        rubric_text,
        str(options.data or ""),
        str(options.weights or ""),
        str(options.seed),
        str(options.deterministic),
        *([f"threads={options.threads}"] if options.threads else []),
        f"sandbox={options.sandbox}",
        _bands_digest(options.bands),
        *([f"memory={options.memory}"] if options.memory else []),
        *([] if options.verify else ["no-verify"]),
        f"timeouts={options.timeout_cell},{options.timeout_run}",
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
def _lock(out: Path) -> Iterator[None]:
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


# ------------------------------------------------------------ executors


class Placement(BaseModel):
    """Where one attempt ran."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = None
    worker: str | None = Field(default=None, description="a dask worker's address or 'pid N'")
    gpu: str | None = Field(default=None, description="CUDA_VISIBLE_DEVICES of the run")


@dataclass
class Outcome:
    """What came back from a worker for one submission."""

    result: JobResult
    placement: Placement


class WorkerLost(Exception):
    """The worker grading a submission died; the submission is not to blame.

    ``all_in_flight``: every submission in flight was lost with it (a local
    process pool breaks as a whole).
    """

    def __init__(
        self, reason: str, *, all_in_flight: bool = False, placement: Placement | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.all_in_flight = all_in_flight
        self.placement = placement or Placement()


class ExecutorFailed(GraderError):
    """The workers as a whole are gone (a dask scheduler that went away): the batch stops.

    Running the same command again resumes it.
    """


class Executor(Protocol):
    """Where the submissions of a batch are graded (registry: :data:`EXECUTORS`)."""

    name: str
    description: str
    threads: int | None  # TensorFlow threads per run when the batch options leave it open

    def capacity(self) -> int:
        """How many submissions may be in flight now (at least 1)."""
        ...

    def submit(self, job: Job, grade: GradeFn) -> int:
        """Start grading ``job``; returns a handle."""
        ...

    def wait(self, handles: Collection[int]) -> set[int]:
        """Handles that finished; may return none after a short while (to re-read capacity)."""
        ...

    def outcome(self, handle: int) -> Outcome:
        """The result of a finished handle; raises :class:`WorkerLost`."""
        ...

    def abandon(self, handle: int) -> Placement:
        """Give up a handle lost with its pool (``WorkerLost.all_in_flight``)."""
        ...

    def reset(self) -> None:
        """Start over after a pool broke."""
        ...

    def close(self, *, cancel: bool) -> None:
        """Stop; ``cancel`` drops what is still running (the batch was interrupted)."""
        ...


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    processes = dict(getattr(pool, "_processes", None) or {})
    for proc in processes.values():
        with contextlib.suppress(Exception):
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _auto_memory(parallel: int) -> int | None:
    """Memory limit per run so that parallel runs on this machine share 3/4 of its RAM."""
    from grader.execute.sandbox.limits import physical_memory

    ram = physical_memory()
    return ram * 3 // 4 // max(1, parallel) if ram else None


def _auto_threads(parallel: int) -> int:
    """TensorFlow threads per run so that parallel runs share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, parallel))


class LocalPoolExecutor:
    """Worker processes on this machine; with GPU slots, each run gets a GPU of its own."""

    name = "local"

    def __init__(self, workers: int, *, gpus: list[str] | None = None, per_gpu: int = 1) -> None:
        self.slots = GpuSlots(gpus, per_gpu) if gpus else None
        self.workers = max(1, workers)
        self.threads: int | None = _auto_threads(self.workers)
        self.description = f"{self.workers} local worker process{'es' * (self.workers > 1)}"
        if self.slots is not None:
            self.description += (
                f" on GPU {', '.join(self.slots.gpus)} ({self.slots.per_gpu} per GPU)"
            )
        self._host = socket.gethostname()
        self._futures: dict[int, Future[JobResult]] = {}
        self._gpus: dict[int, str] = {}
        self._next = 0
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
        )

    def capacity(self) -> int:
        return self.workers

    def submit(self, job: Job, grade: GradeFn) -> int:
        gpu = self.slots.acquire() if self.slots is not None else None
        if gpu is not None:
            job = job.model_copy(update={"gpu": gpu})
        try:
            fut = self._pool.submit(process_job, job, grade)
        except BaseException:
            if gpu is not None and self.slots is not None:
                self.slots.release(gpu)
            raise
        self._next += 1
        self._futures[self._next] = fut
        if gpu is not None:
            self._gpus[self._next] = gpu
        return self._next

    def wait(self, handles: Collection[int]) -> set[int]:
        by_future = {self._futures[h]: h for h in handles}
        done, _ = wait(list(by_future), return_when=FIRST_COMPLETED)
        return {by_future[f] for f in done}

    def _release(self, handle: int) -> Placement:
        self._futures.pop(handle, None)
        gpu = self._gpus.pop(handle, None)
        if gpu is not None and self.slots is not None:
            self.slots.release(gpu)
        return Placement(host=self._host, gpu=gpu)

    def outcome(self, handle: int) -> Outcome:
        fut = self._futures[handle]
        placement = self._release(handle)
        try:
            result = fut.result()
        except BrokenProcessPool as exc:
            raise WorkerLost(
                f"the worker process died ({exc or 'killed'})",
                all_in_flight=True,
                placement=placement,
            ) from None
        if result.worker is not None:
            placement.worker = f"pid {result.worker}"
        return Outcome(result=result, placement=placement)

    def abandon(self, handle: int) -> Placement:
        return self._release(handle)

    def reset(self) -> None:
        _kill_pool(self._pool)
        self._pool = self._new_pool()

    def close(self, *, cancel: bool) -> None:
        if cancel:
            _kill_pool(self._pool)
        else:
            self._pool.shutdown(wait=True)


def _local_executor(options: BatchOptions) -> Executor:
    gpus = parse_gpus(options.gpus) if options.gpus else None
    if gpus:
        slots = len(gpus) * options.per_gpu
        workers = min(options.workers, slots) if options.workers else slots
    else:
        workers = options.workers or 1
    return LocalPoolExecutor(workers, gpus=gpus, per_gpu=options.per_gpu)


def _dask_executor(options: BatchOptions) -> Executor:
    from grader.batch.dask_executor import open_dask_executor

    return open_dask_executor(options)


EXECUTORS: dict[str, Callable[[BatchOptions], Executor]] = {
    "local": _local_executor,
    "dask": _dask_executor,
}


def check_options(options: BatchOptions) -> None:
    """Refuse options that contradict each other, before anything is read or started."""
    if options.workers is not None and options.workers < 1:
        raise UsageError(f"--workers {options.workers}: expected 1 or more")
    if options.threads is not None and options.threads < 1:
        raise UsageError(f"--threads {options.threads}: expected 1 or more")
    if options.per_gpu < 1:
        raise UsageError(f"--per-gpu {options.per_gpu}: expected 1 or more")
    if options.per_gpu != 1 and not options.gpus and options.cluster != "slurm":
        raise UsageError("--per-gpu needs --gpus (which GPUs to share)")
    if options.scheduler and options.cluster:
        raise UsageError("--scheduler and --cluster exclude each other")
    for name, value in (
        ("--timeout-cell", options.timeout_cell),
        ("--timeout-run", options.timeout_run),
    ):
        if value is not None and value <= 0:
            raise UsageError(f"{name} {value}: expected a positive number of seconds")
    if options.memory is not None and options.memory < 64 * 1024**2:
        raise UsageError(f"--memory {options.memory} bytes: a run needs at least 64M")
    if options.mode != "static":
        from grader.execute.sandbox.select import SANDBOX_CHOICES, make_backend

        if options.sandbox not in SANDBOX_CHOICES:
            raise UsageError(
                f"--sandbox {options.sandbox!r}: choose one of {', '.join(SANDBOX_CHOICES)}"
            )
        if options.sandbox != "auto" and not options.scheduler and options.cluster != "slurm":
            make_backend(options.sandbox)  # refuses, with the reason, one that does not work here
    if options.cluster not in (None, "local", "slurm"):
        raise UsageError(f"--cluster {options.cluster!r}: expected 'local' or 'slurm'")
    if options.cluster == "slurm":
        if options.cluster_config is None:
            raise UsageError("--cluster slurm needs --cluster-config FILE (see docs/cluster.md)")
        if options.gpus or options.per_gpu != 1:
            raise UsageError(
                "with --cluster slurm the GPUs are set in the cluster config (gpu, per_gpu)"
            )
        if options.workers is not None:
            raise UsageError("with --cluster slurm the number of jobs is set in the cluster config")
    elif options.cluster_config is not None:
        raise UsageError("--cluster-config goes with --cluster slurm")
    if options.scheduler:
        if options.workers is not None:
            raise UsageError(
                "--workers does not apply to --scheduler: the cluster's workers decide"
            )
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
    elif options.gpus:
        parse_gpus(options.gpus)  # a bad list is refused now, not after the intake


def make_executor(options: BatchOptions) -> Executor:
    """The executor the options ask for: the local pool, or dask."""
    kind = "dask" if options.scheduler or options.cluster else "local"
    return EXECUTORS[kind](options)


# ------------------------------------------------------------ the loop


class _Scheduler:
    """Keeps the executor busy with the queued jobs; keeps the journal."""

    def __init__(
        self,
        jobs: list[tuple[Job, JournalEntry]],
        *,
        journal: Journal,
        grade: GradeFn,
        executor: Executor,
        retries: int,
        emit: Callable[[BatchEvent], None],
        total: int,
        skipped: int,
    ) -> None:
        self.pending: deque[tuple[Job, JournalEntry]] = deque(jobs)
        self.isolate: deque[tuple[Job, JournalEntry]] = deque()
        self.journal = journal
        self.grade = grade
        self.executor = executor
        self.retries = retries
        self.emit = emit
        self.total = total
        self.skipped = skipped
        self.finished = 0
        self.failed = 0
        self.tries: dict[str, int] = {}
        self.running: dict[int, tuple[Job, JournalEntry]] = {}

    def _event(
        self, kind: Literal["started", "finished", "retry"], job: Job, status: str | None = None
    ) -> None:
        self.emit(
            BatchEvent(
                kind,
                self.total,
                self.finished + self.skipped,
                self.failed,
                len(self.running),
                self.skipped,
                job.submission.id,
                status,
            )
        )

    def run(self) -> None:
        executor = self.executor
        try:
            while self.pending or self.isolate or self.running:
                self._fill()
                done = executor.wait(list(self.running))
                pool_broke = False
                for handle in sorted(done):
                    job, entry = self.running.pop(handle)
                    try:
                        outcome = executor.outcome(handle)
                    except WorkerLost as lost:
                        pool_broke |= lost.all_in_flight
                        result = _infra(job, lost.reason)
                        self._settle(job, entry, result, lost.placement, crashed=True)
                        continue
                    except ExecutorFailed:
                        raise
                    except Exception as exc:
                        result = _infra(job, f"{type(exc).__name__}: {exc}")
                        self._settle(job, entry, result, None, crashed=False)
                        continue
                    self._settle(job, entry, outcome.result, outcome.placement, crashed=False)
                if pool_broke:
                    # a dead worker breaks the pool for every job in flight: those are
                    # retried one at a time, so the one that kills its worker is found
                    for handle, (job, entry) in list(self.running.items()):
                        self.running.pop(handle)
                        placement = executor.abandon(handle)
                        result = _infra(job, "the worker pool broke")
                        self._settle(job, entry, result, placement, crashed=True)
                    executor.reset()
        except BaseException:
            executor.close(cancel=True)
            raise
        executor.close(cancel=False)

    def _fill(self) -> None:
        if self.isolate:
            if not self.running:
                self._submit(*self.isolate.popleft())
            return
        capacity = max(1, self.executor.capacity()) if self.pending else 0
        while self.pending and len(self.running) < capacity:
            self._submit(*self.pending.popleft())

    def _submit(self, job: Job, entry: JournalEntry) -> None:
        entry = self.journal.start(entry)
        handle = self.executor.submit(job, self.grade)
        self.running[handle] = (job, entry)
        self._event("started", job)

    def _settle(
        self,
        job: Job,
        entry: JournalEntry,
        result: JobResult,
        placement: Placement | None,
        *,
        crashed: bool,
    ) -> None:
        sid = job.submission.id
        _record_placement(self.journal, entry, placement, result)
        if result.retryable:
            tries = self.tries.get(sid, 0)
            if tries < self.retries:
                self.tries[sid] = tries + 1
                entry = self.journal.requeue(entry, status=result.status, reason=result.reason)
                (self.isolate if crashed else self.pending).append((job, entry))
                self._event("retry", job, result.status)
                return
            result = _write_failure(job, result)
        self.journal.finish(
            entry,
            state=result.state,
            status=result.status,
            reason=result.reason,
            points=result.points,
            seconds=result.seconds,
            worker=result.worker,
        )
        self.finished += 1
        if result.state == "failed":
            self.failed += 1
        self._event("finished", job, result.status)


def _record_placement(
    journal: Journal, entry: JournalEntry, placement: Placement | None, result: JobResult
) -> None:
    """Add where this attempt ran to ``journal/placements/<id>.json`` (one line per attempt)."""
    if placement is None:
        placement = Placement()
    path = journal.folder / "placements" / f"{entry.submission}.json"
    try:
        attempts = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(attempts, list):
            attempts = []
    except (OSError, ValueError):
        attempts = []
    started = entry.attempts[-1].started_at.isoformat() if entry.attempts else None
    attempts.append(
        {
            "attempt": len(entry.attempts),
            "started_at": started,
            "outcome": result.status,
            **placement.model_dump(),
        }
    )
    atomic_write_text(path, json.dumps(attempts, indent=1), durable=False)


def _infra(job: Job, reason: str) -> JobResult:
    return JobResult(
        submission=job.submission.id,
        state="failed",
        status="infrastructure",
        reason=reason,
        retryable=True,
    )


def _write_failure(job: Job, result: JobResult) -> JobResult:
    """Record a failure that could not be got past after the allowed retries."""
    result = result.model_copy(update={"retryable": False, "state": "failed"})
    folder = Path(job.folder)
    with contextlib.suppress(Exception):
        _write_report(job, None, result)
    atomic_write_text(folder / "result.json", result.model_dump_json(indent=1))
    atomic_write_text(
        folder / "results.json",
        json.dumps(gradescope_results(None, result, max_points=_max_points(job)), indent=1),
        durable=False,
    )
    return result


def _load_result(folder: Path) -> tuple[JobResult | None, CheckReport | None]:
    try:
        result = JobResult.model_validate_json((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    report = None
    if result.state == "done":
        try:
            report = CheckReport.model_validate_json(
                (folder / "evidence.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return None, None
    return result, report


def run_batch(
    options: BatchOptions,
    *,
    grade: GradeFn | None = None,
    on_event: Callable[[BatchEvent], None] | None = None,
    generated: str | None = None,
) -> BatchSummary:
    """Grade a class; resumes from the journal in ``options.out`` if there is one.

    ``grade`` replaces the grading function chosen by ``options.mode`` (it must
    be picklable: a module-level function). ``generated`` is the time shown on
    the dashboard (default: now).
    """
    from grader.grade.rubric import default_rubric_path, load_rubric

    emit = on_event or (lambda e: None)
    out = options.out.resolve()
    if not options.source.exists():
        raise UsageError(f"{options.source}: no such file or folder")
    check_options(options)
    with _lock(out):
        rubric_path = options.rubric or default_rubric_path()
        rubric = load_rubric(rubric_path)
        rubric_text = rubric_path.read_text(encoding="utf-8")
        roster = None
        if options.roster is not None:
            from grader.intake.roster import load_roster

            roster = load_roster(options.roster)
        intake = collect_class(
            options.source,
            staging=out / "intake",
            roster=roster,
            deadline=rubric.deadline,
            limits=options.limits,
            exclude=[out, *([options.roster] if options.roster else [])],
            file_times=options.file_times,
        )
        atomic_write_text(out / "intake.json", intake.model_dump_json(indent=1), durable=False)

        journal = Journal(out / "journal")
        fn: GradeFn = grade or (grade_static if options.mode == "static" else grade_executed)
        jobs: list[tuple[Job, JournalEntry]] = []
        for sub in intake.submissions:
            folder = out / "submissions" / sub.id
            job = Job(
                submission=sub,
                mode=options.mode,
                folder=str(folder),
                out=str(out),
                rubric=str(rubric_path),
                bands=str(options.bands) if options.bands else None,
                sandbox=options.sandbox,
                memory_bytes=options.memory,
                verify=options.verify,
                timeout_cell=options.timeout_cell,
                timeout_run=options.timeout_run,
                data=options.data,
                weights=str(options.weights) if options.weights else None,
                seed=options.seed,
                deterministic=options.deterministic,
                threads=options.threads,
                title=rubric.title,
            )
            sha = sub.notebook.sha256 if sub.notebook else None
            key = _settings_fingerprint(options, rubric_text, sub)
            stored = (folder / "result.json").is_file()
            if not options.force and stored and not journal.needs_work(sub.id, sha, key):
                continue
            jobs.append((job, journal.queue(sub.id, sha, key)))
        total = len(intake.submissions)
        skipped = total - len(jobs)
        emit(BatchEvent("planned", total, skipped, 0, 0, skipped))
        executor_name = "none: nothing to grade"
        finished = failed = 0
        try:
            if jobs:
                executor = make_executor(options)
                executor_name = executor.description
                if options.mode != "static":
                    update: dict[str, object] = {}
                    if options.threads is None and executor.threads:
                        update["threads"] = executor.threads
                    if (
                        options.memory is None
                        and not options.scheduler
                        and options.cluster != "slurm"
                    ):
                        update["memory_bytes"] = _auto_memory(executor.capacity())
                    if update:
                        jobs = [(job.model_copy(update=update), entry) for job, entry in jobs]
                scheduler = _Scheduler(
                    jobs,
                    journal=journal,
                    grade=fn,
                    executor=executor,
                    retries=options.retries,
                    emit=emit,
                    total=total,
                    skipped=skipped,
                )
                try:
                    scheduler.run()
                finally:
                    finished, failed = scheduler.finished, scheduler.failed
        finally:
            summary = _finish(out, intake, journal, rubric, options, generated)
        emit(BatchEvent("done", total, finished + skipped, failed, 0, skipped))
        summary.graded_now = finished
        summary.skipped = skipped
        summary.executor = executor_name
        summary.failed = sum(1 for r in summary.results.rows if r.state == "failed")
        return summary


def _finish(
    out: Path,
    intake: ClassIntake,
    journal: Journal,
    rubric: Any,
    options: BatchOptions,
    generated: str | None,
) -> BatchSummary:
    """Rebuild the class-level outputs from every stored, finished result."""
    from grader.check.bands import load_bands
    from grader.report.html import render_dashboard

    results: dict[str, JobResult] = {}
    reports: dict[str, CheckReport] = {}
    hrefs: dict[str, str] = {}
    for sub in intake.submissions:
        entry = journal.get(sub.id)
        if entry is None or not entry.finished:
            continue  # not graded yet (the batch was stopped): shown as pending
        folder = out / "submissions" / sub.id
        result, report = _load_result(folder)
        if result is not None:
            results[sub.id] = result
            if (folder / "report.html").exists():
                hrefs[sub.id] = f"submissions/{sub.id}/report.html"
        if report is not None:
            reports[sub.id] = report
    rows = build_rows(intake, results, reports, report_href=hrefs)
    class_results = ClassResults(
        title=rubric.title,
        rubric=rubric.id,
        max_points=rubric.max_points,
        intake=intake,
        rows=rows,
        profile=options.mode,
    )
    files = write_exports(class_results, out)
    stamp = generated or datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    html = render_dashboard(class_results, bands=load_bands(options.bands), generated=stamp)
    files["dashboard"] = out / "index.html"
    atomic_write_text(files["dashboard"], html, durable=False)
    return BatchSummary(
        out=out,
        intake=intake,
        results=class_results,
        graded_now=0,
        skipped=0,
        failed=0,
        files=files,
    )
