"""Recording and removing an instructor's decision in a batch folder, then rebuilding it.

What ``grader override set|list|remove`` call. Each holds the folder's batch
lock (one writer at a time), checks the whole decision before anything is
written (an unknown student, criterion or a wrong number of points is an
error that names it, and ``overrides.yaml`` stays as it was), replaces
``overrides.yaml`` atomically, and then rebuilds the reports, gradebook and
dashboard from the stored results: nobody is graded again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, cast

from grader.batch.options import batch_lock
from grader.batch.outputs import (
    ClassState,
    check_class_overrides,
    class_outputs,
    load_result,
    open_class,
    unapplied_overrides,
    write_overrides,
)
from grader.errors import OverrideError
from grader.grade.overrides import (
    LATE,
    Override,
    apply_overrides,
    point_problem,
)
from grader.grade.result import AppliedOverride, CheckReport
from grader.grade.rubric import is_late_note
from grader.intake.lookup import describe, find_submission
from grader.intake.submission import Submission
from grader.report.results import ClassResults, JobResult
from grader.settings import did_you_mean

__all__ = ["Recorded", "list_overrides", "remove_override", "set_override"]


@dataclass
class Recorded:
    """What ``set_override``/``remove_override`` did, for the command to print."""

    submission: Submission | None  # None: a decision about a student no longer in the class
    override: Override
    replaced: Override | None
    applied: AppliedOverride | None
    points_before: int | None
    points_after: int | None
    max_points: int
    results: ClassResults | None
    files: dict[str, Path]
    problem: str | None = None  # why the outputs were not rebuilt


def _graded_report(state: ClassState, sub: Submission, what: str) -> CheckReport:
    result, report = load_result(state.out / "submissions" / sub.id)
    if report is None:
        why = f"{result.status}: {result.reason}" if result is not None else "not graded yet"
        raise OverrideError(
            f"{describe(sub)} has no grade ({why}), so there is nothing to {what}. Fix the "
            f"submission, then regrade it: grader batch SOURCE --out {state.out} --only {sub.id}"
        )
    return report


def _check_criterion(state: ClassState, criterion: str, status: str, points: int | None) -> None:
    rubric = state.rubric
    known = rubric.decidable()
    if criterion not in known:
        raise OverrideError(
            f"rubric {rubric.id!r} has no criterion {criterion!r}{did_you_mean(criterion, known)}; "
            f"it has {', '.join(known)} ('late' accepts or refuses a late submission)"
        )
    problem = point_problem(criterion, status, points, {c.id: c.points for c in rubric.criteria})
    if problem:
        raise OverrideError(problem)


def set_override(
    out: Path,
    student: str,
    criterion: str,
    *,
    status: str,
    reason: str,
    by: str,
    points: int | None = None,
    at: datetime | None = None,
    generated: str | None = None,
) -> Recorded:
    """Record a decision about one student's criterion and rebuild the folder's outputs."""
    if not reason.strip():
        raise OverrideError("--reason is empty: say why, in a few words (it is shown everywhere)")
    if status not in ("met", "not_met"):
        raise OverrideError(f"--status {status!r}: expected met or not_met")
    out = out.resolve()
    open_class(out)  # a folder that is not a batch folder is refused before the lock
    with batch_lock(out):
        state = open_class(out)
        sub = find_submission(state.intake, student)
        _check_criterion(state, criterion, status, points)
        report = _graded_report(state, sub, "decide")
        found = next((c for c in report.grade.criteria if c.id == criterion), None)
        if criterion == LATE and not any(is_late_note(n) for n in report.grade.notes):
            raise OverrideError(
                f"{describe(sub)} did not hand in late (the rubric's deadline and the "
                "submission time say so): there is no late submission to accept or refuse"
            )
        override = Override(
            student=sub.id,
            name=sub.name,
            criterion=criterion,
            status=cast(Literal["met", "not_met"], status),
            points=points,
            reason=reason,
            by=by,
            at=(at or datetime.now(UTC)).astimezone().replace(microsecond=0),
            sha256=report.notebook.sha256,
            machine=found.status if found is not None else None,
        )
        replaced = state.overrides.find(sub.id, criterion)
        before = apply_overrides(
            report, state.overrides.of(sub.id), rubric=state.rubric, context=sub.context
        )
        updated = state.overrides.with_override(override)
        check_class_overrides(out, updated, state.intake, state.rubric)
        write_overrides(out, updated)
        state.overrides = updated
        results, files = class_outputs(state, generated=generated)
    return _recorded(sub, override, replaced, before, results, files)


def _recorded(
    sub: Submission,
    override: Override,
    replaced: Override | None,
    before: CheckReport,
    results: ClassResults,
    files: dict[str, Path],
) -> Recorded:
    row = next((r for r in results.rows if r.key == sub.id), None)
    after = row.report if row is not None else None
    applied = next(
        (o for o in (row.overrides if row else []) if o.criterion == override.criterion), None
    )
    return Recorded(
        submission=sub,
        override=override,
        replaced=replaced,
        applied=applied,
        points_before=before.grade.points,
        points_after=after.grade.points if after is not None else None,
        max_points=before.grade.max_points,
        results=results,
        files=files,
    )


def remove_override(
    out: Path, student: str, criterion: str, *, generated: str | None = None
) -> Recorded:
    """Remove one decision (the grader's own finding counts again) and rebuild the outputs.

    Works on an ``overrides.yaml`` with entries this class cannot apply (a
    student no longer in it, a criterion the rubric lost): ``student`` may be
    the id written in the file. When other such entries remain, the decision
    is removed and ``Recorded.problem`` says why the outputs were not rebuilt.
    """
    out = out.resolve()
    open_class(out, check=False)
    with batch_lock(out):
        state = open_class(out, check=False)
        existing = state.overrides.find(student, criterion)
        sub = next((s for s in state.intake.submissions if s.id == student), None)
        if existing is None:
            sub = find_submission(state.intake, student)
            existing = state.overrides.find(sub.id, criterion)
        if existing is None:
            assert sub is not None
            decided = [o.criterion for o in state.overrides.of(sub.id)]
            listed = ", ".join(decided) if decided else "none"
            raise OverrideError(
                f"no decision about {criterion!r} for {describe(sub)}"
                f"{did_you_mean(criterion, decided)}; decisions about this student: {listed}"
            )
        before = None
        if sub is not None:
            _, report = load_result(state.out / "submissions" / sub.id)
            if report is not None:
                mine = [
                    o for o in state.overrides.of(sub.id) if o.criterion in state.rubric.decidable()
                ]
                before = apply_overrides(report, mine, rubric=state.rubric, context=sub.context)
        updated = state.overrides.without(existing.student, criterion)
        write_overrides(out, updated)
        state.overrides = updated
        problem = None
        try:
            results, files = class_outputs(state, generated=generated)
        except OverrideError as exc:
            problem, results, files = exc.message, None, {}
    row = next((r for r in results.rows if r.key == existing.student), None) if results else None
    return Recorded(
        submission=sub,
        override=existing,
        replaced=None,
        applied=None,
        points_before=before.grade.points if before is not None else None,
        points_after=row.points if row is not None else None,
        max_points=state.rubric.max_points,
        results=results,
        files=files,
        problem=problem,
    )


def list_overrides(out: Path) -> list[tuple[Submission, AppliedOverride]]:
    """Every decision of a folder as it applies now (what changed since, too); writes nothing."""
    state = open_class(out)
    listed: list[tuple[Submission, AppliedOverride]] = []
    for sub in state.intake.submissions:
        mine = state.overrides.of(sub.id)
        if not mine:
            continue
        result, report = load_result(state.out / "submissions" / sub.id)
        if report is None:
            stand_in = result or JobResult(
                submission=sub.id, state="failed", status="error", reason="not graded yet"
            )
            listed += [(sub, o) for o in unapplied_overrides(sub, stand_in, state.overrides)]
            continue
        graded = apply_overrides(report, mine, rubric=state.rubric, context=sub.context)
        listed += [(sub, o) for o in graded.grade.overrides]
    return listed
