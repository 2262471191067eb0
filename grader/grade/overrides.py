"""Decisions an instructor makes by hand, and how they change a grade.

Some things the harness will not decide, or decides wrongly: a criterion it
left for review, a late submission the instructor accepts, an accuracy the
student wrote in markdown instead of printing it. An :class:`Override`
records such a decision: who made it, when, why, and the sha256 of the
notebook it was made on. A batch output folder keeps them in
``overrides.yaml`` (read and written by :mod:`grader.batch.overrides`; this
module never touches the disk)::

    version: 1
    overrides:
    - student: novak-jan            # the submission id (as in submissions/<id>/)
      name: Jan Novák               # for people reading the file; not checked
      criterion: test_accuracy      # a requirement or criterion id, or "late"
      status: met                   # met | not_met
      points: null                  # points criteria: the points given (default: all / none)
      reason: the accuracies are in the markdown table of cell 31
      by: jdoe
      at: 2025-11-20T10:15:00+01:00
      sha256: 3f5c…                 # the notebook the decision was made on
      machine: not_met              # what the harness had found then

:func:`apply_overrides` is pure: it grades the stored evidence again with the
decided statuses (:class:`grader.grade.rubric.Decision`), so criteria that
depend on a decided requirement follow it, and lists every decision in
``Grade.overrides`` with what the harness found. A decision made on other
notebook bytes than the ones graded now still applies, and is flagged
("evidence changed since the decision") and put on the review list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.errors import OverrideError
from grader.grade.result import AppliedOverride, CheckReport, Status
from grader.grade.rubric import LATE, Decision, Rubric
from grader.intake.submission import StudentContext
from grader.settings import did_you_mean

__all__ = [
    "LATE",
    "SCHEMA_VERSION",
    "Override",
    "OverrideFile",
    "apply_overrides",
    "check_overrides",
    "dump_overrides",
    "parse_overrides",
]

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Override(_Strict):
    """One decision made by hand, as ``overrides.yaml`` keeps it."""

    student: str = Field(min_length=1, description="the submission id")
    name: str | None = Field(default=None, description="the student's name, for people")
    criterion: str = Field(min_length=1, description="a requirement or criterion id, or 'late'")
    status: Literal["met", "not_met"]
    points: int | None = Field(default=None, ge=0, description="points given (points criteria)")
    reason: str = Field(min_length=1)
    by: str = Field(min_length=1)
    at: datetime
    sha256: str | None = Field(default=None, description="the notebook the decision was made on")
    machine: Status | None = Field(
        default=None, description="what the harness had found when the decision was made"
    )

    @field_validator("reason", "by")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.criterion)


class OverrideFile(_Strict):
    """Everything in ``overrides.yaml``."""

    version: Literal[1] = 1
    overrides: list[Override] = Field(default_factory=list)

    def of(self, student: str) -> list[Override]:
        """The decisions about one submission, in file order."""
        return [o for o in self.overrides if o.student == student]

    def find(self, student: str, criterion: str) -> Override | None:
        return next((o for o in self.overrides if o.key == (student, criterion)), None)

    def with_override(self, override: Override) -> OverrideFile:
        """A copy with ``override`` replacing the decision on the same criterion, or added."""
        kept = [o for o in self.overrides if o.key != override.key]
        return OverrideFile(overrides=[*kept, override])

    def without(self, student: str, criterion: str) -> OverrideFile:
        return OverrideFile(overrides=[o for o in self.overrides if o.key != (student, criterion)])


# ------------------------------------------------------------------ reading and writing

_HEADER = """\
# Decisions made by hand for this class: `grader override set|list|remove` keep this
# file, and it may be edited by hand. Every batch run and every `grader override`
# command checks it: an unknown key, student or criterion is an error that names
# what is wrong. status: met | not_met; points: for criteria that earn points (empty:
# all of them when met, none when not); criterion "late" accepts (met) or refuses
# (not_met) a late submission. sha256 is the notebook the decision was made on: when
# the student hands in another one, the decision still applies and is flagged.
"""

_KEYS = list(Override.model_fields)


def parse_overrides(text: str, where: str = "overrides.yaml") -> OverrideFile:
    """Read ``overrides.yaml``; every problem is an :class:`OverrideError` naming where."""
    try:
        raw = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise OverrideError(f"{where}: not valid YAML ({exc})") from None
    if raw is None:
        return OverrideFile()
    if not isinstance(raw, dict):
        raise OverrideError(f"{where}: expected a mapping with 'version' and 'overrides'")
    try:
        parsed = OverrideFile.model_validate(raw)
    except ValidationError as exc:
        raise OverrideError(f"{where}: invalid\n" + "\n".join(_problems(exc, raw))) from None
    seen: dict[tuple[str, str], int] = {}
    for i, o in enumerate(parsed.overrides):
        if o.key in seen:
            raise OverrideError(
                f"{where}: overrides[{i}] decides {o.criterion!r} for {o.student!r} again "
                f"(also overrides[{seen[o.key]}]); keep one of them"
            )
        seen[o.key] = i
    return parsed


def _problems(exc: ValidationError, raw: dict[str, Any]) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        where, field = ".".join(str(p) for p in loc), ""
        if len(loc) >= 2 and loc[0] == "overrides" and isinstance(loc[1], int):
            where = f"overrides[{loc[1]}]"
            field = ".".join(str(p) for p in loc[2:])
            entries = raw.get("overrides")
            entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
            if isinstance(entry, dict) and entry.get("student"):
                where += (
                    f" (student {entry.get('student')!r}, criterion {entry.get('criterion')!r})"
                )
        what = f"{field}: " if field else ""
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            options = _KEYS if len(loc) > 1 else list(OverrideFile.model_fields)
            if not field:
                what = f"{key}: "
            lines.append(f"  {where}: {what}unknown key{did_you_mean(key, options)}")
        elif err["type"] == "missing":
            lines.append(f"  {where}: {what}missing")
        else:
            lines.append(f"  {where}: {what}{err['msg']}")
    return lines


def dump_overrides(overrides: OverrideFile) -> str:
    """The text of ``overrides.yaml``: a short header, then the decisions."""
    doc = {
        "version": overrides.version,
        "overrides": [o.model_dump(mode="json") for o in overrides.overrides],
    }
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return _HEADER + "\n" + body


def check_overrides(
    overrides: OverrideFile,
    *,
    students: Mapping[str, str],
    rubric: Rubric,
    where: str = "overrides.yaml",
    notebooks: Mapping[str, str] | None = None,
) -> None:
    """Refuse decisions about students or criteria this class and rubric do not have.

    ``students`` maps each submission id to the student's name; ``notebooks``
    maps a notebook's sha256 to its submission id, so that a decision whose
    student id changed (a roster given later) names the submission it was
    made on.
    """
    known = rubric.decidable()
    points = {c.id: c.points for c in rubric.criteria}
    names = {name: sid for sid, name in students.items()}
    problems = []
    for i, o in enumerate(overrides.overrides):
        at = f"overrides[{i}] (student {o.student!r}, criterion {o.criterion!r})"
        if o.student not in students:
            hint = did_you_mean(o.student, [*students, *names])
            moved = (notebooks or {}).get(o.sha256 or "")
            if moved:
                hint = f"; it was made on the notebook of {moved!r}: write student: {moved}"
            problems.append(f"  {at}: no submission {o.student!r} in this class{hint}")
        if o.criterion not in known:
            problems.append(
                f"  {at}: rubric {rubric.id!r} has no criterion {o.criterion!r}"
                f"{did_you_mean(o.criterion, known)} (it has {', '.join(known)})"
            )
        elif problem := point_problem(o.criterion, o.status, o.points, points):
            problems.append(f"  {at}: {problem}")
    if problems:
        raise OverrideError(
            f"{where}: {len(problems)} problem{'s' if len(problems) != 1 else ''}\n"
            + "\n".join(problems)
            + "\nFix or remove these entries (`grader override remove OUT STUDENT CRITERION`); "
            "nothing was changed."
        )


def point_problem(
    criterion: str, status: str, points: int | None, max_points: Mapping[str, int]
) -> str | None:
    """Why ``points`` cannot go with this decision, or None."""
    if points is None:
        return None
    if criterion not in max_points:
        what = "the late submission" if criterion == LATE else "a requirement"
        return f"{criterion!r} is {what}: it earns no points itself (leave points out)"
    if status == "not_met" and points:
        return "a criterion that is not met earns no points (use --status met for partial points)"
    if points > max_points[criterion]:
        return f"{criterion!r} is worth at most {max_points[criterion]} point(s), not {points}"
    return None


# ------------------------------------------------------------------ applying


def decision_reason(o: Override) -> str:
    """The criterion's reason after the decision, as every report shows it."""
    return f"decided by the instructor ({o.by}, {o.at.date().isoformat()}): {o.reason}"


