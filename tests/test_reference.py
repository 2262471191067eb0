"""Reference bands, the checks against them, expectations and verification (no TensorFlow)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest

from grader.check.band_checks import (
    ABOVE_BAND,
    AT_CHANCE,
    BASE_INPUT_RANGE,
    BELOW_BAND,
    FINE_TUNE_RATE,
    NO_BAND,
    ORDERING,
    OVERFITTING,
    PROBLEM_CODES,
    REFERENCE_BAND,
    TEST_ABOVE_VALIDATION,
    TIME_RATIO,
    BandContext,
    band_findings,
)
from grader.check.bands import (
    BandData,
    BandSet,
    load_band_set,
    load_band_sets,
    load_bands,
    select_band_set,
)
from grader.cli import main
from grader.evidence import (
    DataFacts,
    Discussion,
    Evidence,
    ExecutedBy,
    Finding,
    Hygiene,
    Method,
    ModelKind,
    ModelRun,
    NotebookInfo,
    Provenance,
    Severity,
)
from grader.grade.rubric import load_rubric
from grader.pipeline import check_notebook
from grader.reference.build import (
    RunSample,
    band_file_name,
    build_band_set,
    build_bands,
    compare_band_sets,
)
from grader.reference.expectations import (
    ExpectedModel,
    ReferenceSolutionError,
    load_expectations,
    match_models,
    parse_expectations,
)
from grader.reference.runs import (
    RunSettings,
    notebook_parameters,
    parameterise,
    sources_sha256,
)
from grader.reference.stats import accuracy_stats, curve_band, quantile, sampling_sd, summarise
from grader.reference.verify import judge_run, verify_references

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
INFO = NotebookInfo(path="ref.ipynb", sha256="0" * 64, nbformat="4.5", cells=30)

# ------------------------------------------------------------------ fixtures


def _model(
    i: int,
    kind: ModelKind,
    acc: float | None,
    *,
    name: str | None = None,
    base: str | None = None,
    weights: str | None = None,
    epochs: int = 10,
    seconds: float = 20.0,
    lr: float = 1e-3,
    history: dict[str, list[float]] | None = None,
    reasons: list[str] | None = None,
) -> ModelRun:
    if history is None:
        history = {
            "accuracy": [0.5 + 0.04 * e for e in range(epochs)],
            "val_accuracy": [0.48 + 0.04 * e for e in range(epochs)],
            "loss": [1.5 - 0.1 * e for e in range(epochs)],
            "val_loss": [1.6 - 0.1 * e for e in range(epochs)],
        }
    return ModelRun(
        id=f"m{i}",
        name=name or f"model{i}",
        kind=kind,
        kind_reasons=reasons or [],
        base=base,
        weights=weights,
        epochs=epochs,
        fit_seconds=seconds,
        learning_rate=lr,
        history=history,
        test_accuracy=acc,
        curves_shown=True,
        confusion_matrix_shown=True,
        fit_cells=[i],
        provenance=Provenance(cell=i, method=Method.runtime, confidence=0.95),
    )


def _evidence(
    *models: ModelRun,
    source: str = "merged",
    smoke: bool = False,
    summary: bool = True,
    findings: list[Finding] | None = None,
) -> Evidence:
    extra = (
        [Finding(code="smoke-profile", severity=Severity.info, message="smoke")] if smoke else []
    )
    return Evidence(
        notebook=INFO,
        source=source,  # type: ignore[arg-type]
        framework="keras",
        models=list(models),
        has_curves=True,
        has_confusion_matrix=True,
        has_written_summary=summary,
        discussion=Discussion(
            present=summary,
            cells=[29] if summary else [],
            words=200 if summary else 0,
            compares_models=summary,
            discusses_generalisation=summary,
            discusses_training_time=summary,
            names_best_model=summary,
            mentions_variants=summary,
        ),
        data=DataFacts(dataset="cifar10", train_size=2000, val_size=1000, test_size=1000),
        hygiene=Hygiene(code_cells=20, executed_cells=20, has_outputs=True),
        findings=extra + (findings or []),
    )


EXPECTED_YAML = """
notebooks:
  - path: solution.ipynb
    points: 3
    models:
      - {label: "model 1: CNN", kind: scratch_cnn}
      - {label: "model 2a: Xception-like", kind: custom_xception}
      - {label: "model 3a: MobileNetV2 frozen", kind: transfer_frozen, base: MobileNetV2}
      - {label: "model 3b: MobileNetV2 fine-tuned", kind: fine_tuned, base: MobileNetV2}
  - path: variants.ipynb
    points: 2
    models:
      - {label: "model 1: CNN", kind: scratch_cnn}
      - {label: "model 2b: ResNet-like", kind: custom_residual}
      - {label: "model 3c: EfficientNetB0 frozen", kind: transfer_frozen, base: EfficientNetB0}
