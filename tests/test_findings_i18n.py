"""Findings and the reasons a test accuracy is missing speak the language in use.

The same notebook checked in Czech and in English gives the same finding codes, the same
missing-accuracy codes and the same JSON document; only the sentences differ, and the
Czech ones are Czech. Advice that depends on the framework names that framework's calls.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from grader.check.band_checks import BandContext, band_findings
from grader.check.bands import default_bands_folder, load_band_sets
from grader.evidence import (
    DataFacts,
    Evidence,
    Finding,
    Framework,
    Method,
    ModelKind,
    ModelRun,
    NotebookInfo,
    Provenance,
)
from grader.extract import extract_evidence
from grader.grade.result import CheckReport
from grader.grade.rubric import load_rubric
from grader.i18n import use_language
from tests.scenarios import SCENARIOS

#: scenarios between them showing most findings of reading and every kind of missing reason
NAMES = (
    "no_outputs",
    "misleading_heading",
    "bagging_loop_and_an_ensemble",
    "best_results_series_and_a_stale_copy",
    "fastai_fine_tune",
    "plot_call_value_is_not_an_evaluate_result",
    "frozen_then_fine_tuned_in_one_cell",
    "keras_validated_on_test_then_evaluated_without_a_print",
)
INFO = NotebookInfo(path="hw5.ipynb", sha256="0" * 64, nbformat="4.5", cells=1)

# text quoted from the notebook (a heading, a sentence of the summary) stays as written
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
# words an English sentence can hardly do without, and no Czech sentence has
_ENGLISH = re.compile(
    r"\b(the|is|are|was|were|of|and|with|but|not|only|which|this|that|its|it|has|have|"
    r"from|for|than|been|should|could|never|above|below)\b",
    re.IGNORECASE,
)


def _english_words(text: str) -> list[str]:
    return _ENGLISH.findall(_QUOTED.sub("", text))


def _scenario(name: str, language: str) -> Evidence:
    """The evidence of a scenario notebook, compared with the bands the package carries (the
    static context finds none for CIFAR-10: ``no-band`` and the checks without a band) and
    with the smoke band of the synthetic data (``reference-band`` and the band checks)."""
    with use_language(language):
        nb, _expected = SCENARIOS[name]()
        info = INFO.model_copy(update={"cells": len(nb.cells)})
        ev = extract_evidence(nb, info)
        sets = load_band_sets(default_bands_folder())
        ev.findings += band_findings(ev, sets, BandContext.static(ev))
        ev.findings += band_findings(ev, sets, BandContext(profile="smoke", data="synthetic"))
        return ev


def _model(i: int, kind: ModelKind, acc: float, framework: Framework, **kw: Any) -> ModelRun:
    history = kw.pop(
        "history",
        {
            "accuracy": [0.5, 0.7, 0.85, 0.95, 0.99, 1.0],
            "val_accuracy": [0.5, 0.6, 0.64, 0.63, 0.62, 0.62],
            "loss": [1.2, 0.8, 0.4, 0.15, 0.05, 0.01],
            "val_loss": [1.2, 1.0, 0.95, 1.1, 1.3, 1.5],
        },
    )
    return ModelRun(
        id=f"m{i}",
        name=f"model{i}",
        kind=kind,
        framework=framework,
        epochs=len(history["accuracy"]),
        learning_rate=1e-3,
        history=history,
        test_accuracy=acc,
        fit_cells=[i],
        provenance=Provenance(cell=i, method=Method.source, confidence=0.9),
        **kw,
    )


def _trained(framework: Framework, language: str) -> list[Finding]:
    """A notebook whose models trip the checks that need no band: a CNN at chance level that
    overfits, a test accuracy far above validation, transfer learning below the CNN from
    scratch and fine-tuning without a lower learning rate."""
    leaky = {"accuracy": [0.6, 0.9, 0.99], "val_accuracy": [0.5, 0.58, 0.6]}
    ev = Evidence(
        notebook=INFO,
        framework=framework,
        models=[
            _model(1, ModelKind.scratch_cnn, 0.62, framework),
            _model(2, ModelKind.custom_xception, 0.11, framework),
            _model(3, ModelKind.transfer_frozen, 0.55, framework, base="MobileNetV2"),
            _model(4, ModelKind.fine_tuned, 0.5, framework, base="MobileNetV2", continues="m3"),
            _model(5, ModelKind.custom_residual, 0.97, framework, history=leaky),
        ],
        data=DataFacts(dataset="cifar10", n_classes=10, val_size=1000, test_size=1000),
    )
    with use_language(language):
        return band_findings(ev, [], BandContext(profile="full", data="cifar10"))


def _pairs(name: str) -> tuple[Evidence, Evidence]:
    return _scenario(name, "en"), _scenario(name, "cs")


def _assert_czech(english: str, czech: str) -> None:
    assert czech != english, czech
    assert not _english_words(czech), f"English words {_english_words(czech)} in: {czech}"


@pytest.mark.parametrize("name", NAMES)
def test_findings_keep_their_codes_and_speak_czech(name: str) -> None:
    en, cs = _pairs(name)
    assert [(f.code, f.severity, f.cell, f.model) for f in cs.findings] == [
        (f.code, f.severity, f.cell, f.model) for f in en.findings
    ]
    assert en.findings
    for e, c in zip(en.findings, cs.findings, strict=True):
        _assert_czech(e.message, c.message)


@pytest.mark.parametrize("name", NAMES)
def test_missing_accuracy_reasons_keep_their_codes_and_speak_czech(name: str) -> None:
    en, cs = _pairs(name)
    missing_en = [m.test_accuracy_missing for m in en.models]
    missing_cs = [m.test_accuracy_missing for m in cs.models]
    assert [(m.code, m.cell) if m else None for m in missing_cs] == [
        (m.code, m.cell) if m else None for m in missing_en
    ]
    for e, c in zip(missing_en, missing_cs, strict=True):
        if e is not None and c is not None:
            _assert_czech(e.reason, c.reason)
    # the kinds stay codes; the reasons for them and what changed between stages are words
    assert [m.kind for m in cs.models] == [m.kind for m in en.models]
    for model_en, model_cs in zip(en.models, cs.models, strict=True):
        for said_en, said_cs in (
            *zip(model_en.kind_reasons, model_cs.kind_reasons, strict=True),
            *zip(model_en.stage_change, model_cs.stage_change, strict=True),
        ):
            _assert_czech(said_en, said_cs)


@pytest.mark.parametrize("framework", [Framework.keras, Framework.pytorch])
def test_checks_without_a_band_keep_their_codes_and_speak_czech(framework: Framework) -> None:
    en, cs = _trained(framework, "en"), _trained(framework, "cs")
    codes = [f.code for f in en]
    assert codes == [f.code for f in cs]
    assert {"no-band", "at-chance", "overfitting", "ordering"} <= set(codes)
    assert {"test-above-validation", "fine-tune-learning-rate"} <= set(codes)
    for e, c in zip(en, cs, strict=True):
        _assert_czech(e.message, c.message)


def _skeleton(value: Any, key: str = "") -> Any:
    """The shape of a JSON document: its keys, list lengths and the stable codes in it."""
    if isinstance(value, dict):
        return {k: _skeleton(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(v, key) for v in value]
    if isinstance(value, str) and key not in ("code", "kind", "severity", "status", "id"):
        return "text"
    return value


@pytest.mark.parametrize("name", ("no_outputs", "misleading_heading", "fastai_fine_tune"))
def test_the_json_document_has_the_same_keys_and_codes_in_both_languages(name: str) -> None:
    rubric = load_rubric()
    docs = {}
    for language in ("en", "cs"):
        ev = _scenario(name, language)
        with use_language(language):
            report = CheckReport(**ev.model_dump(), grade=rubric.grade(ev))
        docs[language] = report.model_dump(mode="json")
    assert _skeleton(docs["cs"]) == _skeleton(docs["en"])
    codes = [f["code"] for f in docs["cs"]["findings"]]
    assert codes == [f["code"] for f in docs["en"]["findings"]] and codes


# ------------------------------------------------------------------ the framework's calls


def _messages(findings: list[Finding]) -> str:
    return "\n".join(f.message for f in findings)


def test_advice_names_the_calls_of_the_models_framework() -> None:
    keras = _messages(_trained(Framework.keras, "en"))
    pytorch = _messages(_trained(Framework.pytorch, "en"))
    assert "EarlyStopping" in keras and "fit on x_test" in keras and "Recompile" in keras
    assert "categorical vs sparse" in keras and "preprocess_input" in keras
    for keras_only in ("EarlyStopping", "x_test", "Recompile", "preprocess_input", "sparse"):
        assert keras_only not in pytorch, keras_only
    assert "transforms.Normalize" in pytorch and "test loader" in pytorch
    assert "CrossEntropyLoss" in pytorch and "optimizer of the fine-tuning stage" in pytorch


def test_a_missing_accuracy_says_how_to_evaluate_in_the_models_framework() -> None:
    keras = _scenario("bagging_loop_and_an_ensemble", "en").models[0].test_accuracy_missing
    assert keras is not None and keras.code.value == "training-only"
    assert "model.evaluate" in keras.reason and "torch" not in keras.reason
    pytorch = _scenario("fastai_fine_tune", "en").models[0].test_accuracy_missing
    assert pytorch is not None and pytorch.code.value == "not-evaluated"
    assert "torch.no_grad()" in pytorch.reason and "model.evaluate" not in pytorch.reason
