"""``grader ci init``: write the CI workflow that checks every notebook on each push.

A thin mapping of options to :mod:`grader.ci`. Exit codes: 0 written (or
printed); 2 bad input (no CI service chosen, the file exists without
``--force``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from grader.cli.common import EXIT_BAD_INPUT, LangOption, errors_to_exit, print_error, speaking
from grader.i18n import _

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``ci`` sub-commands to the grader application."""
    group = typer.Typer(
        help="Continuous integration: a workflow that checks every notebook on each push.",
        no_args_is_help=True,
    )
    group.command("init")(init)
    app.add_typer(group, name="ci")


@speaking()
def init(
    github: Annotated[
        bool,
        typer.Option(
            "--github",
            help="Write .github/workflows/grader.yml (GitHub Actions; the result is the "
            "run's summary).",
        ),
    ] = False,
    gitlab: Annotated[
        bool,
        typer.Option(
            "--gitlab",
            help="Write .gitlab-ci.yml (GitLab CI; the result is the pipeline's test report).",
        ),
    ] = False,
    reference: Annotated[
        bool,
        typer.Option(
            "--reference",
            help="Add a job that runs `grader reference verify --profile smoke` (for the "
            "staff repository with reference/expected.yaml; installs TensorFlow).",
        ),
    ] = False,
    pip_spec: Annotated[
        str,
        typer.Option(
            help="What the workflow installs with pip: hw-grader (the published package), "
            "a version (hw-grader==0.1.0) or a git URL (git+https://...).",
        ),
    ] = "hw-grader",
    notebooks: Annotated[
        str,
        typer.Option(
            help="Notebooks or folders to check, separated by spaces (a folder is searched "
            "for *.ipynb).",
        ),
    ] = ".",
    check_options: Annotated[
        str,
        typer.Option(
            help="More options for `grader check` in the workflow, e.g. '--no-hw4' or "
            "'--rubric rubrics/hw5.yaml'.",
        ),
    ] = "",
    warn_only: Annotated[
        bool,
        typer.Option(
            "--warn-only",
            help="Do not fail the run when a notebook misses a requirement, only warn "
            "(default: fail, so a red run means something is missing).",
        ),
    ] = False,
    python: Annotated[str, typer.Option(help="The Python version the workflow uses.")] = "3.11",
    repo: Annotated[
        Path,
        typer.Option(help="The repository to write the workflow into (its top folder)."),
    ] = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Replace a workflow file that exists already.")
    ] = False,
    show: Annotated[
        bool,
        typer.Option("--print", help="Print the workflow instead of writing it (to copy from)."),
    ] = False,
    lang: LangOption = None,
) -> None:
    """Write a CI workflow: on each push, `grader check` every notebook and publish the result.

    Commit the file it writes and push: the check runs on every push after that.
    """
    console = Console(stderr=show)
    chosen = [name for name, on in (("github", github), ("gitlab", gitlab)) if on]
    if not chosen:
        print_error(console, _("choose the CI service: --github or --gitlab (or both)"))
        raise typer.Exit(EXIT_BAD_INPUT)
    with errors_to_exit(console):
        from grader.ci import PROVIDERS, CiOptions, workflow_text, write_workflows

        options = CiOptions(
            pip_spec=pip_spec,
            notebooks=notebooks,
            check_options=check_options,
            fail_on_missing=not warn_only,
            reference=reference,
            python=python,
        )
        if show:
            for name in chosen:
                typer.echo(workflow_text(name, options), nl=False)
            return
        written = write_workflows(repo, chosen, options, force=force)
    for name, path in zip(chosen, written, strict=True):
        provider = PROVIDERS[name]
        console.print(
            _("[green]wrote[/] {path} ({service})").format(
                path=escape(str(path)), service=provider.title
            ),
            soft_wrap=True,
        )
        console.print(
            "  " + _("results after each push: {where}").format(where=provider.where_results)
        )
    console.print(
        _(
            "Next: commit the file and push. To change what it checks, edit the variables at "
            "the top of the file (GRADER_NOTEBOOKS, GRADER_CHECK_OPTIONS, GRADER_FAIL_ON_MISSING)."
        )
    )
