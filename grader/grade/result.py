"""The result of applying a rubric: points per criterion with their reasons."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from grader.evidence import Evidence

__all__ = ["CheckReport", "CriterionResult", "Grade", "Status"]


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


class Grade(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rubric: str
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


class CheckReport(Evidence):
    """The document ``grader check --json`` prints: the evidence plus the grade."""

    grade: Grade
