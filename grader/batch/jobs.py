"""One submission of a batch, on the worker: grade it, write its files, return its result.

A :class:`Job` is everything a worker needs (plain, picklable data); the
worker calls a *grading function* (:data:`GradeFn`, by default
:func:`grade_job`, which is :func:`grader.pipeline.grade_submission`) and
:func:`process_job` writes the submission's folder: ``evidence.json``,
``results.json``, ``report.html`` and ``result.json``. A failed submission is a
result; only failures that are not the student's are marked for another try.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.batch.gpus import gpu_env
from grader.check.verification import check_reason
from grader.errors import GraderError, NotANotebookError
from grader.execute.records import RunOptions
from grader.execute.sandbox.limits import THREAD_VARIABLES
from grader.files import atomic_write_text
from grader.i18n import _, use_language
from grader.intake.submission import Submission
from grader.pipeline import Graded, grade_submission
from grader.report.exports import gradescope_results
from grader.report.results import JobResult, RunInfo, VerifiedAccuracy

if TYPE_CHECKING:
    from grader.check.bands import Band, BandSet
    from grader.extract.runtime import RunResult
    from grader.grade.result import CheckReport
    from grader.grade.rubric import Rubric

__all__ = [
    "GradeFn",
    "InfrastructureError",
    "Job",
    "grade_job",
    "max_points",
    "process_job",
    "run_info",
    "write_report",
]


class Job(BaseModel):
    """Everything a worker needs to grade one submission (picklable, plain data)."""

    model_config = ConfigDict(extra="forbid")

    submission: Submission
    folder: str = Field(description="the submission's own output folder")
    out: str = Field(description="the batch output folder")
    rubric: str | None = None
    bands: str | None = None
    run: RunOptions | None = Field(
        default=None, description="how the notebook runs (None: graded from its stored outputs)"
    )
    gpu: str | None = Field(
        default=None, description="the GPU this run was given (local pool with --gpus)"
    )
    title: str = ""
    language: str = Field(default="en", description="what the grade and the report speak")


GradeFn = Callable[[Job], Graded]


class InfrastructureError(GraderError):
    """The grader could not grade a submission for a reason that is not the student's."""


# ------------------------------------------------------------ rubric and bands, read once


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


def _bands(path: str | None) -> dict[str, Band]:
    return _load_bands(path, _stamp(path))


@cache
def _load_bands(path: str | None, stamp: tuple[tuple[str, int, int], ...]) -> dict[str, Band]:
    from grader.check.bands import load_bands

    return load_bands(Path(path) if path else None)


@cache
def _load_band_sets(path: str, stamp: tuple[tuple[str, int, int], ...]) -> list[BandSet]:
    from grader.check.bands import load_band_sets

    return load_band_sets(Path(path))


def max_points(job: Job) -> int:
    try:
        return _rubric(job.rubric).max_points
    except GraderError:
        return 0


# ------------------------------------------------------------ grading


def grade_job(job: Job) -> Graded:
    """Grade one submission (stored outputs, or a run in ``job.run``'s profile).

    A run that stops in the student's code is graded on what it captured before
    the failure; a kernel that could not start is the grader's problem and is
    tried again.
    """
    run = job.run
    if run is not None:
        run = run.model_copy(update={"out": Path(job.folder) / "run"})
    graded = grade_submission(
        job.submission,
        run,
        rubric=_rubric(job.rubric),
        bands=_load_band_sets(job.bands, _stamp(job.bands)) if job.bands else None,
    )
    if graded.retryable:
        graded.report = None  # nothing is kept of an attempt that will be made again
    return graded


def run_info(result: RunResult | RunInfo, folder: Path) -> RunInfo:
    """What the reports show of a run: its outcome, files, sandbox and verified accuracies."""
    if isinstance(result, RunInfo):
        return result  # summarised already by a grading function of its own
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
    return RunInfo(
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


def _protection_info(manifest: Any) -> dict[str, Any]:
    """The sandbox and the verification of a run, from its manifest, for the reports."""
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
                reason=check_reason(c),
            )
            for c in check.checks
        ]
        info["verification_note"] = "; ".join(check.notes) or None
    elif manifest is not None:
        info["verification_note"] = _(
            "the claimed test accuracies were not re-checked out of process"
        )
    return info


# ------------------------------------------------------------ the worker's side


