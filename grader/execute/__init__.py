"""Execution: run a notebook for real, capture what it trains and measures, merge that into evidence.

The public surface is :func:`run_notebook` with :class:`RunOptions` and
:class:`RunResult`. Importing this package is cheap: papermill, nbclient and
numpy are imported only when a run starts, and TensorFlow only ever inside
the notebook's own kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "FailureKind",
    "Progress",
    "RunFailure",
    "RunOptions",
    "RunResult",
    "run_notebook",
]

if TYPE_CHECKING:
    from grader.execute.records import FailureKind, Progress, RunFailure, RunOptions, RunResult
    from grader.execute.runner import run_notebook

_LAZY = {
    "FailureKind": "grader.execute.records",
    "Progress": "grader.execute.records",
    "RunFailure": "grader.execute.records",
    "RunOptions": "grader.execute.records",
    "RunResult": "grader.execute.records",
    "run_notebook": "grader.execute.runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
