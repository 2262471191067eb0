"""The terminal summary of a check (rich). Rendering only: it reads plain data.

Two layouts say the same things in the language in use. On a terminal at least
:data:`WIDE_COLUMNS` wide the summary is tables in a panel. Narrower, or
whenever the output is not a terminal (a file, a pipe, a CI log), it is
stacked: one block per model, one line per criterion with its status and
points and the reason and the fix on their own indented lines, what to improve
(the most points at stake first), one line per finding. Text is wrapped at
words, never cut: model names, numbers and the fix stay whole at any width.
"""

from __future__ import annotations

import re
from typing import Literal

from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.evidence import ModelRun, Severity
from grader.grade.result import CheckReport, Status
from grader.i18n import _
from grader.report.markdown import (
    Improvement,
    accuracy_source,
    at_stake_text,
    criterion_points,
    improvements,
    kind_text,
    next_point_head,
    points_text,
    severity_text,
    status_text,
    totals_text,
    verdict_text,
    yes_no,
)
from grader.report.words import cells_text, weights_label

__all__ = [
    "WIDE_COLUMNS",
    "Layout",
    "choose_layout",
    "print_refused",
    "print_report",
    "print_totals",
]

Layout = Literal["auto", "wide", "stacked"]
#: the narrowest terminal that gets the tables
WIDE_COLUMNS = 100
#: how many cells a line names at most
_CELLS = 8
#: the columns the panel's borders and padding take
_PANEL_EDGES = 4

_STATUS_STYLE = {
    Status.met: ("✔", "green"),
    Status.not_met: ("✘", "red"),
    Status.needs_review: ("?", "yellow"),
    Status.not_applicable: ("–", "dim"),
    Status.conditional: ("✔", "cyan"),
}
_SEVERITY_STYLE = {Severity.error: "red", Severity.warning: "yellow", Severity.info: "blue"}
_FIELD = re.compile(r"\{(\w+)\}")


def choose_layout(console: Console, layout: Layout = "auto") -> Literal["wide", "stacked"]:
    """The layout to draw: the one asked for, or for ``auto`` the tables on a wide terminal
    and the stacked layout everywhere else."""
    if layout == "wide" or layout == "stacked":
        return layout
    return "wide" if console.is_terminal and console.width >= WIDE_COLUMNS else "stacked"


def print_report(console: Console, report: CheckReport, *, layout: Layout = "auto") -> None:
    """One notebook's summary; ``layout`` forces the tables (``wide``) or the blocks
    (``stacked``), ``auto`` picks by the console (see :func:`choose_layout`) and falls back
    to the blocks when the models' table would have to break a name to fit."""
    wide = choose_layout(console, layout) == "wide"
    if wide and layout == "auto":
        need = Measurement.get(console, console.options, _wide_models(report)).minimum
        wide = need <= console.width - _PANEL_EDGES
    if wide:
        _print_wide(console, report)
    else:
        _print_stacked(console, report)


# ------------------------------------------------------------------ pieces of both layouts


def _yes(flag: bool) -> Text:
    return Text(yes_no(flag), style="green" if flag else "red")


def _status(status: Status) -> Text:
    mark, style = _STATUS_STYLE[status]
    return Text(f"{mark} {status_text(status)}", style=style)


def _styled(message: str, **values: Text | str) -> Text:
    """``message.format(**values)`` as rich text, keeping the styles of the values (the
    placeholders may stand in any order a translation puts them)."""
    text = Text()
    pos = 0
    for match in _FIELD.finditer(message):
        text.append(message[pos : match.start()])
        text.append(values[match.group(1)])
        pos = match.end()
    text.append(message[pos:])
    return text


def _flags(report: CheckReport) -> Text:
    parts = [
        _styled(_("framework: {framework}"), framework=Text(report.framework.value, "bold")),
        _styled(_("curves: {answer}"), answer=_yes(report.has_curves)),
        _styled(_("confusion matrix: {answer}"), answer=_yes(report.has_confusion_matrix)),
        _styled(_("written summary: {answer}"), answer=_yes(report.has_written_summary)),
    ]
    return Text(" · ").join(parts)


def _accuracy(m: ModelRun) -> Text:
    source, found = accuracy_source(m)
    return Text(source) if found else Text(source, style="red")


def _improvement(index: int, item: Improvement) -> Text:
    head = next_point_head(index, item)
    body = item.text.strip()
    if item.cells:
        body = _("{text} ({cells})").format(text=body, cells=cells_text(item.cells))
    text = _styled(_("{head}: {text}"), head=Text(head, "bold"), text=body) if head else Text(body)
    if item.points > 0:
        text.append(f" · {at_stake_text(item.points)}", style="dim")
    return text


