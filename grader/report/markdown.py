"""The summary of ``grader check`` as Markdown (``--format markdown``), e.g. for a CI job summary.

The same facts as the terminal summary (:mod:`grader.report.terminal`), in the
same order: the models found, the notebook-level flags, every rubric criterion
with its status and reason, the findings, the points and the notes. Everything
a student typed (model names, headings) is escaped, so a notebook cannot
change the page it is shown on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from grader.grade.result import CheckReport, Status

__all__ = ["Checked", "check_markdown", "md_escape"]


class Checked(NamedTuple):
    """One notebook of a check: its report, or why it was not graded."""

    path: str
    report: CheckReport | None = None
    error: str | None = None


STATUS_TEXT: dict[Status, str] = {
    Status.met: "✅ met",
    Status.not_met: "❌ not met",
    Status.needs_review: "❔ needs review",
    Status.not_applicable: "➖ n/a",
    Status.conditional: "✅ if no HW4",
}

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def md_escape(text: str) -> str:
    """Text shown as itself in Markdown (and in a table cell): no markup, no HTML, one line."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return "<br>".join(line.strip() for line in escaped.splitlines()) if escaped else ""


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _models(report: CheckReport) -> list[str]:
    rows = []
    for m in report.models:
        kind = m.kind.value + (f" (continues {m.continues})" if m.continues else "")
        rows.append(
            [
                md_escape(m.id),
                md_escape(m.name),
                md_escape(kind),
                md_escape(m.base or ""),
                f"{m.test_accuracy:.4f}" if m.test_accuracy is not None else "**none**",
                str(m.epochs) if m.epochs is not None else "?",
                _yes(m.curves_shown),
                _yes(m.confusion_matrix_shown),
                ", ".join(str(c) for c in m.fit_cells),
            ]
        )
    if not report.models:
        rows.append(["", "**no trained model found**", "", "", "", "", "", "", ""])
    header = ["id", "model", "kind", "base", "test acc", "epochs", "curves", "conf. matrix"]
    return _table([*header, "cell"], rows)


def _criteria(report: CheckReport) -> list[str]:
    rows = []
    for c in report.grade.criteria:
        why = md_escape(c.reason)
        if c.missing:
            why += "<br>→ _" + md_escape(c.missing) + "_"
        if c.cells:
            cells = ", ".join(str(x) for x in c.cells[:8])
            why += f" (cell{'s' if len(c.cells) > 1 else ''} {cells})"
        pts = f"{c.points}/{c.max_points}" if c.kind == "points" else ""
        rows.append([md_escape(c.title), STATUS_TEXT[c.status], pts, why])
    return _table(["criterion", "status", "pts", "why / what is missing"], rows)


def _points(report: CheckReport) -> str:
    g = report.grade
    line = f"**Points: {g.points}/{g.max_points}**"
    if g.potential_points > g.points:
        line += f" (up to {g.potential_points} after review / if eligible)"
    line += " · requirements: " + ("all met" if g.requirements_met else "**not all met**")
    if g.needs_review:
        line += " · needs instructor review"
    return line


def report_markdown(report: CheckReport, path: str | None = None) -> str:
    """One notebook's summary; ``path`` is how to name it (default: the report's own path)."""
    g = report.grade
    verdict = "requirements met" if g.requirements_met else "requirements not all met"
    lines = [
        f"### {md_escape(path or report.notebook.path)}: {g.points}/{g.max_points} points, "
        f"{verdict}",
        "",
        f"framework {report.framework.value} · curves {_yes(report.has_curves)} · "
        f"confusion matrix {_yes(report.has_confusion_matrix)} · "
        f"written summary {_yes(report.has_written_summary)}",
        "",
        "**Models trained**",
        "",
        *_models(report),
        "",
        "**Rubric**",
        "",
        *_criteria(report),
        "",
    ]
    if report.findings:
        lines += ["**Findings**", ""]
        for f in report.findings:
            where = f" (cell {f.cell})" if f.cell is not None else ""
            lines.append(f"- **{f.severity.value}** {md_escape(f.message)}{where}")
        lines.append("")
    lines += [_points(report), ""]
    lines += [f"- {md_escape(note)}" for note in g.notes]
    if g.notes:
        lines.append("")
    return "\n".join(lines)


def check_markdown(entries: Sequence[Checked], *, totals: bool | None = None) -> str:
    """The whole check as one Markdown document; ``totals`` (default: several notebooks)
    adds the count of notebooks graded, meeting every requirement and refused."""
    parts = []
    for e in entries:
        if e.report is not None:
            parts.append(report_markdown(e.report, e.path))
        else:
            parts.append(
                f"### {md_escape(e.path)}: not graded\n\n{md_escape(e.error or 'not graded')}\n"
            )
    if totals if totals is not None else len(entries) > 1:
        graded = [e.report for e in entries if e.report is not None]
        met = sum(1 for r in graded if r.grade.requirements_met)
        refused = len(entries) - len(graded)
        line = f"**{len(graded)} notebook(s) graded, {met} meet every requirement"
        parts.append(line + (f", {refused} refused**" if refused else "**") + "\n")
    return "\n".join(parts)
