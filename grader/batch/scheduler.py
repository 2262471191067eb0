"""Batch grading of a whole class: intake, the queue of submissions, reports, exports.

:func:`run_batch` is what ``grader batch`` calls. It is resumable: the journal
(:mod:`grader.batch.journal`) records every submission's state, so running the
same command after a crash or a SIGKILL grades only what is not finished. The
class-level outputs (dashboard, gradebook, JUnit, JSON Lines) are rebuilt from
the stored per-submission results at the end of every run.

Each submission is graded in a worker process with its own folder under
``<out>/submissions/<id>/`` (:mod:`grader.batch.jobs`: one call of
:func:`grader.pipeline.grade_submission`, from the stored outputs or from a
run whose kernel is a process of its own, never the worker). A failed
submission is a result; only failures that are not the student's (a kernel
that could not start, a worker that died) are tried again.

Where the workers are is an :class:`Executor`: a local process pool
(``--workers N``, the default) or a dask.distributed cluster (``--scheduler``,
``--cluster local|slurm``, :mod:`grader.batch.dask_executor`). Either way the
worker returns a :class:`~grader.report.results.JobResult` as plain data and
the journal is written here, by the process that runs the batch. With
``--gpus`` each run gets a GPU of its own (:mod:`grader.batch.gpus`); which
one is recorded per attempt in ``<out>/journal/placements/<id>.json``.

``--only STUDENT`` grades those submissions again (a fresh run, or from the
stored outputs with ``--static``) and keeps every other one as it was. The
class outputs are rebuilt by :mod:`grader.batch.outputs`, which applies the
instructor's decisions in ``overrides.yaml``: a rerun never loses one.

Output folder layout::

    <out>/index.html                    the class dashboard
    <out>/gradebook.csv, junit.xml, evidence.jsonl, intake.json
    <out>/overrides.yaml                decisions made by hand (`grader override`)
    <out>/batch.json                    the rubric, bands and mode of the last run
    <out>/similarity.html, .json        `grader similarity OUT` (shown on the dashboard)
    <out>/submissions/<id>/report.html  the student's report
    <out>/submissions/<id>/evidence.json, results.json, result.json, run/...
    <out>/submissions/<id>/overrides.json  the decisions its report.html shows
    <out>/journal/<id>.json             the batch journal
    <out>/journal/placements/<id>.json  where each attempt ran (host, worker, GPU)
    <out>/intake/...                    notebooks taken out of zip archives
"""

from __future__ import annotations

import contextlib
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from grader.batch.executors import (
    Executor,
    ExecutorFailed,
    Placement,
    WorkerLost,
    auto_memory,
    local_executor,
)
from grader.batch.jobs import GradeFn, Job, grade_job, max_points, write_report
from grader.batch.journal import Journal, JournalEntry
from grader.batch.options import BatchOptions, batch_lock, check_options, settings_fingerprint
from grader.batch.outputs import (
    check_class_overrides,
    finish_class,
    read_overrides,
    record_batch,
)
from grader.errors import UsageError
from grader.files import atomic_write_text
from grader.i18n import _
from grader.intake.classroom import collect_class
from grader.intake.lookup import find_submissions
from grader.intake.submission import ClassIntake
from grader.report.exports import gradescope_results
from grader.report.results import ClassResults, JobResult

__all__ = ["EXECUTORS", "BatchEvent", "BatchSummary", "make_executor", "run_batch"]


def _dask_executor(options: BatchOptions) -> Executor:
    from grader.batch.dask_executor import open_dask_executor

    return open_dask_executor(options)


#: where the submissions are graded: the local process pool, or a dask cluster
EXECUTORS: dict[str, Callable[[BatchOptions], Executor]] = {
    "local": local_executor,
    "dask": _dask_executor,
}


def make_executor(options: BatchOptions) -> Executor:
    """The executor the options ask for: the local pool, or dask."""
    kind = "dask" if options.scheduler or options.cluster else "local"
    return EXECUTORS[kind](options)


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
    regraded: list[str] | None = None  # --only: the submissions graded again

    @property
    def dashboard(self) -> Path:
        return self.files["dashboard"]


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
        write_report(job, None, result)
    atomic_write_text(folder / "result.json", result.model_dump_json(indent=1))
    atomic_write_text(
        folder / "results.json",
        json.dumps(gradescope_results(None, result, max_points=max_points(job)), indent=1),
        durable=False,
    )
    return result


