"""The rubric speaks Czech and English, advises for the framework the notebook uses, and
orders its advice by the points at stake.

The Czech texts of the engine's own sentences come from the compiled catalog
(``grader/locale/cs/LC_MESSAGES/grader.mo``); the rubric's texts come from the rubric file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import i18n
from grader.cli import main
from grader.errors import RubricError
from grader.evidence import (
    Discussion,
    Evidence,
    Framework,
    Hygiene,
    Method,
    MissingAccuracy,
    MissingCode,
    ModelKind,
    ModelRun,
    NotebookInfo,
    Provenance,
)
from grader.grade.result import Grade, Status
from grader.grade.rubric import (
    CHECKS,
    LocalText,
    default_rubric_path,
    is_late_note,
    load_rubric,
    parse_rubric,
    text_problems,
)
from grader.i18n import use_language
from grader.intake.submission import StudentContext

INFO = NotebookInfo(path="x.ipynb", sha256="0" * 64, nbformat="4.5", cells=1)


@pytest.fixture(autouse=True)
def _fresh_catalogs() -> None:
    i18n._catalog.cache_clear()


def _model(
    i: int,
    kind: ModelKind,
    framework: Framework,
    *,
    acc: float | None = 0.7,
    curves: bool = True,
    cm: bool = True,
    base: str | None = None,
) -> ModelRun:
    return ModelRun(
        id=f"m{i}",
        name=f"model{i}",
        kind=kind,
        base=base,
        framework=framework,
        test_accuracy=acc,
        curves_shown=curves,
        confusion_matrix_shown=cm,
        fit_cells=[i * 10],
        provenance=Provenance(cell=i * 10, method=Method.output_log, confidence=0.9),
    )


def _evidence(
    framework: Framework,
    *models: ModelRun,
    curves: bool = True,
    cm: bool = True,
    discussion: Discussion | None = None,
) -> Evidence:
    return Evidence(
        notebook=INFO,
        framework=framework,
        models=list(models),
        has_curves=curves,
        has_confusion_matrix=cm,
        has_written_summary=True,
        discussion=discussion
        or Discussion(
            present=True,
            cells=[90],
            words=80,
            compares_models=True,
            discusses_generalisation=True,
            discusses_training_time=True,
            mentions_variants=True,
        ),
        hygiene=Hygiene(code_cells=5, executed_cells=5, has_outputs=True),
    )


def _three(framework: Framework, *, curves: bool = True, cm: bool = True) -> list[ModelRun]:
    return [
        _model(1, ModelKind.scratch_cnn, framework, curves=curves, cm=cm),
        _model(2, ModelKind.custom_residual, framework, curves=curves, cm=cm),
        _model(3, ModelKind.transfer_frozen, framework, curves=curves, cm=cm, base="MobileNetV2"),
    ]


def _lacking_everything(framework: Framework) -> Evidence:
    """Three models without curves, without a confusion matrix, one without a test accuracy."""
    models = _three(framework, curves=False, cm=False)
    models[1].test_accuracy = None
    models[1].test_accuracy_missing = MissingAccuracy(
        code=MissingCode.not_evaluated, reason="never evaluated on the test set", cell=21
    )
    return _evidence(framework, *models, curves=False, cm=False)


def _grade(ev: Evidence, language: str = "en", **ctx: object) -> Grade:
    with use_language(language):
        return load_rubric().grade(ev, StudentContext.model_validate(ctx))


def _advice(g: Grade) -> dict[str, str]:
    return {a.criterion: a.text for a in g.advice}


# ------------------------------------------------------------------ advice per framework


@pytest.mark.parametrize("language", ["en", "cs"])
def test_keras_and_pytorch_students_get_advice_for_their_framework(language: str) -> None:
    keras = _advice(_grade(_lacking_everything(Framework.keras), language))
    torch = _advice(_grade(_lacking_everything(Framework.pytorch), language))
    assert set(keras) == set(torch) >= {"curves", "test_accuracy", "confusion_matrix"}
    for key in ("curves", "test_accuracy", "confusion_matrix"):
        assert keras[key] != torch[key], key
    assert "history.history" in keras["curves"] and "history.history" not in torch["curves"]
    assert "model.evaluate(x_test, y_test)" in keras["test_accuracy"]
    assert "model.evaluate" not in torch["test_accuracy"]
    assert "confusion_matrix" in keras["confusion_matrix"]
    assert "sklearn.metrics.confusion_matrix" in torch["confusion_matrix"]
    if language == "en":
        assert "lists" in torch["curves"] and "test loader" in torch["test_accuracy"]
        assert "test loader" in torch["confusion_matrix"]
    else:
        assert "seznamů" in torch["curves"] and "DataLoader" in torch["test_accuracy"]
        assert "Vyhodnoťte" in keras["test_accuracy"]


def test_a_notebook_of_another_framework_gets_the_default_advice() -> None:
    advice = _advice(_grade(_lacking_everything(Framework.unknown)))
    assert "history.history" not in advice["curves"]
    assert "lists" not in advice["curves"]
    assert advice["curves"].startswith("Plot the training and validation loss")


def test_the_engines_own_texts_name_the_frameworks_calls() -> None:
    keras, torch = _lacking_everything(Framework.keras), _lacking_everything(Framework.pytorch)
    for name in ("curves_shown", "test_accuracy_reported", "confusion_matrix_shown"):
        k, t = CHECKS[name].fn(keras, {}), CHECKS[name].fn(torch, {})
        assert k.missing and t.missing and k.missing != t.missing, name
    assert "history.history" in (CHECKS["curves_shown"].fn(keras, {}).missing or "")
    torch_curves = CHECKS["curves_shown"].fn(torch, {}).missing or ""
    assert "history" not in torch_curves and "lists" in torch_curves
    torch_cm = CHECKS["confusion_matrix_shown"].fn(torch, {}).missing or ""
    assert "sklearn.metrics.confusion_matrix" in torch_cm and "test loader" in torch_cm
    torch_acc = CHECKS["test_accuracy_reported"].fn(torch, {}).missing or ""
    assert "model1" not in torch_acc and "model2" in torch_acc and "test loader" in torch_acc


# ------------------------------------------------------------------ advice by points


def test_advice_comes_most_points_first_then_in_rubric_order() -> None:
    g = _grade(_lacking_everything(Framework.keras), submitted_hw4=False)
    stake = [(a.criterion, a.points) for a in g.advice]
    # curves and test accuracy: the baseline point, the three models and the variants
    # (through the three models); the confusion matrix: the three models and the variants
    # the variants point: one of its own (no variant trained)
    assert stake == [("curves", 3), ("test_accuracy", 3), ("confusion_matrix", 2), ("variants", 1)]
    # the baseline and three-models points wait on the requirements: no advice of their own
    assert not {"baseline_cnn", "three_models"} & {a.criterion for a in g.advice}


def test_a_criterion_that_does_not_apply_puts_no_points_at_stake() -> None:
    g = _grade(_lacking_everything(Framework.keras), submitted_hw4=True)
    assert {a.criterion: a.points for a in g.advice} == {
        "curves": 2,
        "test_accuracy": 2,
        "confusion_matrix": 2,
        "variants": 1,
    }


def test_advice_points_at_the_cells_it_concerns() -> None:
    g = _grade(_lacking_everything(Framework.keras))
    cells = {a.criterion: a.cells for a in g.advice}
    assert cells["test_accuracy"] == [21]  # where the extraction says the accuracy is missing
    assert cells["curves"] == [10, 20, 30]  # the models without curves


def test_a_criterion_not_met_by_itself_advises_with_its_own_points() -> None:
    ev = _evidence(Framework.pytorch, *_three(Framework.pytorch))
    g = _grade(ev, submitted_hw4=True)
    assert [(a.criterion, a.points) for a in g.advice] == [("variants", 1)]
    (variants,) = g.advice
    assert "requires_grad" in variants.text and "base_model.trainable" not in variants.text
    keras = _grade(_evidence(Framework.keras, *_three(Framework.keras)), submitted_hw4=True)
    assert "base_model.trainable" in keras.advice[0].text


def test_review_without_anything_to_add_gives_no_advice() -> None:
    models = _three(Framework.keras, cm=False)
    g = _grade(_evidence(Framework.keras, *models, cm=True), submitted_hw4=True)
    cm = next(c for c in g.criteria if c.id == "confusion_matrix")
    assert cm.status == Status.needs_review
    assert "confusion_matrix" not in {a.criterion for a in g.advice}


def test_everything_met_means_no_advice_and_the_grade_says_its_language() -> None:
    models = [*_three(Framework.keras), _model(4, ModelKind.fine_tuned, Framework.keras)]
    g = _grade(_evidence(Framework.keras, *models), submitted_hw4=False, consultation_done=True)
    assert g.points == 3 and g.advice == [] and g.language == "en"
    assert _grade(_evidence(Framework.keras, *models), "cs").language == "cs"


# ------------------------------------------------------------------ rubric texts


def test_the_bundled_rubric_has_every_text_in_both_languages() -> None:
    r = load_rubric(default_rubric_path())
    assert r.language == "cs"
    assert text_problems(r) == []
    with use_language("en"):
        english = r.display_title()
    with use_language("cs"):
        czech = r.display_title()
    assert english.startswith("Homework 5") and czech.startswith("Domácí úkol 5")
    assert main(["rubric", "validate", str(default_rubric_path()), "--lang", "en"]) == 0


def test_a_text_falls_back_to_english_then_to_any_language() -> None:
    both = LocalText.model_validate({"cs": "ahoj", "en": "hello"})
    only_cs = LocalText.model_validate({"cs": "ahoj"})
    with use_language("cs"):
        assert both.text() == "ahoj" and only_cs.text() == "ahoj"
    with use_language("en"):
        assert both.text() == "hello" and only_cs.text() == "ahoj"
        assert LocalText.model_validate("plain").text() == "plain"
    assert both.text("cs") == "ahoj"


def _rubric_text(**replace: str) -> str:
    text = default_rubric_path().read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


def test_a_text_without_one_language_is_reported_with_where_it_is(tmp_path: Path) -> None:
    text = _rubric_text(
        **{
            "      en: Final test accuracy of each model\n": "",
            "      en: >-\n        Add a markdown cell that compares the models: which generalises "
            "best and why, and\n        how their training times differ.\n": "",
        }
    )
    rubric = parse_rubric(text)
    problems = text_problems(rubric)
    assert "requirements[1].title: no 'en' text" in problems
    assert any(p.startswith("requirements[4].feedback: no 'en' text") for p in problems)
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["rubric", "validate", str(path), "--lang", "en"]) == 2


def test_a_plain_text_in_a_rubric_with_a_language_lacks_the_others() -> None:
    text = (
        "id: x\nlanguage: cs\ntitle: Úkol\nmax_points: 0\nrequirements:\n"
        "  - id: a\n    title: {cs: Křivky, en: Curves}\n    check: curves_shown\n"
        "    feedback: {keras: {cs: a, en: b}, pytorch: {cs: c}}\n"
    )
    problems = text_problems(parse_rubric(text))
    assert "title: no 'en' text" in problems
    assert "requirements[0].feedback.pytorch: no 'en' text" in problems
    assert any(p.startswith("requirements[0].feedback: no 'default' text") for p in problems)
    # a rubric in one language, without a language declared, asks for nothing
    assert text_problems(parse_rubric("id: x\ntitle: Task\nmax_points: 0\n")) == []


@pytest.mark.parametrize(
    ("old", "new", "hint"),
    [
        ("      en: Final test accuracy", "      cz: Final test accuracy", "did you mean 'en'"),
        ("  cs: \"Neuronové sítě 2", "  cz: \"Neuronové sítě 2", "did you mean 'cs'"),
        ("      pytorch:\n        cs: >-\n          V tré", "      pytorh:\n        cs: >-\n          V tré",
         "did you mean 'pytorch'"),
        ("language: cs\n", "language: cz\n", "did you mean 'cs'"),
    ],
)  # fmt: skip
def test_unknown_language_or_framework_keys_are_errors_with_a_suggestion(
    old: str, new: str, hint: str
) -> None:
    with pytest.raises(RubricError) as err:
        parse_rubric(_rubric_text(**{old: new}), "r.yaml")
    assert hint in err.value.message, err.value.message


def test_an_unknown_language_error_names_the_field_path() -> None:
    with pytest.raises(RubricError, match=r"requirements\[1\]\.title: unknown language 'cz'"):
        parse_rubric(_rubric_text(**{"      en: Final test accuracy": "      cz: Final"}))


# ------------------------------------------------------------------ Czech


def _texts(g: Grade) -> list[str]:
    out = [t for c in g.criteria for t in (c.title, c.reason, c.missing) if t]
    return out + list(g.notes) + [a.text for a in g.advice]


@pytest.mark.parametrize("framework", [Framework.keras, Framework.pytorch])
def test_czech_grades_have_no_english_sentence_left(framework: Framework) -> None:
    ctx = {"submitted_at": "2025-11-19T10:00:00+01:00", "consultation_done": False}
    samples = [
        _lacking_everything(framework),
        _evidence(
            framework,
            *_three(framework)[:2],
            discussion=Discussion(present=True, cells=[9], words=40, compares_models=True),
        ),
        _evidence(framework, *_three(framework), _model(4, ModelKind.fine_tuned, framework)),
    ]
    for ev in samples:
        english, czech = _texts(_grade(ev, "en", **ctx)), _texts(_grade(ev, "cs", **ctx))
        assert len(english) == len(czech)
        same = [e for e, c in zip(english, czech, strict=True) if e == c]
        assert not same, same


def test_a_late_note_is_recognised_in_both_languages() -> None:
    ctx = {"submitted_at": "2025-11-19T10:00:00+01:00"}
    ev = _evidence(Framework.keras, *_three(Framework.keras))
    english, czech = _grade(ev, "en", **ctx).notes[0], _grade(ev, "cs", **ctx).notes[0]
    assert english.startswith("submitted late by 34 hours") and english != czech
    for language in ("en", "cs"):
        with use_language(language):
            assert is_late_note(english) and is_late_note(czech)
            assert not is_late_note("points count only after the required consultation")
