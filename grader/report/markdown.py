"""The summary of ``grader check`` as Markdown (``--format markdown``), e.g. for a CI job summary.

The same content as the terminal summary in its stacked layout
(:mod:`grader.report.terminal`), in the same order, as headings and lists: the
notebook-level flags, one item per model, one per rubric criterion with its
status, points, reason and fix, what to improve (the most points at stake
first), the findings, the points and the notes. Everything a student typed
(model names, headings) is escaped, so a notebook cannot change the page it is
shown on. The words are in the language in use.

The plain-data pieces both summaries share live here too: what each status is
called, where a test accuracy was read from, and the list of what to improve.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from grader.evidence import ModelRun
from grader.grade.result import CheckReport, Status
from grader.i18n import N_, _, ngettext
from grader.report.words import (
    KIND_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    cells_text,
    weights_label,
)

__all__ = [
    "Checked",
    "Improvement",
    "accuracy_source",
    "at_stake_text",
    "check_markdown",
    "criterion_points",
    "improvements",
    "kind_text",
    "md_escape",
    "next_point_head",
    "points_text",
    "report_markdown",
    "severity_text",
    "status_text",
    "totals_text",
    "verdict_text",
    "yes_no",
]


class Checked(NamedTuple):
    """One notebook of a check: its report, or why it was not graded."""

    path: str
    report: CheckReport | None = None
    error: str | None = None


class Improvement(NamedTuple):
    """One thing to improve: what to do, the points at stake, the cells it concerns."""

    text: str
    points: int
    cells: list[int]
    criterion: str = ""


#: the conditional status, worded for what it means in this homework
_CONDITIONAL = N_("met if no HW4")
#: how many cells a line names at most
_CELLS = 8

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def md_escape(text: str) -> str:
    """Text shown as itself in Markdown (and in a table cell): no markup, no HTML, one line."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return "<br>".join(line.strip() for line in escaped.splitlines()) if escaped else ""


# ------------------------------------------------------------------ words both summaries use


def status_text(status: Status) -> str:
    """A criterion's status in words, in the language in use."""
    if status == Status.conditional:
        return _(_CONDITIONAL)
    words = STATUS_LABELS.get(status.value, (status.value, ""))[0]
    return _(words)


def severity_text(severity: str) -> str:
    return _(SEVERITY_LABELS.get(severity, severity))


def kind_text(m: ModelRun) -> str:
    """The model's kind in words (and the model it continues training)."""
    kind = _(KIND_LABELS.get(m.kind.value, m.kind.value))
    if m.continues:
        return _("{kind}, continues {model}").format(kind=kind, model=m.continues)
    return kind


def yes_no(flag: bool) -> str:
    return _("yes") if flag else _("no")


def accuracy_source(m: ModelRun) -> tuple[str, bool]:
    """The model's test accuracy and where it was read from, or why there is none; and
    whether there is one."""
    prov = m.test_accuracy_provenance
    if m.test_accuracy is not None:
        accuracy = f"{m.test_accuracy:.4f}"
        if prov is None or prov.cell is None:
            return accuracy, True
        detail = " ".join((prov.detail or "").split())
        if detail:
            text = _("{accuracy} from cell {cell}: {text}")
            return text.format(accuracy=accuracy, cell=prov.cell, text=repr(detail)), True
        return _("{accuracy} from cell {cell}").format(accuracy=accuracy, cell=prov.cell), True
    if m.test_accuracy_missing is not None:
        return _("none: {reason}").format(reason=m.test_accuracy_missing.reason), False
    return _("none"), False


def points_text(points: int, max_points: int) -> str:
    return _("Points: {points}/{max_points}").format(points=points, max_points=max_points)


def verdict_text(report: CheckReport) -> str:
    """``2/3 points, requirements met``: the grade in a few words."""
    g = report.grade
    if g.requirements_met:
        text = _("{points}/{max_points} points, requirements met")
    else:
        text = _("{points}/{max_points} points, requirements not all met")
    return text.format(points=g.points, max_points=g.max_points)


def improvements(report: CheckReport) -> list[Improvement]:
    """What to improve, the most points at stake first: the grade's advice, or, where the grade
    has none, what each criterion not met (or left for review) says is missing."""
    items = [Improvement(a.text, a.points, list(a.cells), a.criterion) for a in report.grade.advice]
    if not items:
        for c in report.grade.criteria:
            if c.status in (Status.not_met, Status.needs_review) and c.missing:
                at_stake = max(c.max_points - c.points, 0) if c.kind == "points" else 0
                text = _("{criterion}: {missing}").format(criterion=c.title, missing=c.missing)
                items.append(Improvement(text, at_stake, list(c.cells[:_CELLS]), c.id))
    return sorted(items, key=lambda i: -i.points)  # stable: the given order among equals


def next_point_head(index: int, item: Improvement) -> str | None:
    """The heading of the first item, when it is worth points."""
    return _("To get the next point") if index == 0 and item.points > 0 else None


def at_stake_text(points: int) -> str:
    return ngettext("{n} point at stake", "{n} points at stake", points).format(n=points)


def criterion_points(kind: str, points: int, max_points: int) -> str:
    return f"{points}/{max_points}" if kind == "points" else _("required")


# ------------------------------------------------------------------ the document


def _flags(report: CheckReport) -> str:
    def flag(shown: bool) -> str:
        return yes_no(shown) if shown else f"**{yes_no(shown)}**"

    parts = [
        _("framework: {framework}").format(framework=report.framework.value),
        _("curves: {answer}").format(answer=flag(report.has_curves)),
        _("confusion matrix: {answer}").format(answer=flag(report.has_confusion_matrix)),
        _("written summary: {answer}").format(answer=flag(report.has_written_summary)),
    ]
    return " · ".join(parts)


