"""Declarative rubrics and the small engine that applies them to evidence.

A rubric file (YAML) lists *requirements* (what every notebook must show) and
*criteria* (what earns points, each naming the requirements it depends on).
Each names a *check* from :data:`CHECKS` (:mod:`grader.grade.checks`), a registry
of functions over the evidence; adding a check is adding a function, not editing
the engine. Unknown keys and unknown check names are errors with a "did you mean".

Every text a student reads (the rubric's ``title`` and ``course``, each
requirement's and criterion's ``title`` and ``feedback``) is one string or the
same text per language (``{cs: ..., en: ...}``, a :class:`LocalText`);
``feedback`` may also differ by framework (``{keras: ..., pytorch: ...,
default: ...}``, a :class:`Feedback`). ``language: cs`` names the rubric's own
language (the commands speak it unless told otherwise). The grade comes out in
the language in use, with :class:`~grader.grade.result.Advice` for the
notebook's framework, the most points at stake first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)

from grader import bundled
from grader.errors import RubricError
from grader.evidence import Evidence, Framework
from grader.grade.checks import APPROACHES, CHECKS, Outcome, variant_list
from grader.grade.result import Advice, CriterionResult, Grade, Status
from grader.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    _,
    current_language,
    ngettext,
    use_language,
)
from grader.intake.submission import StudentContext
from grader.settings import did_you_mean, suggest

__all__ = [
    "APPROACHES",
    "CHECKS",
    "DEFAULT_RUBRIC",
    "FRAMEWORK_KEYS",
    "LATE",
    "Decision",
    "Feedback",
    "LocalText",
    "Outcome",
    "Rubric",
    "bundled_rubrics",
    "default_rubric_path",
    "is_late_note",
    "load_rubric",
    "parse_rubric",
    "text_problems",
    "variant_list",
]


# ----------------------------------------------------------------------- texts


#: what people write for a language the grader speaks
_LANGUAGE_NAMES = {
    "cz": "cs",
    "cze": "cs",
    "ces": "cs",
    "czech": "cs",
    "eng": "en",
    "english": "en",
}


def _unknown_language(key: str, given: Iterable[str] = ()) -> str:
    """The error for a language the grader does not speak, suggesting the one meant (among
    those the text does not have yet)."""
    free = [lang for lang in LANGUAGES if lang not in set(given)] or list(LANGUAGES)
    meant = _LANGUAGE_NAMES.get(key.lower())
    if meant not in free:
        meant = suggest(key, free) or (free[0] if len(free) == 1 else None)
    return _("unknown language '{key}'{hint}; the languages are {languages}").format(
        key=key,
        hint=did_you_mean(meant, [meant]) if meant else "",
        languages=", ".join(LANGUAGES),
    )


class LocalText(RootModel[str | dict[str, str]]):
    """A text the student reads: one string, or the same text per language
    (``{cs: ..., en: ...}``)."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _read(cls, value: Any) -> Any:
        if isinstance(value, LocalText):
            return value.root
        if isinstance(value, str):
            return value
        if not isinstance(value, dict) or not value:
            raise ValueError(_("expected a text, or a text per language (cs: ..., en: ...)"))
        for key, text in value.items():
            if key not in LANGUAGES:
                raise ValueError(_unknown_language(str(key), value))
            if not isinstance(text, str) or not text.strip():
                raise ValueError(_("no text for '{language}'").format(language=key))
        return value

    def text(self, language: str | None = None) -> str:
        """The text in ``language`` (default: the language in use), else in English, else in
        the language it has."""
        if isinstance(self.root, str):
            return self.root
        for choice in (language or current_language(), DEFAULT_LANGUAGE):
            if choice in self.root:
                return self.root[choice]
        return next(iter(self.root.values()))

    def __str__(self) -> str:
        return self.text()


#: the keys of a feedback given per framework: the frameworks, and the text for any other
FRAMEWORK_KEYS = (Framework.keras.value, Framework.pytorch.value, "default")