def process_job(job: Job, grade: GradeFn) -> JobResult:
    """Grade one submission and write its files; never raises for a bad submission."""
    with use_language(job.language):  # a worker process starts in the default language
        return _process(job, grade)


def _process(job: Job, grade: GradeFn) -> JobResult:
    started = time.monotonic()
    folder = Path(job.folder)
    folder.mkdir(parents=True, exist_ok=True)
    # left by an earlier attempt; overrides.json says which decisions report.html shows, and
    # the page drawn here shows none (the class outputs apply them and draw it again)
    for stale in ("error.txt", "report-error.txt", "overrides.json"):
        with contextlib.suppress(FileNotFoundError):
            (folder / stale).unlink()
    graded = _graded(job, grade, folder)
    report = graded.report
    points_max = report.grade.max_points if report is not None else max_points(job)
    state: Literal["done", "failed"] = "done" if report is not None else "failed"
    result = JobResult(
        submission=job.submission.id,
        state=state,
        status=graded.status,
        reason=graded.reason,
        retryable=graded.retryable,
        points=report.grade.points if report is not None else None,
        max_points=points_max,
        seconds=round(time.monotonic() - started, 3),
        worker=os.getpid(),
        run=run_info(graded.run, folder) if graded.run is not None else None,
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
            gradescope_results(report, result, max_points=points_max), indent=1, ensure_ascii=False
        ),
        durable=False,
    )
    try:
        write_report(job, report, result)
    except Exception as exc:  # the grade stands even if its page cannot be drawn
        result = result.model_copy(update={"report_error": f"{type(exc).__name__}: {exc}"})
        (folder / "report-error.txt").write_text(traceback.format_exc(), encoding="utf-8")
    atomic_write_text(folder / "result.json", result.model_dump_json(indent=1))
    return result


def _graded(job: Job, grade: GradeFn, folder: Path) -> Graded:
    """Call the grading function; every way it can fail becomes a result."""
    sub = job.submission
    if sub.notebook is None:
        names = ", ".join(f.name for f in sub.files) or "nothing"
        return Graded(
            report=None,
            status="no-notebook",
            reason=f"no notebook (.ipynb) handed in (found: {names})",
        )
    try:
        with _environment(_run_env(job)):
            return grade(job)
    except NotANotebookError as exc:
        # name the file as the student handed it in, not by its path on this machine
        reason = exc.message.replace(sub.notebook.path, sub.notebook.origin)
        return Graded(report=None, status="not-a-notebook", reason=reason)
    except InfrastructureError as exc:
        return Graded(report=None, status="infrastructure", reason=exc.message, retryable=True)
    except GraderError as exc:
        return Graded(report=None, status="error", reason=exc.message)
    except Exception as exc:  # a bug of the grader must not stop the class
        (folder / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        return Graded(
            report=None,
            status="error",
            reason=f"the grader failed: {type(exc).__name__}: {exc}",
        )


def _run_env(job: Job) -> dict[str, str]:
    """What every process of this run inherits from the worker: its GPU, its thread limit.

    The kernel gets the thread limit from the execution layer too; the
    processes it starts besides the kernel (the out-of-process check of the
    reported accuracies) get it only from here.
    """
    env = gpu_env(job.gpu) if job.gpu else {}
    threads = job.run.threads if job.run is not None else None
    if threads:
        env.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
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


def write_report(job: Job, report: CheckReport | None, result: JobResult) -> None:
    """The student's ``report.html``, with links to everything in the submission's folder."""
    from grader.report.html import render_student_report
    from grader.report.words import RUN_FILE_LABELS, label

    folder = Path(job.folder)
    links: list[tuple[str, str]] = [
        (_("class dashboard"), os.path.relpath(Path(job.out) / "index.html", folder))
    ]
    if report is not None:
        links.append((_("evidence (JSON)"), "evidence.json"))
    links.append(("results.json", "results.json"))
    if result.run is not None:
        links += [
            (label(RUN_FILE_LABELS, name), href)
            for name, href in result.run.files.items()
            if (folder / href).exists()
        ]
    if (folder / "error.txt").exists():
        links.append((_("grader error log"), "error.txt"))
    html = render_student_report(
        report=report,
        submission=job.submission,
        result=result,
        bands=_bands(job.bands),
        links=links,
        rubric_title=job.title,
    )
    atomic_write_text(folder / "report.html", html, durable=False)
