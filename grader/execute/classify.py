"""Why a run stopped: errors from papermill/nbclient/the kernel -> a :class:`RunFailure`.

Pure functions over plain values (exception names and messages, the cell that
was running, the kernel's exit status) so every class of failure is testable
without starting a kernel.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from typing import Any

from grader.execute.records import FailureKind, RunFailure

__all__ = [
    "ErrorFacts",
    "PACKAGE_NAMES",
    "classify_failure",
    "missing_package",
    "strip_ansi",
]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_NO_MODULE = re.compile(r"No module named ['\"]?([A-Za-z0-9_.\-]+)")

# import name -> the distribution an instructor installs
PACKAGE_NAMES = {
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "Pillow",
    "yaml": "PyYAML",
    "tensorflow_datasets": "tensorflow-datasets",
    "tensorflow_hub": "tensorflow-hub",
    "tf_keras": "tf-keras",
    "keras_cv": "keras-cv",
    "keras_hub": "keras-hub",
    "visualkeras": "visualkeras",
    "torchvision": "torchvision",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
}

_KIND_BY_ENAME = {
    "GraderDataUnavailable": FailureKind.missing_data,
    "GraderWeightsUnavailable": FailureKind.missing_weights,
    "GraderNetworkBlocked": FailureKind.network_blocked,
}


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def missing_package(evalue: str) -> str | None:
    """The top-level import name in ``No module named 'x.y'``."""
    m = _NO_MODULE.search(evalue or "")
    return m.group(1).split(".")[0] if m else None


@dataclass
class ErrorFacts:
    """What the runner observed when execution stopped."""

    error_type: str  # PapermillExecutionError, CellTimeoutError, DeadKernelError, ...
    message: str = ""
    cell: int | None = None  # index in the submitted notebook (None: before the first cell)
    injected: bool = False  # the failure is in the harness's injected cell
    execution_count: int | None = None
    ename: str | None = None
    evalue: str | None = None
    traceback: tuple[str, ...] = ()
    limit_hit: str | None = None  # "cell" or "run" when a timeout fired
    limit_seconds: float | None = None
    exit_code: int | None = None
    kernel_log_tail: str = ""
    seconds: float | None = None
    models_captured: int = 0


def _tail(lines: tuple[str, ...], n: int = 25) -> list[str]:
    text = strip_ansi("\n".join(lines))
    out = [line for line in text.splitlines() if line.strip()]
    return [line[:300] for line in out[-n:]]


def _exit_reason(code: int | None, log_tail: str) -> str:
    if code is None:
        return "the kernel process stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return f"the kernel was killed ({name}); usually the system ran out of memory"
        if -code == signal.SIGSEGV:
            return f"the kernel crashed ({name}, a segmentation fault in native code)"
        if -code == signal.SIGABRT:
            return f"the kernel aborted ({name}); native code failed a check"
        return f"the kernel was stopped by {name}"
    if code == 137:
        return "the kernel was killed (exit 137); usually the system ran out of memory"
    if "Killed" in log_tail or "MemoryError" in log_tail or "out of memory" in log_tail.lower():
        return f"the kernel exited with status {code} after running out of memory"
    return (
        f"the kernel exited with status {code} (the notebook ended its own process, e.g. os._exit)"
    )


def classify_failure(facts: ErrorFacts) -> RunFailure:
    """Name the class of a failure and say what happened where, for the report."""
    where = f"cell {facts.cell}" if facts.cell is not None else "before the first cell"
    common: dict[str, Any] = {
        "cell": facts.cell,
        "execution_count": facts.execution_count,
        "seconds": facts.seconds,
        "ename": facts.ename,
        "evalue": (facts.evalue or None) and strip_ansi(facts.evalue or "")[:2000],
        "traceback": _tail(facts.traceback),
        "models_captured": facts.models_captured,
    }
    et = facts.error_type
    if et in ("CellTimeoutError", "TimeoutError") and facts.limit_hit in ("cell", "run"):
        limit = f"{facts.limit_seconds:g} s" if facts.limit_seconds else "the limit"
        if facts.limit_hit == "run":
            return RunFailure(
                kind=FailureKind.run_timeout,
                message=f"the notebook did not finish within {limit} (stopped in {where})",
                **common,
            )
        return RunFailure(
            kind=FailureKind.cell_timeout,
            message=f"{where} ran longer than the {limit} allowed for one cell",
            **common,
        )
    if et == "DeadKernelError":
        reason = _exit_reason(facts.exit_code, facts.kernel_log_tail)
        return RunFailure(
            kind=FailureKind.kernel_died,
            message=f"{reason} while running {where}",
            exit_code=facts.exit_code,
            **common,
        )
    if et == "KernelStartError" or (facts.cell is None and not facts.ename and not facts.injected):
        return RunFailure(
            kind=FailureKind.cannot_start,
            message=f"the notebook could not be started: {strip_ansi(facts.message)[:500]}",
            exit_code=facts.exit_code,
            **common,
        )
    ename = facts.ename or ""
    evalue = strip_ansi(facts.evalue or "")
    if ename in _KIND_BY_ENAME:
        return RunFailure(kind=_KIND_BY_ENAME[ename], message=f"{where}: {evalue[:500]}", **common)
    if ename in ("ModuleNotFoundError", "ImportError") and "No module named" in evalue:
        if "google.colab" in evalue:
            return RunFailure(
                kind=FailureKind.missing_package,
                message=f"{where} imports google.colab, which exists only on Google Colab; "
                "Colab-only cells (drive.mount, files.upload) cannot run in grading",
                package="google.colab",
                **common,
            )
        name = missing_package(evalue)
        dist = PACKAGE_NAMES.get(name or "", name)
        hint = f" (pip install {dist})" if dist and dist != name else ""
        return RunFailure(
            kind=FailureKind.missing_package,
            message=f"{where} imports {name!r}, which the grading environment does not have{hint}",
            package=dist,
            **common,
        )
    if facts.injected:
        return RunFailure(
            kind=FailureKind.cannot_start,
            message=f"the grader's setup cell failed: {ename}: {evalue[:300]}",
            **common,
        )
    if ename:
        return RunFailure(
            kind=FailureKind.exception,
            message=f"{where} raised {ename}: {evalue.splitlines()[0][:300] if evalue else ''}".rstrip(
                ": "
            ),
            **common,
        )
    return RunFailure(
        kind=FailureKind.exception,
        message=f"execution stopped in {where}: {strip_ansi(facts.message)[:300]}",
        **common,
    )
