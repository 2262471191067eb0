"""GPU slots: parsing ``--gpus``, packing K runs per GPU, and what each run is given (no GPU needed)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from grader.batch import gpus as gpus_module
from grader.batch.gpus import (
    GpuSlots,
    SlotsFull,
    detect_gpus,
    gpu_env,
    parse_gpus,
    task_resources,
    worker_resources,
)
from grader.batch.jobs import Job, process_job
from grader.batch.options import BatchOptions
from grader.batch.scheduler import run_batch
from grader.errors import UsageError
from grader.execute.records import RunOptions
from grader.pipeline import Graded
from tests.test_batch_support import fake_grade, write_notebook

# ------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", ["0"]),
        ("0,1", ["0", "1"]),
        (" 2 , 3 ", ["2", "3"]),
        ("GPU-8f3e2a1b-0c4d-4e5f-9a6b-7c8d9e0f1a2b", ["GPU-8f3e2a1b-0c4d-4e5f-9a6b-7c8d9e0f1a2b"]),
        ("MIG-GPU-5c89/1/0", ["MIG-GPU-5c89/1/0"]),
    ],
)
def test_gpu_lists_are_parsed(text: str, expected: list[str]) -> None:
    assert parse_gpus(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a list"),
        ("0,,1", "expected a list"),
        ("zero", "not a GPU index"),
        ("0;1", "not a GPU index"),
        ("1,1", "given twice"),
    ],
)
def test_bad_gpu_lists_are_refused(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_gpus(text)


def test_all_means_the_gpus_this_machine_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_gpus("all", environ={"CUDA_VISIBLE_DEVICES": "2,3"}) == ["2", "3"]
    assert detect_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert detect_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []
    monkeypatch.setattr(gpus_module.shutil, "which", lambda name: None)
    assert detect_gpus({}) == []
    with pytest.raises(UsageError, match="no GPU found"):
        parse_gpus("ALL", environ={})


def test_run_environment_and_dask_resources() -> None:
    assert gpu_env("1") == {"CUDA_VISIBLE_DEVICES": "1", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
    assert worker_resources(4) == {"GPU": 4.0}
    assert task_resources() == {"GPU": 1.0}


# ------------------------------------------------------------ slots


def test_slots_spread_runs_and_pack_at_most_k_per_gpu() -> None:
    slots = GpuSlots(["0", "1"], per_gpu=2)
    assert slots.capacity == 4 and slots.free == 4
    assert [slots.acquire() for _ in range(4)] == ["0", "1", "0", "1"]
    assert slots.free == 0
    with pytest.raises(SlotsFull):
        slots.acquire()
    slots.release("1")
    assert slots.runs("1") == 1 and slots.acquire() == "1"
    slots.release("0")
    slots.release("0")
    assert slots.acquire() == "0" and slots.runs("0") == 1
    with pytest.raises(UsageError):
        GpuSlots(["0"], per_gpu=1).release("0")


def test_slots_take_the_least_busy_gpu_first_listed_on_a_tie() -> None:
    slots = GpuSlots(["3", "1", "2"], per_gpu=3)
    got = [slots.acquire() for _ in range(5)]
    assert got == ["3", "1", "2", "3", "1"]
    slots.release("3")
    slots.release("3")
    assert slots.acquire() == "3"  # 3 has none now, the others have one or two


@pytest.mark.parametrize(
    ("gpus", "per_gpu"), [([], 1), (["0"], 0), (["0", "0"], 1)], ids=["none", "k0", "twice"]
)
def test_bad_slots_are_refused(gpus: list[str], per_gpu: int) -> None:
    with pytest.raises(UsageError):
        GpuSlots(gpus, per_gpu)


# ------------------------------------------------------------ batches


def recording_grade(job: Job) -> Graded:
    """Records what the run's environment says about its GPU, then grades like fake_grade."""
    start = time.time()
    time.sleep(0.4)
    line = {
        "submission": job.submission.id,
        "job_gpu": job.gpu,
        "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "growth": os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH"),
        "threads": os.environ.get("TF_NUM_INTRAOP_THREADS"),
        "start": start,
        "end": time.time(),
    }
    fd = os.open(Path(job.out) / "gpu.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)
    return fake_grade(job)


def _class(tmp_path: Path, n: int) -> Path:
    cls = tmp_path / "class"
    for i in range(n):
        write_notebook(cls / f"s{i:02d}.ipynb")
    return cls


def _log(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "gpu.log").read_text().splitlines()]


def _max_overlap(runs: list[dict[str, Any]]) -> int:
    edges = sorted([(r["start"], 1) for r in runs] + [(r["end"], -1) for r in runs])
    best = now = 0
    for _, step in edges:
        now += step
        best = max(best, now)
    return best