"""


def _expectations(folder: Path = Path("/nowhere")) -> Any:
    return parse_expectations(EXPECTED_YAML, folder)


def _solution_run(seed: int, *, shift: float = 0.0) -> Evidence:
    """What a seeded full-profile run of the model solution shows (numbers vary with the seed)."""
    d = 0.01 * ((seed * 7) % 5 - 2) + shift
    return _evidence(
        _model(1, ModelKind.scratch_cnn, 0.70 + d, name="model_cnn", seconds=30 + seed),
        _model(2, ModelKind.custom_xception, 0.74 + d, name="model_xc", seconds=45 + seed),
        _model(
            3,
            ModelKind.transfer_frozen,
            0.86 + d,
            name="model_tl",
            base="MobileNetV2",
            weights="imagenet",
            seconds=90 + seed,
            epochs=10,
        ),
        _model(
            4,
            ModelKind.fine_tuned,
            0.89 + d,
            name="model_tl (stage 2)",
            base="MobileNetV2",
            weights="imagenet",
            lr=1e-5,
            seconds=130 + seed,
            epochs=10,
        ),
    )


def _variants_run(seed: int) -> Evidence:
    d = 0.01 * ((seed * 3) % 4 - 1.5)
    return _evidence(
        _model(1, ModelKind.scratch_cnn, 0.71 + d, name="model_cnn", seconds=31),
        _model(3, ModelKind.custom_residual, 0.73 + d, name="model_res", seconds=50),
        _model(
            2,
            ModelKind.transfer_frozen,
            0.83 + d,
            name="model_eff",
            base="EfficientNetB0",
            weights="imagenet",
            seconds=80,
        ),
    )


def _band_set(seeds: tuple[int, ...] = (1, 2, 3, 4, 5)) -> BandSet:
    exp = _expectations()
    samples = []
    for s in seeds:
        samples.append(RunSample("solution.ipynb", s, exp.notebooks[0], _solution_run(s)))
        samples.append(RunSample("variants.ipynb", s, exp.notebooks[1], _variants_run(s)))
    return build_band_set(
        samples,
        profile="full",
        data=BandData(kind="cifar10", identity="abc", classes=[0, 1, 2, 3, 9]),
        provenance={"date": "2025-11-20T10:00:00+00:00"},
    )


@pytest.fixture(scope="module")
def bands() -> BandSet:
    return _band_set()


def _measured(name: str, model: str) -> Finding:
    """A run's finding that the model's MobileNetV2 base receives pixels in [0, 1]."""
    return Finding(
        code=BASE_INPUT_RANGE,
        severity=Severity.warning,
        message=f"the pretrained MobileNetV2 base of {name} receives pixels scaled to [0, 1]",
        model=model,
    )


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def _problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code in PROBLEM_CODES]


# ---------------------------------------------------------------- statistics


def test_stats_band_holds_every_run_and_widens_with_the_spread() -> None:
    st = summarise([0.60, 0.62, 0.64], k=3.0, lower=0.0, upper=1.0)
    assert st.n == 3 and st.mean == pytest.approx(0.62) and st.std == pytest.approx(0.02)
    assert st.low == pytest.approx(0.56) and st.high == pytest.approx(0.68)
    assert st.median == pytest.approx(0.62) and st.q25 == pytest.approx(0.61)
    assert summarise([], k=3.0).n == 0
    one = summarise([0.5], k=3.0)
    assert one.std == 0.0 and one.low == one.high == 0.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert summarise([0.99, 1.0], k=3.0, upper=1.0).high == 1.0


def test_accuracy_band_counts_the_test_sets_sampling_error() -> None:
    # runs that all agree still get the width a different draw of test images would give
    st = accuracy_stats([0.8, 0.8, 0.8], k=3.0, n_test=1000)
    width = 3 * math.sqrt(0.8 * 0.2 / 1000)
    assert st.low == pytest.approx(0.8 - width, abs=1e-6)
    assert st.high == pytest.approx(0.8 + width, abs=1e-6)
    assert sampling_sd(1.0, 1000) > 0 and sampling_sd(0.5, None) == 0.0
    assert accuracy_stats([1.0, 1.0], k=3.0, n_test=1000).high == 1.0


def test_curve_band_per_epoch_cut_to_the_shortest_run() -> None:
    cb = curve_band([[0.1, 0.2, 0.3], [0.2, 0.3]], k=1.0, lower=0.0, upper=1.0)
    assert cb is not None and len(cb.low) == len(cb.high) == 2
    assert cb.low[0] <= 0.1 and cb.high[1] >= 0.3
    assert curve_band([], k=1.0) is None


# ---------------------------------------------------------------- band files


def test_band_set_from_seeded_runs(bands: BandSet) -> None:
    kinds = [(b.kind, b.base) for b in bands.bands]
    # pooled bands per kind, and per base for a kind with several bases
    assert ("scratch_cnn", None) in kinds and ("transfer_frozen", None) in kinds
    assert ("transfer_frozen", "MobileNetV2") in kinds
    assert ("transfer_frozen", "EfficientNetB0") in kinds
    assert ("fine_tuned", "MobileNetV2") not in kinds  # a single base: the pooled band is it
    scratch = bands.band_for("scratch_cnn")
    assert scratch is not None and scratch.accuracy is not None and scratch.accuracy.n == 10
    assert scratch.test_accuracy is not None
    assert scratch.test_accuracy[0] <= min(scratch.accuracy.values)
    assert scratch.curves["val_accuracy"].low and scratch.gap is not None
    assert bands.band_for("transfer_frozen", "EfficientNetB0") is not None
    eff = bands.band_for("transfer_frozen", "efficientnetb0")
    assert eff is not None and eff.base == "EfficientNetB0"
    frozen = bands.band_for("transfer_frozen", "ResNet50")  # unknown base: the pooled band
    assert frozen is not None and frozen.base is None and frozen.pretrained is True
    assert bands.relations["transfer_minus_scratch"].low is not None
    assert bands.relations["transfer_minus_scratch"].low > 0
    assert "seconds_per_epoch_ratio:fine_tuned" in bands.relations
    assert bands.seeds() == [1, 2, 3, 4, 5]
    assert bands.data.test_size == 1000 and bands.tolerance.reproducible_accuracy == 0.001


def test_band_file_round_trip_and_the_reports_read_it(tmp_path: Path, bands: BandSet) -> None:
    (tmp_path / "full.json").write_text(bands.as_json(), encoding="utf-8")
    smoke = bands.model_copy(update={"profile": "smoke", "data": BandData(kind="synthetic")})
    (tmp_path / "smoke.json").write_text(smoke.as_json(), encoding="utf-8")
    again = load_band_set(tmp_path / "full.json")
    assert again is not None
    same = {"path": True, "bands": {"__all__": {"source"}}}
    assert again.model_dump(exclude=same) == bands.model_dump(exclude=same)  # type: ignore[arg-type]
    raw = json.loads((tmp_path / "full.json").read_text())
    assert {"low", "high", "mean", "std", "q05", "q95", "values"} <= set(
        raw["bands"][0]["test_accuracy"]
    )
    assert "path" not in json.loads((tmp_path / "full.json").read_text())
    sets = load_band_sets(tmp_path)
    assert [s.profile for s in sets] == ["full", "smoke"]
    assert select_band_set(sets, "smoke", "synthetic") is not None
    assert select_band_set(sets, "smoke", "cifar10") is None
    # the reports' view: one band per kind, the pooled one, from the matching file
    by_kind = load_bands(tmp_path, profile="full")
    assert by_kind["transfer_frozen"].base is None
    assert by_kind["scratch_cnn"].test_accuracy == bands.band_for("scratch_cnn").test_accuracy  # type: ignore[union-attr]
    assert load_bands(tmp_path, profile="full", data="synthetic") == {}
    assert set(load_bands(tmp_path)) >= {"scratch_cnn", "fine_tuned"}


def test_rebuild_with_the_same_seeds_is_compared_within_the_stated_tolerance() -> None:
    a, b = _band_set(), _band_set()
    assert compare_band_sets(a, b) == []
    exp = _expectations()
    samples = []
    for seed in (1, 2, 3, 4, 5):
        run = _solution_run(seed, shift=0.02)
        samples.append(RunSample("solution.ipynb", seed, exp.notebooks[0], run))
        samples.append(RunSample("variants.ipynb", seed, exp.notebooks[1], _variants_run(seed)))
    shifted = build_band_set(
        samples,
        profile="full",
        data=BandData(kind="cifar10", identity="abc", classes=[0, 1, 2, 3, 9]),
    )
    diffs = compare_band_sets(a, shifted)
    assert any("custom_xception: run 1 test accuracy" in d for d in diffs)
    assert compare_band_sets(a, shifted, accuracy_tolerance=0.05) == []
    fewer = _band_set((1, 2, 3))
    assert any("different seeds" in d for d in compare_band_sets(a, fewer))


def test_band_file_name() -> None:
    assert band_file_name("smoke", "synthetic") == "smoke.json"
    assert band_file_name("full", "cifar10") == "full.json"
    assert band_file_name("smoke", "cifar10") == "smoke-cifar10.json"


def test_committed_smoke_bands_are_readable_and_complete() -> None:
    band_set = load_band_set(REFERENCE / "bands" / "smoke.json")
    assert band_set is not None and band_set.profile == "smoke"
    assert band_set.data.kind == "synthetic" and band_set.data.identity
    assert len(band_set.seeds()) >= 3
    prov = band_set.provenance
    assert {"date", "hardware", "versions", "notebooks", "seeds"} <= set(prov)
    kinds = {b.kind for b in band_set.bands}
    assert kinds >= {"scratch_cnn", "custom_xception", "custom_residual", "transfer_frozen"}
    for b in band_set.bands:
        assert b.accuracy is not None and b.accuracy.n >= 3 and b.test_accuracy is not None
    # built from the notebooks as they are: edit a reference notebook, rebuild its bands
    for entry in prov["notebooks"]:
        nb = nbformat.read(str(REFERENCE / entry["path"]), as_version=4)
        assert sources_sha256(nb) == entry["sources_sha256"], f"rebuild bands: {entry['path']}"
    # the smoke runs have no ImageNet weights: their transfer bands say so, and reports skip them
    frozen = band_set.band_for("transfer_frozen")
    assert frozen is not None and frozen.pretrained is False
    drawn = load_bands(REFERENCE / "bands", profile="smoke", data="synthetic")
    assert "scratch_cnn" in drawn and "transfer_frozen" not in drawn


# ---------------------------------------------------------------- band checks


def test_the_reference_itself_gets_no_finding(bands: BandSet) -> None:
    for seed in (1, 3, 5):
        found = band_findings(_solution_run(seed), bands, BandContext("full", "cifar10"))
        assert _problems(found) == []
        assert _codes(found) == [REFERENCE_BAND]
        assert "CIFAR-10, full profile" in found[0].message


def test_frozen_base_fed_unpreprocessed_inputs_is_below_band(bands: BandSet) -> None:
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.70),
        _model(2, ModelKind.transfer_frozen, 0.45, base="MobileNetV2", weights="imagenet"),
    )
    found = band_findings(ev, bands, BandContext("full", "cifar10"))
    below = [f for f in found if f.code == BELOW_BAND]
    assert len(below) == 1 and below[0].model == "m2" and below[0].severity == Severity.warning
    assert "unpreprocessed inputs" in below[0].message and "[-1, 1]" in below[0].message
    # and the ordering the assignment expects is broken as well
    assert ORDERING in _codes(found)
    ordering = next(f for f in found if f.code == ORDERING)
    assert "not above the CNN from scratch" in ordering.message


def test_fine_tuning_with_a_high_learning_rate_and_too_few_epochs(bands: BandSet) -> None:
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.70),
        _model(2, ModelKind.fine_tuned, 0.50, base="MobileNetV2", weights="imagenet", lr=1e-3),
        _model(3, ModelKind.custom_xception, 0.40, epochs=2),
    )
    found = band_findings(ev, bands, BandContext("full", "cifar10"))
    msgs = {f.model: f.message for f in found if f.code == BELOW_BAND}
    assert "learning rate too high for fine-tuning (0.001" in msgs["m2"]
    assert "too few epochs (2; the reference trains 10)" in msgs["m3"]


def test_implausibly_high_accuracy_suggests_leakage(bands: BandSet) -> None:
    leak = Finding(
        code="train-test-overlap",
        severity=Severity.warning,
        message="400 of the 1000 samples were also in its training data",
        model="m1",
    )
    ev = _evidence(_model(1, ModelKind.scratch_cnn, 0.99), findings=[leak])
    found = band_findings(ev, bands, BandContext("full", "cifar10"))
    above = [f for f in found if f.code == ABOVE_BAND]
    assert len(above) == 1 and "possible test leakage" in above[0].message
    assert "400 of the 1000 samples" in above[0].message


def test_overfitting_needs_a_wide_gap_and_a_rising_validation_loss(bands: BandSet) -> None:
    overfit = {
        "accuracy": [0.5, 0.7, 0.9, 0.99, 1.0],
        "val_accuracy": [0.5, 0.6, 0.65, 0.66, 0.66],
        "loss": [1.2, 0.8, 0.3, 0.05, 0.01],
        "val_loss": [1.2, 1.0, 0.95, 1.2, 1.6],
    }
    still_learning = dict(overfit, val_loss=[1.2, 1.0, 0.9, 0.85, 0.8])
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.68, epochs=5, history=overfit),
        _model(2, ModelKind.custom_xception, 0.70, epochs=5, history=still_learning),
    )
    found = [f for f in band_findings(ev, bands, BandContext("full", "cifar10"))]
    over = [f for f in found if f.code == OVERFITTING]
    assert [f.model for f in over] == ["m1"]
    assert "validation loss rose from 0.950 (epoch 3) to 1.600" in over[0].message


def test_training_time_ratio_outside_the_references(bands: BandSet) -> None:
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.70, seconds=30),
        _model(
            2, ModelKind.transfer_frozen, 0.86, base="MobileNetV2", weights="imagenet", seconds=900
        ),
    )
    found = band_findings(ev, bands, BandContext("full", "cifar10"))
    ratio = [f for f in found if f.code == TIME_RATIO]
    assert len(ratio) == 1 and ratio[0].severity == Severity.info
    assert "30.0× as long" in ratio[0].message and "slower than expected" in ratio[0].message


def test_no_band_for_the_runs_data_and_profile_is_said_plainly(bands: BandSet) -> None:
    ev = _evidence(_model(1, ModelKind.scratch_cnn, 0.2), smoke=True)
    ev.data.dataset = "synthetic"
    found = band_findings(ev, [bands])
    assert _codes(found) == [NO_BAND]
    assert "synthetic CIFAR-like dataset, smoke profile" in found[0].message
    assert "CIFAR-10, full profile" in found[0].message  # what is available
    assert band_findings(_evidence(), [bands]) == []  # nothing trained: nothing to compare


def test_without_a_band_chance_level_and_a_broken_ordering_are_still_told(bands: BandSet) -> None:
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.62),
        _model(2, ModelKind.custom_xception, 0.21),
        _model(3, ModelKind.transfer_frozen, 0.55, base="MobileNetV2", weights="imagenet"),
    )
    ev.data.n_classes = 5
    found = band_findings(ev, [bands], BandContext("full", "other-data"))
    assert _codes(found) == [NO_BAND, AT_CHANCE, ORDERING]
    chance = found[1]
    assert chance.model == "m2" and chance.severity == Severity.warning
    assert "at chance level (20% for 5 classes)" in chance.message
    ordering = found[2]
    assert ordering.severity == Severity.info and ordering.model == "m3"
    assert "no reference band says by how much" in ordering.message
    assert "MobileNetV2 expects pixels scaled to [-1, 1]" in ordering.message
    # a base without its pretrained weights is not expected to beat the CNN from scratch
    ev.models[2].weights = "imagenet requested; missing, random initialisation used (smoke)"
    assert ORDERING not in _codes(band_findings(ev, [], BandContext("full", "other-data")))
    # without the number of classes or test images nothing is claimed about chance
    ev.data.n_classes = None
    assert AT_CHANCE not in _codes(band_findings(ev, [], BandContext("full", "other-data")))


def test_test_accuracy_far_above_validation_suggests_leakage_with_or_without_band(
    bands: BandSet,
) -> None:
    history = {"accuracy": [0.6, 0.9, 0.99], "val_accuracy": [0.5, 0.58, 0.6]}
    leaky = _model(1, ModelKind.scratch_cnn, 0.97, epochs=3, history=history)
    honest = _model(2, ModelKind.custom_xception, 0.63, epochs=3, history=history)
    ev = _evidence(leaky, honest)
    for sets, ctx in (([], BandContext("full", "x")), (bands, BandContext("full", "cifar10"))):
        found = [f for f in band_findings(ev, sets, ctx) if f.code == TEST_ABOVE_VALIDATION]
        assert [f.model for f in found] == ["m1"]
        assert "97.0% is far above its best validation accuracy 60.0%" in found[0].message
        assert "1000 test and 1000 validation images" in found[0].message
    # small sets: the same gap is within sampling noise
    ev.data.test_size = ev.data.val_size = 20
    found = band_findings(ev, [], BandContext("full", "x"))
    assert TEST_ABOVE_VALIDATION not in _codes(found)
    # unknown set sizes: nothing is claimed
    ev.data.test_size = None
    assert TEST_ABOVE_VALIDATION not in _codes(band_findings(ev, [], BandContext("full", "x")))


def test_overfitting_without_a_band_is_read_from_the_curves_own_noise() -> None:
    rising = {
        "accuracy": [0.5, 0.7, 0.85, 0.95, 0.99, 1.0],
        "val_accuracy": [0.5, 0.6, 0.64, 0.63, 0.62, 0.62],
        "loss": [1.2, 0.8, 0.4, 0.15, 0.05, 0.01],
        "val_loss": [1.2, 1.0, 0.95, 1.1, 1.3, 1.5],
    }
    noisy = dict(rising, val_loss=[1.2, 1.0, 1.3, 0.95, 1.25, 1.0])  # up and down: noise
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.62, epochs=6, history=rising),
        _model(2, ModelKind.custom_xception, 0.62, epochs=6, history=noisy),
    )
    found = [f for f in band_findings(ev, [], BandContext("full", "x")) if f.code == OVERFITTING]
    assert [f.model for f in found] == ["m1"] and found[0].severity == Severity.info
    assert "rose from 0.950 (epoch 3) to 1.500 (epoch 6)" in found[0].message
    assert "no reference band" in found[0].message


def test_fine_tuning_without_a_lower_learning_rate(bands: BandSet) -> None:
    frozen = _model(3, ModelKind.transfer_frozen, 0.86, base="MobileNetV2", weights="imagenet")
    tuned = _model(4, ModelKind.fine_tuned, 0.80, base="MobileNetV2", weights="imagenet")
    tuned.continues = "m3"
    ev = _evidence(_model(1, ModelKind.scratch_cnn, 0.70), frozen, tuned)
    for sets, ctx in (([], BandContext("full", "x")), (bands, BandContext("full", "cifar10"))):
        found = [f for f in band_findings(ev, sets, ctx) if f.code == FINE_TUNE_RATE]
        assert [f.model for f in found] == ["m4"]
        assert "learning rate 0.001, no lower than the 0.001" in found[0].message
    tuned.learning_rate = 1e-5
    assert FINE_TUNE_RATE not in _codes(band_findings(ev, [], BandContext("full", "x")))
    tuned.learning_rate, tuned.continues = 1e-3, None  # no frozen stage to compare with
    assert FINE_TUNE_RATE not in _codes(band_findings(ev, [], BandContext("full", "x")))


def test_a_measured_input_range_leads_the_likely_causes(bands: BandSet) -> None:
    measured = _measured("model2", "m2")
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.70),
        _model(2, ModelKind.transfer_frozen, 0.45, base="MobileNetV2", weights="imagenet"),
        findings=[measured],
    )
    below = next(
        f for f in band_findings(ev, bands, BandContext("full", "cifar10")) if f.code == BELOW_BAND
    )
    assert "Likely causes: measured in this run: the pretrained MobileNetV2 base" in below.message


def test_smoke_findings_inform_and_random_init_bases_are_not_compared(bands: BandSet) -> None:
    smoke = bands.model_copy(
        update={
            "profile": "smoke",
            "data": BandData(
                kind="synthetic", identity="syn-v1", classes=[0, 1, 2, 3, 9], test_size=1000
            ),
        }
    )
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.2),
        _model(
            2,
            ModelKind.transfer_frozen,
            0.2,
            base="MobileNetV2",
            weights="imagenet requested; missing, random initialisation used (smoke)",
        ),
        smoke=True,
    )
    ev.data.dataset = "synthetic"
    ctx = BandContext.for_evidence(ev)
    assert ctx == BandContext("smoke", "synthetic")
    found = band_findings(ev, [bands, smoke], ctx)
    below = [f for f in found if f.code == BELOW_BAND]
    assert [f.model for f in below] == ["m1"] and below[0].severity == Severity.info
    assert "at chance level (20% for 5 classes)" in below[0].message
    assert "batch normalisation statistics" in below[0].message
    assert ORDERING not in _codes(found)
    # a band built without weights is not compared either, and the first finding says so
    for b in smoke.bands:
        if b.kind in ("transfer_frozen", "fine_tuned"):
            b.pretrained = False
    ev.models[1].weights = "imagenet"
    found = band_findings(ev, smoke, BandContext("smoke", "synthetic", identity="syn-v2"))
    assert [f.model for f in found if f.code == BELOW_BAND] == ["m1"]
    assert "without pretrained weights" in found[0].message and "syn-v2" in found[0].message


def test_a_run_on_another_number_of_classes_is_not_held_to_the_accuracy_band(
    bands: BandSet,
) -> None:
    ev = _evidence(
        _model(1, ModelKind.scratch_cnn, 0.40), _model(2, ModelKind.custom_xception, 0.4)
    )
    ev.data = DataFacts(
        dataset="cifar10",
        n_classes=10,
        provenance=Provenance(method=Method.runtime, confidence=0.95),
    )
    found = band_findings(ev, bands, BandContext("full", "cifar10"))
    assert _problems(found) == []
    assert "the run trained on 10 classes, the reference on 5" in found[0].message
    ev.data.provenance = Provenance(method=Method.source, confidence=0.5)  # a guess from the code
    assert BELOW_BAND in _codes(band_findings(ev, bands, BandContext("full", "cifar10")))


def test_band_context_of_static_and_executed_evidence() -> None:
    assert BandContext.for_evidence(_evidence(source="static")) == BandContext("full", "cifar10")
    run = SimpleNamespace(
        profile="smoke",
        manifest=SimpleNamespace(
            data=SimpleNamespace(spec=SimpleNamespace(kind="synthetic", identity="syn"))
        ),
    )
    assert BandContext.for_run(run) == BandContext("smoke", "synthetic", "syn")
    assert BandContext.for_run(object()) == BandContext(None, None, None)


def _student_copy(tmp_path: Path) -> Path:
    """An example submission as a student's own run would leave it (no grader metadata)."""
    nb = nbformat.read(str(ROOT / "submissions" / "novakova_alice" / "hw5.ipynb"), as_version=4)
    nb.metadata.pop("grader", None)
    path = tmp_path / "student" / "hw5.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _smoke_copy(bands: BandSet) -> BandSet:
    return bands.model_copy(
        update={
            "profile": "smoke",
            "data": BandData(kind="synthetic", classes=[0, 1, 2, 3, 9], test_size=1000),
        }
    )


