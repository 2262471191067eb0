"""``grader batch`` on dask: a LocalCluster grades like the local pool; lost workers are re-queued."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.batch.journal import Journal
from grader.batch.options import BatchOptions, check_options
from grader.batch.scheduler import BatchSummary, run_batch
from grader.errors import UsageError
from tests.test_batch_support import executions, fake_grade, write_notebook

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent

ROSTER = """student_id,name,hw4,consultation
xa,Alice Adams,yes,yes
xb,Bob Brown,no,yes
xc,Carol Clark,yes,no
"""


def _examples(tmp_path: Path) -> Path:
    """The bundled example submissions and their roster, copied out of the repository."""
    cls = tmp_path / "class"
    shutil.copytree(ROOT / "submissions", cls, ignore=shutil.ignore_patterns("*.csv"))
    shutil.copy(ROOT / "submissions" / "roster.csv", tmp_path / "roster.csv")
    return cls


def _fake_class(tmp_path: Path, **extra: dict[str, Any]) -> Path:
    cls = tmp_path / "class"
    write_notebook(cls / "adams.ipynb")
    write_notebook(cls / "Bob Brown" / "hw5.ipynb", accs=[0.5, 0.6, 0.7], variants=False)
    write_notebook(cls / "clark_carol_hw5.ipynb", summary=False)
    for name, fake in extra.items():
        write_notebook(cls / f"{name}.ipynb", **fake)
    (tmp_path / "roster.csv").write_text(ROSTER)
    return cls


def _options(tmp_path: Path, out: str, **kw: Any) -> BatchOptions:
    return BatchOptions(
        source=tmp_path / "class",
        out=tmp_path / out,
        roster=tmp_path / "roster.csv",
        run=None,
        **kw,
    )


def _exports(summary: BatchSummary) -> dict[str, str]:
    return {
        name: (summary.out / name).read_text(encoding="utf-8")
        for name in ("gradebook.csv", "junit.xml")
    }


def _rows(summary: BatchSummary) -> list[dict[str, str]]:
    """The gradebook without the content hash."""
    with (summary.out / "gradebook.csv").open(newline="", encoding="utf-8") as fh:
        return [{k: v for k, v in row.items() if k != "sha256"} for row in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A two-worker LocalCluster shared by the tests that connect with ``--scheduler``."""
    from distributed import Client

    from grader.batch.dask_executor import local_cluster

    cluster = local_cluster(2)
    with Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def test_local_cluster_gives_the_gradebook_of_the_local_pool(tmp_path: Path) -> None:
    _examples(tmp_path)
    pool = run_batch(_options(tmp_path, "pool", workers=2), generated="fixed")
    dask = run_batch(_options(tmp_path, "dask", cluster="local", workers=2), generated="fixed")
    assert dask.executor.startswith("local dask cluster: 2 worker")
    assert dask.graded_now == pool.graded_now == len(pool.intake.submissions) >= 4
    assert _exports(dask) == _exports(pool)
    grades = [
        [
            json.loads(line)["report"]["grade"]
            for line in (s.out / "evidence.jsonl").read_text().splitlines()
        ]
        for s in (pool, dask)
    ]
    assert grades[0] == grades[1]
    placements = json.loads(
        (dask.out / "journal" / "placements" / "novakova-alice.json").read_text()
    )
    assert [p["outcome"] for p in placements] == ["graded"]
    assert placements[0]["worker"].startswith("tcp://") and placements[0]["gpu"] is None


def test_a_killed_worker_is_requeued_and_the_batch_completes(tmp_path: Path) -> None:
    # "crash" kills the dask worker process that grades it, the first time only
    _fake_class(tmp_path, crash={"fail": "exit", "times": 1})
    summary = run_batch(
        _options(tmp_path, "out", cluster="local", workers=2),
        grade=fake_grade,
        generated="fixed",
    )
    rows = {r.key: r for r in summary.results.rows}
    assert all(r.state == "graded" for r in rows.values()), {k: r.state for k, r in rows.items()}
    assert executions(tmp_path / "out").count("crash") == 2
    entry = Journal(tmp_path / "out" / "journal").get("crash")
    assert entry is not None and entry.state == "done"
    outcomes = [a.outcome for a in entry.attempts]
    assert outcomes[-1] == "graded" and outcomes[:-1] == ["infrastructure"] * (len(outcomes) - 1)
    assert "died while grading it" in (entry.attempts[0].reason or "")
    # the student is not blamed: graded like any other, no failure on the dashboard
    crash = rows["crash"]
    assert crash.status == "graded" and crash.reason is None and crash.points is not None
    assert "run failed" not in crash.flags