def test_local_pool_gives_each_run_a_gpu_and_never_more_than_k_per_gpu(tmp_path: Path) -> None:
    cls = _class(tmp_path, 8)
    out = tmp_path / "out"
    summary = run_batch(
        BatchOptions(source=cls, out=out, run=None, gpus="0,1", per_gpu=2),
        grade=recording_grade,
    )
    assert summary.executor == "4 local worker processes on GPU 0, 1 (2 per GPU)"
    assert all(r.state == "graded" for r in summary.results.rows)
    runs = _log(out)
    assert len(runs) == 8
    for run in runs:
        assert run["visible"] == run["job_gpu"] and run["visible"] in ("0", "1")
        assert run["growth"] == "true"
    for gpu in ("0", "1"):
        assert 1 <= _max_overlap([r for r in runs if r["visible"] == gpu]) <= 2
    for run in runs:
        placed = json.loads(
            (out / "journal" / "placements" / f"{run['submission']}.json").read_text()
        )
        assert [p["gpu"] for p in placed] == [run["visible"]]
        assert placed[0]["worker"].startswith("pid ")


def test_fewer_workers_than_gpu_slots(tmp_path: Path) -> None:
    cls = _class(tmp_path, 3)
    summary = run_batch(
        BatchOptions(source=cls, out=tmp_path / "out", run=None, gpus="0,1", per_gpu=2, workers=1),
        grade=recording_grade,
    )
    assert summary.executor.startswith("1 local worker process on GPU")
    assert _max_overlap(_log(tmp_path / "out")) == 1
    assert {r["visible"] for r in _log(tmp_path / "out")} == {"0"}


def test_a_job_without_gpu_leaves_the_environment_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    cls = _class(tmp_path, 1)
    summary = run_batch(
        BatchOptions(source=cls, out=tmp_path / "out", run=None), grade=recording_grade
    )
    assert summary.results.rows[0].state == "graded"
    (run,) = _log(tmp_path / "out")
    assert run["visible"] == "5" and run["growth"] is None


def test_process_job_sets_the_gpu_for_the_run_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.intake.classroom import collect_class

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    cls = _class(tmp_path, 1)
    (tmp_path / "out").mkdir()
    sub = collect_class(cls, staging=tmp_path / "staging").submissions[0]
    job = Job(
        submission=sub,
        run=RunOptions(threads=2),
        folder=str(tmp_path / "out" / "submissions" / sub.id),
        out=str(tmp_path / "out"),
        gpu="3",
    )
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "8")
    result = process_job(job, recording_grade)
    assert result.status == "graded"
    (run,) = _log(tmp_path / "out")
    assert run["visible"] == "3" and run["threads"] == "2"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ  # restored after the run
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "8"


def test_overlapping_runs_keep_the_environment_until_the_last_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from grader.batch.jobs import _environment

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    first = _environment({"CUDA_VISIBLE_DEVICES": "0"})
    second = _environment({"CUDA_VISIBLE_DEVICES": "0"})
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"  # the second run still runs
    second.__exit__(None, None, None)
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


def test_local_dask_cluster_pins_one_worker_per_gpu(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from grader.batch.dask_executor import local_gpu_workers

    specs = local_gpu_workers(["0", "1"], 2)
    assert specs["gpu-0"]["options"]["env"] == gpu_env("0")
    assert specs["gpu-1"]["options"]["resources"] == {"GPU": 2.0}
    assert specs["gpu-1"]["options"]["nthreads"] == 2

    cls = _class(tmp_path, 4)
    out = tmp_path / "out"
    summary = run_batch(
        BatchOptions(source=cls, out=out, run=None, cluster="local", gpus="0,1", per_gpu=1),
        grade=recording_grade,
    )
    assert summary.executor.startswith("local dask cluster: 2 GPU worker(s) x 1 run(s)")
    assert all(r.state == "graded" for r in summary.results.rows)
    runs = _log(out)
    assert {r["visible"] for r in runs} <= {"0", "1"}
    assert all(r["growth"] == "true" and r["job_gpu"] is None for r in runs)
    for gpu in ("0", "1"):
        assert _max_overlap([r for r in runs if r["visible"] == gpu]) <= 1
    for run in runs:
        placed = json.loads(
            (out / "journal" / "placements" / f"{run['submission']}.json").read_text()
        )
        assert placed[-1]["gpu"] == run["visible"]


def test_the_kernel_of_a_run_sees_its_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU reaches the student's kernel (a process of its own) through its environment."""
    pytest.importorskip("papermill")
    import nbformat
    from nbformat import v4

    from grader.batch.jobs import grade_job
    from grader.execute.data import ensure_synthetic
    from grader.execute.records import RunOptions
    from grader.intake.classroom import collect_class

    monkeypatch.setenv("GRADER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    data = ensure_synthetic(tmp_path / "home", 20, 10)
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(
        v4.new_code_cell(
            "import os\nprint('GPU', os.environ.get('CUDA_VISIBLE_DEVICES'), "
            "os.environ.get('TF_FORCE_GPU_ALLOW_GROWTH'))"
        )
    )
    (tmp_path / "class").mkdir()
    nbformat.write(nb, str(tmp_path / "class" / "gpu.ipynb"))
    (tmp_path / "out").mkdir()
    sub = collect_class(tmp_path / "class", staging=tmp_path / "staging").submissions[0]
    folder = tmp_path / "out" / "submissions" / sub.id
    job = Job(
        submission=sub,
        folder=str(folder),
        out=str(tmp_path / "out"),
        run=RunOptions(profile="smoke", data=data.dir, threads=1),
        gpu="7",
    )
    result = process_job(job, grade_job)
    assert result.run is not None and result.run.status == "ok", result.reason
    executed = folder / result.run.files["executed notebook"]
    assert "GPU 7 true" in executed.read_text()
