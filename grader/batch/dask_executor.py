"""Grading a class on a dask.distributed cluster: a running scheduler, a local cluster, or Slurm.

``grader batch`` picks this executor for ``--scheduler tcp://host:8786`` (a
cluster someone started), ``--cluster local`` (a ``LocalCluster`` on this
machine, one worker process per parallel run) and ``--cluster slurm`` (workers
started as Slurm jobs by dask-jobqueue from a config file, see
``docs/cluster.md`` and :mod:`grader.batch.slurm`).

Each submission is one dask task, :func:`run_on_worker`. It calls the same
:func:`grader.batch.jobs.process_job` as the local pool; that launches the
notebook's kernel as a process of its own, so student code never runs inside
the dask worker. The task gets the job and returns its result as plain data
(dicts of JSON types); the journal is written only by the process running
``grader batch``. The class folder, the output folder and the grader's data
store must be on a filesystem the workers share (the usual set-up of a
Slurm cluster); a worker that cannot see them says so, and the submission is
tried elsewhere.

A worker that dies (killed, out of memory, its Slurm job ended) loses the
submissions it was grading: the batch queues them again without counting it
against the student, trying each one alone so that a submission that keeps
killing its worker is found and stops after ``--retries``. The clusters this
module starts tell the dask scheduler not to retry by itself
(``allowed_failures=0``), so every lost attempt is in the journal.

With GPUs every worker owns one GPU (``CUDA_VISIBLE_DEVICES``), runs up to
``K`` submissions at once and declares ``resources={"GPU": K}``; every task
asks for ``{"GPU": 1}``, so the dask scheduler never puts more than ``K`` runs
on one GPU and never sends a run to a worker without one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from grader.batch.executors import ExecutorFailed, Outcome, Placement, WorkerLost
from grader.batch.gpus import gpu_env, parse_gpus, task_resources, worker_resources
from grader.batch.jobs import GradeFn, Job, process_job
from grader.batch.options import BatchOptions
from grader.batch.slurm import load_slurm_config, slurm_cluster
from grader.errors import UsageError
from grader.report.results import JobResult

__all__ = [
    "DaskExecutor",
    "local_cluster",
    "local_gpu_workers",
    "open_dask_executor",
    "run_on_worker",
]

POLL_SECONDS = 1.0  # how often the batch looks again at the cluster's size while it waits
CONNECT_TIMEOUT = "30s"


# ------------------------------------------------------------ worker side


def run_on_worker(job_data: dict[str, Any], grade: GradeFn, gpu: bool) -> dict[str, Any]:
    """The dask task: grade one submission on this worker, return the result as plain data."""
    job = Job.model_validate(job_data)
    placement = Placement(
        host=socket.gethostname(),
        worker=_worker_address(),
        gpu=os.environ.get("CUDA_VISIBLE_DEVICES") if gpu else None,
    )
    unseen = _unseen(job)
    if unseen is not None:
        result = JobResult(
            submission=job.submission.id,
            state="failed",
            status="infrastructure",
            reason=(
                f"the dask worker on {placement.host} cannot see {unseen}: the class and "
                "output folders must be on a filesystem the workers share"
            ),
            retryable=True,
            worker=os.getpid(),
        )
    else:
        if gpu:
            os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
        result = process_job(job, grade)
    return {
        "result": result.model_dump(mode="json"),
        "placement": placement.model_dump(mode="json"),
    }


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None


def _unseen(job: Job) -> str | None:
    notebook = job.submission.notebook
    if notebook is not None and not Path(notebook.path).exists():
        return notebook.path
    if not Path(job.out).is_dir():
        return job.out
    return None


# ------------------------------------------------------------ batch side


class DaskExecutor:
    """Sends each submission to a dask worker; see the module's description."""

    name = "dask"

    def __init__(
        self,
        client: Any,
        *,
        cluster: Any = None,
        gpu: bool = False,
        description: str = "dask",
        threads: int | None = None,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.client = client
        self.cluster = cluster
        self.gpu = gpu
        self.description = description
        self.threads = threads
        self.poll = poll
        self._futures: dict[int, Any] = {}
        self._next = 0

    def capacity(self) -> int:
        """Runs the cluster can take now: worker threads, or GPU slots when runs need a GPU."""
        try:
            info = self.client.scheduler_info()
        except Exception as exc:
            raise ExecutorFailed(f"lost the dask scheduler: {exc}") from None
        total = 0.0
        for worker in (info.get("workers") or {}).values():
            if self.gpu:
                total += float((worker.get("resources") or {}).get("GPU", 0))
            else:
                total += float(worker.get("nthreads") or 0)
        return max(1, int(total))

    def submit(self, job: Job, grade: GradeFn) -> int:
        key = f"grade-{job.submission.id}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(
            run_on_worker,
            job.model_dump(mode="json"),
            grade,
            self.gpu,
            key=key,
            pure=False,
            resources=task_resources() if self.gpu else None,
        )
        self._next += 1
        self._futures[self._next] = future
        return self._next

    def wait(self, handles: Collection[int]) -> set[int]:
        from distributed import wait

        futures = [self._futures[h] for h in handles]
        with contextlib.suppress(TimeoutError):
            wait(futures, timeout=self.poll, return_when="FIRST_COMPLETED")
        return {h for h in handles if self._futures[h].done()}

    def outcome(self, handle: int) -> Outcome:
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        future = self._futures.pop(handle)
        try:
            data = future.result()
        except KilledWorker as exc:
            last = getattr(getattr(exc, "last_worker", None), "address", None)
            where = f" {last}" if last else ""
            raise WorkerLost(
                f"the dask worker{where} died while grading it",
                placement=Placement(worker=last),
            ) from None
        except FutureCancelledError as exc:
            if self.client.status not in ("running", "connecting"):
                raise ExecutorFailed(
                    "lost the connection to the dask scheduler; run the same command again "
                    "to resume"
                ) from None
            raise WorkerLost(f"the dask scheduler dropped it ({exc})") from None
        finally:
            with contextlib.suppress(Exception):
                future.release()
        return Outcome(
            result=JobResult.model_validate(data["result"]),
            placement=Placement.model_validate(data["placement"]),
        )

    def abandon(self, handle: int) -> Placement:
        future = self._futures.pop(handle, None)
        if future is not None:
            with contextlib.suppress(Exception):
                future.cancel()
        return Placement()

    def reset(self) -> None:
        """Nothing to do: one lost worker does not break the others."""

    def close(self, *, cancel: bool) -> None:
        if cancel and self._futures:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self._futures.values()))
        self._futures.clear()
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


