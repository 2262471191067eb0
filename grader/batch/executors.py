"""Where the submissions of a batch are graded: the executor protocol and the local pool.

An :class:`Executor` takes jobs and hands back their results; the batch's
scheduler (:mod:`grader.batch.scheduler`) keeps it busy and keeps the journal.
:class:`LocalPoolExecutor` runs worker processes on this machine (with GPU
slots, each run gets a GPU of its own); the dask executor
(:mod:`grader.batch.dask_executor`) runs them on a cluster.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import socket
from collections.abc import Collection
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from grader.batch.gpus import GpuSlots, parse_gpus
from grader.batch.jobs import GradeFn, Job, process_job
from grader.batch.options import BatchOptions
from grader.errors import GraderError
from grader.i18n import _, ngettext
from grader.report.results import JobResult

__all__ = [
    "Executor",
    "ExecutorFailed",
    "LocalPoolExecutor",
    "Outcome",
    "Placement",
    "WorkerLost",
    "auto_memory",
    "auto_threads",
    "local_executor",
]


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


def auto_memory(parallel: int) -> int | None:
    """Memory limit per run so that parallel runs on this machine share 3/4 of its RAM."""
    from grader.execute.sandbox.limits import physical_memory

    ram = physical_memory()
    return ram * 3 // 4 // max(1, parallel) if ram else None


def auto_threads(parallel: int) -> int:
    """TensorFlow threads per run so that parallel runs share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, parallel))


class LocalPoolExecutor:
    """Worker processes on this machine; with GPU slots, each run gets a GPU of its own."""

    name = "local"

    def __init__(self, workers: int, *, gpus: list[str] | None = None, per_gpu: int = 1) -> None:
        self.slots = GpuSlots(gpus, per_gpu) if gpus else None
        self.workers = max(1, workers)
        self.threads: int | None = auto_threads(self.workers)
        self.description = ngettext(
            "{n} local worker process", "{n} local worker processes", self.workers
        ).format(n=self.workers)
        if self.slots is not None:
            self.description = _("{workers} on GPU {gpus} ({n} per GPU)").format(
                workers=self.description, gpus=", ".join(self.slots.gpus), n=self.slots.per_gpu
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


def local_executor(options: BatchOptions) -> Executor:
    gpus = parse_gpus(options.gpus) if options.gpus else None
    if gpus:
        slots = len(gpus) * options.per_gpu
        workers = min(options.workers, slots) if options.workers else slots
    else:
        workers = options.workers or 1
    return LocalPoolExecutor(workers, gpus=gpus, per_gpu=options.per_gpu)


def _worker_init() -> None:
    """Workers die with the batch (SIGKILL included) and leave Ctrl-C to it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the batch died before the line above took effect
            os._exit(1)