def test_static_check_with_bands(tmp_path: Path, bands: BandSet) -> None:
    nb = _student_copy(tmp_path)
    plain = check_notebook(nb)
    assert not any(f.code in (NO_BAND, REFERENCE_BAND) for f in plain.findings)
    band_dir = tmp_path / "bands"
    band_dir.mkdir()
    report = check_notebook(nb, bands=band_dir)  # no band file at all
    assert [f.code for f in report.findings if f.code == NO_BAND] == [NO_BAND]
    (band_dir / "full.json").write_text(bands.as_json(), encoding="utf-8")
    report = check_notebook(nb, bands=band_dir)
    assert REFERENCE_BAND in [f.code for f in report.findings]
    assert report.grade.points == plain.grade.points


def test_outputs_saved_from_a_grader_run_use_that_runs_band(tmp_path: Path, bands: BandSet) -> None:
    """The bundled examples hold smoke outputs on synthetic data: the smoke band is theirs."""
    nb = ROOT / "submissions" / "novakova_alice" / "hw5.ipynb"
    stamped = check_notebook(nb, bands=tmp_path)
    assert stamped.notebook.executed_by == ExecutedBy(profile="smoke", data="synthetic")
    assert BandContext.static(stamped) == BandContext("smoke", "synthetic")
    (no_band,) = [f for f in stamped.findings if f.code == NO_BAND]
    assert "synthetic CIFAR-like dataset, smoke profile" in no_band.message
    assert _problems(stamped.findings) == []  # chance level is what a smoke run shows
    (tmp_path / "full.json").write_text(bands.as_json(), encoding="utf-8")
    (tmp_path / "smoke.json").write_text(_smoke_copy(bands).as_json(), encoding="utf-8")
    found = check_notebook(nb, bands=tmp_path).findings
    ref = next(f for f in found if f.code == REFERENCE_BAND)
    assert "smoke profile" in ref.message
    # a notebook whose metadata is not well formed is read as a student's own run
    bad = nbformat.read(str(nb), as_version=4)
    bad.metadata["grader"] = {"profile": "../../smoke", "data": 3}
    path = tmp_path / "bad.ipynb"
    nbformat.write(bad, str(path))
    assert check_notebook(path).notebook.executed_by is None


