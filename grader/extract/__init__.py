"""Extraction: a notebook's stored outputs and source -> :class:`grader.evidence.Evidence`.

Static extraction imports neither TensorFlow nor papermill: it reads text.
"""

from __future__ import annotations

from typing import Any

from grader.evidence import Evidence, NotebookInfo

__all__ = ["extract_evidence"]


def extract_evidence(nb: Any, info: NotebookInfo) -> Evidence:
    """Evidence of a normalised (nbformat 4) notebook node."""
    from grader.extract.assemble import assemble

    return assemble(nb, info)
