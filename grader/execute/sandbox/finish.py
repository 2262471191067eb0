"""The runner's side of the sandbox: finish a run's sandbox and say what it did to the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.execute.records import FailureKind, RunFailure
from grader.execute.sandbox.fs import scrub_folder
from grader.execute.sandbox.report import Protection, SandboxReport

__all__ = ["apply_verdict", "finish_sandbox", "local_report"]


def local_report() -> SandboxReport:
    """The ``local`` backend: the kernel runs with the harness's rights (trusted notebooks only)."""
    missing = "the kernel is a plain child process with the harness's rights"
    return SandboxReport(
        requested="local",
        backend="local",
        reason="requested (trusted notebooks only)",
        protections=[
            Protection(name=name, status="missing", detail=missing)
            for name in ("network", "read-isolation", "write-isolation", "other-runs")
        ]
        + [
            Protection(
                name="wall-time", status="enforced", detail="per-cell and whole-run timeouts"
            )
        ],
    )


def finish_sandbox(
    backend: Any,
    launch: Any,
    out_folder: Path,
    keep: set[str],
    log: Callable[[str], None],
) -> SandboxReport:
    """Stop what the run left running, clean the output folder, return what the sandbox did.

    ``keep`` names the files the harness itself wrote into ``out_folder`` while
    the kernel ran; anything else there (a link the notebook planted) is removed
    before the harness writes its results.
    """
    finish = getattr(backend, "finish", None)
    report = finish(launch) if finish is not None else None
    if not isinstance(report, SandboxReport):
        report = local_report()
    removed = scrub_folder(out_folder, keep)
    if removed:
        report.removed_links = removed[:50]
        log(f"removed from the output folder (not written by the harness): {removed[:10]}")
    if report.stopped_because:
        log(f"stopped by the sandbox: {report.stopped_because}")
    if report.output.truncated:
        log(
            f"output over the budget: {report.output.dropped_bytes} bytes in "
            f"{report.output.dropped_messages} messages dropped"
        )
    return report


_XFSZ = 25  # SIGXFSZ on Linux


def apply_verdict(
    failure: RunFailure | None,
    report: SandboxReport | None,
    error: BaseException | None = None,
) -> RunFailure | None:
    """A failure caused by a sandbox limit, named as such (the kernel "died" because we killed it).

    A run that ended normally stays a success: a limit touched on the way
    (page cache reclaimed at the memory limit, output dropped) is in the report.
    """
    if report is None or failure is None:
        return failure
    limits = report.limits
    if not report.stopped_because:
        if error is not None and "Timeout waiting for IOPub output" in str(error):
            report.output.truncated = True
            limit = limits.message_bytes if limits else 0
            report.stopped_because = (
                "the kernel's output stopped reaching the grader (one output larger than the "
                f"{limit / 2**20:.0f} MiB the grader accepts, or output faster than it can be read)"
            )
        elif failure.kind == FailureKind.kernel_died and report.memory_limit_hit:
            limit = limits.memory_bytes if limits and limits.memory_bytes else 0
            report.stopped_because = (
                f"the memory limit of {limit / 2**30:.1f} GiB was reached "
                "(the kernel was killed by the memory cgroup)"
            )
        elif failure.kind == FailureKind.kernel_died and failure.exit_code in (
            -_XFSZ,
            128 + _XFSZ,
        ):
            limit = limits.file_bytes if limits else 0
            report.stopped_because = (
                f"the notebook wrote a file larger than the {limit / 2**20:.0f} MiB limit"
            )
    if not report.stopped_because:
        memory_watched = any(
            p.name == "memory" and p.status == "enforced" for p in report.protections
        )
        if (
            failure.kind == FailureKind.kernel_died
            and failure.exit_code in (-9, 137)
            and memory_watched
            and report.cgroup
            and report.cgroup.startswith("cgroup")
        ):
            where = f" while running cell {failure.cell}" if failure.cell is not None else ""
            return failure.model_copy(
                update={
                    "message": f"the kernel was killed (SIGKILL){where}, not by the grader's "
                    "memory limit (the notebook, or a process outside the run, killed it)"
                }
            )
        return failure
    if failure.kind in (
        FailureKind.kernel_died,
        FailureKind.exception,
        FailureKind.cell_timeout,
        FailureKind.run_timeout,
    ):
        where = f" while running cell {failure.cell}" if failure.cell is not None else ""
        return failure.model_copy(
            update={
                "kind": FailureKind.limit_exceeded,
                "message": f"stopped by the grader{where}: {report.stopped_because}",
            }
        )
    return failure