def test_committed_outputs_of_the_reference_notebooks_get_no_problem_finding() -> None:
    for name in ("hw5_model_solution.ipynb", "hw5_variants.ipynb"):
        report = check_notebook(ROOT / "reference" / name, bands=ROOT / "reference" / "bands")
        assert _problems(report.findings) == [], name
        assert REFERENCE_BAND in _codes(report.findings), name


def test_cli_check_compares_with_the_bands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _student_copy(tmp_path)
    band_dir = tmp_path / "course" / "reference" / "bands"
    band_dir.mkdir(parents=True)
    (band_dir / "full.json").write_text(_band_set().as_json(), encoding="utf-8")

    def codes(*args: str) -> list[str]:
        assert main(["check", str(nb), "--json", *args]) in (0, 1)
        return [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]]

    assert REFERENCE_BAND in codes("--bands", str(band_dir))
    assert REFERENCE_BAND in codes("--bands", str(band_dir / "full.json"))
    no_band = codes("--no-bands")
    assert NO_BAND not in no_band and REFERENCE_BAND not in no_band
    monkeypatch.chdir(tmp_path / "course")  # a course repository: its own reference/bands
    assert REFERENCE_BAND in codes()
    assert main(["check", str(nb), "--bands", str(tmp_path / "nowhere")]) == 2
    assert "no such band file or folder" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["check", str(nb), "--bands", str(tmp_path / "empty")]) == 2
    assert "no readable reference band" in capsys.readouterr().out


