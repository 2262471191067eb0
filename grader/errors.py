"""One exception root for the harness's own errors.

Errors carry structured fields and define ``__reduce__`` so they survive being
sent between processes (worker pools, dask).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "GraderError",
    "LmsError",
    "NotANotebookError",
    "OverrideError",
    "RubricError",
    "RosterError",
    "UsageError",
]


class GraderError(Exception):
    """Root of every error the harness raises on purpose."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.fields))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[GraderError], message: str, fields: dict[str, Any]) -> GraderError:
    err = cls.__new__(cls)
    GraderError.__init__(err, message, **fields)
    for key, value in fields.items():
        setattr(err, key, value)
    return err


class NotANotebookError(GraderError):
    """A file that cannot be read as a Jupyter notebook; ``reason`` says why."""

    def __init__(self, message: str, *, path: str = "", reason: str = "") -> None:
        super().__init__(message, path=path, reason=reason)
        self.path = path
        self.reason = reason


class RubricError(GraderError):
    """A rubric file that is missing, malformed or has unknown keys."""


class RosterError(GraderError):
    """A roster CSV that cannot be read."""


class UsageError(GraderError):
    """Bad command-line input (a path that does not exist, conflicting options)."""


class OverrideError(GraderError):
    """An override (``overrides.yaml``, ``grader override``) that cannot be recorded or applied."""


class LmsError(GraderError):
    """An LMS file (a Moodle grading worksheet, a Canvas gradebook) that cannot be used."""
