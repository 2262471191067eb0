"""The dask executor's bookkeeping with a stand-in client: capacity, lost workers, a lost scheduler."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from grader.batch.executors import ExecutorFailed, Placement, WorkerLost
from grader.report.results import JobResult

pytest.importorskip("distributed")

from distributed.client import FutureCancelledError  # noqa: E402
from distributed.scheduler import KilledWorker  # noqa: E402

from grader.batch.dask_executor import DaskExecutor  # noqa: E402


class _Future:
    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error, self.released = value, error, False

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value

    def done(self) -> bool:
        return True

    def release(self) -> None:
        self.released = True

    def cancel(self) -> None:
        self.released = True


class _Client:
    def __init__(self, workers: dict[str, dict[str, Any]], status: str = "running") -> None:
        self.workers, self.status = workers, status

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": self.workers}


def _executor(client: _Client, future: _Future, *, gpu: bool = False) -> DaskExecutor:
    ex = DaskExecutor(client, gpu=gpu)
    ex._futures[1] = future
    return ex


CPU = {"a": {"nthreads": 2, "resources": {}}, "b": {"nthreads": 1}}
GPU = {"a": {"nthreads": 4, "resources": {"GPU": 2}}, "b": {"nthreads": 4, "resources": {}}}


def test_capacity_counts_threads_or_gpu_slots() -> None:
    assert DaskExecutor(_Client(CPU)).capacity() == 3
    assert DaskExecutor(_Client(GPU), gpu=True).capacity() == 2
    assert DaskExecutor(_Client({})).capacity() == 1  # one waits for the first worker


def test_a_result_comes_back_as_plain_data() -> None:
    result = JobResult(submission="xa", state="done", status="graded", points=2)
    data = {
        "result": result.model_dump(mode="json"),
        "placement": Placement(host="n1", worker="tcp://n1:1", gpu="1").model_dump(),
    }
    future = _Future(data)
    outcome = _executor(_Client(CPU), future).outcome(1)
    assert outcome.result == result and outcome.placement.gpu == "1"
    assert future.released


def test_a_killed_worker_is_a_lost_worker() -> None:
    dead = SimpleNamespace(address="tcp://10.0.0.7:4000")
    future = _Future(error=KilledWorker("grade-xa-1", dead, 0))  # type: ignore[arg-type]
    with pytest.raises(WorkerLost) as info:
        _executor(_Client(CPU), future).outcome(1)
    assert "tcp://10.0.0.7:4000 died while grading it" in info.value.reason
    assert not info.value.all_in_flight and info.value.placement.worker == "tcp://10.0.0.7:4000"


def test_a_lost_scheduler_stops_the_batch_a_dropped_task_is_retried() -> None:
    cancelled = FutureCancelledError("grade-xa-1", "scheduler-connection-lost")
    with pytest.raises(ExecutorFailed, match="run the same command again"):
        _executor(_Client(CPU, status="closed"), _Future(error=cancelled)).outcome(1)
    with pytest.raises(WorkerLost, match="dropped it"):
        _executor(_Client(CPU), _Future(error=cancelled)).outcome(1)


def test_an_unreachable_scheduler_while_filling_stops_the_batch() -> None:
    class Broken(_Client):
        def scheduler_info(self) -> dict[str, Any]:
            raise OSError("connection refused")

    with pytest.raises(ExecutorFailed, match="lost the dask scheduler"):
        DaskExecutor(Broken({})).capacity()
