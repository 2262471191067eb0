"""Exports: gradebook CSV, Gradescope results.json, JUnit XML, JSON Lines (pure functions)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.grade.result import CheckReport
from grader.intake.submission import (
    ClassIntake,
    NotebookFile,
    RosterStudent,
    StudentContext,
    Submission,
)
from grader.report.exports import (
    GRADEBOOK_COLUMNS,
    evidence_jsonl,
    gradebook_csv,
    gradescope_results,
    junit_xml,
    write_exports,
)
from grader.report.results import ClassResults, JobResult, RunInfo, build_rows
from tests.test_batch_support import make_report


def _file(name: str) -> NotebookFile:
    return NotebookFile(
        path=f"/class/{name}", origin=name, name=name, size=10, sha256="ab" * 32, is_notebook=True
    )


def _class() -> tuple[ClassResults, dict[str, CheckReport]]:
    students = [
        RosterStudent(student_id="xa", name="Alice Adams", email="a@x.cz"),
        RosterStudent(student_id="xb", name="=cmd|' /C calc'!A0", email=None),
        RosterStudent(student_id="xc", name="Carol Clark"),
        RosterStudent(student_id="xd", name="Dan Davis"),
    ]
    subs = [
        Submission(
            id="xa",
            student_id="xa",
            name="Alice Adams",
            email="a@x.cz",
            in_roster=True,
            notebook=_file("adams.ipynb"),
            files=[_file("adams.ipynb")],
            entries=["adams.ipynb"],
        ),
        Submission(
            id="xb",
            student_id="xb",
            name=students[1].name,
            in_roster=True,
            notebook=_file("b.ipynb"),
            files=[_file("b.ipynb")],
            entries=["b.ipynb"],
        ),
        Submission(
            id="xc",
            student_id="xc",
            name="Carol Clark",
            in_roster=True,
            notebook=_file("c.ipynb"),
            files=[_file("c.ipynb")],
            entries=["c.ipynb"],
        ),
        Submission(
            id="zed",
            name="zed",
            notebook=_file("zed.ipynb"),
            files=[_file("zed.ipynb")],
            entries=["zed.ipynb"],
        ),
    ]
    intake = ClassIntake(
        source="class", roster=True, students=students, submissions=subs, missing=[students[3]]
    )
    reports = {
        "xa": make_report(),
        "xb": make_report(
            (0.5, 0.6, 0.7),
            variants=False,
            context=StudentContext(submitted_hw4=False, consultation_done=False),
        ),
        "zed": make_report(summary=False),
    }
    results = {
        "xa": JobResult(submission="xa", state="done", status="graded", points=2, max_points=3),
        "xb": JobResult(
            submission="xb",
            state="done",
            status="run-failed",
            points=2,
            max_points=3,
            reason="NameError in cell 14",
            run=RunInfo(profile="smoke", status="failed", failure="NameError in cell 14"),
        ),
        "xc": JobResult(
            submission="xc",
            state="failed",
            status="not-a-notebook",
            reason="c.ipynb: the file is empty",
            max_points=3,
        ),
        "zed": JobResult(submission="zed", state="done", status="graded", max_points=3),
    }
    rows = build_rows(intake, results, reports)
    return ClassResults(
        title="HW5", rubric="hw5", max_points=3, intake=intake, rows=rows, profile="static"
    ), reports


def test_gradebook_has_one_row_per_roster_student_then_unknown_submitters() -> None:
    results, _ = _class()
    rows = list(csv.DictReader(io.StringIO(gradebook_csv(results))))
    assert list(rows[0]) == GRADEBOOK_COLUMNS
    assert [r["student_id"] for r in rows] == ["xa", "xb", "xc", "xd", ""]
    assert [r["status"] for r in rows] == [
        "graded",
        "run-failed",
        "not-a-notebook",
        "missing",
        "graded",
    ]
    assert rows[0]["points"] == "2" and rows[0]["max_points"] == "3" and rows[0]["counted"] == "yes"
    assert rows[1]["counted"] == "no" and "NameError" in rows[1]["note"]
    assert rows[2]["points"] == "" and rows[2]["note"] == "c.ipynb: the file is empty"
    assert rows[3]["points"] == "" and rows[3]["note"] == "no submission"
    assert "unknown-submitter" in rows[4]["flags"]
    # a name that a spreadsheet would run as a formula is defused
    assert rows[1]["name"].startswith("'=")


def test_gradebook_is_deterministic() -> None:
    assert gradebook_csv(_class()[0]) == gradebook_csv(_class()[0])


def test_gradescope_results() -> None:
    results, reports = _class()
    row = results.rows[0]
    assert row.result is not None
    doc = gradescope_results(reports["xa"], row.result, max_points=3)
    assert doc["score"] == 2 and doc["max_score"] == 3
    tests = {t["number"]: t for t in doc["tests"]}
    assert tests["three_models"]["status"] == "passed" and tests["three_models"]["score"] == 1
    assert tests["baseline_cnn"]["status"] == "passed"  # not applicable: did homework 4
    assert tests["curves"]["max_score"] == 0
    assert json.loads(json.dumps(doc)) == doc
    failed = results.rows[2]
    assert failed.result is not None
    doc = gradescope_results(None, failed.result, max_points=3)
    assert doc["score"] == 0 and doc["tests"] == [] and "empty" in doc["output"]


def test_junit_xml() -> None:
    results, _ = _class()
    root = ET.fromstring(junit_xml(results))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 5
    by_name = {s.get("name"): s for s in suites}
    carol = by_name["Carol Clark [xc]"]
    assert carol.get("errors") == "1"
    assert carol.find("testcase/error") is not None
    dan = by_name["Dan Davis [xd]"]
    assert dan.find("testcase/skipped") is not None
    zed = by_name["zed [zed]"]
    assert int(zed.get("failures") or 0) >= 1  # no written summary
    assert int(root.get("tests") or 0) == sum(int(s.get("tests") or 0) for s in suites)


def test_evidence_jsonl_round_trips() -> None:
    results, _ = _class()
    lines = evidence_jsonl(results).splitlines()
    assert len(lines) == 4
    docs = [json.loads(line) for line in lines]
    assert docs[0]["submission"]["id"] == "xa"
    CheckReport.model_validate(docs[0]["report"])
    assert docs[2]["report"] is None and docs[2]["result"]["status"] == "not-a-notebook"


def test_write_exports(tmp_path: Path) -> None:
    results, _ = _class()
    paths = write_exports(results, tmp_path)
    assert {p.name for p in paths.values()} == {"gradebook.csv", "junit.xml", "evidence.jsonl"}
    assert all(p.is_file() for p in paths.values())
    assert not list(tmp_path.glob(".*tmp"))
