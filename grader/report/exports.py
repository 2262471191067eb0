"""Exports of a graded class: gradebook CSV, Gradescope ``results.json``, JUnit XML, JSON Lines.

What scripts read stays the same in every language: the gradebook's column
headers, its yes/no values and flags, JSON keys, statuses and codes. What a
person reads (the gradebook's ``note`` and ``overrides``, Gradescope's output,
JUnit's messages) is in the language in use.

Each ``*_text``/``*_document`` function is pure (results in, text or data
out); :func:`write_exports` writes them into the batch output folder. Nothing
in them depends on when or in which order the batch ran, so an interrupted and
resumed batch exports the same gradebook as an uninterrupted one.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from grader.files import atomic_write_text
from grader.grade.result import CheckReport, Status
from grader.i18n import _, ngettext
from grader.report.decisions import decision_line
from grader.report.results import ClassResults, JobResult, StudentRow
from grader.report.words import status_label

__all__ = [
    "GRADEBOOK_COLUMNS",
    "evidence_jsonl",
    "gradebook_csv",
    "gradescope_results",
    "junit_xml",
    "write_exports",
]

GRADEBOOK_COLUMNS = [
    "student_id",
    "name",
    "email",
    "status",
    "points",
    "max_points",
    "potential_points",
    "counted",
    "needs_review",
    "requirements_met",
    "late",
    "submitted_at",
    "flags",
    "notebook",
    "sha256",
    "note",
    "overrides",
]


def _yes(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _note(row: StudentRow) -> str:
    if row.state in ("failed", "missing", "pending"):
        return row.reason or row.status
    parts: list[str] = []
    if row.report is not None:
        parts += row.report.grade.notes
        parts += [
            _("{criterion}: needs review").format(criterion=c.id)
            for c in row.report.grade.criteria
            if c.status == Status.needs_review
        ]
    if row.state == "run-failed" and row.reason:
        parts.append(row.reason)
    return "; ".join(parts)


def gradebook_csv(results: ClassResults) -> str:
    """One row per roster student (then per unknown submitter), in roster order."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(GRADEBOOK_COLUMNS)
    for row in results.rows:
        sub = row.submission
        nb = sub.notebook if sub is not None else None
        writer.writerow(
            [
                _cell(v)
                for v in (
                    row.student_id or "",
                    row.name,
                    row.email or "",
                    row.status,
                    "" if row.points is None else row.points,
                    row.max_points if row.max_points is not None else results.max_points,
                    "" if row.potential_points is None else row.potential_points,
                    _yes(row.counted),
                    _yes(row.needs_review) if row.state != "missing" else "",
                    _yes(row.requirements_met),
                    _yes(row.late),
                    row.submitted_at or "",
                    " ".join(f.replace(" ", "-") for f in row.flags),
                    nb.origin if nb is not None else "",
                    nb.sha256 if nb is not None else "",
                    _note(row),
                    "; ".join(decision_line(o) for o in row.overrides),
                )
            ]
        )
    return buf.getvalue()


