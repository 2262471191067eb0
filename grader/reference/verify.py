"""CI over the reference solutions: each reference notebook earns its points and lands in its bands.

:func:`verify_references` executes every notebook listed in the expectations
file (one seeded, deterministic run each, in the given profile) and
:func:`judge_run` holds the run to its expectations: the run finished, every
expected model was trained (same kind and base), the rubric gives the expected
points and requirements, each model's test accuracy lies inside its band and
the band checks report no problem. Every problem is one line that names the
notebook and what broke.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from grader.check.band_checks import (
    BASE_INPUT_RANGE,
    PROBLEM_CODES,
    BandContext,
    band_findings,
)
from grader.check.bands import BandSet, select_band_set
from grader.evidence import Evidence, Finding, ModelKind, ModelRun
from grader.grade.result import Grade, Status
from grader.grade.rubric import Rubric, load_rubric
from grader.intake.submission import StudentContext
from grader.reference.expectations import (
    Expectations,
    ExpectedModel,
    NotebookExpectation,
    ReferenceSolutionError,
    match_models,
)
from grader.reference.runs import RunSettings, prepare_reference, sources_sha256

if TYPE_CHECKING:
    from grader.execute.records import RunFailure

__all__ = [
    "ModelCheck",
    "NotebookVerdict",
    "VerifyReport",
    "judge_run",
    "verify_references",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelCheck(_Model):
    label: str
    kind: str
    base: str | None = None
    found: str | None = Field(None, description="name of the run's model matched to it")
    test_accuracy: float | None = None
    band: tuple[float, float] | None = None
    in_band: bool | None = None


class NotebookVerdict(_Model):
    notebook: str
    seed: int | None = None
    ok: bool
    problems: list[str] = Field(default_factory=list)
    points: int | None = None
    expected_points: int
    max_points: int | None = None
    models: list[ModelCheck] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list, description="band-check findings")
    wall_seconds: float | None = None
    from_cache: bool = False


class VerifyReport(_Model):
    profile: str
    band_file: str | None = None
    ok: bool
    problems: list[str] = Field(default_factory=list, description="not tied to one notebook")
    notes: list[str] = Field(default_factory=list, description="worth knowing, not failures")
    notebooks: list[NotebookVerdict] = Field(default_factory=list)
    wall_seconds: float = 0.0

    def all_problems(self) -> list[str]:
        return self.problems + [p for n in self.notebooks for p in n.problems]


# ------------------------------------------------------------------ judging


def _describe_models(models: Sequence[ModelRun]) -> str:
    return (
        ", ".join(f"{m.name} ({m.kind.value}{', ' + m.base if m.base else ''})" for m in models)
        or "no model"
    )


def _missing_model(nb: str, exp: ExpectedModel, models: Sequence[ModelRun], used: set[str]) -> str:
    text = f"{nb}: {exp.describe()} is missing"
    if exp.base:
        same_base = [m for m in models if m.base and m.base.lower() == exp.base.lower()]
        others = [m for m in same_base if m.kind != exp.kind]
        if others:
            m = others[0]
            reasons = "; ".join(m.kind_reasons[:2])
            text += f": the {exp.base} model {m.name} was trained as {m.kind.value}"
            text += f" ({reasons})" if reasons else ""
            if exp.kind == ModelKind.transfer_frozen and m.kind == ModelKind.fine_tuned:
                text += ". Was its base left unfrozen (base_model.trainable = False missing)?"
            return text
    rest = [m for m in models if m.id not in used]
    return (
        text
        + f"; the run trained {_describe_models(models)}"
        + (f" (unmatched: {_describe_models(rest)})" if rest and len(rest) != len(models) else "")
    )


def _grade_problems(nb: str, item: NotebookExpectation, grade: Grade) -> list[str]:
    out = []
    requirements = [c for c in grade.criteria if c.kind == "requirement"]
    if item.requirements_met:
        for c in requirements:
            if c.status != Status.met:
                out.append(f"{nb}: requirement '{c.title}' is {c.status.value}: {c.reason}")
    if grade.points != item.points:
        lost = [
            f"{c.id} {c.status.value} ({c.reason})"
            for c in grade.criteria
            if c.kind == "points" and c.status not in (Status.met, Status.not_applicable)
        ]
        out.append(
            f"{nb}: earned {grade.points} of {grade.max_points} points, expected {item.points}"
            + (": " + "; ".join(lost) if lost else "")
        )
    return out


def judge_run(
    item: NotebookExpectation,
    evidence: Evidence | None,
    *,
    rubric: Rubric,
    band_set: BandSet | None,
    failure: RunFailure | None = None,
    seed: int | None = None,
    context: BandContext | None = None,
    grade: Grade | None = None,
) -> NotebookVerdict:
    """Hold one run of a reference notebook to its expectations (pure).

    ``grade`` is the run's grade when the caller graded it already (else it is
    graded here, as a student without homework 4 would be when ``hw4`` says so).
    """
    nb = item.path
    problems: list[str] = []
    if failure is not None:
        where = f" in cell {failure.cell}" if failure.cell is not None else ""
        problems.append(f"{nb}: the run failed ({failure.kind.value}{where}): {failure.message}")
    if evidence is None:
        problems.append(f"{nb}: no evidence from the run")
        return NotebookVerdict(
            notebook=nb, seed=seed, ok=False, problems=problems, expected_points=item.points
        )
    if grade is None:
        grade = rubric.grade(evidence, StudentContext(submitted_hw4=item.hw4))
    matched = match_models(item.models, evidence.models)
    used = {m.id for _, m in matched if m is not None}
    checks: list[ModelCheck] = []
    for exp, m in matched:
        check = ModelCheck(label=exp.label, kind=exp.kind.value, base=exp.base)
        if m is None:
            problems.append(_missing_model(nb, exp, evidence.models, used))
            checks.append(check)
            continue
        check.found = m.name
        check.test_accuracy = m.test_accuracy
        band = band_set.band_for(exp.kind.value, exp.base or m.base) if band_set else None
        if band is not None and band.test_accuracy is not None:
            check.band = band.test_accuracy
        if m.test_accuracy is None:
            problems.append(f"{nb}: {exp.describe()} ({m.name}) shows no test accuracy")
        elif check.band is not None:
            low, high = check.band
            check.in_band = low <= m.test_accuracy <= high
            if item.in_band and not check.in_band and band_set is not None:
                problems.append(
                    f"{nb}: {exp.describe()}: test accuracy {m.test_accuracy:.4f} is outside its "
                    f"band {low:.4f}–{high:.4f} ({band_set.describe()})"
                )
        checks.append(check)
    problems.extend(_grade_problems(nb, item, grade))
    findings: list[Finding] = []
    if band_set is not None:
        findings = band_findings(evidence, band_set, context)
        for f in findings:
            if f.code in PROBLEM_CODES:
                problems.append(f"{nb}: band check {f.code}: {f.message}")
    for f in evidence.findings:
        if f.code == BASE_INPUT_RANGE:  # a reference must feed its bases what they expect
            problems.append(f"{nb}: {f.code}: {f.message}")
    return NotebookVerdict(
        notebook=nb,
        seed=seed,
        ok=not problems,
        problems=problems,
        points=grade.points,
        expected_points=item.points,
        max_points=grade.max_points,
        models=checks,
        findings=findings,
    )


# ------------------------------------------------------------------ running


def _verify_one(
    expectations: Expectations,
    item: NotebookExpectation,
    seed: int,
    settings: RunSettings,
    rubric: Rubric,
    band_set: BandSet | None,
    tmp: str,
) -> NotebookVerdict:
    """Run one reference notebook, grade it as a student's, and hold it to its expectations."""
    from grader.intake.submission import Submission
    from grader.pipeline import grade_submission
    from grader.report.results import RunInfo

    source = expectations.notebook_path(item)
    target = prepare_reference(source, item, seed, settings, Path(tmp) / Path(item.path).stem)
    graded = grade_submission(
        Submission.of_notebook(target, StudentContext(submitted_hw4=item.hw4)),
        settings.options(seed),
        rubric=rubric,
        executor=settings.run_executor(),
    )
    result = graded.run
    assert result is not None and not isinstance(result, RunInfo)
    verdict = judge_run(
        item,
        result.evidence,
        rubric=rubric,
        band_set=band_set,
        failure=result.failure,
        seed=seed,
        context=BandContext.for_run(result),
        grade=graded.report.grade if graded.report is not None else None,
    )
    verdict.wall_seconds = result.wall_seconds
    verdict.from_cache = result.from_cache
    return verdict