def _summary(report: CheckReport) -> Text:
    g = report.grade
    summary = Text(
        points_text(g.points, g.max_points), style="bold green" if g.points else "bold red"
    )
    if g.potential_points > g.points:
        up_to = _("up to {points} after review or if eligible").format(points=g.potential_points)
        summary.append(f" ({up_to})", style="cyan")
    summary.append(" · ", style="dim")
    if g.requirements_met:
        summary.append(_("requirements: all met"), style="green")
    else:
        summary.append(_("requirements: not all met"), style="red")
    if g.needs_review:
        summary.append(" · ", style="dim")
        summary.append(_("needs instructor review"), style="yellow")
    return summary


def _finding_text(message: str, cell: int | None) -> str:
    if cell is None:
        return message
    return _("{text} ({cells})").format(text=message, cells=cells_text([cell]))


# ------------------------------------------------------------------ the stacked layout


def _grid(fixed: int = 1) -> Table:
    """A borderless table: the ``fixed`` first columns never wrap, the last one wraps at words
    and folds a word longer than the line instead of cutting it."""
    grid = Table.grid(padding=(0, 1))
    for _column in range(fixed):
        grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def _stacked_models(report: CheckReport) -> RenderableType:
    if not report.models:
        return Text(_("No trained model found."), style="red")
    grid = _grid()
    for m in report.models:
        grid.add_row(Text(m.id, style="bold"), Text(m.name, style="bold"))
        grid.add_row("", _("kind: {kind}").format(kind=kind_text(m)))
        if m.base:
            base = m.base + (f" ({weights_label(m.weights)})" if m.weights else "")
            grid.add_row("", _("base: {base}").format(base=base))
        grid.add_row("", _styled(_("test accuracy: {source}"), source=_accuracy(m)))
        epochs = str(m.epochs) if m.epochs is not None else "?"
        facts = [
            _("epochs: {epochs}").format(epochs=epochs),
            _("curves: {answer}").format(answer=yes_no(m.curves_shown)),
            _("confusion matrix: {answer}").format(answer=yes_no(m.confusion_matrix_shown)),
        ]
        if m.fit_cells:
            facts.append(_("cells: {cells}").format(cells=", ".join(map(str, m.fit_cells))))
        grid.add_row("", " · ".join(facts))
    return grid


def _stacked_criteria(report: CheckReport) -> Table:
    grid = _grid(2)
    grid.columns[1].justify = "right"
    for c in report.grade.criteria:
        pts = criterion_points(c.kind, c.points, c.max_points)
        grid.add_row(_status(c.status), pts, Text(c.title, style="bold"))
        if c.reason:
            grid.add_row("", "", c.reason)
        if c.missing and c.status != Status.met:
            grid.add_row("", "", Text("→ " + c.missing, style="italic"))
        if c.cells:
            grid.add_row("", "", Text(cells_text(c.cells[:_CELLS]), style="dim"))
    return grid


def _print_stacked(console: Console, report: CheckReport) -> None:
    g = report.grade
    console.rule(style="blue")
    console.print(Text.assemble((report.notebook.path, "bold"), ": ", verdict_text(report)))
    console.print(_flags(report))
    parts: list[RenderableType] = [
        Text(),
        _heading(_("Models trained")),
        Padding(_stacked_models(report), (0, 0, 0, 1)),
        Text(),
        _heading(_("Rubric")),
        Padding(_stacked_criteria(report), (0, 0, 0, 1)),
    ]
    items = improvements(report)
    if items:
        todo = _grid()
        for i, item in enumerate(items):
            todo.add_row(f"{i + 1}.", _improvement(i, item))
        parts += [Text(), _heading(_("What to improve")), Padding(todo, (0, 0, 0, 1))]
    if report.findings:
        found = _grid()
        for f in report.findings:
            found.add_row(
                Text(severity_text(f.severity.value), style=_SEVERITY_STYLE[f.severity]),
                _finding_text(f.message, f.cell),
            )
        parts += [Text(), _heading(_("Findings")), Padding(found, (0, 0, 0, 1))]
    parts += [Text(), _summary(report)]
    if g.notes:
        notes = _grid()
        for note in g.notes:
            notes.add_row("•", Text(note, style="dim"))
        parts.append(notes)
    for part in parts:
        console.print(part)


# ------------------------------------------------------------------ the wide layout


