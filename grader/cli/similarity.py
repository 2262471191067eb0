"""The ``grader similarity`` command: which pairs of notebooks in a class are worth a look.

Maps options to :func:`grader.similarity.analyse_class` and
:func:`grader.report.similarity.write_similarity`, draws the progress on
stderr and prints a short table of the top pairs.

Exit codes: 0 the report was written; 2 bad input (no such path, a folder
without notebooks, a starter that is not a notebook).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from grader.cli.common import LangOption, print_error, speaking
from grader.errors import GraderError
from grader.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from rich.progress import TaskID

    from grader.similarity.model import PairEvidence, SimilarityReport

__all__ = ["register", "similarity"]

EXIT_OK, EXIT_BAD_INPUT = 0, 2

_STAGES = {"read": N_("reading notebooks"), "compare": N_("scoring pairs")}


def register(app: typer.Typer) -> None:
    """Add the ``similarity`` command to the grader application."""
    app.command("similarity")(similarity)


@speaking(folder="source")
def similarity(
    source: Annotated[
        Path,
        typer.Argument(
            help="The class: a folder of notebooks (one per student, or one folder per "
            "student), an LMS export zip, or an output folder of `grader batch`.",
            metavar="SOURCE",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FOLDER",
            help="Folder for similarity.html and similarity.json (default: the batch folder "
            "when SOURCE is one, else reports/similarity).",
        ),
    ] = None,
    starter: Annotated[
        list[Path] | None,
        typer.Option(
            "--starter",
            metavar="NOTEBOOK",
            help="The notebook handed out to start from; its code, outputs and models count "
            "for nothing. Repeat for several.",
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option(
            "--top",
            min=1,
            metavar="N",
            help="Pairs shown in the terminal and on the page (all are in the JSON).",
        ),
    ] = 20,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the report as JSON on stdout (progress stays on stderr)."
        ),
    ] = False,
    lang: LangOption = None,
) -> None:
    """Rank pairs of notebooks by the rare material they share: a reason to look, never a verdict.

    Code is compared rename-insensitively after removing comments and the
    starter code; identical training logs, printed numbers and figures and the
    same model trained the same way count too. Whatever much of the class
    shares (the textbook model, the starter) counts for nothing.
    """
    err = Console(stderr=True)
    try:
        from grader.report.similarity import write_similarity
        from grader.similarity.analyse import analyse_class
        from grader.similarity.inputs import is_batch_output
        from grader.similarity.model import SimilaritySettings

        target = out or (source if is_batch_output(source) else Path("reports") / "similarity")
        with _progress(err) as progress:
            report = analyse_class(
                source,
                starters=starter or [],
                settings=SimilaritySettings(detail_pairs=top),
                progress=progress,
                generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
            )
    except GraderError as exc:
        print_error(err, exc.message)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        files = write_similarity(report, target, top=top)
    except OSError as exc:
        print_error(
            err,
            _("cannot write the report into {folder}: {problem}").format(
                folder=target, problem=exc.strerror or exc
            ),
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=1) + "\n")
    else:
        _summary(Console(), report, top)
    err.print(
        _("[dim]wrote {html} and {json}[/]").format(html=files["html"], json=files["json"]),
        soft_wrap=True,
    )
    if is_batch_output(target):
        _update_dashboard(err, target)
    raise typer.Exit(EXIT_OK)


def _update_dashboard(err: Console, folder: Path) -> None:
    """The class dashboard of a batch folder shows the pairs: draw it again (nothing is graded)."""
    from grader.batch.outputs import rebuild_class

    try:
        files = rebuild_class(folder)[2]
    except GraderError as exc:
        err.print(
            _(
                "[yellow]the dashboard was not updated[/] ({problem}); it shows the pairs "
                "after the next `grader batch` into this folder"
            ).format(problem=exc.message),
            soft_wrap=True,
        )
        return
    err.print(
        _("[dim]dashboard updated: {path}[/]").format(path=files["dashboard"]), soft_wrap=True
    )


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress display on stderr, one bar per stage; yields the library's callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            label = _(_STAGES[stage]) if stage in _STAGES else stage
            if stage == "read":
                label = ngettext("reading {n} notebook", "reading {n} notebooks", total).format(
                    n=total
                )
            tasks[stage] = bar.add_task(label, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield report


def _summary(console: Console, report: SimilarityReport, top: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    from grader.report.similarity import LEVEL_CLASSES
    from grader.report.words import LEVEL_LABELS, label

    styles = {"warn": "yellow", "info": "cyan", "muted": "dim"}
    size, worth, similar = report.class_size, report.count("worth a look"), report.count("similar")
    counts = [
        ngettext("[bold]{n}[/] notebook compared", "[bold]{n}[/] notebooks compared", size).format(
            n=size
        ),
        ngettext(
            "[yellow]{n}[/] pair worth a look", "[yellow]{n}[/] pairs worth a look", worth
        ).format(n=worth),
        ngettext("[cyan]{n}[/] similar", "[cyan]{n}[/] similar", similar).format(n=similar),
    ]
    if report.skipped:
        skipped_n = len(report.skipped)
        counts.append(
            ngettext("[yellow]{n}[/] skipped", "[yellow]{n}[/] skipped", skipped_n).format(
                n=skipped_n
            )
        )
    console.print(", ".join(counts))
    for note in report.notes:
        if note.startswith("Fewer than two"):
            # the note is stored in English; the catalog has it (the page says it too)
            console.print(f"[yellow]{escape(_(note))}[/]")
    for skipped in report.skipped:
        console.print(
            _("[dim]skipped {name}: {reason}[/]").format(
                name=escape(skipped.name), reason=escape(skipped.reason)
            ),
            soft_wrap=True,
        )
    shown = [p for p in report.pairs[:top] if p.level != "nothing notable"]
    if not shown:
        console.print(_("[dim]No pair shares more than much of the class shares.[/]"))
        return
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("A", overflow="fold")
    table.add_column("B", overflow="fold")
    table.add_column(_("score"), justify="right")
    table.add_column(_("level"), no_wrap=True)
    table.add_column(_("evidence"))
    for rank, p in enumerate(shown, start=1):
        style = styles[LEVEL_CLASSES.get(p.level, "muted")]
        table.add_row(
            str(rank),
            escape(p.name_a),
            escape(p.name_b),
            f"{p.score:.2f}",
            f"[{style}]{label(LEVEL_LABELS, p.level)}[/]",
            escape(_evidence(p)),
        )
    console.print(table)
    console.print(
        _("[dim]The page has the evidence side by side; check it before concluding anything.[/]")
    )


def _evidence(p: PairEvidence) -> str:
    """The evidence of a pair in a few words, for the terminal."""
    parts = []
    if p.cells and p.channels.code >= 0.1:
        parts.append(
            _("code {share_a}/{share_b}").format(
                share_a=f"{p.code_share_a:.0%}", share_b=f"{p.code_share_b:.0%}"
            )
        )
    if p.log_lines_total:
        n = p.log_lines_total
        parts.append(ngettext("{n} log line", "{n} log lines", n).format(n=n))
    if p.numbers and p.channels.numbers >= 0.1:
        n = len(p.numbers)
        parts.append(ngettext("{n} number", "{n} numbers", n).format(n=n))
    if p.images:
        n = len(p.images)
        parts.append(ngettext("{n} figure", "{n} figures", n).format(n=n))
    if p.architectures and p.channels.architecture >= 0.05:
        parts.append(_("same model"))
    return ", ".join(parts) or "—"