def _rubric(expectations: Expectations, rubric: Rubric | None) -> Rubric:
    if rubric is not None:
        return rubric
    return load_rubric(expectations.rubric_path())


def _changed_since_build(
    expectations: Expectations, items: Sequence[NotebookExpectation], band_set: BandSet | None
) -> list[str]:
    """Notebooks whose cells changed since the band file was built (its bands may be stale)."""
    import nbformat

    if band_set is None:
        return []
    built = {
        str(n.get("path")): n.get("sources_sha256")
        for n in band_set.provenance.get("notebooks", [])
        if isinstance(n, dict)
    }
    out = []
    for item in items:
        recorded = built.get(item.path)
        if not recorded:
            continue
        try:
            nb = nbformat.read(str(expectations.notebook_path(item)), as_version=4)
        except (OSError, ValueError):
            continue
        if sources_sha256(nb) != recorded:
            out.append(
                f"{item.path} changed since {Path(band_set.path or 'the band file').name} was "
                f"built: rebuild it with `grader reference build --profile {band_set.profile}`"
            )
    return out


def verify_references(
    expectations: Expectations,
    settings: RunSettings,
    band_sets: Sequence[BandSet],
    *,
    seed: int | None = None,
    rubric: Rubric | None = None,
    require_band: bool = True,
    only: Sequence[str] | None = None,
    on_notebook: Callable[[NotebookVerdict], None] | None = None,
) -> VerifyReport:
    """Execute every reference notebook once and hold each to its expectations and bands.

    ``seed`` defaults to the first seed the band was built with (a deterministic
    rerun then reproduces one of the band's own runs); ``only`` restricts the
    run to the named notebooks.
    """
    started = time.monotonic()
    rub = _rubric(expectations, rubric)
    data = settings.data_name()
    band_set = select_band_set(band_sets, settings.profile, data)
    problems: list[str] = []
    if band_set is None and require_band:
        problems.append(
            f"no band file for the {settings.profile} profile on {data} data: build it with "
            f"`grader reference build --profile {settings.profile}`"
        )
    run_seed = seed if seed is not None else ((band_set.seeds() if band_set else []) or [1])[0]
    items = [
        n for n in expectations.notebooks if not only or n.path in only or Path(n.path).stem in only
    ]
    if only and not items:
        raise ReferenceSolutionError(
            "no reference notebook named "
            + ", ".join(only)
            + "; listed: "
            + ", ".join(n.path for n in expectations.notebooks)
        )
    notes = _changed_since_build(expectations, items, band_set)
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="grader-verify-") as tmp:
        for item in items:
            source = expectations.notebook_path(item)
            if not source.is_file():
                verdict = NotebookVerdict(
                    notebook=item.path,
                    seed=run_seed,
                    ok=False,
                    problems=[f"{item.path}: the notebook does not exist ({source})"],
                    expected_points=item.points,
                )
            else:
                verdict = _verify_one(expectations, item, run_seed, settings, rub, band_set, tmp)
            verdicts.append(verdict)
            if on_notebook is not None:
                on_notebook(verdict)
    return VerifyReport(
        profile=settings.profile,
        band_file=band_set.path if band_set else None,
        ok=not problems and all(v.ok for v in verdicts),
        problems=problems,
        notes=notes,
        notebooks=verdicts,
        wall_seconds=round(time.monotonic() - started, 1),
    )
