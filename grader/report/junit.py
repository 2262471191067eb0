"""``grader check --junit FILE``: the check as JUnit XML, for a CI's test report (GitLab, Jenkins).

One test suite per notebook and one test case per rubric requirement and
criterion: a requirement or criterion not met is a failure (its message says
what to add), one that needs instructor review or does not apply is skipped,
a notebook that could not be graded is one errored case. The class grading
writes its own per-student JUnit file (:func:`grader.report.exports.junit_xml`).
The messages a person reads are in the language in use; the element names, the
test case names (a criterion's kind and id, then its title) and the failure
types are fixed, so a CI groups the same case across runs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from grader.grade.result import Status
from grader.i18n import _
from grader.report.markdown import Checked

__all__ = ["check_junit"]

_COUNTS = ("tests", "failures", "errors", "skipped")
#: characters XML 1.0 cannot hold at all (a name a student typed may have them)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _suite(root: ET.Element, entry: Checked) -> dict[str, int]:
    counts = dict.fromkeys(_COUNTS, 0)
    suite = ET.SubElement(root, "testsuite", name=entry.path)
    if entry.report is None:
        case = ET.SubElement(suite, "testcase", classname=entry.path, name="notebook")
        message = entry.error or _("not graded")
        ET.SubElement(case, "error", message=message, type="not-graded").text = message
        counts["tests"], counts["errors"] = 1, 1
    else:
        rubric = entry.report.grade.rubric
        for c in entry.report.grade.criteria:
            name = f"{c.kind} {c.id}: {c.title}"
            case = ET.SubElement(suite, "testcase", classname=f"{rubric}.{c.kind}", name=name)
            counts["tests"] += 1
            if c.status == Status.not_met:
                todo = c.reason
                if c.missing:
                    todo += "\n" + _("To do: {missing}").format(missing=c.missing)
                kind = "requirement-not-met" if c.kind == "requirement" else "points-not-earned"
                ET.SubElement(case, "failure", message=c.reason, type=kind).text = todo
                counts["failures"] += 1
            elif c.status in (Status.needs_review, Status.not_applicable):
                if c.status == Status.needs_review:
                    skipped = _("needs instructor review: {reason}")
                else:
                    skipped = _("not applicable: {reason}")
                ET.SubElement(case, "skipped", message=skipped.format(reason=c.reason))
                counts["skipped"] += 1
            else:
                out = c.reason
                if c.kind == "points":
                    out = _("{reason} ({points}/{max_points} points)").format(
                        reason=c.reason, points=c.points, max_points=c.max_points
                    )
                ET.SubElement(case, "system-out").text = out
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def check_junit(entries: Sequence[Checked], *, name: str = "grader check") -> str:
    """The check as a JUnit XML document (``testsuites`` with one suite per notebook)."""
    root = ET.Element("testsuites", name=name)
    totals = dict.fromkeys(_COUNTS, 0)
    for entry in entries:
        for key, value in _suite(root, entry).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    for element in root.iter():
        element.attrib = {k: _clean(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = _clean(element.text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