class Feedback(RootModel[dict[str, LocalText]]):
    """What to add when a requirement or criterion is not met: one :class:`LocalText`, or one
    per framework (``{keras: ..., pytorch: ..., default: ...}``, the default for any other)."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _read(cls, value: Any) -> Any:
        if isinstance(value, Feedback):
            return value.root
        if isinstance(value, dict) and set(value) & set(FRAMEWORK_KEYS):
            for key in value:
                if key not in FRAMEWORK_KEYS:
                    raise ValueError(
                        _("unknown key '{key}'{hint}; feedback per framework has {keys}").format(
                            key=key,
                            hint=did_you_mean(str(key), FRAMEWORK_KEYS),
                            keys=", ".join(FRAMEWORK_KEYS),
                        )
                    )
            return value
        return {"default": value}

    @property
    def by_framework(self) -> bool:
        return set(self.root) != {"default"}

    def text(self, framework: Framework | str | None = None) -> str:
        """The advice for ``framework`` (else the default, else the first given), in the
        language in use."""
        key = framework.value if isinstance(framework, Framework) else framework
        chosen = self.root.get(key or "default") or self.root.get("default")
        return (chosen or next(iter(self.root.values()))).text()


# ----------------------------------------------------------------------- rubric


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequirementSpec(_Strict):
    id: str
    title: LocalText
    check: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    feedback: Feedback | None = None

    @field_validator("check")
    @classmethod
    def _known_check(cls, v: str) -> str:
        if v not in CHECKS:
            raise ValueError(
                _("unknown check '{check}'{hint}").format(check=v, hint=did_you_mean(v, CHECKS))
            )
        return v

    def advice(self, framework: Framework) -> str | None:
        """The rubric's own advice for the framework, in the language in use (None: none)."""
        return self.feedback.text(framework) if self.feedback is not None else None


class CriterionSpec(RequirementSpec):
    points: int = Field(ge=0)
    applies_when: Literal["always", "no_hw4"] = "always"
    requires: list[str] = Field(default_factory=list)


class ConsultationSpec(_Strict):
    required: bool = False
    deadline: datetime | None = None


class Rubric(_Strict):
    id: str
    title: LocalText
    course: LocalText | None = None
    language: str | None = Field(
        default=None, description="the rubric's own language: the commands speak it by default"
    )
    max_points: int = Field(ge=0)
    deadline: datetime | None = None
    late_policy: Literal["zero", "review", "accept"] = "review"
    consultation: ConsultationSpec = Field(default_factory=ConsultationSpec)
    requirements: list[RequirementSpec] = Field(default_factory=list)
    criteria: list[CriterionSpec] = Field(default_factory=list)

    @field_validator("language")
    @classmethod
    def _known_language(cls, v: str | None) -> str | None:
        if v is not None and v not in LANGUAGES:
            raise ValueError(_unknown_language(v))
        return v

    def display_title(self) -> str:
        """The title in the language in use."""
        return self.title.text()

    def display_course(self) -> str | None:
        return self.course.text() if self.course is not None else None

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


