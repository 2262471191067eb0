"""The terminal summary of a check (rich). Rendering only: it reads plain data."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.evidence import Severity
from grader.grade.result import CheckReport, Status

__all__ = ["print_refused", "print_report", "print_totals"]

_STATUS_STYLE = {
    Status.met: ("✔ met", "green"),
    Status.not_met: ("✘ not met", "red"),
    Status.needs_review: ("? review", "yellow"),
    Status.not_applicable: ("– n/a", "dim"),
    Status.conditional: ("✔ if no HW4", "cyan"),
}
_SEVERITY_STYLE = {Severity.error: "red", Severity.warning: "yellow", Severity.info: "blue"}


def _yes(flag: bool) -> Text:
    return Text("yes", style="green") if flag else Text("no", style="red")


def print_report(console: Console, report: CheckReport) -> None:
    g = report.grade
    models = Table(title="Models trained", title_justify="left", expand=False)
    for col in (
        "id",
        "model",
        "kind",
        "base",
        "test acc",
        "epochs",
        "curves",
        "conf. matrix",
        "cell",
    ):
        models.add_column(col, no_wrap=col not in ("model",))
    for m in report.models:
        kind = m.kind.value
        if m.continues:
            kind += f" (continues {m.continues})"
        models.add_row(
            m.id,
            m.name,
            kind,
            m.base or "",
            f"{m.test_accuracy:.4f}" if m.test_accuracy is not None else Text("none", style="red"),
            str(m.epochs) if m.epochs is not None else "?",
            _yes(m.curves_shown),
            _yes(m.confusion_matrix_shown),
            ",".join(str(c) for c in m.fit_cells),
        )
    if not report.models:
        models.add_row("", Text("no trained model found", style="red"), "", "", "", "", "", "", "")

    flags = Text.assemble(
        ("framework ", "bold"),
        report.framework.value,
        "   ",
        ("curves ", "bold"),
        _yes(report.has_curves),
        "   ",
        ("confusion matrix ", "bold"),
        _yes(report.has_confusion_matrix),
        "   ",
        ("written summary ", "bold"),
        _yes(report.has_written_summary),
    )

    crit = Table(title="Rubric", title_justify="left", expand=True)
    crit.add_column("criterion", ratio=3)
    crit.add_column("status", no_wrap=True)
    crit.add_column("pts", justify="right", no_wrap=True)
    crit.add_column("why / what is missing", ratio=5)
    for c in g.criteria:
        label, style = _STATUS_STYLE[c.status]
        why = Text(c.reason)
        if c.missing:
            why.append("\n→ " + c.missing, style="italic")
        if c.cells:
            why.append(f"  [cells {', '.join(str(x) for x in c.cells[:8])}]", style="dim")
        pts = f"{c.points}/{c.max_points}" if c.kind == "points" else ""
        crit.add_row(c.title, Text(label, style=style), pts, why)

    parts: list[object] = [flags, models]
    if report.models:
        parts.append(_accuracy_sources(report))
    parts.append(crit)
    if report.findings:
        ft = Table(title="Findings", title_justify="left", show_header=False, expand=True)
        ft.add_column("sev", no_wrap=True)
        ft.add_column("finding")
        for f in report.findings:
            where = f" (cell {f.cell})" if f.cell is not None else ""
            ft.add_row(Text(f.severity.value, style=_SEVERITY_STYLE[f.severity]), f.message + where)
        parts.append(ft)
    summary = Text.assemble(
        ("Points: ", "bold"),
        (f"{g.points}/{g.max_points}", "bold green" if g.points else "bold red"),
    )
    if g.potential_points > g.points:
        summary.append(f"  (up to {g.potential_points} after review / if eligible)", style="cyan")
    summary.append("   requirements: ")
    summary.append(*(("all met", "green") if g.requirements_met else ("not all met", "red")))
    if g.needs_review:
        summary.append("   needs instructor review", style="yellow")
    parts.append(summary)
    for note in g.notes:
        parts.append(Text("• " + note, style="dim"))
    console.print(Panel(Group(*parts), title=f"[bold]{report.notebook.path}", border_style="blue"))  # type: ignore[arg-type]


def _shorten(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _accuracy_sources(report: CheckReport) -> Table:
    """For each model: the cell and text its test accuracy was read from, or why there is none."""
    table = Table(
        title="Test accuracy: where it was read, or why none was",
        title_justify="left",
        show_header=False,
        expand=True,
    )
    table.add_column("id", no_wrap=True)
    table.add_column("source")
    for m in report.models:
        prov = m.test_accuracy_provenance
        if m.test_accuracy is not None:
            where = f"cell {prov.cell}" if prov is not None and prov.cell is not None else "?"
            text = Text(f"{m.test_accuracy:.4f} from {where}")
            if prov is not None and prov.detail:
                text.append(f": {_shorten(prov.detail)!r}", style="dim")
        elif m.test_accuracy_missing is not None:
            text = Text("none: ", style="red")
            text.append(m.test_accuracy_missing.reason)
        else:
            text = Text("none", style="red")
        table.add_row(m.id, text)
    return table


def print_refused(console: Console, path: str, message: str) -> None:
    console.print(
        Panel(Text(message, style="red"), title=f"[bold]{path}: not graded", border_style="red")
    )


def print_totals(console: Console, graded: int, met: int, refused: int) -> None:
    console.print(
        f"[bold]{graded}[/] notebook(s) graded, [green]{met}[/] meet every requirement"
        + (f", [red]{refused}[/] refused" if refused else "")
    )
