"""Cross-class similarity: which pairs of notebooks share rare code, outputs, figures or models.

A report for instructors, never an accusation: pairs are ranked by how much
material they share that the rest of the class does not (starter code and
the lecture's textbook model count for nothing), with the evidence side by
side so that a person can check it.

Entry points: :func:`analyse_class` (a class folder, LMS zip or ``grader
batch`` output folder -> :class:`SimilarityReport`) and
:func:`compare_notebooks` (notebooks in memory, no disk). Modules:
:mod:`~grader.similarity.normalise` (code cells -> rename-insensitive tokens),
:mod:`~grader.similarity.fingerprints` (k-grams, winnowing),
:mod:`~grader.similarity.outputs` (numbers, log lines, figure hashes),
:mod:`~grader.similarity.architecture` (models from the source),
:mod:`~grader.similarity.score` (rarity weights, pair scores, evidence),
:mod:`~grader.similarity.model` (the report's data model) and
:mod:`~grader.similarity.inputs` (reading a class). The HTML page is
:mod:`grader.report.similarity`.

Importing this package is cheap: the modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "LEVELS",
    "Level",
    "NotebookRef",
    "PairEvidence",
    "SimilarityReport",
    "SimilaritySettings",
    "SkippedNotebook",
    "SubmissionInfo",
    "analyse_class",
    "compare_notebooks",
]

if TYPE_CHECKING:
    from grader.similarity.analyse import NotebookRef, analyse_class, compare_notebooks
    from grader.similarity.model import (
        LEVELS,
        Level,
        PairEvidence,
        SimilarityReport,
        SimilaritySettings,
        SkippedNotebook,
        SubmissionInfo,
    )

_LAZY = {
    "NotebookRef": "grader.similarity.analyse",
    "analyse_class": "grader.similarity.analyse",
    "compare_notebooks": "grader.similarity.analyse",
    "LEVELS": "grader.similarity.model",
    "Level": "grader.similarity.model",
    "PairEvidence": "grader.similarity.model",
    "SimilarityReport": "grader.similarity.model",
    "SimilaritySettings": "grader.similarity.model",
    "SkippedNotebook": "grader.similarity.model",
    "SubmissionInfo": "grader.similarity.model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grader.similarity' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
