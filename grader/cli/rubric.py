"""``grader rubric``: list the bundled rubrics, validate a rubric file, list the checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from grader.cli.common import EXIT_BAD_INPUT, LangOption, errors_to_exit, print_error, speaking
from grader.i18n import _, ngettext

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect and validate rubric files.", no_args_is_help=True)
    group.command("list")(list_rubrics)
    group.command("validate")(validate)
    group.command("checks")(checks)
    app.add_typer(group, name="rubric")


@speaking()
def list_rubrics(lang: LangOption = None) -> None:
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
                _(
                    "this installation has no rubric of its own: reinstall the grader, "
                    "or name a rubric file with --rubric FILE"
                )
            )
        for path in paths:
            try:
                title = escape(load_rubric(path).display_title())
            except RubricError as exc:
                problem = _("cannot be read: {problem}").format(problem=exc.message)
                title = f"[red]{escape(problem)}[/]"
            default = ""
            if path.stem == DEFAULT_RUBRIC:
                default = " [dim]" + escape(_("(the default)")) + "[/]"
            console.print(f"[bold]{escape(path.stem)}[/]{default}: {title}")
            console.print(f"    {escape(str(path))}", soft_wrap=True, highlight=False)
    console.print(
        _(
            "`grader check` uses the default rubric; `--rubric FILE` uses another file instead "
            "(start from a copy of one above, check it with `grader rubric validate FILE`)."
        ),
        markup=False,
        highlight=False,
    )


@speaking(rubric="path")
def validate(
    path: Annotated[Path, typer.Argument(help="Rubric YAML file.")],
    lang: LangOption = None,
) -> None:
    """Validate a rubric file: unknown keys and checks are errors with a suggestion, and so
    is a text the student reads that lacks one of the languages (cs, en)."""
    console = Console()
    with errors_to_exit(console):
        from grader.grade.rubric import load_rubric, text_problems

        r = load_rubric(path)
    problems = text_problems(r)
    if problems:
        print_error(
            console,
            ngettext(
                "{path}: {n} text to complete", "{path}: {n} texts to complete", len(problems)
            ).format(path=path, n=len(problems))
            + "\n"
            + "\n".join(f"  {p}" for p in problems),
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    requirements = ngettext("{n} requirement", "{n} requirements", len(r.requirements)).format(
        n=len(r.requirements)
    )
    criteria = ngettext("{n} criterion", "{n} criteria", len(r.criteria)).format(n=len(r.criteria))
    summary = ngettext(
        "{path}: {requirements}, {criteria}, max {n} point",
        "{path}: {requirements}, {criteria}, max {n} points",
        r.max_points,
    ).format(path=path, requirements=requirements, criteria=criteria, n=r.max_points)
    console.print(f"[green]ok[/] {escape(summary)}", soft_wrap=True)


@speaking()
def checks(lang: LangOption = None) -> None:
    """List the checks a rubric may use, with their parameters."""
    from grader.grade.rubric import CHECKS

    console = Console()
    for name, chk in CHECKS.items():
        params = (
            " " + _("(with: {parameters})").format(parameters=", ".join(chk.params))
            if chk.params
            else ""
        )
        console.print(f"[bold]{escape(name)}[/]{escape(params)}: {escape(_(chk.doc))}")
