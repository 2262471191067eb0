"""What each student is told in the LMS, and which grades wait for the instructor.

The feedback is short: the points, what was missing (the first few items of
the report's "What to improve"), the instructor's decisions with their
reasons, and where the full report is. A grade *held* is not sent to the LMS
yet: the submission still needs the instructor's review (a criterion the
grader will not decide, a late submission, a decision made on an earlier
notebook), or its points do not count yet (a required consultation not
done). The student is told so instead.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

from grader.grade.result import Status
from grader.report.results import StudentRow
from grader.report.student import feedback_items
from grader.report.words import FAILURE_ADVICE

__all__ = ["Feedback", "feedback_for", "format_grade", "held_because"]

MAX_ITEMS = 3


@dataclass(frozen=True)
class Feedback:
    """One student's feedback: a first line, what to improve, then the rest.

    :meth:`html` is what Moodle's "Feedback comments" get (stored as HTML, so
    everything is escaped); :meth:`text` is the same as plain lines.
    """

    head: str
    improve: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def html(self) -> str:
        parts = [f"<p>{html.escape(self.head)}</p>"]
        if self.improve:
            items = "".join(f"<li>{html.escape(i)}</li>" for i in self.improve)
            parts.append(f"<p>What to improve:</p><ul>{items}</ul>")
        parts += [f"<p>{html.escape(line)}</p>" for line in self.tail]
        return "".join(parts)

    def text(self) -> str:
        lines = [self.head]
        if self.improve:
            lines += ["What to improve:", *(f"- {i}" for i in self.improve)]
        return "\n".join(lines + self.tail)


def held_because(row: StudentRow) -> str | None:
    """Why this student's grade is not sent to the LMS yet (None: it can be)."""
    report = row.report
    if report is None:
        return None
    g = report.grade
    if any(o.evidence_changed for o in row.overrides):
        return "a decision was made on an earlier notebook and has to be confirmed"
    if g.needs_review:
        review = [c.title for c in g.criteria if c.status == Status.needs_review]
        if review:
            return "needs the instructor's review: " + "; ".join(review)
        late = [n for n in g.notes if n.startswith("submitted late")]
        return "needs the instructor's review" + (f": {late[0]}" if late else "")
    if g.counted is False:
        return "the points do not count yet: " + "; ".join(
            n for n in g.notes if "count" in n or "late" in n
        )
    return None


def format_grade(points: float, *, decimal_comma: bool = False) -> str:
    """A grade as Moodle writes one: two decimals, the worksheet's decimal separator."""
    if not math.isfinite(points):
        raise ValueError(f"not a grade: {points}")
    text = f"{points:.2f}"
    return text.replace(".", ",") if decimal_comma else text


def feedback_for(
    row: StudentRow,
    *,
    rubric_title: str,
    held: str | None,
    report_link: str | None,
) -> Feedback:
    """The feedback of one student; ``report_link`` says where the full report is."""
    where = f"Full report: {report_link}." if report_link else None
    if row.report is None:
        tail = [FAILURE_ADVICE[row.status]] if row.status in FAILURE_ADVICE else []
        return Feedback(
            head=f"{rubric_title}: not graded: {row.reason or row.status}.",
            tail=tail + ([where] if where else []),
        )
    g = row.report.grade
    head = f"{rubric_title}: {g.points} of {g.max_points} points"
    if held:
        head += " (provisional: the grade will be entered after the instructor's review)"
    items = [i.rstrip(". ") for i in feedback_items(row.report)]
    improve = items[:MAX_ITEMS]
    if len(items) > MAX_ITEMS:
        improve.append(f"and {len(items) - MAX_ITEMS} more in the report")
    tail = []
    for o in g.overrides:
        verdict = o.status.value.replace("_", " ")
        if o.criterion == "late":
            verdict = "late submission accepted" if o.status == Status.met else "late: not accepted"
            tail.append(f"Instructor's decision: {verdict}: {o.reason}.")
        else:
            tail.append(f"Instructor's decision on {o.title}: {verdict}: {o.reason}.")
    tail += [n[0].upper() + n[1:] + "." for n in g.notes if "consultation" in n]
    if where:
        tail.append(where)
    return Feedback(head=head + ".", improve=improve, tail=tail)