def _path(loc: tuple[int | str, ...]) -> str:
    """``requirements[2].feedback``: where a problem is, as the rubric file nests it."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _friendly(exc: ValidationError, where: str, raw: Any) -> RubricError:
    lines = []
    for err in exc.errors():
        loc = _path(err["loc"])
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            options = _TOP_KEYS
            if len(err["loc"]) > 1 and err["loc"][0] in ("requirements", "criteria"):
                options = list(CriterionSpec.model_fields) + ["with"]
            elif len(err["loc"]) > 1 and err["loc"][0] == "consultation":
                options = list(ConsultationSpec.model_fields)
            lines.append(
                "  "
                + _("{path}: unknown key{hint}").format(path=loc, hint=did_you_mean(key, options))
            )
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"  {loc}: {message}")
    return RubricError(_("{where}: invalid rubric").format(where=where) + "\n" + "\n".join(lines))


def _check_references(rubric: Rubric, where: str) -> None:
    """Ids used once, ``requires`` naming what exists, ``with`` naming the check's parameters,
    points within ``max_points``."""
    ids = [r.id for r in rubric.requirements] + [c.id for c in rubric.criteria]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RubricError(
            _("{where}: ids used twice: {ids}").format(where=where, ids=", ".join(sorted(dupes)))
        )
    for c in rubric.criteria:
        for r in c.requires:
            if r not in ids:
                raise RubricError(
                    _(
                        "{where}: criterion '{criterion}' requires unknown '{required}'{hint}"
                    ).format(where=where, criterion=c.id, required=r, hint=did_you_mean(r, ids))
                )
    for spec in [*rubric.requirements, *rubric.criteria]:
        for key in spec.with_:
            if key not in CHECKS[spec.check].params:
                raise RubricError(
                    _("{where}: check '{check}' has no parameter '{parameter}'{hint}").format(
                        where=where,
                        check=spec.check,
                        parameter=key,
                        hint=did_you_mean(key, list(CHECKS[spec.check].params)),
                    )
                )
    if sum(c.points for c in rubric.criteria) > rubric.max_points:
        raise RubricError(
            _("{where}: criteria give more than max_points ({max_points})").format(
                where=where, max_points=rubric.max_points
            )
        )


def parse_rubric(text: str, where: str = "rubric") -> Rubric:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RubricError(
            _("{where}: not valid YAML ({error})").format(where=where, error=exc)
        ) from exc
    if not isinstance(raw, dict):
        raise RubricError(
            _("{where}: a rubric is a mapping of keys (id, title, requirements, ...)").format(
                where=where
            )
        )
    try:
        rubric = Rubric.model_validate(raw)
    except ValidationError as exc:
        raise _friendly(exc, where, raw) from None
    _check_references(rubric, where)
    return rubric


def _texts(rubric: Rubric) -> list[tuple[str, LocalText]]:
    """Every text the student reads, with where it is in the file."""
    found: list[tuple[str, LocalText]] = [("title", rubric.title)]
    if rubric.course is not None:
        found.append(("course", rubric.course))
    for group, specs in (("requirements", rubric.requirements), ("criteria", rubric.criteria)):
        for i, spec in enumerate(specs):
            found.append((f"{group}[{i}].title", spec.title))
            if spec.feedback is not None:
                split = spec.feedback.by_framework
                for key, text in spec.feedback.root.items():
                    found.append((f"{group}[{i}].feedback" + (f".{key}" if split else ""), text))
    return found


def text_problems(rubric: Rubric) -> list[str]:
    """The texts that lack a language, once the rubric declares its ``language`` or gives any
    text per language; and feedback per framework without a ``default`` (for a notebook of
    another framework). Empty: every text is there."""
    problems = []
    texts = _texts(rubric)
    if rubric.language is not None or any(isinstance(t.root, dict) for _, t in texts):
        for path, text in texts:
            if isinstance(text.root, dict):
                given = set(text.root)
            elif rubric.language is not None:
                given = {rubric.language}
            else:
                problems.append(
                    _("{path}: no language given: write it per language ({languages})").format(
                        path=path, languages=", ".join(f"{lang}: ..." for lang in LANGUAGES)
                    )
                )
                continue
            for lang in LANGUAGES:
                if lang not in given:
                    problems.append(
                        _("{path}: no '{language}' text").format(path=path, language=lang)
                    )
    for group, specs in (("requirements", rubric.requirements), ("criteria", rubric.criteria)):
        for i, spec in enumerate(specs):
            if spec.feedback is not None and "default" not in spec.feedback.root:
                problems.append(
                    _(
                        "{path}: no 'default' text (the advice for a notebook in another framework)"
                    ).format(path=f"{group}[{i}].feedback")
                )
    return problems


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
        _(
            "the grader's own rubric ({name}) is missing from this installation: reinstall "
            "the grader, or name a rubric file with --rubric FILE"
        ).format(name=f"{DEFAULT_RUBRIC}.yaml")
    )


def load_rubric(path: Path | None = None) -> Rubric:
    path = path or default_rubric_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(
            _("{path}: cannot read the rubric ({error})").format(
                path=path, error=exc.strerror or exc
            )
        ) from exc
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


@dataclass
class _Graded:
    """One requirement or criterion applied: its result, the check's outcome, and whether
    the student can act on it by themselves (not only through what it requires)."""

    result: CriterionResult
    outcome: Outcome
    actionable: bool


def _requirement(req: RequirementSpec, ev: Evidence, decision: Decision | None) -> _Graded:
    o = CHECKS[req.check].fn(ev, req.with_)
    status, reason = (decision.status, decision.reason) if decision else (o.status, o.reason)
    result = CriterionResult(
        id=req.id,
        title=req.title.text(),
        kind="requirement",
        status=status,
        reason=reason,
        cells=o.cells,
        missing=(
            None
            if status == Status.met
            else o.missing
            if o.whole_notebook  # e.g. saved without outputs: that is the first thing to fix
            else (req.advice(ev.framework) or o.missing)
        ),
    )
    actionable = status == Status.not_met or (decision is None and o.missing is not None)
    return _Graded(result, o, actionable)


def _criterion(
    crit: CriterionSpec,
    ev: Evidence,
    ctx: StudentContext,
    results: dict[str, CriterionResult],
    decision: Decision | None,
) -> _Graded:
    o = CHECKS[crit.check].fn(ev, crit.with_)
    advice = crit.advice(ev.framework)
    status, reason, missing = o.status, o.reason, o.missing
    if decision is not None:
        status, reason = decision.status, decision.reason
        points = decision.points
        if points is None:
            points = crit.points if status == Status.met else 0
        decided = CriterionResult(
            id=crit.id,
            title=crit.title.text(),
            kind="points",
            status=status,
            points=points,
            max_points=crit.points,
            reason=reason,
            cells=o.cells,
            missing=None if status == Status.met else (advice or missing),
        )
        return _Graded(decided, o, status == Status.not_met)
    actionable = status == Status.not_met or missing is not None
    if status == Status.met:
        blocked = [r for r in crit.requires if results[r].status == Status.not_met]
        review = [r for r in crit.requires if results[r].status == Status.needs_review]
        if blocked:
            status, actionable = Status.not_met, False  # the advice is the requirements'
            reason = _("{reason}; but these required parts are not met: {requirements}").format(
                reason=reason, requirements="; ".join(results[r].title for r in blocked)
            )
            missing = " ".join(results[r].missing or results[r].title for r in blocked)
        elif review:
            status, actionable = Status.needs_review, False
            reason = ngettext(
                "{reason}; {requirements} needs instructor review",
                "{reason}; {requirements} need instructor review",
                len(review),
            ).format(reason=reason, requirements=", ".join(review))
    if crit.applies_when == "no_hw4":
        if ctx.submitted_hw4 is True:
            status, reason = Status.not_applicable, _("the student submitted homework 4")
            missing = None
        elif ctx.submitted_hw4 is None and status == Status.met:
            status = Status.conditional
            reason = _(
                "{reason}; counts only if the student did not submit homework 4 (roster unknown)"
            ).format(reason=reason)
    if status != Status.met and advice:
        missing = advice
    result = CriterionResult(
        id=crit.id,
        title=crit.title.text(),
        kind="points",
        status=status,
        points=crit.points if status == Status.met else 0,
        max_points=crit.points,
        reason=reason,
        cells=o.cells,
        missing=missing if status != Status.met else None,
    )
    return _Graded(result, o, actionable)


def _at_stake(rubric: Rubric, results: Mapping[str, CriterionResult]) -> dict[str, int]:
    """Points at stake per id: a criterion's own points; a requirement's, the points of every
    applicable criterion that requires it, directly or through other criteria."""
    requires = {c.id: c.requires for c in rubric.criteria}

    def needs(cid: str) -> set[str]:
        seen: set[str] = set()
        todo = list(requires.get(cid, []))
        while todo:
            nxt = todo.pop()
            if nxt not in seen:
                seen.add(nxt)
                todo.extend(requires.get(nxt, []))
        return seen

    stake = {c.id: c.points for c in rubric.criteria}
    for r in rubric.requirements:
        stake[r.id] = sum(
            c.points
            for c in rubric.criteria
            if results[c.id].status != Status.not_applicable and r.id in needs(c.id)
        )
    return stake


def _advice(rubric: Rubric, graded: Mapping[str, _Graded]) -> list[Advice]:
    """What the student can do, one item per requirement or criterion not met (or left for
    review with something to add), the most points at stake first, then in rubric order."""
    stake = _at_stake(rubric, {k: g.result for k, g in graded.items()})
    items: list[Advice] = []
    by_text: dict[str, Advice] = {}
    by_reason: dict[str, Advice] = {}  # the same finding behind two ids is one problem
    for key, g in graded.items():
        r = g.result
        if r.status not in (Status.not_met, Status.needs_review) or not g.actionable:
            continue
        if not r.missing:
            continue
        concerns = g.outcome.concerns if g.outcome.concerns is not None else g.outcome.cells
        same = by_text.get(r.missing) or by_reason.get(r.reason)
        if same is not None:  # two ids, one piece of advice or one finding: say it once
            same.points = max(same.points, stake[key])
            same.cells = sorted({*same.cells, *concerns})
            continue
        text = r.missing[:1].upper() + r.missing[1:]  # an item of its own: a sentence
        item = Advice(criterion=key, points=stake[key], text=text, cells=list(concerns))
        by_text[r.missing] = item
        if r.reason:
            by_reason.setdefault(r.reason, item)
        items.append(item)
    return sorted(items, key=lambda a: -a.points)  # stable: rubric order among equals


@dataclass
class _Lateness:
    notes: list[str] = field(default_factory=list)
    zero: bool = False  # the points are taken away
    review: bool = False  # an instructor should decide


def _late_texts(n: int) -> tuple[str, str, str]:
    """The note on a late submission, ``n`` minutes, hours or days late (Czech declines each
    unit by the count, so each is a message of its own)."""
    return (
        ngettext(
            "submitted late by {n} minute (deadline {deadline})",
            "submitted late by {n} minutes (deadline {deadline})",
            n,
        ),
        ngettext(
            "submitted late by {n} hour (deadline {deadline})",
            "submitted late by {n} hours (deadline {deadline})",
            n,
        ),
        ngettext(
            "submitted late by {n} day (deadline {deadline})",
            "submitted late by {n} days (deadline {deadline})",
            n,
        ),
    )


def _late_note(seconds: float, deadline: str) -> str:
    if seconds < 3600:
        n, unit = max(1, round(seconds / 60)), 0
    elif seconds < 2 * 86400:
        n, unit = round(seconds / 3600), 1
    else:
        n, unit = round(seconds / 86400), 2
    return _late_texts(n)[unit].format(n=n, deadline=deadline)


def is_late_note(note: str) -> bool:
    """Whether a grade's note is the one saying the submission was late (in any language the
    grader speaks: a stored grade keeps the language it was graded in)."""
    for language in LANGUAGES:
        with use_language(language):
            for n in (1, 2, 5):
                for text in _late_texts(n):
                    prefix = text.split("{", 1)[0]
                    if prefix and note.startswith(prefix):
                        return True
    return False


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
    note = _late_note(late.total_seconds(), rubric.deadline.isoformat())
    if decision is not None:
        accepted = decision.status == Status.met
        if accepted:
            note = _("{note}; accepted: {reason}").format(note=note, reason=decision.reason)
        else:
            note = _("{note}; not accepted: {reason}").format(note=note, reason=decision.reason)
        out.zero = not accepted
    else:
        out.zero = rubric.late_policy == "zero"
        out.review = rubric.late_policy == "review"
    out.notes.append(note)
    return out


def _consultation_note(rubric: Rubric, ctx: StudentContext) -> str | None:
    deadline = rubric.consultation.deadline
    date = deadline.date().isoformat() if deadline else None
    if ctx.consultation_done is False:
        if date:
            return _(
                "points count only after the required consultation (by {date}): not done yet"
            ).format(date=date)
        return _("points count only after the required consultation: not done yet")
    if ctx.consultation_done is None:
        if date:
            return _("points count only after the required consultation (by {date})").format(
                date=date
            )
        return _("points count only after the required consultation")
    return None


def _apply(
    rubric: Rubric,
    ev: Evidence,
    ctx: StudentContext,
    decided: Mapping[str, Decision] | None = None,
) -> Grade:
    decided = decided or {}
    graded: dict[str, _Graded] = {}
    results: dict[str, CriterionResult] = {}
    for req in rubric.requirements:
        graded[req.id] = _requirement(req, ev, decided.get(req.id))
        results[req.id] = graded[req.id].result
    for crit in rubric.criteria:
        graded[crit.id] = _criterion(crit, ev, ctx, results, decided.get(crit.id))
        results[crit.id] = graded[crit.id].result
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
        if ctx.consultation_done is False:
            counted = False
        elif ctx.consultation_done is None:
            counted = None if counted else counted
        if (note := _consultation_note(rubric, ctx)) is not None:
            notes.append(note)
    requirements_met = all(results[r.id].status == Status.met for r in rubric.requirements)
    needs_review = any(r.status == Status.needs_review for r in results.values()) or lateness.review
    return Grade(
        rubric=rubric.id,
        language=current_language(),
        points=points,
        max_points=rubric.max_points,
        potential_points=max(points, potential),
        requirements_met=requirements_met,
        needs_review=needs_review,
        counted=counted,
        notes=notes,
        criteria=list(results.values()),
        advice=_advice(rubric, graded),
    )
