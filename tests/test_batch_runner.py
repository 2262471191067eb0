"""The resumable batch: parallel workers, journal, retries, SIGKILL and resume, outputs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from grader.batch.jobs import Job
from grader.batch.journal import Journal
from grader.batch.options import BatchOptions
from grader.batch.scheduler import BatchEvent, BatchSummary, run_batch
from grader.execute.records import RunOptions
from grader.execute.sandbox.limits import ResourceLimits
from grader.pipeline import Graded
from tests.test_batch_support import executions, fake_grade, write_notebook

ROOT = Path(__file__).resolve().parent.parent

ROSTER = """student_id,name,hw4,consultation
xa,Alice Adams,yes,yes
xb,Bob Brown,no,yes
xc,Carol Clark,yes,no
xd,Dan Davis,yes,yes
xe,Eve Evans,yes,yes
"""


def _class(tmp_path: Path, **extra: Mapping[str, object]) -> Path:
    cls = tmp_path / "class"
    write_notebook(cls / "adams.ipynb")
    write_notebook(cls / "Bob Brown" / "hw5.ipynb", accs=[0.5, 0.6, 0.7], variants=False)
    write_notebook(cls / "clark_carol_hw5.ipynb", summary=False)
    for name, fake in extra.items():
        write_notebook(cls / f"{name}.ipynb", **fake)
    (tmp_path / "roster.csv").write_text(ROSTER)
    return cls


def _run(tmp_path: Path, out: str = "out", **kw: object) -> BatchSummary:
    options = BatchOptions(
        source=tmp_path / "class",
        out=tmp_path / out,
        roster=tmp_path / "roster.csv",
        run=None,
        **kw,  # type: ignore[arg-type]
    )
    return run_batch(options, grade=fake_grade, generated="2025-11-18 08:00")


def _recording_grade(job: Job) -> Graded:
    """fake_grade that also keeps the job it was given (what a real run would be asked)."""
    Path(job.folder).mkdir(parents=True, exist_ok=True)
    (Path(job.folder) / "job.json").write_text(job.model_dump_json(), encoding="utf-8")
    return fake_grade(job)


def test_runs_get_the_sandbox_and_a_share_of_the_memory(tmp_path: Path) -> None:
    from grader.execute.sandbox.limits import physical_memory

    _class(tmp_path)
    options = BatchOptions(
        source=tmp_path / "class",
        out=tmp_path / "out",
        run=RunOptions(profile="smoke", verify=False),
        workers=2,
    )
    run_batch(options, grade=_recording_grade)
    jobs = [
        Job.model_validate_json((d / "job.json").read_text(encoding="utf-8"))
        for d in sorted((tmp_path / "out" / "submissions").iterdir())
    ]
    ram = physical_memory()
    assert ram and len(jobs) == 3
    for job in jobs:
        assert job.run is not None
        assert job.run.backend == "auto" and job.run.verify is False
        assert job.run.limits.memory_bytes == ram * 3 // 4 // 2  # 3/4 of RAM shared by the two runs
    options = BatchOptions(
        source=tmp_path / "class",
        out=tmp_path / "out2",
        run=RunOptions(
            profile="smoke",
            backend="none",
            limits=ResourceLimits(memory_bytes=2 * 1024**3),
            timeout_cell=60.0,
            timeout_run=300.0,
        ),
        workers=2,
    )
    run_batch(options, grade=_recording_grade)
    job = Job.model_validate_json(
        next((tmp_path / "out2" / "submissions").glob("*/job.json")).read_text(encoding="utf-8")
    )
    assert job.run is not None
    assert job.run.backend == "none" and job.run.limits.memory_bytes == 2 * 1024**3
    assert job.run.verify and (job.run.timeout_cell, job.run.timeout_run) == (60.0, 300.0)


def _gradebook(out: Path) -> list[dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_batch_writes_reports_dashboard_and_exports(tmp_path: Path) -> None:
    _class(tmp_path)
    events: list[BatchEvent] = []
    options = BatchOptions(
        source=tmp_path / "class",
        out=tmp_path / "out",
        roster=tmp_path / "roster.csv",
        run=None,
        workers=2,
    )
    summary = run_batch(options, grade=fake_grade, on_event=events.append)
    out = tmp_path / "out"
    assert summary.graded_now == 3 and summary.skipped == 0 and summary.failed == 0
    for sid in ("xa", "xb", "xc"):
        folder = out / "submissions" / sid
        for name in ("report.html", "evidence.json", "results.json", "result.json"):
            assert (folder / name).is_file(), (sid, name)
        entry = Journal(out / "journal").get(sid)
        assert entry is not None and entry.state == "done" and len(entry.attempts) == 1
    for name in ("index.html", "gradebook.csv", "junit.xml", "evidence.jsonl", "intake.json"):
        assert (out / name).is_file()
    rows = _gradebook(out)
    assert [r["student_id"] for r in rows] == ["xa", "xb", "xc", "xd", "xe"]
    assert [r["status"] for r in rows] == ["graded", "graded", "graded", "missing", "missing"]
    assert rows[1]["points"] == "2"  # baseline (no homework 4) + three models; no variants
    assert rows[2]["counted"] == "no"  # no consultation
    assert len((out / "evidence.jsonl").read_text().splitlines()) == 3
    assert events[0].kind == "planned" and events[-1].kind == "done"
    assert max(e.running for e in events) <= 2
    assert events[-1].finished == 3
    html = (out / "index.html").read_text()
    assert 'href="submissions/xa/report.html"' in html


def test_rerun_grades_nothing_again(tmp_path: Path) -> None:
    _class(tmp_path)
    _run(tmp_path)
    assert sorted(executions(tmp_path / "out")) == ["xa", "xb", "xc"]
    first = (tmp_path / "out" / "gradebook.csv").read_text()
    summary = _run(tmp_path)
    assert summary.graded_now == 0 and summary.skipped == 3
    assert sorted(executions(tmp_path / "out")) == ["xa", "xb", "xc"]
    assert (tmp_path / "out" / "gradebook.csv").read_text() == first


def test_changed_notebook_or_roster_is_graded_again(tmp_path: Path) -> None:
    cls = _class(tmp_path)
    _run(tmp_path)
    write_notebook(cls / "adams.ipynb", accs=[0.7, 0.8, 0.9])  # new bytes
    (tmp_path / "roster.csv").write_text(
        ROSTER.replace("xc,Carol Clark,yes,no", "xc,Carol Clark,yes,yes")
    )
    summary = _run(tmp_path)
    assert summary.graded_now == 2
    assert sorted(executions(tmp_path / "out")) == ["xa", "xa", "xb", "xc", "xc"]
    assert _gradebook(tmp_path / "out")[2]["counted"] == "yes"


def test_force_grades_everything_again(tmp_path: Path) -> None:
    _class(tmp_path)
    _run(tmp_path)
    assert _run(tmp_path, force=True).graded_now == 3


def test_an_interrupted_journal_is_resumed(tmp_path: Path) -> None:
    _class(tmp_path)
    _run(tmp_path)
    journal = Journal(tmp_path / "out" / "journal")
    # as a batch killed while xb was running leaves it
    entry = journal.get("xb")
    assert entry is not None
    journal.start(journal.queue("xb", entry.sha256, entry.settings))
    (tmp_path / "out" / "submissions" / "xc" / "result.json").unlink()  # lost output
    summary = _run(tmp_path)
    assert summary.graded_now == 2
    assert sorted(executions(tmp_path / "out")) == ["xa", "xb", "xb", "xc", "xc"]
    xb = journal.get("xb")
    assert xb is not None and xb.state == "done"
    assert [a.outcome for a in xb.attempts] == ["graded", "interrupted", "graded"]


def test_failures_are_results_and_only_infrastructure_is_retried(tmp_path: Path) -> None:
    _class(
        tmp_path,
        broken={},
        student={"fail": "student"},
        kernel={"fail": "kernel", "times": 1},
        bug={"fail": "bug"},
    )
    (tmp_path / "class" / "broken.ipynb").write_text("{ not json")
    summary = _run(tmp_path, workers=2)
    rows = {r.key: r for r in summary.results.rows}
    assert rows["broken"].status == "not-a-notebook" and rows["broken"].state == "failed"
    assert "broken.ipynb" in (rows["broken"].reason or "")
    assert str(tmp_path) not in (rows["broken"].reason or "")
    assert rows["student"].state == "run-failed" and rows["student"].points is not None
    assert rows["kernel"].state == "graded"
    assert rows["bug"].status == "error" and "unexpected bug" in (rows["bug"].reason or "")
    calls = executions(tmp_path / "out")
    assert calls.count("student") == 1  # the student's own error: never retried
    assert calls.count("bug") == 1
    assert calls.count("kernel") == 2  # the kernel did not start once: tried again
    kernel = Journal(tmp_path / "out" / "journal").get("kernel")
    assert kernel is not None and [a.outcome for a in kernel.attempts] == [
        "infrastructure",
        "graded",
    ]
    assert (tmp_path / "out" / "submissions" / "bug" / "error.txt").is_file()
    assert (tmp_path / "out" / "submissions" / "broken" / "report.html").is_file()


def test_a_dying_worker_is_retried_alone_and_does_not_stop_the_batch(tmp_path: Path) -> None:
    _class(
        tmp_path,
        crash_once={"fail": "exit", "times": 1},
        crash_always={"fail": "exit", "times": 99},
    )
    summary = _run(tmp_path, workers=2, retries=2)
    rows = {r.key: r for r in summary.results.rows}
    assert rows["crash-once"].state == "graded"
    assert (
        rows["crash-always"].state == "failed" and rows["crash-always"].status == "infrastructure"
    )
    assert all(rows[k].state == "graded" for k in ("xa", "xb", "xc"))
    calls = executions(tmp_path / "out")
    assert calls.count("crash-always") == 3  # the first try and two retries
    html = (tmp_path / "out" / "index.html").read_text()
    assert "worker process died" in html


def test_moodle_zip_batch(tmp_path: Path) -> None:
    src = write_notebook(tmp_path / "src" / "hw5.ipynb").read_bytes()
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Alice Adams_11_assignsubmission_file_/hw5.ipynb", src)
        zf.writestr("Bob Brown_12_assignsubmission_file_/hw5.ipynb", src)
        zf.writestr("Bob Brown_12_assignsubmission_file_/hw5 (1).ipynb", src)
        zf.writestr("Zed Zeta_13_assignsubmission_file_/hw5.ipynb", src)
        zf.writestr("../../escape.ipynb", src)
    (tmp_path / "roster.csv").write_text(ROSTER)
    summary = run_batch(
        BatchOptions(
            source=archive, out=tmp_path / "out", roster=tmp_path / "roster.csv", run=None
        ),
        grade=fake_grade,
    )
    states = {r.name: r.state for r in summary.results.rows}
    assert states == {
        "Alice Adams": "graded",
        "Bob Brown": "graded",
        "Carol Clark": "missing",
        "Dan Davis": "missing",
        "Eve Evans": "missing",
        "Zed Zeta": "graded",
    }
    kinds = {p.kind for p in summary.intake.problems}
    assert {"unsafe-member", "unknown-submitter", "several-notebooks"} <= kinds
    assert not (tmp_path / "escape.ipynb").exists()
    html = (tmp_path / "out" / "index.html").read_text()
    assert "path traversal" in html and "Zed Zeta" in html


def test_broken_class_folder_completes_with_every_problem_on_the_dashboard(tmp_path: Path) -> None:
    cls = _class(tmp_path)
    (cls / "dan_davis.ipynb").write_text("this is not a notebook")
    (cls / "eve_evans.ipynb").write_bytes(b"")
    with zipfile.ZipFile(cls / "sneaky.zip", "w") as zf:
        zf.writestr("../../../tmp/owned.ipynb", "{}")
    write_notebook(cls / "Alice Adams" / "hw5.ipynb")  # Alice again: a duplicate
    summary = _run(tmp_path, workers=2)
    html = (tmp_path / "out" / "index.html").read_text()
    assert summary.results.rows
    for needle in (
        "dan_davis.ipynb",  # not a notebook
        "the file is empty",  # empty
        "path traversal",  # the zip with ../ members
        "handed in 2 times",  # the duplicate
    ):
        assert needle in html, needle
    assert {"duplicate", "not-a-notebook", "unsafe-member"} <= {
        p.kind for p in summary.intake.problems
    }


def test_another_batch_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    import fcntl

    from grader.errors import UsageError

    _class(tmp_path)
    (tmp_path / "out").mkdir()
    with (tmp_path / "out" / ".batch.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(UsageError, match="another batch"):
            _run(tmp_path)


# ------------------------------------------------------------- SIGKILL

_SCRIPT = """
import sys
from pathlib import Path
from grader.batch.options import BatchOptions
from grader.batch.scheduler import run_batch
from tests.test_batch_support import fake_grade
root = Path(sys.argv[1])
run_batch(BatchOptions(source=root / "class", out=root / sys.argv[2], roster=root / "roster.csv",
                       run=None, workers=2), grade=fake_grade, generated="fixed")
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_sigkill_halfway_then_rerun_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    names = [f"s{i:02d}" for i in range(8)]
    _class(tmp_path, **{n: {"sleep": 0.5} for n in names})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(tmp_path), "out"], env=env, cwd=ROOT
    )
    journal = Journal(tmp_path / "out" / "journal")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = [e.submission for e in journal.entries() if e.state == "done"]
        if len(done) >= 4:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the batch made no progress")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {e.submission for e in journal.entries() if e.state == "done"}
    running = {e.submission for e in journal.entries() if e.state == "running"}
    assert done_before and len(done_before) < len(names) + 3
    workers = {a.worker for e in journal.entries() for a in e.attempts if a.worker}
    time.sleep(1.0)
    assert not any(_alive(pid) for pid in workers), "a worker outlived the killed batch"

    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path), "out"],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert run.returncode == 0
    calls = executions(tmp_path / "out")
    for sid in done_before:
        assert calls.count(sid) == 1, f"{sid} was finished before the kill and graded again"
    for sid in set(calls) - running:
        assert calls.count(sid) == 1, f"{sid} graded twice"
    entries = {e.submission: e for e in journal.entries()}
    assert all(e.state == "done" for e in entries.values())
    assert len(entries) == len(names) + 3

    subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path), "clean"],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    for name in ("gradebook.csv", "junit.xml"):
        assert (tmp_path / "out" / name).read_text() == (tmp_path / "clean" / name).read_text()
    killed = [
        json.loads(line)["report"]["grade"]
        for line in (tmp_path / "out" / "evidence.jsonl").read_text().splitlines()
    ]
    clean = [
        json.loads(line)["report"]["grade"]
        for line in (tmp_path / "clean" / "evidence.jsonl").read_text().splitlines()
    ]
    assert killed == clean
