"""``grader rubric``: validate a rubric file, list the checks a rubric can use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from grader.cli.common import errors_to_exit

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect and validate rubric files.", no_args_is_help=True)
    group.command("validate")(validate)
    group.command("checks")(checks)
    app.add_typer(group, name="rubric")


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
