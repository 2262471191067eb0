"""Command line: maps options to library calls, and project errors to messages and exit codes.

Exit codes of ``grader check``: 0 every notebook meets every requirement of the
rubric; 1 some requirement is not met (or a file in a folder was refused);
2 bad input (no such path, a file that is not a notebook, a bad rubric or roster).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from grader.errors import GraderError

__all__ = ["app", "main", "print_error"]

app = typer.Typer(
    name="grader",
    help="Grade deep-learning homework notebooks: find what they trained, check it, apply the rubric.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rubric_app = typer.Typer(help="Inspect and validate rubric files.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")

EXIT_OK, EXIT_UNMET, EXIT_BAD_INPUT = 0, 1, 2


def print_error(console: Console, message: str) -> None:
    """An error line: never read as markup, never wrapped (paths stay whole for copying)."""
    from rich.markup import escape

    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)


@contextmanager
def _errors_to_exit(console: Console) -> Iterator[None]:
    try:
        yield
    except GraderError as exc:
        print_error(console, exc.message)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@app.command()
def check(
    paths: Annotated[
        list[Path], typer.Argument(help="Notebooks, or folders searched for *.ipynb.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (schema: `grader schema`).")
    ] = False,
    rubric: Annotated[
        Path | None, typer.Option(help="Rubric file (default: rubrics/hw5.yaml).")
    ] = None,
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
        str,
        typer.Option(help="With --run: smoke (capped epochs and data, about a minute) or full."),
    ] = "smoke",
    data: Annotated[
        str | None,
        typer.Option(help="With --run: synthetic, cifar10, or a cifar-10-python.tar.gz."),
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="With --run: folder of Keras application weight files.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="With --run: seed for the run.")] = None,
    sandbox: Annotated[
        str,
        typer.Option(
            help="With --run: how the notebook is isolated: auto (the strongest available), "
            "bwrap, container, or none (resource limits only; said in the result)."
        ),
    ] = "auto",
    bands: Annotated[
        Path | None,
        typer.Option(
            help="Reference bands (a file or folder from `grader reference build`) the models "
            "are compared with; default: reference/bands when it exists. A stored notebook is "
            "compared with the CIFAR-10 full-profile band, a --run with the band of its own "
            "data and profile; a `no-band` note says when none matches."
        ),
    ] = None,
    no_bands: Annotated[
        bool, typer.Option("--no-bands", help="Do not compare with the reference bands.")
    ] = False,
) -> None:
    """Check notebooks from their stored outputs (about a second each, nothing is executed).

    Shows the models found with their kind and test accuracy, whether curves, a
    confusion matrix and a written summary are there, each rubric criterion with
    the reason, and the points. Exit code 0 when every requirement is met.
    """
    console = Console(stderr=as_json)
    with _errors_to_exit(console):
        from grader.check.bands import resolve_bands
        from grader.grade.result import StudentContext
        from grader.grade.rubric import load_rubric
        from grader.intake.roster import load_roster
        from grader.pipeline import check_paths

        rub = load_rubric(rubric)
        ros = load_roster(roster) if roster else None
        ctx = StudentContext(submitted_hw4=hw4, consultation_done=consultation)
        if ros is not None and student:
            entry = ros.find(student)
            if entry is None:
                raise GraderError(f"student {student!r} is not in the roster {roster}")
            ctx = entry.context()
        run_options = None
        progress = None
        if run:
            from grader.execute import RunOptions

            if profile not in ("smoke", "full"):
                raise GraderError(f"unknown profile {profile!r} (smoke or full)")
            run_options = RunOptions(
                profile=profile, data=data, weights=weights, seed=seed, backend=sandbox
            )
            progress = _run_progress(Console(stderr=True))
        outcomes = check_paths(
            paths,
            rubric=rub,
            context=ctx,
            roster=ros if not student else None,
            run_options=run_options,
            progress=progress,
            bands=resolve_bands(bands, enabled=not no_bands),
        )
        if not outcomes:
            raise GraderError("no notebooks (*.ipynb) found under " + ", ".join(map(str, paths)))
    single = len(outcomes) == 1 and len(paths) == 1 and paths[0].is_file()
    if as_json:
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
    else:
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
    if single and outcomes[0].error:
        raise typer.Exit(EXIT_BAD_INPUT)
    ok = all(o.report and o.report.grade.requirements_met for o in outcomes)
    raise typer.Exit(EXIT_OK if ok else EXIT_UNMET)


def _run_progress(console: Console) -> object:
    """A progress printer for --run: cell n of N, the model and epoch being trained."""

    def show(p: object) -> None:
        phase = getattr(p, "phase", "")
        if phase == "cell" and getattr(p, "cell_number", None):
            console.print(f"[dim]cell {p.cell_number} of {p.code_cells}[/]")  # type: ignore[attr-defined]
        elif phase == "epoch":
            console.print(f"[dim]  {p.model or 'model'}: epoch {p.epoch}[/]")  # type: ignore[attr-defined]

    return show


@app.command()
def schema() -> None:
    """Print the JSON schema of the document `grader check --json` writes."""
    from grader.grade.result import CheckReport

    sys.stdout.write(json.dumps(CheckReport.model_json_schema(), indent=2) + "\n")


@rubric_app.command("validate")
def rubric_validate(path: Annotated[Path, typer.Argument(help="Rubric YAML file.")]) -> None:
    """Validate a rubric file; unknown keys and checks are errors with a suggestion."""
    console = Console()
    with _errors_to_exit(console):
        from grader.grade.rubric import load_rubric

        r = load_rubric(path)
    console.print(
        f"[green]ok[/] {path}: {len(r.requirements)} requirements, {len(r.criteria)} criteria, "
        f"max {r.max_points} points"
    )


@rubric_app.command("checks")
def rubric_checks() -> None:
    """List the checks a rubric may use, with their parameters."""
    from grader.grade.rubric import CHECKS

    console = Console()
    for name, chk in CHECKS.items():
        params = f" (with: {', '.join(chk.params)})" if chk.params else ""
        console.print(f"[bold]{name}[/]{params}: {chk.doc}")


def _register_plugins() -> None:
    for module in ("grader.cli.run", "grader.cli.batch", "grader.cli.reference"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError:
            continue
        mod.register(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (tests call it in-process)."""
    _register_plugins()
    try:
        app(args=list(argv) if argv is not None else None, prog_name="grader", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