def test_batch_evidence_holds_the_band_findings(tmp_path: Path, bands: BandSet) -> None:
    from grader.batch.options import BatchOptions
    from grader.batch.scheduler import run_batch

    band_dir = tmp_path / "bands"
    band_dir.mkdir()
    # the bundled examples hold outputs of smoke runs on synthetic data
    (band_dir / "smoke.json").write_text(_smoke_copy(bands).as_json(), encoding="utf-8")
    out = tmp_path / "out"
    run_batch(
        BatchOptions(source=ROOT / "submissions", out=out, run=None, bands=band_dir, workers=1)
    )
    evidence = json.loads(
        (out / "submissions" / "novakova-alice" / "evidence.json").read_text(encoding="utf-8")
    )
    assert REFERENCE_BAND in [f["code"] for f in evidence["findings"]]
    # a change of the bands alone regrades (the comparison is part of the grade's evidence)
    (band_dir / "smoke.json").unlink()
    summary = run_batch(
        BatchOptions(source=ROOT / "submissions", out=out, run=None, bands=band_dir, workers=1)
    )
    assert summary.skipped == 0
    evidence = json.loads(
        (out / "submissions" / "novakova-alice" / "evidence.json").read_text(encoding="utf-8")
    )
    assert NO_BAND in [f["code"] for f in evidence["findings"]]


