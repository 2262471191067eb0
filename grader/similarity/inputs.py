"""Where the notebooks of a class come from: a class folder or zip, or a batch output folder.

This is the only module of the package that knows the batch intake's formats
(:mod:`grader.batch.intake`); the rest sees :class:`NotebookSource` items.

* A folder or an LMS export zip is read by the class intake
  (:func:`~grader.batch.intake.collect_class`), which finds one notebook per
  student; archive members are staged under ``staging``.
* A folder ``grader batch`` wrote (``intake.json`` and ``submissions/``) is
  read from its ``intake.json``: the same students, ids and chosen notebooks
  as the gradebook. A staged copy that moved with the batch folder is found
  under the folder's own ``intake/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from grader.errors import UsageError
from grader.intake.classroom import collect_class
from grader.intake.submission import ClassIntake, Submission
from grader.similarity.model import SkippedNotebook

__all__ = ["ClassSource", "NotebookSource", "is_batch_output", "read_class"]


@dataclass(frozen=True)
class NotebookSource:
    """One student's notebook on disk."""

    id: str
    name: str
    origin: str
    path: Path


@dataclass
class ClassSource:
    source: str
    kind: str  # "folder", "zip", "notebook" or "batch"
    notebooks: list[NotebookSource] = field(default_factory=list)
    skipped: list[SkippedNotebook] = field(default_factory=list)
    handed_in: int = 0  # submissions with a notebook file, readable or not


def is_batch_output(path: Path) -> bool:
    """Whether ``path`` is an output folder of ``grader batch``."""
    return path.is_dir() and (path / "intake.json").is_file() and (path / "submissions").is_dir()


def read_class(source: Path, *, staging: Path) -> ClassSource:
    """The notebooks of a class; raises :class:`UsageError` when there are none at all."""
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    if is_batch_output(source):
        out = ClassSource(str(source), "batch")
        intake = _read_intake(source / "intake.json")
        _take(out, intake, batch=source)
    else:
        kind = "folder" if source.is_dir() else "zip" if source.suffix.lower() == ".zip" else None
        if kind is None:
            if source.suffix.lower() != ".ipynb":
                raise UsageError(
                    f"{source}: not a class folder, a zip archive or a notebook "
                    "(give the folder with the students' notebooks, an LMS export zip, "
                    "or a `grader batch` output folder)"
                )
            kind = "notebook"
        out = ClassSource(str(source), kind)
        _take(out, collect_class(source, staging=staging), batch=None)
    if not out.handed_in:
        raise UsageError(f"{source}: no notebooks (*.ipynb) found")
    return out


def _read_intake(path: Path) -> ClassIntake:
    try:
        return ClassIntake.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{path}: cannot be read as a batch intake ({first})") from exc


def _take(out: ClassSource, intake: ClassIntake, *, batch: Path | None) -> None:
    for sub in intake.submissions:
        nb = sub.notebook
        if nb is None:
            found = ", ".join(f.name for f in sub.files)
            out.skipped.append(
                _skip(sub, "no notebook handed in" + (f" (found: {found})" if found else ""))
            )
            continue
        out.handed_in += 1
        if nb.problem:
            out.skipped.append(_skip(sub, f"not a notebook: {nb.problem}"))
            continue
        path = _locate(Path(nb.path), batch)
        if path is None:
            out.skipped.append(_skip(sub, f"the file is no longer at {nb.path}"))
            continue
        out.notebooks.append(NotebookSource(sub.id, sub.name, nb.origin, path))
    for problem in intake.problems:
        if problem.severity == "error" and problem.submission is None:
            label = problem.origin or out.source
            out.skipped.append(
                SkippedNotebook(id="", name=label, origin=label, reason=problem.message)
            )


def _skip(sub: Submission, reason: str) -> SkippedNotebook:
    origin = sub.notebook.origin if sub.notebook else ", ".join(sub.entries) or sub.name
    return SkippedNotebook(id=sub.id, name=sub.name, origin=origin, reason=reason)


def _locate(path: Path, batch: Path | None) -> Path | None:
    """The notebook's path, or where a staged copy is now if the batch folder moved."""
    if path.is_file():
        return path
    if batch is None:
        return None
    if not path.is_absolute():
        for base in (batch.parent, batch):
            if (base / path).is_file():
                return base / path
    parts = path.parts
    if "intake" in parts:
        at = len(parts) - 1 - parts[::-1].index("intake")
        moved = batch.joinpath("intake", *parts[at + 1 :])
        if moved.is_file():
            return moved
    return None
