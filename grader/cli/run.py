"""Commands that execute notebooks: ``grader run`` and ``grader data``.

A thin mapping of options to :func:`grader.pipeline.execute_and_extract` and
the data store functions; :func:`register` adds them to the main application.

Exit codes of ``grader run``: 0 the notebook ran to the end; 1 it failed
(the failure is classified and reported); 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from grader.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    DataOption,
    HomeOption,
    KernelChoice,
    LangOption,
    ProfileChoice,
    SeedOption,
    ThreadsOption,
    WeightsOption,
    errors_to_exit,
    memory_limits,
    speaking,
)
from grader.i18n import _
from grader.settings import DEFAULT_TIMEOUT_CELL, DEFAULT_TIMEOUT_RUN

if TYPE_CHECKING:
    from grader.execute.records import Progress
    from grader.extract.runtime import RunResult

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``run`` and the ``data`` sub-commands to the grader application."""
    app.command("run")(run)
    data_app = typer.Typer(help="Prepare offline datasets for runs.", no_args_is_help=True)
    data_app.command("cifar10")(data_cifar10)
    data_app.command("synthetic")(data_synthetic)
    app.add_typer(data_app, name="data")


@speaking()
def run(
    notebook: Annotated[Path, typer.Argument(help="The notebook to execute.")],
    profile: Annotated[
        ProfileChoice,
        typer.Option(help="smoke: capped epochs and samples, about a minute; full: as written."),
    ] = ProfileChoice["smoke"],
    data: DataOption = None,
    weights: WeightsOption = None,
    seed: SeedOption = None,
    deterministic: Annotated[
        bool,
        typer.Option(
            "--deterministic", help="TensorFlow deterministic ops (seed 0 unless --seed)."
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Run again even when cached.")] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor store the cache.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Copy the run's files into this folder.")] = None,
    timeout_cell: Annotated[
        float | None, typer.Option(help="Seconds one cell may run.")
    ] = DEFAULT_TIMEOUT_CELL,
    timeout_run: Annotated[
        float | None, typer.Option(help="Seconds the whole notebook may run.")
    ] = DEFAULT_TIMEOUT_RUN,
    threads: ThreadsOption = None,
    home: HomeOption = None,
    sandbox: Annotated[
        KernelChoice,
        typer.Option(
            help="How the notebook is isolated: auto (the strongest that works here), bwrap "
            "(bubblewrap), container (docker/podman), none (resource limits only) or local "
            "(no isolation: trusted notebooks only). See docs/security.md."
        ),
    ] = KernelChoice["auto"],
    memory: Annotated[
        str | None,
        typer.Option(help="Memory limit of the kernel, e.g. 8G (default: 3/4 of the RAM)."),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="Re-evaluate each model's test accuracy out of process (default on).",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """Execute a notebook with the capture prelude and report what it trained and measured."""
    from grader.execute.records import RunOptions
    from grader.execute.sandbox.limits import ResourceLimits
    from grader.pipeline import execute_and_extract

    console = Console(stderr=True)
    with errors_to_exit(console):
        options = RunOptions(
            profile=profile.value,
            data=data,
            weights=weights,
            seed=seed,
            deterministic=deterministic,
            force=force,
            cache=not no_cache,
            out=out,
            timeout_cell=timeout_cell,
            timeout_run=timeout_run,
            threads=threads,
            home=home,
            backend=sandbox.value,
            limits=ResourceLimits(memory_bytes=memory_limits(memory)),
            verify=verify,
        )
        if not notebook.is_file():
            from grader.errors import UsageError

            raise UsageError(_("{path}: no such notebook file").format(path=notebook))
        result = execute_and_extract(
            notebook, options, progress=None if as_json else _Printer(console)
        )
    if as_json:
        typer.echo(result.model_dump_json(indent=1, exclude={"capture", "cells", "store_changed"}))
    else:
        _summary(Console(), result)
    raise typer.Exit(EXIT_OK if result.status == "ok" else EXIT_FAILED)


class _Printer:
    """Progress lines: cell n of N, then the model and epoch while it trains."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, p: Progress) -> None:
        if p.phase == "cell":
            self.console.print(
                f"[dim]{p.elapsed:7.1f}s[/]  "
                + _("{message} (cell {cell})").format(message=p.message, cell=p.cell)
            )
        elif p.phase == "epoch":
            self.console.print(
                f"[dim]{p.elapsed:7.1f}s[/]    "
                + _("{model}: epoch {epoch}/{epochs}").format(
                    model=p.model, epoch=p.epoch, epochs=p.epochs
                )
            )
        elif p.phase in ("starting", "cached"):
            self.console.print(f"[dim]{p.message}[/]")


def _summary(console: Console, result: RunResult) -> None:
    head = _("[green]ran to the end[/]") if result.status == "ok" else _("[red]failed[/]")
    line = (
        _("[bold]{notebook}[/]: {outcome} in {seconds} s, profile {profile} (from the cache)")
        if result.from_cache
        else _("[bold]{notebook}[/]: {outcome} in {seconds} s, profile {profile}")
    )
    console.print(
        line.format(
            notebook=result.notebook,
            outcome=head,
            seconds=f"{result.wall_seconds:.1f}",
            profile=result.profile,
        )
    )
    box = result.manifest.sandbox
    if box is not None:
        weak = [p.name for p in box.protections if p.status != "enforced"]
        colour = "yellow" if box.weak() else "dim"
        said = (
            _("sandbox: {backend}; not enforced: {protections}").format(
                backend=box.backend, protections=", ".join(weak)
            )
            if weak
            else _("sandbox: {backend}; all protections enforced").format(backend=box.backend)
        )
        console.print(f"[{colour}]{said}[/]")
    if result.failure is not None:
        f = result.failure
        console.print(f"[red]{f.kind.value}[/]: {f.message}")
        if f.traceback:
            console.print("\n".join(f.traceback[-5:]), style="dim", markup=False, highlight=False)
    from rich.table import Table

    from grader.report.words import SEVERITY_LABELS, label

    ev = result.evidence
    if ev is not None and ev.models:
        table = Table(title=_("Models"))
        for col in (
            _("id"),
            _("name"),
            _("kind"),
            _("base"),
            _("epochs"),
            _("test acc"),
            _("curves"),
            _("conf. matrix"),
        ):
            table.add_column(col)
        for m in ev.models:
            table.add_row(
                m.id,
                m.name,
                m.kind.value,
                m.base or "",
                "" if m.epochs is None else str(m.epochs),
                "" if m.test_accuracy is None else f"{m.test_accuracy:.4f}",
                _("yes") if m.curves_shown else _("no"),
                _("yes") if m.confusion_matrix_shown else _("no"),
            )
        console.print(table)
    if ev is not None:
        for finding in ev.findings:
            colour = {"error": "red", "warning": "yellow"}.get(finding.severity.value, "dim")
            severity = label(SEVERITY_LABELS, finding.severity.value)
            console.print(f"[{colour}]{severity}[/] {finding.code}: {finding.message}")
    console.print(_("files: {path}").format(path=result.files.folder), soft_wrap=True, markup=False)


def data_cifar10(
    archive: Annotated[
        Path, typer.Option(help="cifar-10-python.tar.gz (checked against its sha256).")
    ],
    home: HomeOption = None,
) -> None:
    """Check the CIFAR-10 archive and seed it into the data store for every later run."""
    from grader.execute.data import seed_cifar10_archive
    from grader.settings import default_home

    with errors_to_exit(Console(stderr=True)):
        spec = seed_cifar10_archive(archive, (home or default_home()).expanduser())
    typer.echo(json.dumps(spec.model_dump(), indent=1))


def data_synthetic(
    train: Annotated[int, typer.Option(help="Training images.")] = 50000,
    test: Annotated[int, typer.Option(help="Test images.")] = 10000,
    home: HomeOption = None,
) -> None:
    """Generate (once) the synthetic CIFAR-like dataset used by smoke runs without CIFAR-10."""
    from grader.execute.data import ensure_synthetic
    from grader.settings import default_home

    spec = ensure_synthetic((home or default_home()).expanduser(), train, test)
    typer.echo(json.dumps(spec.model_dump(), indent=1))