# -------------------------------------------------------------- expectations


def test_expectations_are_strict_with_suggestions(tmp_path: Path) -> None:
    with pytest.raises(ReferenceSolutionError, match="did you mean 'points'"):
        parse_expectations("notebooks:\n  - {path: a.ipynb, pionts: 3}\n", tmp_path)
    with pytest.raises(ReferenceSolutionError, match="did you mean 'kind'"):
        parse_expectations(
            "notebooks:\n  - {path: a.ipynb, points: 1, models: [{label: x, knd: scratch_cnn}]}\n",
            tmp_path,
        )
    with pytest.raises(ReferenceSolutionError, match="listed twice"):
        parse_expectations(
            "notebooks:\n  - {path: a.ipynb, points: 1}\n  - {path: a.ipynb, points: 2}\n",
            tmp_path,
        )
    with pytest.raises(ReferenceSolutionError, match="cannot read"):
        load_expectations(tmp_path)


def test_the_committed_expectations_name_existing_notebooks() -> None:
    exp = load_expectations(REFERENCE)
    assert [n.points for n in exp.notebooks] == [3, 2]
    for item in exp.notebooks:
        assert exp.notebook_path(item).is_file()
    rubric = exp.rubric_path()
    assert rubric is not None and rubric.resolve() == (ROOT / "rubrics" / "hw5.yaml").resolve()


