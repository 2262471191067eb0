"""``grader rubric``: list the bundled rubrics, validate a rubric file, list the checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from grader.cli.common import errors_to_exit

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect and validate rubric files.", no_args_is_help=True)
    group.command("list")(list_rubrics)
    group.command("validate")(validate)
    group.command("checks")(checks)
    app.add_typer(group, name="rubric")


def list_rubrics() -> None:
    """List the rubrics the grader comes with: name, title and file.

    `grader check` uses the Homework 5 rubric unless `--rubric FILE` names another
    file: copy a listed file, change it, check it with `grader rubric validate FILE`.
    """
    console = Console()
    with errors_to_exit(console):
        from grader.errors import RubricError
        from grader.grade.rubric import DEFAULT_RUBRIC, bundled_rubrics, load_rubric

        paths = bundled_rubrics()
        if not paths:
            raise RubricError(
                "this installation has no rubric of its own: reinstall the grader, "
                "or name a rubric file with --rubric FILE"
            )
        for path in paths:
            try:
                title = escape(load_rubric(path).title)
            except RubricError as exc:
                title = f"[red]cannot be read: {escape(exc.message)}[/]"
            default = " [dim](the default)[/]" if path.stem == DEFAULT_RUBRIC else ""
            console.print(f"[bold]{escape(path.stem)}[/]{default}: {title}")
            console.print(f"    {escape(str(path))}", soft_wrap=True, highlight=False)
    console.print(
        "`grader check` uses the default rubric; `--rubric FILE` uses another file instead "
        "(start from a copy of one above, check it with `grader rubric validate FILE`).",
        markup=False,
        highlight=False,
    )


def validate(path: Annotated[Path, typer.Argument(help="Rubric YAML file.")]) -> None:
    """Validate a rubric file; unknown keys and checks are errors with a suggestion."""
    console = Console()
    with errors_to_exit(console):
        from grader.grade.rubric import load_rubric

        r = load_rubric(path)
    console.print(
        f"[green]ok[/] {path}: {len(r.requirements)} requirements, {len(r.criteria)} criteria, "
        f"max {r.max_points} points"
    )


def checks() -> None:
    """List the checks a rubric may use, with their parameters."""
    from grader.grade.rubric import CHECKS

    console = Console()
    for name, chk in CHECKS.items():
        params = f" (with: {', '.join(chk.params)})" if chk.params else ""
        console.print(f"[bold]{name}[/]{params}: {chk.doc}")