def run_batch(
    options: BatchOptions,
    *,
    grade: GradeFn | None = None,
    on_event: Callable[[BatchEvent], None] | None = None,
    generated: str | None = None,
) -> BatchSummary:
    """Grade a class; resumes from the journal in ``options.out`` if there is one.

    ``grade`` replaces the grading function (:func:`grader.batch.jobs.grade_job`;
    it must be picklable: a module-level function). ``generated`` is the time
    shown on the dashboard (default: now).
    """
    from grader.grade.rubric import default_rubric_path, load_rubric

    emit = on_event or (lambda e: None)
    out = options.out.resolve()
    if not options.source.exists():
        raise UsageError(f"{options.source}: no such file or folder")
    check_options(options)
    with batch_lock(out):
        rubric_path = options.rubric or default_rubric_path()
        rubric = load_rubric(rubric_path)
        roster = None
        if options.roster is not None:
            from grader.intake.roster import load_roster

            roster = load_roster(options.roster)
        intake = collect_class(
            options.source,
            staging=out / "intake",
            roster=roster,
            deadline=rubric.deadline,
            limits=options.zip_limits,
            exclude=[out, *([options.roster] if options.roster else [])],
            file_times=options.file_times,
        )
        atomic_write_text(out / "intake.json", intake.model_dump_json(indent=1), durable=False)
        # decisions made by hand are checked before anything is graded: a bad entry stops
        # the batch here, with what is wrong, and nothing recorded is touched
        check_class_overrides(out, read_overrides(out), intake, rubric)
        only = {s.id for s in find_submissions(intake, options.only)} if options.only else None
        record_batch(out, options)
        journal = Journal(out / "journal")
        jobs = _queue(intake, journal, options, rubric_path, rubric.display_title(), only=only)
        total = len(intake.submissions)
        skipped = total - len(jobs)
        emit(BatchEvent("planned", total, skipped, 0, 0, skipped))
        executor_name = _("none: nothing to grade")
        finished = failed = 0
        try:
            if jobs:
                executor = make_executor(options)
                executor_name = executor.description
                scheduler = _Scheduler(
                    _share_machine(jobs, executor, options),
                    journal=journal,
                    grade=grade or grade_job,
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
            class_results, files = finish_class(
                out,
                intake,
                journal,
                rubric,
                rubric_path=str(rubric_path),
                bands=options.bands,
                mode=options.mode,
                generated=generated,
            )
        emit(BatchEvent("done", total, finished + skipped, failed, 0, skipped))
        return BatchSummary(
            out=out,
            intake=intake,
            results=class_results,
            graded_now=finished,
            skipped=skipped,
            failed=sum(1 for r in class_results.rows if r.state == "failed"),
            files=files,
            executor=executor_name,
            regraded=sorted(only) if only is not None else None,
        )


def _queue(
    intake: ClassIntake,
    journal: Journal,
    options: BatchOptions,
    rubric_path: Path,
    title: str,
    *,
    only: set[str] | None = None,
) -> list[tuple[Job, JournalEntry]]:
    """A job for every submission that is not finished with these settings.

    With ``only`` (``--only``), exactly those submissions are graded again, a run
    afresh rather than from the run cache, and every other one is kept as it is.
    """
    rubric_text = rubric_path.read_text(encoding="utf-8")
    out = options.out.resolve()
    jobs: list[tuple[Job, JournalEntry]] = []
    for sub in intake.submissions:
        if only is not None and sub.id not in only:
            continue
        folder = out / "submissions" / sub.id
        run = options.run
        if only is not None and run is not None:
            run = run.model_copy(update={"force": True})
        job = Job(
            submission=sub,
            folder=str(folder),
            out=str(out),
            rubric=str(rubric_path),
            bands=str(options.bands) if options.bands else None,
            run=run,
            title=title,
            language=options.language,
        )
        sha = sub.notebook.sha256 if sub.notebook else None
        key = settings_fingerprint(options, rubric_text, sub)
        stored = (folder / "result.json").is_file()
        redo = options.force or only is not None
        if not redo and stored and not journal.needs_work(sub.id, sha, key):
            continue
        jobs.append((job, journal.queue(sub.id, sha, key)))
    return jobs


def _share_machine(
    jobs: list[tuple[Job, JournalEntry]], executor: Executor, options: BatchOptions
) -> list[tuple[Job, JournalEntry]]:
    """Runs left without a thread count or a memory limit share this machine's."""
    run = options.run
    if run is None:
        return jobs
    update: dict[str, Any] = {}
    if run.threads is None and executor.threads:
        update["threads"] = executor.threads
    if run.limits.memory_bytes is None and not options.remote:
        limits = run.limits.model_copy(update={"memory_bytes": auto_memory(executor.capacity())})
        update["limits"] = limits
    if not update:
        return jobs
    shared = run.model_copy(update=update)
    return [(job.model_copy(update={"run": shared}), entry) for job, entry in jobs]
