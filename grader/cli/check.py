"""``grader check`` (a student's self-check, a folder for an instructor) and ``grader schema``.

The result is printed as the terminal summary, as Markdown (``--format
markdown``, e.g. a CI job summary) or as JSON; ``--junit FILE`` also writes it
as JUnit XML for a CI's test report.

Exit codes of ``grader check``: 0 every notebook meets every requirement of the
rubric; 1 some requirement is not met (or a file in a folder was refused);
2 bad input (no such path, a file that is not a notebook, a bad rubric or roster).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from grader.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    BandsOption,
    DataOption,
    JsonOption,
    LangOption,
    NoBandsOption,
    ProfileChoice,
    RubricOption,
    SandboxChoice,
    SeedOption,
    WeightsOption,
    errors_to_exit,
    print_error,
    speaking,
)
from grader.errors import GraderError, UsageError
from grader.i18n import _

if TYPE_CHECKING:
    from grader.execute.records import Progress
    from grader.intake.roster import Roster
    from grader.intake.submission import StudentContext
    from grader.pipeline import CheckOutcome
    from grader.report.markdown import Checked

__all__ = ["OutputFormat", "check", "register", "schema"]


class OutputFormat(StrEnum):
    """How ``grader check`` prints its result (see :data:`_PRINTERS`)."""

    terminal = "terminal"
    markdown = "markdown"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command()(check)
    app.command()(schema)


@speaking(rubric="rubric")
def check(
    paths: Annotated[
        list[Path], typer.Argument(help="Notebooks, or folders searched for *.ipynb.")
    ],
    as_json: JsonOption = False,
    rubric: RubricOption = None,
    roster: Annotated[
        Path | None,
        typer.Option(help="Roster CSV: homework 4, submission times, consultations."),
    ] = None,
    student: Annotated[
        str | None, typer.Option(help="Roster id or name of the student (single notebook).")
    ] = None,
    hw4: Annotated[
        bool | None,
        typer.Option(
            "--hw4/--no-hw4",
            help="Whether the student submitted homework 4 (decides the baseline-CNN point).",
        ),
    ] = None,
    consultation: Annotated[
        bool | None,
        typer.Option(
            "--consultation/--no-consultation", help="Whether the consultation took place."
        ),
    ] = None,
    run: Annotated[
        bool,
        typer.Option("--run", help="Execute the notebook first and grade what actually ran."),
    ] = False,
    profile: Annotated[
        ProfileChoice,
        typer.Option(help="With --run: smoke (capped epochs and data, about a minute) or full."),
    ] = ProfileChoice["smoke"],
    data: DataOption = None,
    weights: WeightsOption = None,
    seed: SeedOption = None,
    sandbox: Annotated[
        SandboxChoice,
        typer.Option(
            help="With --run: how the notebook is isolated: auto (the strongest available), "
            "bwrap, container, or none (resource limits only; said in the result)."
        ),
    ] = SandboxChoice["auto"],
    bands: BandsOption = None,
    no_bands: NoBandsOption = False,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="terminal: the summary for a person; markdown: the same as Markdown (a CI "
            "job summary, an issue comment); json: the full document (as --json).",
        ),
    ] = OutputFormat.terminal,
    junit: Annotated[
        Path | None,
        typer.Option(
            help="Also write the result as JUnit XML to this file (a CI test report): one "
            "test case per requirement and criterion of each notebook."
        ),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Check notebooks from their stored outputs (about a second each, nothing is executed).

    Shows the models found with their kind and test accuracy, whether curves, a
    confusion matrix and a written summary are there, each rubric criterion with
    the reason, and the points. Exit code 0 when every requirement is met.
    """
    if as_json and output_format not in (OutputFormat.terminal, OutputFormat.json):
        print_error(
            Console(stderr=True),
            f"--json and --format {output_format.value} ask for two formats: give one "
            "(--format json is the same as --json).",
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    fmt = OutputFormat.json if as_json else output_format
    console = Console(stderr=fmt != OutputFormat.terminal)
    with errors_to_exit(console):
        from grader.check.bands import load_band_sets, resolve_bands
        from grader.grade.rubric import load_rubric
        from grader.pipeline import check_paths

        rub = load_rubric(rubric)
        ros, ctx = _student(roster, student, hw4, consultation)
        run_options = None
        if run:
            from grader.execute.records import RunOptions

            run_options = RunOptions(
                profile=profile.value, data=data, weights=weights, seed=seed, backend=sandbox.value
            )
        bands_path = resolve_bands(bands, enabled=not no_bands)
        outcomes = check_paths(
            paths,
            rubric=rub,
            context=ctx,
            roster=ros,
            run_options=run_options,
            progress=_run_progress(Console(stderr=True)) if run else None,
            bands=load_band_sets(bands_path) if bands_path is not None else None,
        )
        if not outcomes:
            raise GraderError(
                _("no notebooks (*.ipynb) found under {paths}").format(
                    paths=", ".join(map(str, paths))
                )
            )
        if junit is not None:
            _write_junit(junit, outcomes)
    single = len(outcomes) == 1 and len(paths) == 1 and paths[0].is_file()
    _PRINTERS[fmt](console, outcomes, single)
    if single and outcomes[0].error:
        raise typer.Exit(EXIT_BAD_INPUT)
    ok = all(o.report and o.report.grade.requirements_met for o in outcomes)
    raise typer.Exit(EXIT_OK if ok else EXIT_FAILED)


def _student(
    roster: Path | None, student: str | None, hw4: bool | None, consultation: bool | None
) -> tuple[Roster | None, StudentContext]:
    """The roster (None: not given, or one student named) and what it says of the student."""
    from grader.intake.roster import load_roster
    from grader.intake.submission import StudentContext

    ros = load_roster(roster) if roster else None
    ctx = StudentContext(submitted_hw4=hw4, consultation_done=consultation)
    if ros is not None and student:
        entry = ros.find(student)
        if entry is None:
            raise GraderError(
                _("student {student!r} is not in the roster {roster}").format(
                    student=student, roster=roster
                )
            )
        ctx = entry.context()
    return (ros if not student else None), ctx


def _checked(outcomes: list[CheckOutcome]) -> list[Checked]:
    from grader.report.markdown import Checked

    return [Checked(str(o.path), o.report, str(o.error) if o.error else None) for o in outcomes]


def _write_junit(path: Path, outcomes: list[CheckOutcome]) -> None:
    from grader.files import atomic_write_text
    from grader.report.junit import check_junit

    try:
        atomic_write_text(path, check_junit(_checked(outcomes)), durable=False)
    except OSError as exc:
        raise UsageError(f"--junit {path}: cannot write it ({exc.strerror or exc})") from None


def _print_markdown(console: Console, outcomes: list[CheckOutcome], single: bool) -> None:
    from grader.report.markdown import check_markdown

    sys.stdout.write(check_markdown(_checked(outcomes), totals=not single))


def _print_json(console: Console, outcomes: list[CheckOutcome], single: bool) -> None:
    docs = [
        o.report.model_dump(mode="json")
        if o.report
        else {
            "notebook": {"path": str(o.path)},
            "error": str(o.error),
            "reason": getattr(o.error, "reason", ""),
        }
        for o in outcomes
    ]
    out = docs[0] if single else {"notebooks": docs}
    sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")


def _print_summary(console: Console, outcomes: list[CheckOutcome], single: bool) -> None:
    from grader.report.terminal import print_refused, print_report, print_totals

    for o in outcomes:
        if o.report:
            print_report(console, o.report)
        else:
            print_refused(console, str(o.path), str(o.error))
    if not single:
        print_totals(
            console,
            sum(1 for o in outcomes if o.report),
            sum(1 for o in outcomes if o.report and o.report.grade.requirements_met),
            sum(1 for o in outcomes if o.error),
        )


#: each output format and what prints it
_PRINTERS: dict[OutputFormat, Callable[[Console, list[CheckOutcome], bool], None]] = {
    OutputFormat.terminal: _print_summary,
    OutputFormat.markdown: _print_markdown,
    OutputFormat.json: _print_json,
}


def _run_progress(console: Console) -> Callable[[Progress], None]:
    """A progress printer for --run: cell n of N, the model and epoch being trained."""

    def show(p: Progress) -> None:
        if p.phase == "cell" and p.cell_number:
            text = _("cell {number} of {total}").format(number=p.cell_number, total=p.code_cells)
            console.print(f"[dim]{text}[/]")
        elif p.phase == "epoch":
            text = _("{model}: epoch {epoch}").format(model=p.model or _("model"), epoch=p.epoch)
            console.print(f"[dim]  {escape(text)}[/]")

    return show


def schema() -> None:
    """Print the JSON schema of the document `grader check --json` writes."""
    from grader.grade.result import CheckReport

    sys.stdout.write(json.dumps(CheckReport.model_json_schema(), indent=2) + "\n")
