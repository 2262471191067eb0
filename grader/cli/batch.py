"""The ``grader batch`` command: grade a whole class in one command.

Only maps options to :func:`grader.batch.scheduler.run_batch` and draws the
progress bar; everything else lives in the library.
"""

from __future__ import annotations

import enum
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from grader.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    BandsOption,
    DataOption,
    LangOption,
    MemoryOption,
    NoBandsOption,
    ProfileChoice,
    RubricOption,
    SandboxOption,
    SeedOption,
    TimeoutCellOption,
    TimeoutRunOption,
    VerifyOption,
    WeightsOption,
    errors_to_exit,
    memory_limits,
    speaking,
)
from grader.errors import UsageError
from grader.i18n import _, current_language
from grader.settings import DEFAULT_TIMEOUT_CELL, DEFAULT_TIMEOUT_RUN

if TYPE_CHECKING:
    from grader.batch.options import BatchOptions
    from grader.batch.scheduler import BatchEvent, BatchSummary

__all__ = ["batch", "register"]


class Cluster(enum.StrEnum):
    local = "local"
    slurm = "slurm"


def register(app: typer.Typer) -> None:
    """Add the ``batch`` command to the ``grader`` application."""
    app.command(name="batch")(batch)


_Source = Annotated[
    Path,
    typer.Argument(
        help="Class folder (one notebook or one folder per student) or an LMS export zip."
    ),
]

_Out = Annotated[
    Path,
    typer.Option("--out", "-o", help="Output folder for reports, exports and the journal."),
]

_Roster = Annotated[
    Path | None,
    typer.Option(help="Roster CSV: students, homework 4, submission times, consultations."),
]

_Profile = Annotated[
    ProfileChoice | None,
    typer.Option(help="Execute each notebook in this profile (default: full)."),
]

_Static = Annotated[
    bool, typer.Option("--static", help="Grade from the stored outputs only; run nothing.")
]

_Workers = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Submissions graded in parallel on this machine (default 1; with --gpus, "
        "one per GPU slot).",
    ),
]

_Threads = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="TensorFlow threads per run (default: this machine's cores shared among "
        "the parallel runs).",
    ),
]

_Gpus = Annotated[
    str | None,
    typer.Option(
        help="GPUs to run on, e.g. 0,1 or 'all': each run sees one GPU "
        "(CUDA_VISIBLE_DEVICES), memory growth on.",
    ),
]

_PerGpu = Annotated[int, typer.Option("--per-gpu", min=1, help="Runs sharing one GPU at a time.")]

_Scheduler = Annotated[
    str | None,
    typer.Option(help="Grade on a running dask cluster: its scheduler, tcp://host:8786."),
]

_Cluster = Annotated[
    Cluster | None,
    typer.Option(
        help="Start a dask cluster for this batch: 'local' (worker processes here) or "
        "'slurm' (Slurm jobs, see docs/cluster.md)."
    ),
]

_ClusterConfig = Annotated[
    Path | None,
    typer.Option("--cluster-config", help="Slurm settings for --cluster slurm (YAML)."),
]

_JobScript = Annotated[
    bool,
    typer.Option(
        "--job-script", help="Print the Slurm job script --cluster slurm would submit, and stop."
    ),
]

_Retries = Annotated[
    int, typer.Option(min=0, help="Extra tries for failures that are not the student's.")
]

_FileTimes = Annotated[
    bool,
    typer.Option(
        "--file-times",
        help="Take submission times from file modification times when neither the roster "
        "nor the LMS archive gives them.",
    ),
]

_Force = Annotated[
    bool, typer.Option("--force", help="Grade everything again, ignoring the journal.")
]

_Only = Annotated[
    list[str] | None,
    typer.Option(
        "--only",
        metavar="STUDENT",
        help="Grade only this student again (a fresh run, or from the stored outputs with "
        "--static) and keep the rest of the class as it is; the reports, gradebook and "
        "dashboard are rebuilt. STUDENT: submission id, student id, Moodle participant "
        "number or name (diacritics do not matter). Repeat for several.",
    ),
]


