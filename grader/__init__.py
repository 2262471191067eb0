"""Grading and reproducibility harness for deep-learning homework notebooks.

The library surface: :func:`check_notebook` grades one notebook statically;
the data it returns is described in :mod:`grader.evidence` and :mod:`grader.grade.result`.
:func:`selfcheck` is the same for a student, from inside the notebook
(:mod:`grader.jupyter`). Nothing heavy is imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.settings import __version__

__all__ = ["__version__", "check_notebook", "selfcheck"]

if TYPE_CHECKING:
    from grader.jupyter import selfcheck
    from grader.pipeline import check_notebook


def __getattr__(name: str) -> Any:
    if name == "check_notebook":
        from grader.pipeline import check_notebook

        return check_notebook
    if name == "selfcheck":
        from grader.jupyter import selfcheck

        return selfcheck
    raise AttributeError(name)
