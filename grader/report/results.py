"""The plain data a batch produces: one result per submission, one row per student.

The report writers (HTML, CSV, JSON, JUnit) read only these objects and the
:class:`grader.grade.result.CheckReport` of each graded submission.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.grade.result import AppliedOverride, CheckReport, Status
from grader.grade.rubric import is_late_note
from grader.i18n import _
from grader.intake.submission import ClassIntake, Submission

__all__ = [
    "ClassResults",
    "JobResult",
    "ResultStatus",
    "RunInfo",
    "StudentRow",
    "build_rows",
    "late_note",
]

ResultStatus = Literal[
    "graded",  # graded from the notebook (static) or from a run that finished
    "run-failed",  # the run stopped (the student's error, a timeout...); graded on what ran
    "not-a-notebook",  # the file handed in cannot be read as a notebook
    "no-notebook",  # nothing gradable was handed in
    "infrastructure",  # the grader could not run it (kernel did not start, worker died)
    "error",  # the grader itself failed on this submission
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerifiedAccuracy(_Model):
    """One model's claimed test accuracy against the harness's own evaluation of it."""

    model: str
    status: str = Field(description="verified, forged or unverified")
    claimed: float | None = None
    verified: float | None = None
    reason: str = ""


class RunInfo(_Model):
    """What the execution of a notebook left behind (absent for static grading)."""

    profile: str
    status: str = Field(description="the run's status as the execution layer reports it")
    failure: str | None = Field(default=None, description="why the run stopped, in words")
    failure_kind: str | None = None
    failure_cell: int | None = None
    cached: bool = False
    seconds: float | None = None
    files: dict[str, str] = Field(
        default_factory=dict,
        description="label -> path relative to the submission's folder (executed notebook, log)",
    )
    sandbox: str | None = Field(
        default=None, description="what isolated the kernel (bwrap, container, none, local)"
    )
    sandbox_reason: str | None = Field(default=None, description="why that sandbox")
    unprotected: list[str] = Field(
        default_factory=list,
        description="protections missing or partial in this run: 'name: detail'",
    )
    verification: list[VerifiedAccuracy] = Field(
        default_factory=list,
        description="claimed test accuracies re-checked out of process (empty: not verified)",
    )
    verification_note: str | None = Field(
        default=None, description="why nothing was verified, or what the verifier noted"
    )


class JobResult(_Model):
    """The outcome of grading one submission once."""

    submission: str
    state: Literal["done", "failed"]
    status: ResultStatus
    reason: str | None = None
    retryable: bool = Field(
        default=False, description="the failure is not the student's and another try may work"
    )
    points: int | None = None
    max_points: int | None = None
    seconds: float | None = None
    worker: int | None = None
    run: RunInfo | None = None
    report_error: str | None = Field(default=None, description="the HTML report could not be drawn")


class StudentRow(_Model):
    """One line of the class: a roster student, or a submitter the roster does not know."""

    key: str = Field(description="submission id, or 'missing:<student id>'")
    student_id: str | None
    name: str
    email: str | None = None
    state: Literal["graded", "run-failed", "failed", "missing", "pending"]
    status: str = Field(description="the result status, 'missing' or 'pending'")
    reason: str | None = None
    points: int | None = None
    max_points: int | None = None
    potential_points: int | None = None
    counted: bool | None = None
    needs_review: bool = False
    requirements_met: bool | None = None
    late: bool | None = None
    submitted_at: str | None = None
    in_roster: bool = True
    flags: list[str] = Field(default_factory=list)
    report_href: str | None = Field(default=None, description="link from the output folder")
    submission: Submission | None = None
    result: JobResult | None = None
    report: CheckReport | None = None
    overrides: list[AppliedOverride] = Field(
        default_factory=list,
        description="the instructor's decisions about this student (applied, or why not)",
    )


class ClassResults(_Model):
    """Everything the dashboard and the exports need."""

    title: str
    rubric: str
    max_points: int
    intake: ClassIntake
    rows: list[StudentRow]
    profile: str = Field(description="static, smoke or full")


def _flags(
    sub: Submission,
    result: JobResult | None,
    report: CheckReport | None,
    intake: ClassIntake,
) -> list[str]:
    flags: list[str] = []
    has_roster = intake.roster
    if sub.late:
        flags.append("late")
    if any(p.kind == "identical" and p.submission == sub.id for p in intake.problems):
        flags.append("identical")
    if has_roster and not sub.in_roster:
        flags.append("unknown submitter")
    if len(sub.entries) > 1:
        flags.append("duplicate")
    elif sub.choice:
        flags.append("several notebooks")
    if report is not None:
        g = report.grade
        if g.needs_review:
            flags.append("review")
        if g.counted is False:
            flags.append("not counted")
        if any(c.status == Status.conditional for c in g.criteria):
            flags.append("conditional")
        if not report.hygiene.has_outputs:
            flags.append("no outputs")
        if report.framework.value == "pytorch":
            flags.append("pytorch")
        if any(f.severity.value == "error" for f in report.findings):
            flags.append("integrity")
    if result is not None and result.run is not None and result.run.failure:
        flags.append("run failed")
    return flags


def _override_flags(overrides: list[AppliedOverride]) -> list[str]:
    flags = ["override"] if overrides else []
    if any(o.evidence_changed for o in overrides):
        flags.append("evidence changed")
    return flags


def build_rows(
    intake: ClassIntake,
    results: dict[str, JobResult],
    reports: dict[str, CheckReport],
    *,
    report_href: dict[str, str] | None = None,
    unapplied: dict[str, list[AppliedOverride]] | None = None,
) -> list[StudentRow]:
    """One row per roster student (in roster order), then one per unknown submitter.

    Without a roster the rows follow the submissions. Deterministic: no times
    of the batch itself are used. A graded report carries the instructor's
    decisions applied to it; ``unapplied`` lists those about submissions that
    have no grade now (kept and shown, not applied).
    """
    by_student = {s.student_id: s for s in intake.submissions if s.student_id}
    hrefs = report_href or {}
    pending = unapplied or {}

    def row_for(sub: Submission) -> StudentRow:
        result = results.get(sub.id)
        report = reports.get(sub.id)
        if result is None:
            state: Literal["graded", "run-failed", "failed", "missing", "pending"] = "pending"
        elif result.state == "failed":
            state = "failed"
        elif result.status == "run-failed":
            state = "run-failed"
        else:
            state = "graded"
        g = report.grade if report is not None else None
        overrides = list(g.overrides) if g is not None else pending.get(sub.id, [])
        return StudentRow(
            key=sub.id,
            student_id=sub.student_id,
            name=sub.name,
            email=sub.email,
            state=state,
            status=result.status if result is not None else "pending",
            reason=result.reason if result is not None else None,
            points=g.points if g else None,
            max_points=g.max_points if g else None,
            potential_points=g.potential_points if g else None,
            counted=g.counted if g else None,
            needs_review=bool(g and g.needs_review) or state == "run-failed",
            requirements_met=g.requirements_met if g else None,
            late=sub.late,
            submitted_at=sub.submitted_at.isoformat() if sub.submitted_at else None,
            in_roster=sub.in_roster or not intake.roster,
            flags=_flags(sub, result, report, intake) + _override_flags(overrides),
            report_href=hrefs.get(sub.id),
            submission=sub,
            result=result,
            report=report,
            overrides=overrides,
        )

    rows: list[StudentRow] = []
    done: set[str] = set()
    for student in intake.students:
        sub = by_student.get(student.student_id)
        if sub is None:
            rows.append(
                StudentRow(
                    key=f"missing:{student.student_id}",
                    student_id=student.student_id,
                    name=student.name,
                    email=student.email,
                    state="missing",
                    status="missing",
                    reason=_("no submission"),
                )
            )
        else:
            rows.append(row_for(sub))
            done.add(sub.id)
    for sub in intake.submissions:
        if sub.id not in done:
            rows.append(row_for(sub))
    return rows


def late_note(row: StudentRow) -> str | None:
    """The grade's note that the submission came after the deadline (None: it did not)."""
    if row.report is None:
        return None
    notes = row.report.grade.notes
    return next((n for n in notes if is_late_note(n)), None)
