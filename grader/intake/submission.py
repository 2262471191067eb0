"""What intake hands on: one student's submission, the class it belongs to, its problems.

A :class:`Submission` is the same type for a notebook checked on its own
(``grader check my.ipynb``, :meth:`Submission.of_notebook`) and for a student
of a class found by :func:`grader.intake.classroom.collect_class`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ClassIntake",
    "IntakeProblem",
    "NotebookFile",
    "RosterEntryLike",
    "RosterLike",
    "RosterStudent",
    "StudentContext",
    "Submission",
    "TimeSource",
]


class StudentContext(BaseModel):
    """What the roster (or command-line flags) says about the student."""

    model_config = ConfigDict(extra="forbid")

    student: str | None = None
    submitted_hw4: bool | None = None  # None: unknown
    submitted_at: str | None = None  # ISO 8601
    consultation_done: bool | None = None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


TimeSource = Literal["roster", "lms", "file"]


class NotebookFile(_Model):
    """One file a student handed in, as found (and, for archives, as staged on disk)."""

    path: str = Field(description="where the file is on disk (staged copy for archive members)")
    origin: str = Field(
        description="where it came from, for people: 'class.zip › Jan_1_…/hw5.ipynb'"
    )
    name: str = Field(description="the file name as the student gave it")
    size: int
    sha256: str | None = Field(
        default=None, description="of the file's bytes; None until read (a notebook checked alone)"
    )
    modified: datetime | None = Field(
        default=None, description="time stored in the archive or file mtime"
    )
    modified_source: Literal["lms", "file"] | None = None
    is_notebook: bool = Field(description="the name ends in .ipynb")
    problem: str | None = Field(
        default=None, description="why the file cannot be a notebook, if it cannot"
    )


class Submission(_Model):
    """What one student handed in, and which notebook of it is graded."""

    id: str = Field(description="stable, file-system-safe key: the journal and report name")
    student_id: str | None = None
    name: str
    email: str | None = None
    in_roster: bool = False
    lms_id: str | None = Field(default=None, description="the participant number in an LMS export")
    notebook: NotebookFile | None = Field(
        None, description="the file graded; None: nothing gradable"
    )
    files: list[NotebookFile] = Field(default_factory=list, description="everything handed in")
    choice: str | None = Field(default=None, description="which notebook was chosen and why")
    entries: list[str] = Field(
        default_factory=list, description="top-level entries (folders, files, zips) it came from"
    )
    submitted_at: datetime | None = None
    submitted_at_source: TimeSource | None = None
    late: bool | None = None
    context: StudentContext = Field(default_factory=lambda: StudentContext())

    @classmethod
    def of_notebook(cls, path: Path, context: StudentContext | None = None) -> Submission:
        """One notebook checked on its own (nothing is read yet)."""
        name = path.name
        return cls(
            id=path.stem or "notebook",
            name=path.stem or name,
            notebook=NotebookFile(
                path=str(path),
                origin=str(path),
                name=name,
                size=0,
                is_notebook=path.suffix.lower() == ".ipynb",
            ),
            context=context or StudentContext(),
        )


class IntakeProblem(_Model):
    """Something about the class folder the instructor should know."""

    kind: Literal[
        "bad-archive",
        "unsafe-member",
        "archive-limit",
        "not-a-notebook",
        "no-notebook",
        "several-notebooks",
        "duplicate",
        "identical",
        "unknown-submitter",
        "ambiguous-submitter",
        "ignored-file",
        "unreadable",
    ]
    severity: Literal["info", "warning", "error"] = "warning"
    message: str
    origin: str | None = None
    submission: str | None = Field(default=None, description="id of the submission concerned")


class RosterStudent(_Model):
    student_id: str
    name: str
    email: str | None = None


class ClassIntake(_Model):
    source: str
    deadline: datetime | None = None
    roster: bool = Field(default=False, description="whether a roster was given")
    students: list[RosterStudent] = Field(
        default_factory=list, description="every roster student, in roster order"
    )
    submissions: list[Submission] = Field(default_factory=list)
    missing: list[RosterStudent] = Field(default_factory=list)
    problems: list[IntakeProblem] = Field(default_factory=list)


class RosterEntryLike(Protocol):
    """What the intake reads from a roster entry (``grader.intake.roster.RosterEntry``)."""

    @property
    def student_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def submitted_at(self) -> datetime | None: ...

    def context(self) -> StudentContext: ...


class RosterLike(Protocol):
    @property
    def entries(self) -> Sequence[RosterEntryLike]: ...
