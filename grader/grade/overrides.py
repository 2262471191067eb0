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
from grader.grade.rubric import LATE, Decision, Rubric, is_late_note
from grader.i18n import N_, _, ngettext
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

#: the first words of the note on a decision made on other notebook bytes (the reports
#: recognise them: ``grader.report.decisions``)
EVIDENCE_CHANGED = N_("evidence changed since the decision")


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
            raise ValueError(_("must not be blank"))
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
        raise OverrideError(
            _("{where}: not valid YAML ({error})").format(where=where, error=exc)
        ) from None
    if raw is None:
        return OverrideFile()
    if not isinstance(raw, dict):
        raise OverrideError(
            _("{where}: expected a mapping with 'version' and 'overrides'").format(where=where)
        )
    try:
        parsed = OverrideFile.model_validate(raw)
    except ValidationError as exc:
        raise OverrideError(
            _("{where}: invalid").format(where=where) + "\n" + "\n".join(_problems(exc, raw))
        ) from None
    seen: dict[tuple[str, str], int] = {}
    for i, o in enumerate(parsed.overrides):
        if o.key in seen:
            raise OverrideError(
                _(
                    "{where}: overrides[{i}] decides '{criterion}' for '{student}' again "
                    "(also overrides[{first}]); keep one of them"
                ).format(
                    where=where, i=i, criterion=o.criterion, student=o.student, first=seen[o.key]
                )
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
                where = _("{entry} (student {student}, criterion {criterion})").format(
                    entry=where,
                    student=repr(entry.get("student")),
                    criterion=repr(entry.get("criterion")),
                )
        what = f"{field}: " if field else ""
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            options = _KEYS if len(loc) > 1 else list(OverrideFile.model_fields)
            if not field:
                what = f"{key}: "
            lines.append(
                "  "
                + _("{where}: {field}unknown key{hint}").format(
                    where=where, field=what, hint=did_you_mean(key, options)
                )
            )
        elif err["type"] == "missing":
            lines.append("  " + _("{where}: {field}missing").format(where=where, field=what))
        else:
            lines.append(f"  {where}: {what}{str(err['msg']).removeprefix('Value error, ')}")
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
        at = _("{entry} (student {student}, criterion {criterion})").format(
            entry=f"overrides[{i}]", student=repr(o.student), criterion=repr(o.criterion)
        )
        if o.student not in students:
            hint = did_you_mean(o.student, [*students, *names])
            moved = (notebooks or {}).get(o.sha256 or "")
            if moved:
                hint = _(
                    "; it was made on the notebook of '{moved}': write student: {moved}"
                ).format(moved=moved)
            problems.append(
                "  "
                + _("{at}: no submission '{student}' in this class{hint}").format(
                    at=at, student=o.student, hint=hint
                )
            )
        if o.criterion not in known:
            problems.append(
                "  "
                + _(
                    "{at}: rubric '{rubric}' has no criterion '{criterion}'{hint} (it has {known})"
                ).format(
                    at=at,
                    rubric=rubric.id,
                    criterion=o.criterion,
                    hint=did_you_mean(o.criterion, known),
                    known=", ".join(known),
                )
            )
        elif problem := point_problem(o.criterion, o.status, o.points, points):
            problems.append(f"  {at}: {problem}")
    if problems:
        raise OverrideError(
            ngettext("{where}: {n} problem", "{where}: {n} problems", len(problems)).format(
                where=where, n=len(problems)
            )
            + "\n"
            + "\n".join(problems)
            + "\n"
            + _(
                "Fix or remove these entries (`grader override remove OUT STUDENT CRITERION`); "
                "nothing was changed."
            )
        )


def point_problem(
    criterion: str, status: str, points: int | None, max_points: Mapping[str, int]
) -> str | None:
    """Why ``points`` cannot go with this decision, or None."""
    if points is None:
        return None
    if criterion not in max_points:
        if criterion == LATE:
            text = _(
                "'{criterion}' is the late submission: it earns no points itself (leave points out)"
            )
        else:
            text = _("'{criterion}' is a requirement: it earns no points itself (leave points out)")
        return text.format(criterion=criterion)
    if status == "not_met" and points:
        return _(
            "a criterion that is not met earns no points (use --status met for partial points)"
        )
    if points > max_points[criterion]:
        return _("'{criterion}' is worth at most {max} point(s), not {points}").format(
            criterion=criterion, max=max_points[criterion], points=points
        )
    return None


# ------------------------------------------------------------------ applying


def decision_reason(o: Override) -> str:
    """The criterion's reason after the decision, as every report shows it."""
    return _("decided by the instructor ({who}, {date}): {reason}").format(
        who=o.by, date=o.at.date().isoformat(), reason=o.reason
    )


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
    late_now = next((n for n in report.grade.notes if is_late_note(n)), None)
    applied = []
    for o in overrides:
        found, decided_now = machine.get(o.criterion), now.get(o.criterion)
        is_points = found is not None and found.kind == "points"
        applied.append(
            AppliedOverride(
                criterion=o.criterion,
                title=decided_now.title if decided_now is not None else _("Late submission"),
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
        # starts with the words the reports recognise (grader.report.decisions)
        detail = _(
            "it was made on notebook {then}…, the one graded now is {now}…; check that it "
            "still holds, then record it again with `grader override set`"
        ).format(then=o.sha256[:12], now=report.notebook.sha256[:12])
        notes.append(f"{_(EVIDENCE_CHANGED)}: {detail}")
    if found is not None and o.machine is not None and found != o.machine:
        notes.append(
            _(
                "the grader's own finding changed since the decision ({then} then, {now} now)"
            ).format(then=o.machine.value, now=found.value)
        )
    if o.criterion == LATE and late_now is None:
        notes.append(_("the submission is not late: this decision changes nothing"))
    return "; ".join(notes) or None