def test_a_submission_that_always_kills_its_worker_fails_alone(tmp_path: Path) -> None:
    _fake_class(tmp_path, crash={"fail": "exit", "times": 99})
    summary = run_batch(
        _options(tmp_path, "out", cluster="local", workers=2, retries=1),
        grade=fake_grade,
        generated="fixed",
    )
    rows = {r.key: r for r in summary.results.rows}
    assert rows["crash"].state == "failed" and rows["crash"].status == "infrastructure"
    assert all(rows[k].state == "graded" for k in ("xa", "xb", "xc"))
    assert executions(tmp_path / "out").count("crash") == 2  # the first try and one retry


def test_scheduler_address_and_resume(tmp_path: Path, scheduler: str) -> None:
    _fake_class(tmp_path)
    first = run_batch(
        _options(tmp_path, "out", scheduler=scheduler), grade=fake_grade, generated="fixed"
    )
    assert first.executor == f"dask scheduler {scheduler}"
    assert first.graded_now == 3
    again = run_batch(
        _options(tmp_path, "out", scheduler=scheduler), grade=fake_grade, generated="fixed"
    )
    assert again.graded_now == 0 and again.skipped == 3
    assert sorted(executions(tmp_path / "out")) == ["xa", "xb", "xc"]


def test_an_unreachable_scheduler_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.batch import dask_executor as dask_backend

    monkeypatch.setattr(dask_backend, "CONNECT_TIMEOUT", "2s")
    _fake_class(tmp_path)
    with pytest.raises(UsageError, match="cannot reach the dask scheduler"):
        run_batch(
            _options(tmp_path, "out", scheduler="tcp://127.0.0.1:9"),
            grade=fake_grade,
        )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"scheduler": "tcp://h:8786", "cluster": "local"}, "exclude each other"),
        ({"cluster": "slurm"}, "needs --cluster-config"),
        ({"cluster_config": Path("c.yaml")}, "goes with --cluster slurm"),
        ({"scheduler": "tcp://h:8786", "workers": 2}, "does not apply to --scheduler"),
        ({"scheduler": "tcp://h:8786", "gpus": "0,1"}, "--gpus all"),
        ({"cluster": "slurm", "cluster_config": Path("c.yaml"), "gpus": "0"}, "cluster config"),
        ({"per_gpu": 2}, "needs --gpus"),
        ({"gpus": "0,0"}, "given twice"),
        ({"workers": 0}, "1 or more"),
    ],
)
def test_contradicting_options_are_refused(
    tmp_path: Path, kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        check_options(_options(tmp_path, "out", **kw))


def test_a_long_lived_cluster_grades_with_the_rubric_as_it_is_now(
    tmp_path: Path, scheduler: str
) -> None:
    _fake_class(tmp_path)
    rubric = tmp_path / "rubric.yaml"
    text = (ROOT / "rubrics" / "hw5.yaml").read_text(encoding="utf-8")
    assert "max_points: 3\n" in text
    rubric.write_text(text, encoding="utf-8")
    first = run_batch(
        _options(tmp_path, "out", scheduler=scheduler, rubric=rubric),
        grade=fake_grade,
        generated="fixed",
    )
    assert {r["max_points"] for r in _rows(first)} == {"3"}
    rubric.write_text(text.replace("max_points: 3\n", "max_points: 30\n"), encoding="utf-8")
    second = run_batch(
        _options(tmp_path, "out", scheduler=scheduler, rubric=rubric),
        grade=fake_grade,
        generated="fixed",
    )
    assert second.graded_now == 3  # the same workers, which read the rubric before
    assert {r["max_points"] for r in _rows(second)} == {"30"}


def test_gpu_runs_on_a_cluster_without_gpu_workers_are_refused(
    tmp_path: Path, scheduler: str
) -> None:
    _fake_class(tmp_path)
    with pytest.raises(UsageError, match="declares a GPU"):
        run_batch(_options(tmp_path, "out", scheduler=scheduler, gpus="all"), grade=fake_grade)