def test_models_are_matched_in_order_by_kind_and_base() -> None:
    models = [
        _model(1, ModelKind.transfer_frozen, 0.8, base="EfficientNetB0"),
        _model(2, ModelKind.scratch_cnn, 0.7),
        _model(3, ModelKind.transfer_frozen, 0.8, base="MobileNetV2"),
    ]
    expected = [
        ExpectedModel(label="a", kind=ModelKind.scratch_cnn),
        ExpectedModel(label="b", kind=ModelKind.transfer_frozen, base="mobilenetv2"),
        ExpectedModel(label="c", kind=ModelKind.fine_tuned),
    ]
    pairs = match_models(expected, models)
    assert [m.id if m else None for _, m in pairs] == ["m2", "m3", None]


def test_reference_notebooks_have_a_papermill_parameters_cell() -> None:
    for name in ("hw5_model_solution.ipynb", "hw5_variants.ipynb"):
        nb = nbformat.read(str(REFERENCE / name), as_version=4)
        params = notebook_parameters(nb)
        assert params["PROFILE"] == "full" and isinstance(params["SEED"], int)
        assert params["CLASSES"] == [0, 1, 2, 3, 9]
        assert (params["N_TRAIN"], params["N_VAL"], params["N_TEST"]) == (2000, 1000, 1000)
        assert any(k.startswith("EPOCHS_") for k in params)
        done = parameterise(nb, {"PROFILE": "smoke", "SEED": 7})
        assert notebook_parameters(done)["PROFILE"] == "smoke"
        assert notebook_parameters(done)["SEED"] == 7
        assert len(done.cells) == len(nb.cells)
    # a notebook saved with outputs is the same notebook, and runs as the same run
    with_outputs = parameterise(nb, {})
    with_outputs.cells[3].outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    with_outputs.cells[3].execution_count = 4
    assert sources_sha256(with_outputs) == sources_sha256(parameterise(nb, {}))
    again = parameterise(with_outputs, {"SEED": 7})
    assert again.cells[3].outputs == [] and again.cells[3].execution_count is None
    assert nbformat.writes(again) == nbformat.writes(
        parameterise(parameterise(nb, {}), {"SEED": 7})
    )
    bare = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    done = parameterise(bare, {"SEED": 3})
    assert done.cells[0].metadata["tags"] == ["parameters"] and len(done.cells) == 2


# -------------------------------------------------------------- verification


def _judge(ev: Evidence, bands: BandSet, index: int = 0) -> Any:
    exp = _expectations()
    return judge_run(
        exp.notebooks[index],
        ev,
        rubric=load_rubric(),
        band_set=bands,
        context=BandContext("full", "cifar10"),
        seed=1,
    )


def test_the_reference_run_is_verified(bands: BandSet) -> None:
    verdict = _judge(_solution_run(1), bands)
    assert verdict.ok, verdict.problems
    assert verdict.points == 3 and all(m.in_band for m in verdict.models)


def test_verify_names_a_removed_model(bands: BandSet) -> None:
    ev = _solution_run(1)
    ev.models = [m for m in ev.models if m.kind != ModelKind.custom_xception]
    verdict = _judge(ev, bands)
    assert not verdict.ok
    text = "\n".join(verdict.problems)
    assert "model 2a: Xception-like (custom_xception) is missing" in text
    assert "earned 1 of 3 points, expected 3" in text


def test_verify_names_a_deleted_summary(bands: BandSet) -> None:
    ev = _solution_run(1)
    ev.discussion = Discussion()
    ev.has_written_summary = False
    verdict = _judge(ev, bands)
    text = "\n".join(verdict.problems)
    assert "requirement 'Written summary" in text and "no written summary" in text


def test_verify_names_a_base_left_unfrozen(bands: BandSet) -> None:
    ev = _solution_run(1)
    ev.models[2].kind = ModelKind.fine_tuned
    ev.models[2].kind_reasons = [
        "pretrained MobileNetV2 base trained (never frozen; 2,257,984 trainable parameters)"
    ]
    verdict = _judge(ev, bands)
    text = "\n".join(verdict.problems)
    assert "model 3a: MobileNetV2 frozen (transfer_frozen, MobileNetV2) is missing" in text
    assert "never frozen" in text and "left unfrozen" in text


def test_verify_names_a_base_fed_unpreprocessed_inputs(bands: BandSet) -> None:
    measured = _measured("model_tl", "m3")
    ev = _solution_run(1)
    ev.findings.append(measured)
    verdict = _judge(ev, bands)
    assert not verdict.ok
    assert any("base-input-range: the pretrained MobileNetV2" in p for p in verdict.problems)


def test_verify_names_a_model_outside_its_band_and_a_failed_run(bands: BandSet) -> None:
    ev = _solution_run(1)
    ev.models[0].test_accuracy = 0.2
    verdict = _judge(ev, bands)
    text = "\n".join(verdict.problems)
    assert "model 1: CNN (scratch_cnn): test accuracy 0.2000 is outside its band" in text
    assert "band check below-band" in text
    failure = SimpleNamespace(kind=SimpleNamespace(value="exception"), cell=12, message="NameError")
    verdict = judge_run(
        _expectations().notebooks[0],
        None,
        rubric=load_rubric(),
        band_set=bands,
        failure=failure,  # type: ignore[arg-type]
    )
    assert (
        not verdict.ok and "the run failed (exception in cell 12): NameError" in verdict.problems[0]
    )


