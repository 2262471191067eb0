"""The self-check shown inside a notebook (``grader.selfcheck()``): one HTML fragment.

The fragment carries its own stylesheet, scoped to its outer element so it
restyles nothing else in the notebook, with its own colours so it reads the
same in a light or dark theme; it has no scripts and loads nothing. The view is
built here from plain data; the markup is the jinja2 template
``templates/selfcheck.html.j2`` (autoescaped: model names and headings are the
student's text).

Cells are named the way the notebook shows them: a code cell by its execution
number (``[7]``) and first line, a markdown cell by its first line. The words
are in the language in use (:func:`grader.selfcheck` sets it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.evidence import Severity
from grader.grade.result import CheckReport, Status
from grader.i18n import _
from grader.report.markdown import severity_text, status_text
from grader.report.student import feedback_items
from grader.report.templating import render
from grader.report.words import KIND_LABELS, STATUS_LABELS, cells_text, pct, weights_label

__all__ = ["CellRef", "SelfCheckView", "render_selfcheck", "selfcheck_view"]

_SNIPPET = 44


@dataclass(frozen=True)
class CellRef:
    """A cell as the student finds it: ``[7]`` or ``markdown``, and its first line."""

    index: int
    label: str
    first_line: str


@dataclass
class SelfCheckView:
    notebook: str
    found_by: str
    rubric_title: str
    version: str
    source_note: str = ""
    reminder: str | None = None
    problem: str | None = None
    points: int | None = None
    max_points: int | None = None
    potential_points: int | None = None
    requirements_met: bool | None = None
    needs_review: bool = False
    todo: list[str] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    criteria: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    info: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _first_line(source: Any) -> str:
    text = "".join(source) if isinstance(source, list) else str(source or "")
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= _SNIPPET else line[: _SNIPPET - 1] + "…"
    return ""


def cell_refs(cells: Sequence[Mapping[str, Any]]) -> dict[int, CellRef]:
    """How to name each cell of a notebook (by its 0-based index)."""
    refs = {}
    for i, cell in enumerate(cells):
        kind = cell.get("cell_type")
        count = cell.get("execution_count")
        if kind == "code":
            label = f"[{count}]" if isinstance(count, int) else "[ ]"
        else:
            label = str(kind or "cell")
        refs[i] = CellRef(i, label, _first_line(cell.get("source")))
    return refs


def _where(cells: Sequence[int | None], refs: Mapping[int, CellRef]) -> list[CellRef]:
    out = []
    for i in cells[:6]:
        if i is None:
            continue
        out.append(refs.get(i, CellRef(i, cells_text([i + 1]), "")))
    return out


def selfcheck_view(
    report: CheckReport | None,
    *,
    notebook: str,
    found_by: str,
    version: str,
    source_note: str = "",
    rubric_title: str = "",
    reminder: str | None = None,
    problem: str | None = None,
    cells: Sequence[Mapping[str, Any]] = (),
) -> SelfCheckView:
    """What the self-check shows: the report, or the problem that stopped it."""
    view = SelfCheckView(
        notebook=notebook,
        found_by=found_by,
        rubric_title=rubric_title,
        version=version,
        source_note=source_note,
        reminder=reminder,
        problem=problem,
    )
    if report is None:
        return view
    refs = cell_refs(cells)
    g = report.grade
    view.points, view.max_points, view.potential_points = g.points, g.max_points, g.potential_points
    view.requirements_met, view.needs_review = g.requirements_met, g.needs_review
    view.todo = feedback_items(report)
    view.notes = list(g.notes)
    for m in report.models:
        acc_cell = m.test_accuracy_provenance.cell if m.test_accuracy_provenance else None
        view.models.append(
            {
                "name": m.name,
                "kind": _(KIND_LABELS.get(m.kind.value, m.kind.value)),
                "continues": m.continues,
                "base": m.base,
                "weights": weights_label(m.weights),
                "test_accuracy": pct(m.test_accuracy) if m.test_accuracy is not None else None,
                "epochs": m.epochs,
                "curves": m.curves_shown,
                "confusion": m.confusion_matrix_shown,
                "where": _where([*m.fit_cells[:1], acc_cell], refs),
            }
        )
    for c in g.criteria:
        css = STATUS_LABELS[c.status.value][1]
        view.criteria.append(
            {
                "id": c.id,
                "title": c.title,
                "kind": c.kind,
                "status": c.status.value,
                "status_label": status_text(c.status),
                "status_class": css,
                "points": f"{c.points} / {c.max_points}" if c.kind == "points" else _("required"),
                "reason": c.reason,
                "missing": c.missing if c.status != Status.met else None,
                "where": _where(c.cells, refs),
            }
        )
    for f in report.findings:
        item = {
            "severity": f.severity.value,
            "severity_label": severity_text(f.severity.value),
            "message": f.message,
            "where": _where([f.cell], refs),
        }
        (view.info if f.severity == Severity.info else view.findings).append(item)
    return view


def render_selfcheck(view: SelfCheckView) -> str:
    """The self-check as an HTML fragment for a notebook's output."""
    return render("selfcheck.html.j2", v=view)
