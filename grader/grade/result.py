"""The result of applying a rubric: points per criterion with their reasons."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from grader.evidence import Evidence

__all__ = ["Advice", "AppliedOverride", "CheckReport", "CriterionResult", "Grade", "Status"]


class Status(StrEnum):
    met = "met"
    not_met = "not_met"
    needs_review = "needs_review"  # a judgement the harness will not guess
    not_applicable = "not_applicable"  # e.g. the baseline point for a student who did homework 4
    conditional = "conditional"  # met, but it counts only if a roster fact holds (unknown here)


class CriterionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    kind: str = Field(description="'requirement' (must be shown) or 'points' (earns points)")
    status: Status
    points: int = 0
    max_points: int = 0
    reason: str
    cells: list[int] = Field(default_factory=list, description="where the evidence is")
    missing: str | None = Field(None, description="what to add, for a criterion not met")


class Advice(BaseModel):
    """One thing to improve, for the student: what to do, where, and what it is worth."""

    model_config = ConfigDict(extra="forbid")

    criterion: str = Field(description="the requirement or criterion id it concerns (stable)")
    points: int = Field(
        description="points at stake: the criterion's points, or for a requirement the points "
        "of every criterion that needs it"
    )
    text: str = Field(
        description="what to do, in the grade's language, for the notebook's framework"
    )
    cells: list[int] = Field(default_factory=list, description="the cells it concerns")


class AppliedOverride(BaseModel):
    """An instructor's decision that replaced what the harness found (``overrides.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    criterion: str = Field(description="a requirement or criterion id, or 'late'")
    title: str = Field(description="the criterion's title, or 'Late submission'")
    status: Status = Field(description="what the instructor decided: met or not_met")
    points: int | None = Field(default=None, description="points given (points criteria)")
    machine_status: Status | None = Field(
        default=None, description="what the harness found now (None for 'late')"
    )
    machine_points: int | None = None
    machine_reason: str | None = None
    reason: str = Field(description="why, in the instructor's words")
    by: str
    at: datetime
    evidence_changed: bool = Field(
        default=False,
        description="the notebook graded now is not the one the decision was made on",
    )
    note: str | None = Field(
        default=None, description="what changed since the decision, in words (None: nothing)"
    )
    applied: bool = Field(
        default=True, description="False: kept and shown, but the submission has no grade now"
    )


class Grade(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rubric: str
    language: str = Field("en", description="the language of every text in the grade (en, cs)")
    points: int = Field(description="points earned now: criteria met (and counted)")
    max_points: int
    potential_points: int = Field(
        description="points if every conditional / needs-review criterion goes the student's way"
    )
    requirements_met: bool
    needs_review: bool
    counted: bool | None = Field(
        None,
        description="whether the points count (deadline kept and consultation done); "
        "None when the roster does not say",
    )
    notes: list[str] = Field(default_factory=list)
    criteria: list[CriterionResult]
    advice: list[Advice] = Field(
        default_factory=list,
        description="what to improve, the most points at stake first (empty: nothing)",
    )
    overrides: list[AppliedOverride] = Field(
        default_factory=list,
        description="instructor's decisions applied to this grade (empty: none)",
    )


class CheckReport(Evidence):
    """The document ``grader check --json`` prints: the evidence plus the grade."""

    grade: Grade
