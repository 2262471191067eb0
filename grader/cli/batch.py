"""The ``grader batch`` command: grade a whole class in one command.

Only maps options to :func:`grader.batch.runner.run_batch` and draws the
progress bar; everything else lives in the library.
"""

from __future__ import annotations

import enum
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
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

from grader.cli import print_error
from grader.errors import GraderError, UsageError

__all__ = ["batch", "register"]

EXIT_OK, EXIT_SOME_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class Profile(enum.StrEnum):
    smoke = "smoke"
    full = "full"


class Cluster(enum.StrEnum):
    local = "local"
    slurm = "slurm"


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


def batch(
    source: Annotated[
        Path,
        typer.Argument(
            help="Class folder (one notebook or one folder per student) or an LMS export zip."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output folder for reports, exports and the journal."),
    ] = Path("reports") / "batch",
    roster: Annotated[
        Path | None,
        typer.Option(help="Roster CSV: students, homework 4, submission times, consultations."),
    ] = None,
    profile: Annotated[
        Profile | None,
        typer.Option(help="Execute each notebook in this profile (default: full)."),
    ] = None,
    static: Annotated[
        bool, typer.Option("--static", help="Grade from the stored outputs only; run nothing.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Submissions graded in parallel on this machine (default 1; with --gpus, "
            "one per GPU slot).",
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="TensorFlow threads per run (default: this machine's cores shared among "
            "the parallel runs).",
        ),
    ] = None,
    gpus: Annotated[
        str | None,
        typer.Option(
            help="GPUs to run on, e.g. 0,1 or 'all': each run sees one GPU "
            "(CUDA_VISIBLE_DEVICES), memory growth on.",
        ),
    ] = None,
    per_gpu: Annotated[
        int, typer.Option("--per-gpu", min=1, help="Runs sharing one GPU at a time.")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Grade on a running dask cluster: its scheduler, tcp://host:8786."),
    ] = None,
    cluster: Annotated[
        Cluster | None,
        typer.Option(
            help="Start a dask cluster for this batch: 'local' (worker processes here) or "
            "'slurm' (Slurm jobs, see docs/cluster.md)."
        ),
    ] = None,
    cluster_config: Annotated[
        Path | None,
        typer.Option("--cluster-config", help="Slurm settings for --cluster slurm (YAML)."),
    ] = None,
    job_script: Annotated[
        bool,
        typer.Option(
            "--job-script",
            help="Print the Slurm job script --cluster slurm would submit, and stop.",
        ),
    ] = False,
    rubric: Annotated[
        Path | None, typer.Option(help="Rubric file (default: rubrics/hw5.yaml).")
    ] = None,
    bands: Annotated[
        Path | None,
        typer.Option(
            help="Reference bands (file or folder) the models are compared with and that the "
            "reports draw; default: reference/bands when it exists."
        ),
    ] = None,
    no_bands: Annotated[
        bool, typer.Option("--no-bands", help="Do not compare with the reference bands.")
    ] = False,
    data: Annotated[
        str | None,
        typer.Option(help="Data for the runs: synthetic, cifar10, or a cifar-10-python.tar.gz."),
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="Folder of Keras application weight files.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for Python, NumPy and TensorFlow.")] = None,
    retries: Annotated[
        int,
        typer.Option(min=0, help="Extra tries for failures that are not the student's."),
    ] = 2,
    file_times: Annotated[
        bool,
        typer.Option(
            "--file-times",
            help="Take submission times from file modification times when neither the roster "
            "nor the LMS archive gives them.",
        ),
    ] = False,
    sandbox: Annotated[
        str,
        typer.Option(
            help="How each notebook is isolated: auto (the strongest available here), bwrap, "
            "container, or none (resource limits only; every report says so)."
        ),
    ] = "auto",
    memory: Annotated[
        str | None,
        typer.Option(
            help="Memory limit of each run, e.g. 6G (default: 3/4 of this machine's RAM "
            "shared among the parallel runs; on a remote cluster, of the worker's machine)."
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="Re-check every claimed test accuracy by evaluating the saved model out of "
            "process (costs up to a minute per run; off, a forged accuracy is not caught).",
        ),
    ] = True,
    timeout_cell: Annotated[
        float,
        typer.Option(
            help="Seconds one cell may run before the run stops (a notebook that never "
            "finishes costs at most this per cell)."
        ),
    ] = 900.0,
    timeout_run: Annotated[
        float, typer.Option(help="Seconds one whole notebook may run.")
    ] = 3600.0,
    force: Annotated[
        bool, typer.Option("--force", help="Grade everything again, ignoring the journal.")
    ] = False,
) -> None:
    """Grade a whole class: reports per student, a dashboard, a gradebook. Resumable.

    Run the same command again after an interruption: finished submissions are
    not graded again.
    """
    from grader.batch.runner import BatchEvent, BatchOptions, check_options, run_batch

    console = Console(stderr=True)
    try:
        if static and profile is not None:
            raise UsageError("--static and --profile exclude each other")
        if job_script:
            _print_job_script(cluster, cluster_config)
            return
        if not source.exists():
            raise UsageError(f"{source}: no such file or folder")
        mode = "static" if static else (profile.value if profile else "full")
        memory_bytes = None
        if memory is not None:
            from grader.execute.sandbox.limits import parse_size

            try:
                memory_bytes = parse_size(memory)
            except ValueError as exc:
                raise UsageError(f"--memory: {exc}") from None
        from grader.check.bands import resolve_bands

        bands_path = resolve_bands(bands, enabled=not no_bands)
        options = BatchOptions(
            source=source,
            out=out,
            roster=roster,
            rubric=rubric,
            mode=mode,  # type: ignore[arg-type]
            workers=workers,
            retries=retries,
            force=force,
            bands=bands_path,
            sandbox=sandbox,
            memory=memory_bytes,
            verify=verify,
            timeout_cell=timeout_cell,
            timeout_run=timeout_run,
            data=data,
            weights=weights,
            seed=seed,
            file_times=file_times,
            threads=threads,
            gpus=gpus,
            per_gpu=per_gpu,
            scheduler=scheduler,
            cluster=cluster.value if cluster else None,
            cluster_config=cluster_config,
        )
        check_options(options)
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

        with progress:
            summary = run_batch(options, on_event=on_event)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: run the same command again to resume")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except GraderError as exc:
        print_error(console, exc.message)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    rows = summary.results.rows
    counts = {
        s: sum(1 for r in rows if r.state == s)
        for s in ("graded", "run-failed", "failed", "missing")
    }
    console.print(
        f"{len(summary.intake.submissions)} submissions: {summary.graded_now} graded now, "
        f"{summary.skipped} already done; {counts['graded']} graded, "
        f"{counts['run-failed']} with failed runs, {counts['failed']} failed, "
        f"{counts['missing']} missing; {len(summary.intake.problems)} intake problems"
    )
    console.print(f"graded on: {summary.executor}")
    # paths are printed whole (never wrapped), so they can be copied and found by scripts
    console.print(f"dashboard: [bold]{summary.dashboard}[/]", soft_wrap=True)
    console.print(f"gradebook: {summary.files['gradebook']}", soft_wrap=True)
    if counts["failed"]:
        raise typer.Exit(EXIT_SOME_FAILED)


def _print_job_script(cluster: Cluster | None, config: Path | None) -> None:
    from grader.batch.dask_executor import load_slurm_config, slurm_job_script

    if cluster != Cluster.slurm or config is None:
        raise UsageError("--job-script goes with --cluster slurm --cluster-config FILE")
    typer.echo(slurm_job_script(load_slurm_config(config)))


def register(app: typer.Typer) -> None:
    """Add the ``batch`` command to the ``grader`` application."""
    app.command(name="batch")(batch)