def _wide_models(report: CheckReport) -> Table:
    models = Table(title=_("Models trained"), title_justify="left", expand=False)
    columns = [  # (header, whether it keeps its text on one line: a model's name and base do)
        (_("id"), True),
        (_("model"), True),
        (_("kind"), False),
        (_("base"), True),
        (_("test accuracy"), False),
        (_("epochs"), False),
        (_("curves"), False),
        (_("confusion matrix"), False),
        (_("cells"), False),
    ]
    for header, keep in columns:
        models.add_column(header, no_wrap=keep, overflow="fold")
    for m in report.models:
        models.add_row(
            m.id,
            m.name,
            kind_text(m),
            m.base or "",
            f"{m.test_accuracy:.4f}"
            if m.test_accuracy is not None
            else Text(_("none"), style="red"),
            str(m.epochs) if m.epochs is not None else "?",
            _yes(m.curves_shown),
            _yes(m.confusion_matrix_shown),
            ", ".join(str(c) for c in m.fit_cells),
        )
    if not report.models:
        empty = Text(_("No trained model found."), style="red")
        models.add_row("", empty, "", "", "", "", "", "", "")
    return models


def _accuracy_sources(report: CheckReport) -> Table:
    """For each model: the cell and text its test accuracy was read from, or why there is none."""
    table = Table(
        title=_("Test accuracy: where it was read, or why none was"),
        title_justify="left",
        show_header=False,
        expand=True,
    )
    table.add_column("id", no_wrap=True)
    table.add_column("source", overflow="fold")
    for m in report.models:
        table.add_row(m.id, _accuracy(m))
    return table


def _wide_criteria(report: CheckReport) -> Table:
    crit = Table(title=_("Rubric"), title_justify="left", expand=True)
    crit.add_column(_("criterion"), ratio=3, overflow="fold")
    crit.add_column(_("status"), no_wrap=True)
    crit.add_column(_("points"), justify="right", no_wrap=True)
    crit.add_column(_("why, what is missing"), ratio=5, overflow="fold")
    for c in report.grade.criteria:
        why = Text(c.reason)
        if c.missing and c.status != Status.met:
            why.append("\n→ " + c.missing, style="italic")
        if c.cells:
            why.append("\n" + cells_text(c.cells[:_CELLS]), style="dim")
        pts = criterion_points(c.kind, c.points, c.max_points)
        crit.add_row(c.title, _status(c.status), pts, why)
    return crit


def _print_wide(console: Console, report: CheckReport) -> None:
    g = report.grade
    parts: list[RenderableType] = [_flags(report), _wide_models(report)]
    if report.models:
        parts.append(_accuracy_sources(report))
    parts.append(_wide_criteria(report))
    items = improvements(report)
    if items:
        todo = Table(
            title=_("What to improve"), title_justify="left", show_header=False, expand=True
        )
        todo.add_column("#", no_wrap=True, justify="right")
        todo.add_column("what", overflow="fold")
        for i, item in enumerate(items):
            todo.add_row(f"{i + 1}.", _improvement(i, item))
        parts.append(todo)
    if report.findings:
        ft = Table(title=_("Findings"), title_justify="left", show_header=False, expand=True)
        ft.add_column("severity", no_wrap=True)
        ft.add_column("finding", overflow="fold")
        for f in report.findings:
            ft.add_row(
                Text(severity_text(f.severity.value), style=_SEVERITY_STYLE[f.severity]),
                _finding_text(f.message, f.cell),
            )
        parts.append(ft)
    parts.append(_summary(report))
    for note in g.notes:
        parts.append(Text("• " + note, style="dim"))
    # the path and the verdict head the panel's content: a title on its border would be cut
    heading = Text.assemble((report.notebook.path, "bold"), ": ", verdict_text(report))
    console.print(Panel(Group(heading, *parts), border_style="blue"))


# ------------------------------------------------------------------ refusals and totals


def print_refused(console: Console, path: str, message: str, *, layout: Layout = "auto") -> None:
    """A notebook that could not be graded, and why."""
    title = _("{path}: not graded").format(path=path)
    if choose_layout(console, layout) == "wide":
        console.print(Panel(Group(Text(title, style="bold"), Text(message)), border_style="red"))
        return
    console.rule(style="red")
    console.print(Text(title, style="bold red"))
    console.print(Text(message, style="red"))


def print_totals(console: Console, graded: int, met: int, refused: int) -> None:
    console.print(Text(totals_text(graded, met, refused), style="bold"))
