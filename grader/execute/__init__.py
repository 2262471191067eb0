"""Execution: run a notebook for real and record what it trained and measured.

The public surface is :func:`~grader.execute.runner.run_notebook` with
:class:`~grader.execute.records.RunOptions` and the
:class:`~grader.execute.records.RunRecord` it returns. Importing this package
is cheap (the names below load their modules on first use): papermill,
nbclient and numpy are imported only when a run starts, and TensorFlow only
ever inside the notebook's own kernel. Turning a record into evidence is the
extraction stage's work (:func:`grader.extract.runtime.extract_run`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["FailureKind", "Progress", "RunFailure", "RunOptions", "RunRecord", "run_notebook"]

if TYPE_CHECKING:
    from grader.execute.records import FailureKind, Progress, RunFailure, RunOptions, RunRecord
    from grader.execute.runner import run_notebook


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(name)
    module = "grader.execute.runner" if name == "run_notebook" else "grader.execute.records"
    return getattr(importlib.import_module(module), name)
