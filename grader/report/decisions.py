"""The instructor's decisions (overrides) as every report shows them: page rows and one-liners.

A decision is always shown with what the harness had found, who decided,
when and why; one made on another notebook than the one graded now carries
the warning "evidence changed since the decision".
"""

from __future__ import annotations

from typing import Any

from grader.grade.result import AppliedOverride
from grader.i18n import N_, _
from grader.report.words import status_label

__all__ = ["EVIDENCE_CHANGED", "decision_line", "decision_view"]

EVIDENCE_CHANGED = N_("evidence changed since the decision")


def _label(status: str | None) -> tuple[str, str]:
    if status is None:
        return ("—", "muted")
    return status_label(status)


def _detail(note: str | None) -> str | None:
    """The note without its first words when those say the evidence changed (in English, or
    in the language in use)."""
    text = note or ""
    for prefix in (_(EVIDENCE_CHANGED), EVIDENCE_CHANGED):
        if text.casefold().startswith(prefix.casefold() + ": "):
            return text[len(prefix) + 2 :] or None
    return text or None


def decision_view(o: AppliedOverride) -> dict[str, Any]:
    """One decision as plain values for a template."""
    label, css = _label(o.status.value)
    if o.criterion == "late":
        label = _("accepted") if o.status.value == "met" else _("not accepted")
    machine, machine_css = _label(o.machine_status.value if o.machine_status else None)
    if o.criterion == "late" and o.machine_reason:
        machine, machine_css = _("late"), "warn"
    return {
        "criterion": o.criterion,
        "title": o.title,
        "status": o.status.value,
        "status_label": label,
        "status_class": css,
        "points": o.points,
        "machine_label": machine,
        "machine_class": machine_css,
        "machine_points": o.machine_points,
        "machine_reason": o.machine_reason,
        "reason": o.reason,
        "by": o.by,
        "at": o.at.strftime("%Y-%m-%d %H:%M"),
        "changed": o.evidence_changed,
        "note": o.note,
        "detail": _detail(o.note),
        "applied": o.applied,
    }


def decision_line(o: AppliedOverride) -> str:
    """One decision in one line (gradebook, feedback text, JUnit)."""
    v = decision_view(o)
    decision = v["status_label"]
    if o.points is not None:
        decision = _("{decision} ({points} pt)").format(decision=decision, points=o.points)
    text = _("{criterion}: {decision} by {who} on {date}: {reason}").format(
        criterion=o.criterion, decision=decision, who=o.by, date=v["at"][:10], reason=o.reason
    )
    if o.machine_status is not None:
        text = _("{decision}; the grader found: {found}").format(
            decision=text, found=v["machine_label"]
        )
    if o.evidence_changed:
        text += f" [{_(EVIDENCE_CHANGED)}]"
    elif o.note:
        text += f" [{o.note}]"
    return text