def apply_overrides(
    report: CheckReport,
    overrides: Sequence[Override],
    *,
    rubric: Rubric,
    context: StudentContext | None = None,
) -> CheckReport:
    """The report with the decisions applied (the stored report is not changed).

    Grades the evidence again with the decided statuses, so the points, the
    requirements, ``needs_review`` and ``counted`` follow the decisions; a
    decision made on another notebook than the one graded now keeps applying
    and puts the submission on the review list.
    """
    if not overrides:
        return report
    decided = {
        o.criterion: Decision(
            status=Status(o.status),
            reason=decision_reason(o),
            points=o.points,
        )
        for o in overrides
    }
    grade = rubric.grade(report, context, decided=decided)
    machine = {c.id: c for c in report.grade.criteria}
    now = {c.id: c for c in grade.criteria}
    late_now = next((n for n in report.grade.notes if n.startswith("submitted late")), None)
    applied = []
    for o in overrides:
        found, decided_now = machine.get(o.criterion), now.get(o.criterion)
        is_points = found is not None and found.kind == "points"
        applied.append(
            AppliedOverride(
                criterion=o.criterion,
                title=decided_now.title if decided_now is not None else "Late submission",
                status=Status(o.status),
                points=decided_now.points if is_points and decided_now is not None else None,
                machine_status=found.status if found is not None else None,
                machine_points=found.points if is_points and found is not None else None,
                machine_reason=found.reason if found is not None else late_now,
                reason=o.reason,
                by=o.by,
                at=o.at,
                evidence_changed=bool(o.sha256) and o.sha256 != report.notebook.sha256,
                note=_change_note(o, report, found.status if found is not None else None, late_now),
            )
        )
    grade.overrides = applied
    if any(a.evidence_changed for a in applied):
        grade.needs_review = True
    return report.model_copy(update={"grade": grade})


def _change_note(
    o: Override, report: CheckReport, found: Status | None, late_now: str | None
) -> str | None:
    """What changed since the decision was made, in words (None: nothing)."""
    notes = []
    if o.sha256 and o.sha256 != report.notebook.sha256:
        notes.append(
            f"evidence changed since the decision: it was made on notebook {o.sha256[:12]}…, "
            f"the one graded now is {report.notebook.sha256[:12]}…; check that it still "
            "holds, then record it again with `grader override set`"
        )
    if found is not None and o.machine is not None and found != o.machine:
        notes.append(
            f"the grader's own finding changed since the decision "
            f"({o.machine.value} then, {found.value} now)"
        )
    if o.criterion == LATE and late_now is None:
        notes.append("the submission is not late: this decision changes nothing")
    return "; ".join(notes) or None
