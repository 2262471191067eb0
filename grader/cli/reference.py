"""``grader reference``: build the reference bands, verify the reference solutions, compare builds.

A thin mapping of options to :mod:`grader.reference`; :func:`register` adds
the sub-application to the main one.

Exit codes: 0 success; 1 a reference notebook broke (verify), a run failed
(build) or two band files differ (compare); 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from grader.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    HomeOption,
    LangOption,
    ProfileChoice,
    ThreadsOption,
    WeightsOption,
    errors_to_exit,
    print_error,
    speaking,
)
from grader.errors import GraderError
from grader.i18n import _, ngettext

if TYPE_CHECKING:
    from grader.execute.records import RunOptions
    from grader.extract.runtime import RunResult
    from grader.reference.build import RunSample
    from grader.reference.runs import RunSettings
    from grader.reference.verify import NotebookVerdict, VerifyReport

__all__ = ["default_reference_dir", "register"]


def default_reference_dir() -> Path:
    """``./reference`` when it holds reference notebooks, else the checkout's the grader runs
    from (an editable install); an installed grader has none of its own, so then ``./reference``
    (the error names the folder the staff repository should have)."""
    here = Path("reference")
    if (here / "expected.yaml").is_file():
        return here
    from grader import bundled

    root = bundled.checkout_root()
    if root is not None and (root / "reference" / "expected.yaml").is_file():
        return root / "reference"
    return here


def register(app: typer.Typer) -> None:
    """Add the ``reference`` sub-commands (build, verify, compare) to the grader application."""
    ref = typer.Typer(
        help="Reference solutions: build their bands, verify them (CI), compare band files.",
        no_args_is_help=True,
    )
    ref.command("build")(build)
    ref.command("verify")(verify)
    ref.command("compare")(compare)
    app.add_typer(ref, name="reference")


_Reference = Annotated[
    Path | None,
    typer.Option(
        "--reference",
        help="Folder of the reference notebooks and expected.yaml (default: ./reference).",
    ),
]
_Profile = Annotated[
    ProfileChoice,
    typer.Option(help="smoke: synthetic data, capped epochs (CI); full: the notebooks as written."),
]
_Data = Annotated[
    str | None,
    typer.Option(
        help="'synthetic', 'cifar10' (seeded with `grader data cifar10`) or an archive path "
        "(default: synthetic for smoke, cifar10 for full)."
    ),
]
_Force = Annotated[
    bool, typer.Option("--force", help="Run again even when the run cache has a result.")
]


def _settings(
    profile: ProfileChoice,
    data: str | None,
    weights: Path | None,
    home: Path | None,
    threads: int | None,
    force: bool,
    console: Console,
) -> RunSettings:
    from grader.reference.runs import RunSettings

    settings = RunSettings(
        profile=profile.value,
        data=data,
        weights=weights,
        home=home,
        threads=threads,
        force=force,
    )

    def runner(path: Path, options: RunOptions) -> RunResult:
        from grader.pipeline import execute_and_extract

        console.print(
            "  "
            + _("running {notebook} (seed {seed}, {profile} profile) ...").format(
                notebook=path.name, seed=options.seed, profile=options.profile
            )
        )
        return execute_and_extract(path, options)

    settings.runner = runner
    return settings


@speaking()
def build(
    profile: _Profile = ProfileChoice["smoke"],
    seeds: Annotated[int, typer.Option(min=1, help="Number of seeded runs per notebook.")] = 3,
    first_seed: Annotated[int, typer.Option(help="Seeds are first_seed .. first_seed+N-1.")] = 1,
    reference: _Reference = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Band file to write (default: <reference>/bands/<profile>.json)."),
    ] = None,
    data: _Data = None,
    weights: WeightsOption = None,
    home: HomeOption = None,
    threads: ThreadsOption = None,
    force: _Force = False,
    lang: LangOption = None,
) -> None:
    """Run the reference notebooks over several seeds and write their bands."""
    console = Console(stderr=True)
    try:
        from grader.reference.build import band_file_name, build_bands
        from grader.reference.expectations import load_expectations

        folder = reference or default_reference_dir()
        expectations = load_expectations(folder)
        settings = _settings(profile, data, weights, home, threads, force, console)
        target = out or folder / "bands" / band_file_name(profile.value, settings.data_name())
        seed_list = list(range(first_seed, first_seed + seeds))
        n_notebooks, n_seeds = len(expectations.notebooks), len(seed_list)
        console.print(
            _("building bands: {notebooks} × {seeds}, {profile} profile, {data} data").format(
                notebooks=ngettext("{n} notebook", "{n} notebooks", n_notebooks).format(
                    n=n_notebooks
                ),
                seeds=ngettext("{n} seed", "{n} seeds", n_seeds).format(n=n_seeds),
                profile=profile.value,
                data=settings.data_name(),
            )
        )

        def on_run(s: RunSample, r: RunResult) -> None:
            console.print(
                "  "
                + _("[green]ok[/] {notebook} seed {seed}: {seconds} s").format(
                    notebook=s.notebook, seed=s.seed, seconds=f"{r.wall_seconds:.0f}"
                )
                + (" " + _("(cached)") if r.from_cache else "")
            )

        result = build_bands(
            expectations,
            seed_list,
            settings,
            command=f"grader reference build --profile {profile.value} --seeds {seeds} "
            f"--first-seed {first_seed}" + (f" --data {data}" if data else ""),
            on_run=on_run,
        )
    except GraderError as exc:
        print_error(console, exc.message)
        failed_run = "notebook" in exc.fields
        raise typer.Exit(EXIT_FAILED if failed_run else EXIT_BAD_INPUT) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(result.band_set.as_json(), encoding="utf-8")
    _print_bands(Console(), result.band_set)
    console.print(
        _("wrote {path} in {seconds} s").format(path=target, seconds=f"{result.wall_seconds:.0f}")
    )


def _print_bands(console: Console, band_set: object) -> None:
    from grader.check.bands import BandSet

    if not isinstance(band_set, BandSet):
        return
    table = Table(title=_("bands: {description}").format(description=band_set.describe()))
    for col in (
        _("kind"),
        _("base"),
        _("runs"),
        _("test accuracy (mean ± sd)"),
        _("band"),
        _("s/epoch"),
    ):
        table.add_column(col)
    for b in band_set.bands:
        acc = b.accuracy
        spe = b.seconds_per_epoch
        table.add_row(
            b.kind,
            b.base or _("all"),
            str(acc.n if acc else 0),
            f"{acc.mean:.4f} ± {acc.std:.4f}"
            if acc and acc.mean is not None and acc.std is not None
            else "—",
            f"{b.test_accuracy[0]:.4f}–{b.test_accuracy[1]:.4f}" if b.test_accuracy else "—",
            f"{spe.mean:.2f}" if spe and spe.mean is not None else "—",
        )
    console.print(table)


@speaking()
def verify(
    profile: _Profile = ProfileChoice["smoke"],
    reference: _Reference = None,
    bands: Annotated[
        Path | None,
        typer.Option(help="Band file or folder (default: <reference>/bands)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the runs (default: the band's first seed).")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Verify only this notebook (repeatable).")
    ] = None,
    data: _Data = None,
    weights: WeightsOption = None,
    home: HomeOption = None,
    threads: ThreadsOption = None,
    force: _Force = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """Execute every reference notebook: each must earn its expected points inside its bands."""
    console = Console(stderr=True)
    with errors_to_exit(console):
        from grader.check.bands import load_band_sets
        from grader.reference.expectations import load_expectations
        from grader.reference.verify import verify_references

        folder = reference or default_reference_dir()
        expectations = load_expectations(folder)
        band_sets = load_band_sets(bands or folder / "bands")
        settings = _settings(profile, data, weights, home, threads, force, console)
        report = verify_references(
            expectations,
            settings,
            band_sets,
            seed=seed,
            only=only,
            on_notebook=lambda v: _print_verdict(console, v),
        )
    if as_json:
        typer.echo(report.model_dump_json(indent=1))
    _print_report(console, report)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILED)


def _print_verdict(console: Console, v: NotebookVerdict) -> None:
    mark = _("[green]ok[/]") if v.ok else _("[red]FAILED[/]")
    took = f", {v.wall_seconds:.0f} s" if v.wall_seconds is not None else ""
    cached = " " + _("(cached)") if v.from_cache else ""
    console.print(
        "  "
        + _("{mark} {notebook}: {points}/{max_points} points (expected {expected})").format(
            mark=mark,
            notebook=v.notebook,
            points=v.points if v.points is not None else "?",
            max_points=v.max_points if v.max_points is not None else "?",
            expected=v.expected_points,
        )
        + f"{took}{cached}"
    )
    for m in v.models:
        acc = f"{m.test_accuracy:.4f}" if m.test_accuracy is not None else "—"
        band = (
            " " + _("band {low}–{high}").format(low=f"{m.band[0]:.4f}", high=f"{m.band[1]:.4f}")
            if m.band
            else ""
        )
        flag = "" if m.in_band is not False else " " + _("[red]outside[/]")
        found = m.found or _("[red]missing[/]")
        console.print(f"      {m.label}: {found} {acc}{band}{flag}")


def _print_report(console: Console, report: VerifyReport) -> None:
    for note in report.notes:
        console.print(
            "  " + _("[yellow]note:[/] {note}").format(note=note), highlight=False, soft_wrap=True
        )
    problems = report.all_problems()
    if not problems:
        n = len(report.notebooks)
        verified = (
            ngettext(
                "[green]verified[/] {n} reference notebook against {bands} ({profile} profile) "
                "in {seconds} s",
                "[green]verified[/] {n} reference notebooks against {bands} ({profile} profile) "
                "in {seconds} s",
                n,
            )
            if report.band_file
            else ngettext(
                "[green]verified[/] {n} reference notebook ({profile} profile) in {seconds} s",
                "[green]verified[/] {n} reference notebooks ({profile} profile) in {seconds} s",
                n,
            )
        )
        console.print(
            verified.format(
                n=n,
                bands=report.band_file,
                profile=report.profile,
                seconds=f"{report.wall_seconds:.0f}",
            )
        )
        return
    failed = (
        _("[red]reference verification failed[/] ({profile} profile against {bands}):")
        if report.band_file
        else _("[red]reference verification failed[/] ({profile} profile):")
    )
    console.print(failed.format(profile=report.profile, bands=report.band_file))
    for p in problems:
        console.print(f"  [red]✗[/] {p}", highlight=False, soft_wrap=True)


@speaking()
def compare(
    old: Annotated[Path, typer.Argument(help="A band file.")],
    new: Annotated[Path, typer.Argument(help="A rebuild of it with the same seeds.")],
    accuracy_tolerance: Annotated[
        float | None,
        typer.Option(help="Largest accuracy difference allowed (default: the file's)."),
    ] = None,
    seconds_tolerance: Annotated[
        float | None,
        typer.Option(help="Largest relative training-time difference (default: the file's)."),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Check that a rebuilt band file reproduces another within the stated tolerance."""
    from grader.check.bands import load_band_set
    from grader.reference.build import compare_band_sets

    console = Console()
    a, b = load_band_set(old), load_band_set(new)
    if a is None or b is None:
        print_error(
            console, _("{path}: not a readable band file").format(path=old if a is None else new)
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    diffs = compare_band_sets(
        a, b, accuracy_tolerance=accuracy_tolerance, seconds_tolerance=seconds_tolerance
    )
    if diffs:
        console.print(
            ngettext(
                "[red]{n} difference[/] between {old} and {new}:",
                "[red]{n} differences[/] between {old} and {new}:",
                len(diffs),
            ).format(n=len(diffs), old=old, new=new)
        )
        for d in diffs:
            console.print(f"  {d}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)
    tol = a.tolerance
    console.print(
        _(
            "[green]reproduced[/]: {new} matches {old} (accuracy ±{accuracy}, training time "
            "±{seconds})"
        ).format(
            new=new,
            old=old,
            accuracy=accuracy_tolerance
            if accuracy_tolerance is not None
            else tol.reproducible_accuracy,
            seconds=seconds_tolerance
            if seconds_tolerance is not None
            else tol.reproducible_seconds,
        )
    )