def _models(report: CheckReport) -> list[str]:
    lines = [f"#### {_('Models trained')}", ""]
    if not report.models:
        return [*lines, f"- **{_('No trained model found.')}**", ""]
    for m in report.models:
        lines.append(f"- **{md_escape(m.id)} · {md_escape(m.name)}**")
        lines.append("  - " + _("kind: {kind}").format(kind=md_escape(kind_text(m))))
        if m.base:
            base = m.base + (f" ({weights_label(m.weights)})" if m.weights else "")
            lines.append("  - " + _("base: {base}").format(base=md_escape(base)))
        source, found = accuracy_source(m)
        source = md_escape(source) if found else f"**{md_escape(source)}**"
        lines.append("  - " + _("test accuracy: {source}").format(source=source))
        epochs = str(m.epochs) if m.epochs is not None else "?"
        facts = [
            _("epochs: {epochs}").format(epochs=epochs),
            _("curves: {answer}").format(answer=yes_no(m.curves_shown)),
            _("confusion matrix: {answer}").format(answer=yes_no(m.confusion_matrix_shown)),
        ]
        if m.fit_cells:
            facts.append(_("cells: {cells}").format(cells=", ".join(map(str, m.fit_cells))))
        lines.append("  - " + " · ".join(facts))
    return [*lines, ""]


_STATUS_MARK = {
    Status.met: "✅",
    Status.not_met: "❌",
    Status.needs_review: "❔",
    Status.not_applicable: "➖",
    Status.conditional: "✅",
}


def _criteria(report: CheckReport) -> list[str]:
    lines = [f"#### {_('Rubric')}", ""]
    for c in report.grade.criteria:
        pts = criterion_points(c.kind, c.points, c.max_points)
        status = f"{_STATUS_MARK[c.status]} {status_text(c.status)}"
        lines.append(f"- {status} · {pts} · **{md_escape(c.title)}**")
        if c.reason:
            lines.append(f"  - {md_escape(c.reason)}")
        if c.missing and c.status != Status.met:
            lines.append(f"  - → _{md_escape(c.missing)}_")
        if c.cells:
            lines.append(f"  - {cells_text(c.cells[:_CELLS])}")
    return [*lines, ""]


def _improvements(report: CheckReport) -> list[str]:
    items = improvements(report)
    if not items:
        return []
    lines = [f"#### {_('What to improve')}", ""]
    for i, item in enumerate(items):
        text = md_escape(item.text)
        head = next_point_head(i, item)
        if head:
            text = _("{head}: {text}").format(head=f"**{head}**", text=text)
        if item.cells:
            text = _("{text} ({cells})").format(text=text, cells=cells_text(item.cells))
        if item.points > 0:
            text += f" · _{at_stake_text(item.points)}_"
        lines.append(f"{i + 1}. {text}")
    return [*lines, ""]


def _findings(report: CheckReport) -> list[str]:
    if not report.findings:
        return []
    lines = [f"#### {_('Findings')}", ""]
    for f in report.findings:
        text = md_escape(f.message)
        if f.cell is not None:
            text = _("{text} ({cells})").format(text=text, cells=cells_text([f.cell]))
        lines.append(f"- **{severity_text(f.severity.value)}** {text}")
    return [*lines, ""]


def _points(report: CheckReport) -> str:
    g = report.grade
    line = f"**{points_text(g.points, g.max_points)}**"
    if g.potential_points > g.points:
        up_to = _("up to {points} after review or if eligible").format(points=g.potential_points)
        line += f" ({up_to})"
    if g.requirements_met:
        line += " · " + _("requirements: all met")
    else:
        line += " · **" + _("requirements: not all met") + "**"
    if g.needs_review:
        line += " · " + _("needs instructor review")
    return line


def report_markdown(report: CheckReport, path: str | None = None) -> str:
    """One notebook's summary; ``path`` is how to name it (default: the report's own path)."""
    g = report.grade
    lines = [
        f"### {md_escape(path or report.notebook.path)}: {verdict_text(report)}",
        "",
        _flags(report),
        "",
        *_models(report),
        *_criteria(report),
        *_improvements(report),
        *_findings(report),
        _points(report),
        "",
    ]
    lines += [f"- {md_escape(note)}" for note in g.notes]
    if g.notes:
        lines.append("")
    return "\n".join(lines)


def totals_text(graded: int, met: int, refused: int) -> str:
    """How many notebooks were graded, met every requirement and were refused."""
    if refused:
        text = _("{graded} notebook(s) graded, {met} meet every requirement, {refused} refused")
    else:
        text = _("{graded} notebook(s) graded, {met} meet every requirement")
    return text.format(graded=graded, met=met, refused=refused)


def check_markdown(entries: Sequence[Checked], *, totals: bool | None = None) -> str:
    """The whole check as one Markdown document; ``totals`` (default: several notebooks)
    adds the count of notebooks graded, meeting every requirement and refused."""
    parts = []
    for e in entries:
        if e.report is not None:
            parts.append(report_markdown(e.report, e.path))
        else:
            title = _("{path}: not graded").format(path=md_escape(e.path))
            parts.append(f"### {title}\n\n{md_escape(e.error or _('not graded'))}\n")
    if totals if totals is not None else len(entries) > 1:
        graded = [e.report for e in entries if e.report is not None]
        met = sum(1 for r in graded if r.grade.requirements_met)
        parts.append(f"**{totals_text(len(graded), met, len(entries) - len(graded))}**\n")
    return "\n".join(parts)