def open_dask_executor(options: BatchOptions) -> DaskExecutor:
    """Connect to (or start) the cluster the options name."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency of the run extra
        raise UsageError(
            "dask.distributed is not installed: pip install 'hw-grader[cluster]'"
        ) from None
    if options.scheduler:
        try:
            client = Client(options.scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise UsageError(
                f"cannot reach the dask scheduler at {options.scheduler}: {exc}"
            ) from None
        gpu = bool(options.gpus)
        if gpu:
            _check_gpu_workers(client, options.scheduler)
        return DaskExecutor(
            client,
            gpu=gpu,
            description=f"dask scheduler {options.scheduler}" + (" (GPU slots)" * gpu),
            threads=_threads(options),
        )
    if options.cluster == "slurm":
        assert options.cluster_config is not None
        config = load_slurm_config(options.cluster_config)
        cluster = slurm_cluster(config)
        try:
            cluster.scale(jobs=config.jobs)
            client = Client(cluster)
        except BaseException:
            cluster.close()
            raise
        runs = config.per_gpu if config.gpu else config.runs
        return DaskExecutor(
            client,
            cluster=cluster,
            gpu=config.gpu,
            description=f"Slurm: {config.jobs} job(s) x {runs} run(s)"
            + (" on one GPU each" * config.gpu),
            threads=_threads(options) or config.threads_per_run,
        )
    gpus = parse_gpus(options.gpus) if options.gpus else []
    if gpus:
        cluster = local_cluster(0, gpus=gpus, per_gpu=options.per_gpu)
        parallel = len(gpus) * options.per_gpu
        description = (
            f"local dask cluster: {len(gpus)} GPU worker(s) x {options.per_gpu} run(s) "
            f"(GPU {', '.join(gpus)})"
        )
    else:
        parallel = options.workers or 1
        cluster = local_cluster(parallel)
        description = f"local dask cluster: {parallel} worker process(es)"
    try:
        client = Client(cluster)
    except BaseException:
        cluster.close()
        raise
    threads = _threads(options) or max(1, (os.cpu_count() or 1) // parallel)
    return DaskExecutor(
        client, cluster=cluster, gpu=bool(gpus), description=description, threads=threads
    )


def _threads(options: BatchOptions) -> int | None:
    """The TensorFlow threads per run the user asked for (None: the executor decides)."""
    return options.run.threads if options.run is not None else None


def _check_gpu_workers(client: Any, address: str) -> None:
    """Refuse GPU runs on a cluster whose workers (if any have come yet) declare no GPU."""
    workers = (client.scheduler_info().get("workers") or {}).values()
    if workers and not any((w.get("resources") or {}).get("GPU") for w in workers):
        client.close()
        raise UsageError(
            f"--gpus all: no worker of {address} declares a GPU; start each with "
            "CUDA_VISIBLE_DEVICES=<gpu> dask worker ... --resources GPU=<runs per GPU>"
        )


# ------------------------------------------------------------ local clusters


def local_gpu_workers(gpus: Sequence[str], per_gpu: int) -> dict[str, dict[str, Any]]:
    """Worker specs of a local GPU cluster: one worker per GPU, ``per_gpu`` runs on each.

    Each entry is ``{"options": ...}`` for a ``distributed.Nanny``: its own
    ``CUDA_VISIBLE_DEVICES`` (inherited by the kernels it starts), memory
    growth on, ``per_gpu`` threads and ``resources={"GPU": per_gpu}``.
    """
    return {
        f"gpu-{gpu}": {
            "options": {
                "nthreads": per_gpu,
                "resources": worker_resources(per_gpu),
                "env": gpu_env(gpu),
                "memory_limit": 0,
                "name": f"gpu-{gpu}",
            }
        }
        for gpu in gpus
    }


# no dashboard; the scheduler's small HTTP server (health checks) on a free port, not on
# 8787 where another cluster may be; lost workers are the batch's to retry
_QUIET_SCHEDULER: dict[str, Any] = {
    "dashboard": False,
    "dashboard_address": ":0",
    "allowed_failures": 0,
}


def local_cluster(workers: int, *, gpus: Sequence[str] = (), per_gpu: int = 1) -> Any:
    """A dask cluster on this machine: ``workers`` single-threaded worker processes,
    or one worker per GPU (:func:`local_gpu_workers`).

    The scheduler does not retry a task whose worker died (the batch does, and
    journals it); no dashboard is started; memory limits are left to the
    machine (a kernel's memory is not the worker's).
    """
    from distributed import LocalCluster, Nanny, Scheduler, SpecCluster

    quiet = logging.CRITICAL
    if gpus:
        specs = {
            name: {"cls": Nanny, "options": {**spec["options"], "silence_logs": quiet}}
            for name, spec in local_gpu_workers(gpus, per_gpu).items()
        }
        return SpecCluster(
            workers=specs,
            scheduler={"cls": Scheduler, "options": _QUIET_SCHEDULER},
            silence_logs=quiet,
        )
    return LocalCluster(
        n_workers=max(1, workers),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=quiet,
        memory_limit=0,
        scheduler_kwargs=_QUIET_SCHEDULER,
    )
