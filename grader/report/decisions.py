"""The instructor's decisions (overrides) as every report shows them: page rows and one-liners.

A decision is always shown with what the harness had found, who decided,
when and why; one made on another notebook than the one graded now carries
the warning "evidence changed since the decision".
"""

from __future__ import annotations

from typing import Any

from grader.grade.result import AppliedOverride
from grader.report.words import STATUS_LABELS

__all__ = ["EVIDENCE_CHANGED", "decision_line", "decision_view"]

EVIDENCE_CHANGED = "evidence changed since the decision"


def _label(status: str | None) -> tuple[str, str]:
    if status is None:
        return ("—", "muted")
    return STATUS_LABELS.get(status, (status, "info"))


def decision_view(o: AppliedOverride) -> dict[str, Any]:
    """One decision as plain values for a template."""
    label, css = _label(o.status.value)
    if o.criterion == "late":
        label = "accepted" if o.status.value == "met" else "not accepted"
    machine, machine_css = _label(o.machine_status.value if o.machine_status else None)
    if o.criterion == "late" and o.machine_reason:
        machine, machine_css = "late", "warn"
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
        # the note without its first words when those say the evidence changed
        "detail": (o.note or "").removeprefix(EVIDENCE_CHANGED + ": ") or None,
        "applied": not (o.note or "").startswith("not applied"),
    }


def decision_line(o: AppliedOverride) -> str:
    """One decision in one line (gradebook, feedback text, JUnit)."""
    v = decision_view(o)
    points = f" ({o.points} pt)" if o.points is not None else ""
    found = f"; the grader found: {v['machine_label']}" if o.machine_status is not None else ""
    text = (
        f"{o.criterion}: {v['status_label']}{points} by {o.by} on {v['at'][:10]}: {o.reason}{found}"
    )
    if o.evidence_changed:
        text += f" [{EVIDENCE_CHANGED}]"
    elif o.note:
        text += f" [{o.note}]"
    return text