@speaking(rubric="rubric")
def batch(
    source: _Source,
    out: _Out = Path("reports") / "batch",
    roster: _Roster = None,
    profile: _Profile = None,
    static: _Static = False,
    workers: _Workers = None,
    threads: _Threads = None,
    gpus: _Gpus = None,
    per_gpu: _PerGpu = 1,
    scheduler: _Scheduler = None,
    cluster: _Cluster = None,
    cluster_config: _ClusterConfig = None,
    job_script: _JobScript = False,
    rubric: RubricOption = None,
    bands: BandsOption = None,
    no_bands: NoBandsOption = False,
    data: DataOption = None,
    weights: WeightsOption = None,
    seed: SeedOption = None,
    retries: _Retries = 2,
    file_times: _FileTimes = False,
    sandbox: SandboxOption = "auto",
    memory: MemoryOption = None,
    verify: VerifyOption = True,
    timeout_cell: TimeoutCellOption = DEFAULT_TIMEOUT_CELL,
    timeout_run: TimeoutRunOption = DEFAULT_TIMEOUT_RUN,
    force: _Force = False,
    only: _Only = None,
    lang: LangOption = None,
) -> None:
    """Grade a whole class: reports per student, a dashboard, a gradebook. Resumable.

    Run the same command again after an interruption: finished submissions are
    not graded again.
    """
    from grader.execute.records import RunOptions
    from grader.execute.sandbox.limits import ResourceLimits

    console = Console(stderr=True)
    with errors_to_exit(console):
        if static and profile is not None:
            raise UsageError("--static and --profile exclude each other")
        if job_script:
            _print_job_script(cluster, cluster_config)
            return
        if not source.exists():
            raise UsageError(f"{source}: no such file or folder")
        run = None
        if not static:
            run = RunOptions(
                profile=profile.value if profile else "full",
                data=data,
                weights=weights,
                seed=seed,
                threads=threads,
                backend=sandbox,
                limits=ResourceLimits(memory_bytes=memory_limits(memory)),
                verify=verify,
                timeout_cell=timeout_cell,
                timeout_run=timeout_run,
            )
        from grader.batch.options import BatchOptions, check_options
        from grader.check.bands import resolve_bands

        options = BatchOptions(
            source=source,
            out=out,
            roster=roster,
            rubric=rubric,
            run=run,
            workers=workers,
            retries=retries,
            force=force,
            bands=resolve_bands(bands, enabled=not no_bands),
            file_times=file_times,
            gpus=gpus,
            per_gpu=per_gpu,
            scheduler=scheduler,
            cluster=cluster.value if cluster else None,
            cluster_config=cluster_config,
            only=tuple(only or ()),
            language=current_language(),
        )
        check_options(options)
        summary = _run(console, options)
    _print_summary(console, summary)


class _Eta(ProgressColumn):
    """Remaining time from the pace of the submissions graded in this run."""

    def render(self, task: Task) -> Text:
        started = task.fields.get("started_at")
        graded = task.fields.get("graded_now", 0)
        left = (task.total or 0) - task.completed
        if not started or not graded or left <= 0:
            return Text("ETA —" if left > 0 else "", style="progress.remaining")
        pace = (time.monotonic() - started) / graded
        secs = int(pace * left)
        return Text(f"ETA {secs // 60}:{secs % 60:02d}", style="progress.remaining")


def _run(console: Console, options: BatchOptions) -> BatchSummary:
    """Run the batch under a progress bar; Ctrl-C stops it (run the same command to resume)."""
    from grader.batch.scheduler import run_batch

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "[green]{task.fields[done]} done[/] · [cyan]{task.fields[running]} running[/]"
            " · [red]{task.fields[failed]} failed[/]"
        ),
        TimeElapsedColumn(),
        _Eta(),
        console=console,
        transient=False,
    )
    task = progress.add_task(
        "grading",
        total=None,
        done=0,
        running=0,
        failed=0,
        started_at=time.monotonic(),
        graded_now=0,
    )

    def on_event(e: BatchEvent) -> None:
        progress.update(
            task,
            total=e.total,
            completed=e.finished,
            done=e.finished - e.failed,
            running=e.running,
            failed=e.failed,
            graded_now=e.finished - e.skipped,
        )

    try:
        with progress:
            return run_batch(options, on_event=on_event)
    except KeyboardInterrupt:
        console.print(_("[yellow]interrupted[/]: run the same command again to resume"))
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _print_summary(console: Console, summary: BatchSummary) -> None:
    rows = summary.results.rows
    counts = {
        s: sum(1 for r in rows if r.state == s)
        for s in ("graded", "run-failed", "failed", "missing")
    }
    console.print(
        _(
            "{n} submissions: {now} graded now, {skipped} already done; {graded} graded, "
            "{run_failed} with failed runs, {failed} failed, {missing} missing; "
            "{problems} intake problems"
        ).format(
            n=len(summary.intake.submissions),
            now=summary.graded_now,
            skipped=summary.skipped,
            graded=counts["graded"],
            run_failed=counts["run-failed"],
            failed=counts["failed"],
            missing=counts["missing"],
            problems=len(summary.intake.problems),
        )
    )
    if summary.regraded is not None:
        names = {s.id: s.name for s in summary.intake.submissions}
        console.print(
            _("graded again: {students}; every other student kept as it was").format(
                students=", ".join(f"{names.get(i, i)} ({i})" for i in summary.regraded)
            )
        )
    console.print(_("graded on: {executor}").format(executor=summary.executor))
    # paths are printed whole (never wrapped), so they can be copied and found by scripts
    console.print(
        _("dashboard: [bold]{path}[/]").format(path=escape(str(summary.dashboard))), soft_wrap=True
    )
    console.print(
        _("gradebook: {path}").format(path=escape(str(summary.files["gradebook"]))), soft_wrap=True
    )
    if counts["failed"]:
        raise typer.Exit(EXIT_FAILED)


def _print_job_script(cluster: Cluster | None, config: Path | None) -> None:
    from grader.batch.slurm import load_slurm_config, slurm_job_script

    if cluster != Cluster.slurm or config is None:
        raise UsageError("--job-script goes with --cluster slurm --cluster-config FILE")
    typer.echo(slurm_job_script(load_slurm_config(config)))