def _fake_result(ev: Evidence | None, *, status: str = "ok") -> SimpleNamespace:
    env = SimpleNamespace(
        machine="x86_64",
        platform="Linux",
        cpu_model="test cpu",
        cpu_count=2,
        memory_bytes=1,
        gpus=[],
        cuda_driver=None,
        tensorflow_cuda=None,
        python="3.11",
        packages={"tensorflow": "2.x", "keras": None},
    )
    spec = SimpleNamespace(kind="cifar10", identity="abc")
    manifest = SimpleNamespace(
        environment=env,
        threads=None,
        harness_version="0.1.0",
        data=SimpleNamespace(spec=spec, note="CIFAR-10 from the data store"),
        weights=SimpleNamespace(dir=None, identity="none"),
    )
    failure = (
        None
        if status == "ok"
        else SimpleNamespace(kind=SimpleNamespace(value="exception"), cell=3, message="boom")
    )
    return SimpleNamespace(
        status=status,
        evidence=ev,
        failure=failure,
        wall_seconds=12.0,
        from_cache=False,
        cache_key="k",
        profile="full",
        manifest=manifest,
    )


def _reference_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "expected.yaml").write_text(EXPECTED_YAML, encoding="utf-8")
    for name in ("solution.ipynb", "variants.ipynb"):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("PROFILE = 'full'\nSEED = 42\nCLASSES = [0, 1, 2, 3, 9]")
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
        nbformat.write(nb, str(folder / name))
    return folder


def test_build_and_verify_through_a_runner(tmp_path: Path) -> None:
    folder = _reference_folder(tmp_path)
    seen: list[tuple[str, int | None, str]] = []

    def runner(path: Path, options: Any) -> Any:
        seen.append((path.name, options.seed, options.data))
        assert "SEED = " + str(options.seed) in path.read_text()
        seed = options.seed or 1
        ev = _solution_run(seed) if path.stem == "solution" else _variants_run(seed)
        return _fake_result(ev)

    settings = RunSettings(profile="full", runner=runner)
    built = build_bands(load_expectations(folder), [1, 2, 3], settings, command="test")
    assert [s for s in seen][:2] == [
        ("solution.ipynb", 1, "cifar10"),
        ("variants.ipynb", 1, "cifar10"),
    ]
    band_set = built.band_set
    assert band_set.data.classes == [0, 1, 2, 3, 9] and band_set.data.identity == "abc"
    assert band_set.provenance["hardware"]["cpu_model"] == "test cpu"
    assert band_set.provenance["versions"] == {
        "python": "3.11",
        "harness": "0.1.0",
        "tensorflow": "2.x",
    }
    assert len(band_set.provenance["runs"]) == 6 and band_set.seeds() == [1, 2, 3]
    report = verify_references(load_expectations(folder), settings, [band_set])
    assert report.ok, report.all_problems()
    assert [v.seed for v in report.notebooks] == [1, 1]

    def broken(path: Path, options: Any) -> Any:
        return _fake_result(_evidence() if path.stem == "solution" else None, status="failed")

    settings.runner = broken
    with pytest.raises(ReferenceSolutionError, match=r"solution.ipynb \(seed 1\): the run failed"):
        build_bands(load_expectations(folder), [1], settings)
    report = verify_references(load_expectations(folder), settings, [band_set], only=["variants"])
    assert not report.ok and len(report.notebooks) == 1
    assert "variants.ipynb: the run failed (exception in cell 3): boom" in report.all_problems()[0]
    report = verify_references(load_expectations(folder), settings, [])
    assert "no band file for the full profile on cifar10 data" in report.problems[0]
    # a notebook edited after the build: verify says the bands may be stale
    assert [n["path"] for n in band_set.provenance["notebooks"]] == [
        "solution.ipynb",
        "variants.ipynb",
    ]
    nb = nbformat.read(str(folder / "variants.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("## a new section"))
    nbformat.write(nb, str(folder / "variants.ipynb"))
    settings.runner = runner
    report = verify_references(load_expectations(folder), settings, [band_set])
    assert report.ok and len(report.notes) == 1
    assert report.notes[0].startswith("variants.ipynb changed since")


def test_cli_compare_and_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(_band_set().as_json(), encoding="utf-8")
    b.write_text(_band_set().as_json(), encoding="utf-8")
    assert main(["reference", "compare", str(a), str(b)]) == 0
    assert "reproduced" in capsys.readouterr().out
    c = tmp_path / "c.json"
    c.write_text(_band_set((1, 2)).as_json(), encoding="utf-8")
    assert main(["reference", "compare", str(a), str(c)]) == 1
    assert main(["reference", "compare", str(a), str(tmp_path / "none.json")]) == 2

    folder = _reference_folder(tmp_path)
    bands_dir = folder / "bands"
    bands_dir.mkdir()
    (bands_dir / "full.json").write_text(_band_set().as_json(), encoding="utf-8")

    def fake_run(path: Path, options: Any, progress: Any = None) -> Any:
        ev = _solution_run(options.seed) if path.stem == "solution" else _variants_run(options.seed)
        if path.stem == "solution":
            ev.models = ev.models[:1] + ev.models[2:]  # model 2a removed
        return _fake_result(ev)

    monkeypatch.setattr("grader.pipeline.execute_and_extract", fake_run)
    code = main(["reference", "verify", "--profile", "full", "--reference", str(folder)])
    err = capsys.readouterr().err
    assert code == 1
    assert "solution.ipynb: model 2a: Xception-like (custom_xception) is missing" in err
    assert main(["reference", "verify", "--reference", str(tmp_path / "nowhere")]) == 2


def test_verify_json_and_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _reference_folder(tmp_path)
    (folder / "bands").mkdir()
    (folder / "bands" / "full.json").write_text(_band_set().as_json(), encoding="utf-8")

    def fake_run(path: Path, options: Any, progress: Any = None) -> Any:
        ev = _solution_run(options.seed) if path.stem == "solution" else _variants_run(options.seed)
        return _fake_result(ev)

    monkeypatch.setattr("grader.pipeline.execute_and_extract", fake_run)
    code = main(["reference", "verify", "--profile", "full", "--reference", str(folder), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(captured.out)
    assert doc["ok"] is True and [n["points"] for n in doc["notebooks"]] == [3, 2]
    assert "verified 2 reference notebooks" in captured.err
