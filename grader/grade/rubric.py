"""Declarative rubrics and the small engine that applies them to evidence.

A rubric file (YAML) lists *requirements* (what every notebook must show) and
*criteria* (what earns points, each naming the requirements it depends on).
Each names a *check* from :data:`CHECKS`, a registry of functions over the
evidence; adding a check is adding a function, not editing the engine.
Unknown keys and unknown check names are errors with a "did you mean".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader import bundled
from grader.errors import RubricError
from grader.evidence import Evidence, ModelKind, ModelRun
from grader.grade.result import CriterionResult, Grade, Status
from grader.intake.submission import StudentContext
from grader.settings import did_you_mean

__all__ = [
    "CHECKS",
    "LATE",
    "Decision",
    "Outcome",
    "Rubric",
    "DEFAULT_RUBRIC",
    "bundled_rubrics",
    "default_rubric_path",
    "load_rubric",
    "parse_rubric",
]


# ----------------------------------------------------------------------- checks


@dataclass
class Outcome:
    status: Status
    reason: str
    cells: list[int] = field(default_factory=list)
    missing: str | None = None


CheckFn = Callable[[Evidence, dict[str, Any]], Outcome]


@dataclass
class _Check:
    fn: CheckFn
    doc: str
    params: tuple[str, ...] = ()


CHECKS: dict[str, _Check] = {}


def _check(name: str, *params: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS[name] = _Check(fn, (fn.__doc__ or "").strip().splitlines()[0], params)
        return fn

    return register


APPROACHES: dict[str, tuple[ModelKind, ...]] = {
    "bipyramidal CNN from scratch": (ModelKind.scratch_cnn,),
    "custom CNN (Xception-like or residual)": (
        ModelKind.custom_xception,
        ModelKind.custom_residual,
    ),
    "pretrained CNN (transfer learning)": (ModelKind.transfer_frozen, ModelKind.fine_tuned),
}


def _by_approach(ev: Evidence) -> dict[str, list[ModelRun]]:
    return {a: [m for m in ev.models if m.kind in kinds] for a, kinds in APPROACHES.items()}


def _names(models: list[ModelRun]) -> str:
    return ", ".join(f"{m.name} ({m.kind.value})" for m in models) or "none"


def _why_none(models: list[ModelRun]) -> str:
    """Why each model has no test accuracy, as the extraction says (empty when it says nothing)."""
    reasons = [
        f"{m.name}: {m.test_accuracy_missing.reason}"
        for m in models
        if m.test_accuracy_missing is not None
    ]
    return " (" + "; ".join(reasons) + ")" if reasons else ""


def _cells(models: list[ModelRun]) -> list[int]:
    return sorted({c for m in models for c in m.fit_cells})


def _no_outputs(ev: Evidence) -> Outcome | None:
    if not ev.hygiene.has_outputs and ev.source == "static":
        return Outcome(
            Status.not_met,
            "the notebook was saved without outputs: nothing can be verified without running it",
            missing="run the notebook and save it with its outputs "
            "(or grade it with `grader check --run`)",
        )
    return None


@_check("curves_shown")
def _curves_shown(ev: Evidence, params: dict[str, Any]) -> Outcome:
    """Training/validation curves are plotted (an image output) for each approach trained."""
    if (o := _no_outputs(ev)) is not None:
        return o
    if not ev.has_curves:
        return Outcome(
            Status.not_met,
            "no training/validation curves found: no cell that plots a training history "
            "has an image output",
            missing="plot the loss and accuracy curves (training and validation) of each model",
        )
    groups = _by_approach(ev)
    lacking = [
        f"{a}: {_names(ms)}"
        for a, ms in groups.items()
        if ms and not any(m.curves_shown for m in ms)
    ]
    shown = [m for m in ev.models if m.curves_shown]
    if lacking:
        return Outcome(
            Status.not_met,
            "curves are shown for " + (_names(shown)) + "; none for " + "; ".join(lacking),
            cells=sorted(
                {
                    m.curves_provenance.cell
                    for m in shown
                    if m.curves_provenance and m.curves_provenance.cell is not None
                }
            ),
            missing="plot the curves of " + "; ".join(lacking),
        )
    return Outcome(
        Status.met,
        "curves shown for " + _names(shown) if shown else "curves are shown",
        cells=sorted(
            {
                m.curves_provenance.cell
                for m in shown
                if m.curves_provenance and m.curves_provenance.cell is not None
            }
        ),
    )


@_check("test_accuracy_reported")
def _test_accuracy(ev: Evidence, params: dict[str, Any]) -> Outcome:
    """A final test accuracy is shown for each approach trained (and survives verification)."""
    forged = [f for f in ev.findings if f.code == "forged-accuracy"]
    if forged:
        # the harness re-evaluated the saved model out of process and got another number
        return Outcome(
            Status.not_met,
            "a reported test accuracy does not match the harness's own evaluation of the "
            "saved model: " + "; ".join(f.message for f in forged),
            missing="report the accuracy the model really reaches on the test set",
        )
    if (o := _no_outputs(ev)) is not None:
        return o
    if not ev.models:
        return Outcome(
            Status.not_met,
            "no trained model found in the notebook",
            missing="train the models and keep their outputs",
        )
    groups = _by_approach(ev)
    lacking = [
        f"{a}: {_names(ms)}"
        for a, ms in groups.items()
        if ms and not any(m.test_accuracy is not None for m in ms)
    ]
    why = _why_none([m for ms in groups.values() for m in ms if m.test_accuracy is None])
    with_acc = [m for m in ev.models if m.test_accuracy is not None]
    cells = sorted(
        {
            m.test_accuracy_provenance.cell
            for m in with_acc
            if m.test_accuracy_provenance and m.test_accuracy_provenance.cell is not None
        }
    )
    if not with_acc:
        return Outcome(
            Status.not_met,
            "no test accuracy found for any model" + why,
            missing="evaluate each model on the test set and print the accuracy",
        )
    shown = "; ".join(
        f"{m.name}: {m.test_accuracy:.4f}" for m in with_acc if m.test_accuracy is not None
    )
    if lacking:
        return Outcome(
            Status.not_met,
            f"test accuracy shown for {shown}; missing for " + "; ".join(lacking) + why,
            cells=cells,
            missing="evaluate on the test set: " + "; ".join(lacking),
        )
    return Outcome(Status.met, f"test accuracy shown: {shown}", cells=cells)


@_check("confusion_matrix_shown")
def _confusion(ev: Evidence, params: dict[str, Any]) -> Outcome:
    """A confusion matrix on test predictions is computed and shown."""
    if (o := _no_outputs(ev)) is not None:
        return o
    if not ev.has_confusion_matrix:
        return Outcome(
            Status.not_met,
            "no confusion matrix shown (computed and printed or drawn in a cell with output)",
            missing="compute confusion_matrix(y_test, y_pred) for each model and show it",
        )
    with_cm = [m for m in ev.models if m.confusion_matrix_shown]
    groups = _by_approach(ev)
    lacking = [
        a for a, ms in groups.items() if ms and not any(m.confusion_matrix_shown for m in ms)
    ]
    cells = sorted(
        {
            m.confusion.provenance.cell
            for m in with_cm
            if m.confusion and m.confusion.provenance.cell is not None
        }
    )
    if lacking and with_cm:
        # the assignment asks for "a confusion matrix"; one per model is the instructor's call
        return Outcome(
            Status.needs_review,
            f"a confusion matrix is shown for {_names(with_cm)}; none for " + "; ".join(lacking),
            cells=cells,
            missing="show a confusion matrix for: " + "; ".join(lacking),
        )
    if not with_cm:
        return Outcome(
            Status.needs_review,
            "a confusion matrix is shown, but the harness cannot tell which model it belongs to",
        )
    return Outcome(Status.met, f"confusion matrix shown for {_names(with_cm)}", cells=cells)


@_check("three_approaches")
def _three(ev: Evidence, params: dict[str, Any]) -> Outcome:
    """All three approaches are trained: scratch CNN, custom CNN, pretrained CNN."""
    groups = _by_approach(ev)
    missing = [a for a, ms in groups.items() if not ms]
    found = "; ".join(f"{a}: {_names(ms)}" for a, ms in groups.items() if ms)
    cells = _cells(ev.models)
    if missing:
        return Outcome(
            Status.not_met,
            ("found " + found + "; " if found else "") + "missing: " + ", ".join(missing),
            cells=cells,
            missing="train and evaluate: " + ", ".join(missing),
        )
    return Outcome(Status.met, "all three approaches trained: " + found, cells=cells)


@_check("written_summary", "generalisation", "training_time")
def _summary(ev: Evidence, params: dict[str, Any]) -> Outcome:
    """A written summary compares the models (optionally: generalisation, training time)."""
    d = ev.discussion
    if not d.present:
        return Outcome(
            Status.not_met,
            "no written summary or discussion of the results found in markdown cells",
            missing="add a markdown summary: which model generalises best and why, "
            "and how training times differ",
        )
    gaps = []
    if not d.compares_models:
        gaps.append("a comparison of the models")
    if params.get("generalisation") and not d.discusses_generalisation:
        gaps.append("which model generalises best and why")
    if params.get("training_time") and not d.discusses_training_time:
        gaps.append("how training time differs")
    if gaps:
        # keyword reading of prose is not reliable enough to take a point away
        return Outcome(
            Status.needs_review,
            f"a written discussion is there ({d.words} words) but the harness did not find "
            + ", ".join(gaps),
            cells=d.cells,
            missing="make sure the summary covers " + ", ".join(gaps),
        )
    return Outcome(
        Status.met,
        f"written summary ({d.words} words) compares the models, discusses generalisation"
        + (" and training time" if d.discusses_training_time else ""),
        cells=d.cells,
    )


@_check("has_kind", "kinds")
def _has_kind(ev: Evidence, params: dict[str, Any]) -> Outcome:
    """A model of one of the given kinds is trained."""
    raw = params.get("kinds") or []
    kinds = {ModelKind(k) for k in raw}
    ms = [m for m in ev.models if m.kind in kinds]
    if ms:
        return Outcome(Status.met, f"trained {_names(ms)}", cells=_cells(ms))
    return Outcome(
        Status.not_met,
        "no model of kind " + " or ".join(sorted(k.value for k in kinds)),
        missing="train a " + " or ".join(sorted(k.value for k in kinds)),
    )


def variant_list(ev: Evidence) -> list[str]:
    """The additional variants a notebook trained, in words."""
    variants = []
    tuned = [m for m in ev.models if m.kind == ModelKind.fine_tuned]
    frozen = [m for m in ev.models if m.kind == ModelKind.transfer_frozen]
    if tuned and frozen:
        variants.append("fine-tuning after transfer learning (" + _names(tuned) + ")")
    elif tuned:
        variants.append("fine-tuned pretrained model (" + _names(tuned) + ")")
    bases = sorted({m.base for m in ev.models if m.base})
    if len(bases) >= 2:
        variants.append("several pretrained bases (" + ", ".join(bases) + ")")
    kinds = {m.kind for m in ev.models}
    if ModelKind.custom_residual in kinds and ModelKind.custom_xception in kinds:
        variants.append("both Xception-like and ResNet-like custom models")
    return variants


@_check("variants_discussed")
def _variants(ev: Evidence, params: dict[str, Any]) -> Outcome:
    """Additional variants are trained and discussed (fine-tuning, several bases, both customs)."""
    variants = variant_list(ev)
    if not variants:
        return Outcome(
            Status.not_met,
            "no additional variant found (fine-tuning, a second pretrained base, or both "
            "Xception- and ResNet-like custom models)",
            missing="add a variant, e.g. fine-tune the top blocks of the pretrained base, "
            "and discuss it",
        )
    d = ev.discussion
    if d.present and d.mentions_variants:
        return Outcome(
            Status.met, "variants: " + "; ".join(variants) + "; discussed", cells=d.cells
        )
    if d.present:
        return Outcome(
            Status.needs_review,
            "variants: " + "; ".join(variants) + "; the harness could not tell whether the "
            "discussion covers them",
            cells=d.cells,
            missing="discuss what the variants changed",
        )
    return Outcome(
        Status.not_met,
        "variants: " + "; ".join(variants) + "; but they are not discussed",
        missing="discuss the variants in the written summary",
    )


# ----------------------------------------------------------------------- rubric


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequirementSpec(_Strict):
    id: str
    title: str
    check: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    feedback: str | None = None

    @field_validator("check")
    @classmethod
    def _known_check(cls, v: str) -> str:
        if v not in CHECKS:
            raise ValueError(f"unknown check {v!r}{did_you_mean(v, list(CHECKS))}")
        return v


class CriterionSpec(RequirementSpec):
    points: int = Field(ge=0)
    applies_when: Literal["always", "no_hw4"] = "always"
    requires: list[str] = Field(default_factory=list)


class ConsultationSpec(_Strict):
    required: bool = False
    deadline: datetime | None = None


class Rubric(_Strict):
    id: str
    title: str
    course: str | None = None
    max_points: int = Field(ge=0)
    deadline: datetime | None = None
    late_policy: Literal["zero", "review", "accept"] = "review"
    consultation: ConsultationSpec = Field(default_factory=ConsultationSpec)
    requirements: list[RequirementSpec] = Field(default_factory=list)
    criteria: list[CriterionSpec] = Field(default_factory=list)

    def grade(
        self,
        ev: Evidence,
        context: StudentContext | None = None,
        *,
        decided: Mapping[str, Decision] | None = None,
    ) -> Grade:
        """Apply the rubric; ``decided`` holds statuses decided by hand (overrides) by id."""
        return _apply(self, ev, context or StudentContext(), decided)

    def decidable(self) -> list[str]:
        """What an override may name: every requirement and criterion, and ``late``."""
        return [r.id for r in self.requirements] + [c.id for c in self.criteria] + [LATE]


_TOP_KEYS = list(Rubric.model_fields)


def _friendly(exc: ValidationError, where: str, raw: Any) -> RubricError:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            parent: Any = raw
            for p in err["loc"][:-1]:
                try:
                    parent = parent[p]
                except (KeyError, IndexError, TypeError):
                    parent = None
                    break
            options = _TOP_KEYS
            if len(err["loc"]) > 1 and err["loc"][0] in ("requirements", "criteria"):
                options = list(CriterionSpec.model_fields) + ["with"]
            elif len(err["loc"]) > 1 and err["loc"][0] == "consultation":
                options = list(ConsultationSpec.model_fields)
            lines.append(f"  {loc}: unknown key{did_you_mean(key, options)}")
        else:
            lines.append(f"  {loc}: {err['msg']}")
    return RubricError(f"{where}: invalid rubric\n" + "\n".join(lines))


def parse_rubric(text: str, where: str = "rubric") -> Rubric:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RubricError(f"{where}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise RubricError(f"{where}: a rubric is a mapping of keys (id, title, requirements, ...)")
    try:
        rubric = Rubric.model_validate(raw)
    except ValidationError as exc:
        raise _friendly(exc, where, raw) from None
    ids = [r.id for r in rubric.requirements] + [c.id for c in rubric.criteria]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RubricError(f"{where}: ids used twice: {', '.join(sorted(dupes))}")
    for c in rubric.criteria:
        for r in c.requires:
            if r not in ids:
                raise RubricError(
                    f"{where}: criterion {c.id!r} requires unknown {r!r}{did_you_mean(r, ids)}"
                )
        for key in c.with_:
            if key not in CHECKS[c.check].params:
                raise RubricError(
                    f"{where}: check {c.check!r} has no parameter {key!r}"
                    f"{did_you_mean(key, list(CHECKS[c.check].params))}"
                )
    if sum(c.points for c in rubric.criteria) > rubric.max_points:
        raise RubricError(f"{where}: criteria give more than max_points ({rubric.max_points})")
    return rubric


#: the rubric a check uses when none is named
DEFAULT_RUBRIC = "hw5"


def bundled_rubrics() -> list[Path]:
    """The rubric files the grader comes with (``rubrics/`` of the repository)."""
    return bundled.rubric_files()


def default_rubric_path() -> Path:
    """The Homework 5 rubric the grader comes with."""
    for path in bundled_rubrics():
        if path.stem == DEFAULT_RUBRIC:
            return path
    raise RubricError(
        f"the grader's own rubric ({DEFAULT_RUBRIC}.yaml) is missing from this installation: "
        "reinstall the grader, or name a rubric file with --rubric FILE"
    )


def load_rubric(path: Path | None = None) -> Rubric:
    path = path or default_rubric_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(f"{path}: cannot read the rubric ({exc.strerror or exc})") from exc
    return parse_rubric(text, str(path))


# ----------------------------------------------------------------------- engine

#: the pseudo-criterion an instructor decides to accept (met) or refuse (not_met) a late
#: submission; every other decision names a requirement or criterion of the rubric
LATE = "late"


@dataclass(frozen=True)
class Decision:
    """A status decided by hand (an instructor's override), used instead of the check's.

    ``points`` is for a points criterion (None: all its points when met, none when
    not); ``reason`` becomes the criterion's reason. Requirements and criteria that
    depend on a decided requirement follow the decision.
    """

    status: Status
    reason: str
    points: int | None = None


def _requirement(req: RequirementSpec, ev: Evidence, decision: Decision | None) -> CriterionResult:
    o = CHECKS[req.check].fn(ev, req.with_)
    status, reason = (decision.status, decision.reason) if decision else (o.status, o.reason)
    return CriterionResult(
        id=req.id,
        title=req.title,
        kind="requirement",
        status=status,
        reason=reason,
        cells=o.cells,
        missing=(req.feedback or o.missing) if status != Status.met else None,
    )


def _criterion(
    crit: CriterionSpec,
    ev: Evidence,
    ctx: StudentContext,
    results: dict[str, CriterionResult],
    decision: Decision | None,
) -> CriterionResult:
    o = CHECKS[crit.check].fn(ev, crit.with_)
    status, reason, missing = o.status, o.reason, o.missing
    if decision is not None:
        status, reason = decision.status, decision.reason
        points = decision.points
        if points is None:
            points = crit.points if status == Status.met else 0
        return CriterionResult(
            id=crit.id,
            title=crit.title,
            kind="points",
            status=status,
            points=points,
            max_points=crit.points,
            reason=reason,
            cells=o.cells,
            missing=None if status == Status.met else (crit.feedback or missing),
        )
    if status == Status.met:
        blocked = [r for r in crit.requires if results[r].status == Status.not_met]
        review = [r for r in crit.requires if results[r].status == Status.needs_review]
        if blocked:
            status = Status.not_met
            reason = f"{reason}; but required {', '.join(blocked)} not met"
            missing = "; ".join(results[r].missing or results[r].title for r in blocked)
        elif review:
            status = Status.needs_review
            reason = f"{reason}; {', '.join(review)} needs instructor review"
    if crit.applies_when == "no_hw4":
        if ctx.submitted_hw4 is True:
            status, reason = Status.not_applicable, "the student submitted homework 4"
            missing = None
        elif ctx.submitted_hw4 is None and status == Status.met:
            status = Status.conditional
            reason += "; counts only if the student did not submit homework 4 (roster unknown)"
    if status == Status.met and crit.feedback is None:
        missing = None
    elif status != Status.met and crit.feedback:
        missing = crit.feedback
    return CriterionResult(
        id=crit.id,
        title=crit.title,
        kind="points",
        status=status,
        points=crit.points if status == Status.met else 0,
        max_points=crit.points,
        reason=reason,
        cells=o.cells,
        missing=missing if status != Status.met else None,
    )


@dataclass
class _Lateness:
    notes: list[str] = field(default_factory=list)
    zero: bool = False  # the points are taken away
    review: bool = False  # an instructor should decide


def _lateness(rubric: Rubric, ctx: StudentContext, decision: Decision | None) -> _Lateness:
    out = _Lateness()
    if not (rubric.deadline and ctx.submitted_at):
        return out
    submitted = datetime.fromisoformat(ctx.submitted_at)
    if submitted.tzinfo is None and rubric.deadline.tzinfo is not None:
        submitted = submitted.replace(tzinfo=rubric.deadline.tzinfo)
    if submitted <= rubric.deadline:
        return out
    late = submitted - rubric.deadline
    note = (
        f"submitted late by {_human(late.total_seconds())} (deadline {rubric.deadline.isoformat()})"
    )
    if decision is not None:
        accepted = decision.status == Status.met
        note += f"; {'accepted' if accepted else 'not accepted'}: {decision.reason}"
        out.zero = not accepted
    else:
        out.zero = rubric.late_policy == "zero"
        out.review = rubric.late_policy == "review"
    out.notes.append(note)
    return out


def _apply(
    rubric: Rubric,
    ev: Evidence,
    ctx: StudentContext,
    decided: Mapping[str, Decision] | None = None,
) -> Grade:
    decided = decided or {}
    results: dict[str, CriterionResult] = {}
    for req in rubric.requirements:
        results[req.id] = _requirement(req, ev, decided.get(req.id))
    for crit in rubric.criteria:
        results[crit.id] = _criterion(crit, ev, ctx, results, decided.get(crit.id))
    points_crit = [results[c.id] for c in rubric.criteria]
    points = sum(c.points for c in points_crit)
    potential = sum(
        c.max_points
        for c in points_crit
        if c.status in (Status.met, Status.conditional, Status.needs_review)
    )
    counted: bool | None = True
    lateness = _lateness(rubric, ctx, decided.get(LATE))
    notes = list(lateness.notes)
    if lateness.zero:
        points, counted = 0, False
    if rubric.consultation.required:
        when = (
            f" (by {rubric.consultation.deadline.date().isoformat()})"
            if rubric.consultation.deadline
            else ""
        )
        if ctx.consultation_done is False:
            counted = False
            notes.append(f"points count only after the required consultation{when}: not done yet")
        elif ctx.consultation_done is None:
            counted = None if counted else counted
            notes.append(f"points count only after the required consultation{when}")
    requirements_met = all(results[r.id].status == Status.met for r in rubric.requirements)
    needs_review = any(r.status == Status.needs_review for r in results.values()) or lateness.review
    return Grade(
        rubric=rubric.id,
        points=points,
        max_points=rubric.max_points,
        potential_points=max(points, potential),
        requirements_met=requirements_met,
        needs_review=needs_review,
        counted=counted,
        notes=notes,
        criteria=list(results.values()),
    )


def _human(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
