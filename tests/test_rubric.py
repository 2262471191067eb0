"""The rubric file is validated strictly and applied by a small engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import RubricError
from grader.evidence import (
    Discussion,
    Evidence,
    Hygiene,
    Method,
    ModelKind,
    ModelRun,
    NotebookInfo,
    Provenance,
)
from grader.grade.result import Status
from grader.grade.rubric import default_rubric_path, load_rubric, parse_rubric
from grader.intake.submission import StudentContext

INFO = NotebookInfo(path="x.ipynb", sha256="0" * 64, nbformat="4.5", cells=1)


def _model(i: int, kind: ModelKind, base: str | None = None, acc: float | None = 0.7) -> ModelRun:
    return ModelRun(
        id=f"m{i}",
        name=f"model{i}",
        kind=kind,
        base=base,
        test_accuracy=acc,
        curves_shown=True,
        confusion_matrix_shown=True,
        fit_cells=[i],
        provenance=Provenance(cell=i, method=Method.output_log, confidence=0.9),
    )


def _evidence(*models: ModelRun, discussion: Discussion | None = None) -> Evidence:
    return Evidence(
        notebook=INFO,
        framework="keras",
        models=list(models),
        has_curves=True,
        has_confusion_matrix=True,
        has_written_summary=True,
        discussion=discussion
        or Discussion(
            present=True,
            cells=[9],
            words=80,
            compares_models=True,
            discusses_generalisation=True,
            discusses_training_time=True,
            mentions_variants=True,
        ),
        hygiene=Hygiene(code_cells=5, executed_cells=5, has_outputs=True),
    )


THREE = (
    _model(1, ModelKind.scratch_cnn),
    _model(2, ModelKind.custom_residual),
    _model(3, ModelKind.transfer_frozen, "MobileNetV2"),
)


def test_the_bundled_rubric_is_valid() -> None:
    r = load_rubric(default_rubric_path())
    assert r.max_points == 3
    assert {c.id for c in r.criteria} == {"baseline_cnn", "three_models", "variants"}


def test_three_models_with_fine_tuning_earn_three_points_without_hw4() -> None:
    ev = _evidence(*THREE, _model(4, ModelKind.fine_tuned, "MobileNetV2"))
    g = load_rubric().grade(ev, StudentContext(submitted_hw4=False, consultation_done=True))
    assert g.points == 3 and g.requirements_met and g.counted is True


def test_baseline_point_does_not_apply_to_students_who_did_hw4() -> None:
    g = load_rubric().grade(_evidence(*THREE), StudentContext(submitted_hw4=True))
    baseline = next(c for c in g.criteria if c.id == "baseline_cnn")
    assert baseline.status == Status.not_applicable
    assert g.points == 1  # three models; no variant


def test_unknown_hw4_makes_the_baseline_point_conditional() -> None:
    g = load_rubric().grade(_evidence(*THREE))
    baseline = next(c for c in g.criteria if c.id == "baseline_cnn")
    assert baseline.status == Status.conditional
    assert g.points == 1 and g.potential_points == 2


def test_missing_approach_blocks_the_comparison_point_and_says_what_is_missing() -> None:
    g = load_rubric().grade(_evidence(*THREE[:2]), StudentContext(submitted_hw4=False))
    three = next(c for c in g.criteria if c.id == "three_models")
    assert three.status == Status.not_met
    assert "pretrained" in three.reason
    assert three.missing
    assert not g.requirements_met


def test_unclear_discussion_goes_to_review_not_to_zero() -> None:
    d = Discussion(
        present=True, cells=[9], words=60, compares_models=True, discusses_generalisation=True
    )
    g = load_rubric().grade(_evidence(*THREE, discussion=d), StudentContext(submitted_hw4=True))
    summary = next(c for c in g.criteria if c.id == "summary")
    assert summary.status == Status.needs_review
    assert g.needs_review


def test_points_count_only_after_consultation_and_late_work_is_flagged() -> None:
    ctx = StudentContext(
        submitted_hw4=True, consultation_done=False, submitted_at="2025-11-19T10:00:00+01:00"
    )
    g = load_rubric().grade(_evidence(*THREE), ctx)
    assert g.counted is False
    assert any("late" in n for n in g.notes)
    assert any("consultation" in n for n in g.notes)


def test_unknown_keys_are_errors_with_a_suggestion(tmp_path: Path) -> None:
    text = default_rubric_path().read_text().replace("max_points: 3", "max_pionts: 3")
    with pytest.raises(RubricError, match="did you mean 'max_points'"):
        parse_rubric(text)
    text2 = default_rubric_path().read_text().replace("check: curves_shown", "check: curve_shown")
    with pytest.raises(RubricError, match="curves_shown"):
        parse_rubric(text2)
    text3 = (
        default_rubric_path()
        .read_text()
        .replace("requires: [three_models]", "requires: [three_model]")
    )
    with pytest.raises(RubricError, match="three_models"):
        parse_rubric(text3)
