"""Extraction: a notebook's stored outputs and source -> :class:`grader.evidence.Evidence`.

* :func:`extract_evidence` reads a notebook statically (its code and stored
  outputs); it imports neither TensorFlow nor papermill: it reads text;
* :func:`grader.extract.runtime.extract_run` reads a run: the executed
  notebook, with what the capture recorded merged in.
"""

from __future__ import annotations

from typing import Any

from grader.evidence import Evidence, ExecutedBy, NotebookInfo
from grader.intake.notebook import LoadedNotebook

__all__ = ["extract_evidence", "notebook_info"]


def extract_evidence(nb: Any, info: NotebookInfo) -> Evidence:
    """Evidence of a normalised (nbformat 4) notebook node."""
    from grader.extract.assemble import assemble

    return assemble(nb, info)


def notebook_info(loaded: LoadedNotebook, *, executed_by: bool = True) -> NotebookInfo:
    """What the evidence says of the notebook file itself.

    ``executed_by`` reads the notebook's ``grader`` metadata (the run that made
    its stored outputs, when the harness made them); a run's own evidence
    leaves it out.
    """
    return NotebookInfo(
        path=loaded.path,
        sha256=loaded.sha256,
        nbformat=loaded.original_version,
        cells=len(loaded.nb.cells),
        normalised=loaded.normalised,
        executed_by=_executed_by(loaded.nb.get("metadata")) if executed_by else None,
    )


def _executed_by(metadata: Any) -> ExecutedBy | None:
    """``metadata.grader`` of a notebook the harness executed, when well formed."""
    raw = metadata.get("grader") if isinstance(metadata, dict) else None
    if not isinstance(raw, dict):
        return None
    try:
        return ExecutedBy.model_validate({"profile": raw.get("profile"), "data": raw.get("data")})
    except ValueError:
        return None