def gradescope_results(
    report: CheckReport | None, result: JobResult, *, max_points: int
) -> dict[str, Any]:
    """The Gradescope autograder ``results.json`` of one submission."""
    if report is None:
        return {
            "score": 0,
            "max_score": max_points,
            "output": _("Not graded: {reason}").format(reason=result.reason or result.status),
            "visibility": "visible",
            "tests": [],
            "extra_data": {"status": result.status},
        }
    g = report.grade
    decided = {o.criterion: o for o in g.overrides}
    tests = []
    for c in g.criteria:
        passed = c.status in (Status.met, Status.not_applicable, Status.conditional)
        lines = [c.reason]
        if c.missing:
            lines.append(_("To do: {missing}").format(missing=c.missing))
        if c.status == Status.needs_review:
            lines.append(_("(needs instructor review)"))
        if c.id in decided and decided[c.id].machine_status is not None:
            found = decided[c.id].machine_status
            lines.append(
                _("(the grader found: {status})").format(
                    status=status_label(found.value)[0] if found else "—"
                )
            )
        output = "\n".join(lines)
        tests.append(
            {
                "name": c.title,
                "number": c.id,
                "score": c.points,
                "max_score": c.max_points,
                "status": "passed" if passed else "failed",
                "output": output,
                "tags": [c.kind, c.status.value],
                "visibility": "visible",
            }
        )
    summary = [
        ngettext("{points} of {max} point.", "{points} of {max} points.", g.max_points).format(
            points=g.points, max=g.max_points
        )
    ]
    summary += g.notes
    if result.run is not None and result.run.failure:
        summary.append(_("The run stopped: {failure}").format(failure=result.run.failure))
    return {
        "score": g.points,
        "max_score": g.max_points,
        "output": "\n".join(summary),
        "visibility": "visible",
        "tests": tests,
        "extra_data": {
            "status": result.status,
            "needs_review": g.needs_review,
            "counted": g.counted,
            "overrides": [o.model_dump(mode="json") for o in g.overrides],
            "models": [
                {
                    "id": m.id,
                    "name": m.name,
                    "kind": m.kind.value,
                    "base": m.base,
                    "test_accuracy": m.test_accuracy,
                }
                for m in report.models
            ],
        },
    }


def junit_xml(results: ClassResults) -> str:
    """JUnit XML: a test suite per student, a test case per criterion."""
    root = ET.Element("testsuites", name=results.rubric)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for row in results.rows:
        suite = ET.SubElement(root, "testsuite", name=f"{row.name} [{row.student_id or row.key}]")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        classname = f"{results.rubric}.{row.key}"
        if row.report is not None:
            for c in row.report.grade.criteria:
                case = ET.SubElement(
                    suite, "testcase", classname=classname, name=f"{c.id}: {c.title}"
                )
                counts["tests"] += 1
                if c.status == Status.not_met:
                    failure = ET.SubElement(case, "failure", message=c.reason, type="not_met")
                    failure.text = c.missing or c.reason
                    counts["failures"] += 1
                elif c.status in (Status.needs_review, Status.not_applicable):
                    ET.SubElement(case, "skipped", message=f"{c.status.value}: {c.reason}")
                    counts["skipped"] += 1
                else:
                    ET.SubElement(case, "system-out").text = c.reason
        else:
            case = ET.SubElement(suite, "testcase", classname=classname, name="submission")
            counts["tests"] += 1
            if row.state == "missing":
                ET.SubElement(case, "skipped", message=_("no submission"))
                counts["skipped"] += 1
            elif row.state == "pending":
                ET.SubElement(case, "skipped", message=_("not graded yet"))
                counts["skipped"] += 1
            else:
                error = ET.SubElement(
                    case, "error", message=row.reason or row.status, type=row.status
                )
                error.text = row.reason or row.status
                counts["errors"] += 1
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def evidence_jsonl(results: ClassResults) -> str:
    """Everything known about each submission, one JSON document per line."""
    lines = []
    for row in results.rows:
        if row.submission is None:
            continue
        doc = {
            "submission": row.submission.model_dump(mode="json"),
            "result": row.result.model_dump(mode="json") if row.result is not None else None,
            "report": row.report.model_dump(mode="json") if row.report is not None else None,
        }
        lines.append(json.dumps(doc, ensure_ascii=False, sort_keys=True))
    return "\n".join(lines) + ("\n" if lines else "")


def write_exports(results: ClassResults, out: Path) -> dict[str, Path]:
    """Write the class-level exports into ``out``; returns what was written by label."""
    paths = {
        "gradebook": out / "gradebook.csv",
        "junit": out / "junit.xml",
        "evidence": out / "evidence.jsonl",
    }
    atomic_write_text(paths["gradebook"], gradebook_csv(results), durable=False)
    atomic_write_text(paths["junit"], junit_xml(results), durable=False)
    atomic_write_text(paths["evidence"], evidence_jsonl(results), durable=False)
    return paths
