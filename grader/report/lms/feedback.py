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

from grader.grade.result import AppliedOverride, Status
from grader.i18n import _, ngettext
from grader.report.results import StudentRow, late_note
from grader.report.student import improvement_items
from grader.report.words import failure_advice, status_label

__all__ = ["Feedback", "feedback_for", "format_grade", "held_because"]

MAX_ITEMS = 3


@dataclass(frozen=True)
class Feedback:
    """One student's feedback: a first line, what to improve, then the rest.

    :meth:`html` is what Moodle's "Feedback comments" get (stored as HTML, so
    everything is escaped); :meth:`text` is the same as plain lines. The words
    are those of the language in use when :func:`feedback_for` made it.
    """

    head: str
    improve: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    improve_head: str = "What to improve:"

    def html(self) -> str:
        parts = [f"<p>{html.escape(self.head)}</p>"]
        if self.improve:
            items = "".join(f"<li>{html.escape(i)}</li>" for i in self.improve)
            parts.append(f"<p>{html.escape(self.improve_head)}</p><ul>{items}</ul>")
        parts += [f"<p>{html.escape(line)}</p>" for line in self.tail]
        return "".join(parts)

    def text(self) -> str:
        lines = [self.head]
        if self.improve:
            lines += [self.improve_head, *(f"- {i}" for i in self.improve)]
        return "\n".join(lines + self.tail)


def held_because(row: StudentRow) -> str | None:
    """Why this student's grade is not sent to the LMS yet (None: it can be)."""
    report = row.report
    if report is None:
        return None
    g = report.grade
    if any(o.evidence_changed for o in row.overrides):
        return _("a decision was made on an earlier notebook and has to be confirmed")
    if g.needs_review:
        review = [c.title for c in g.criteria if c.status == Status.needs_review]
        if review:
            return _("needs the instructor's review: {why}").format(why="; ".join(review))
        late = late_note(row)
        if late:
            return _("needs the instructor's review: {why}").format(why=late)
        return _("needs the instructor's review")
    if g.counted is False:
        if g.notes:
            return _("the points do not count yet: {why}").format(why="; ".join(g.notes))
        return _("the points do not count yet")
    return None


def format_grade(points: float, *, decimal_comma: bool = False) -> str:
    """A grade as Moodle writes one: two decimals, the worksheet's decimal separator."""
    if not math.isfinite(points):
        raise ValueError(f"not a grade: {points}")
    text = f"{points:.2f}"
    return text.replace(".", ",") if decimal_comma else text


def _decision(o: AppliedOverride) -> str:
    if o.criterion == "late":
        verdict = (
            _("late submission accepted") if o.status == Status.met else _("late: not accepted")
        )
        return _("Instructor's decision: {verdict}: {reason}.").format(
            verdict=verdict, reason=o.reason
        )
    return _("Instructor's decision on {criterion}: {verdict}: {reason}.").format(
        criterion=o.title, verdict=status_label(o.status.value)[0], reason=o.reason
    )


def feedback_for(
    row: StudentRow,
    *,
    rubric_title: str,
    held: str | None,
    report_link: str | None,
) -> Feedback:
    """The feedback of one student, in the language in use; ``report_link`` says where the
    full report is. What to improve comes in the order of the report's list (the most points
    at stake first)."""
    where = _("Full report: {link}.").format(link=report_link) if report_link else None
    improve_head = _("What to improve:")
    if row.report is None:
        advice = failure_advice(row.status)
        return Feedback(
            head=_("{title}: not graded: {reason}.").format(
                title=rubric_title, reason=row.reason or row.status
            ),
            tail=([advice] if advice else []) + ([where] if where else []),
            improve_head=improve_head,
        )
    g = row.report.grade
    head = ngettext(
        "{title}: {points} of {max} point", "{title}: {points} of {max} points", g.max_points
    ).format(title=rubric_title, points=g.points, max=g.max_points)
    if held:
        head = _(
            "{head} (provisional: the grade will be entered after the instructor's review)"
        ).format(head=head)
    items = [i.line().rstrip(". ") for i in improvement_items(row.report)]
    improve = items[:MAX_ITEMS]
    if len(items) > MAX_ITEMS:
        more = len(items) - MAX_ITEMS
        improve.append(
            ngettext("and {n} more in the report", "and {n} more in the report", more).format(
                n=more
            )
        )
    tail = [_decision(o) for o in g.overrides]
    late = late_note(row)
    tail += [n[0].upper() + n[1:].rstrip(".") + "." for n in g.notes if n and n != late]
    if where:
        tail.append(where)
    return Feedback(head=head + ".", improve=improve, tail=tail, improve_head=improve_head)
