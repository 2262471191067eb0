"""Real TensorFlow notebooks in the smoke (and full) profile on synthetic data, on 2 CPU cores.

Skipped cleanly where TensorFlow is not installed; deselect with ``-m 'not slow'``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from grader.evidence import ModelKind
from grader.execute import FailureKind, Progress, RunOptions
from grader.extract.runtime import RunResult
from grader.pipeline import execute_and_extract
from tests import notebooks_exec as scen

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
    ),
]


def _options(home: Path, **changes: object) -> RunOptions:
    base: dict[str, object] = {
        "home": home,
        "profile": "smoke",
        "data": "synthetic",
        "synthetic_size": (3000, 600),
        "seed": 0,
        "threads": 2,
        "timeout_cell": 300.0,
        "timeout_run": 600.0,
    }
    base.update(changes)
    return RunOptions.model_validate(base)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grader-home")


@pytest.fixture(scope="module")
def three_model_run(home: Path, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    folder = tmp_path_factory.mktemp("three")
    path = scen.save(scen.three_models(), folder / "hw5.ipynb")
    return execute_and_extract(path, _options(home))


def test_three_models_are_captured(three_model_run: RunResult) -> None:
    result = three_model_run
    assert result.status == "ok", result.failure
    ev = result.evidence
    assert ev is not None and ev.source == "merged"
    kinds = [m.kind for m in ev.models]
    assert kinds == [
        ModelKind.scratch_cnn,
        ModelKind.custom_residual,
        ModelKind.transfer_frozen,
        ModelKind.fine_tuned,
    ]
    scratch, residual, frozen, tuned = ev.models
    assert frozen.base == tuned.base == "MobileNetV2"
    assert tuned.continues == frozen.id
    # the smoke profile caps every fit at 3 epochs (the fine-tune asks for exactly 3)
    assert all(m.epochs == 3 and len(m.history["val_accuracy"]) == 3 for m in ev.models)
    assert all(m.test_accuracy is not None for m in ev.models)
    assert all(m.curves_shown for m in ev.models)
    assert (
        scratch.confusion_matrix_shown
        and residual.confusion_matrix_shown
        and tuned.confusion_matrix_shown
    )
    assert scratch.confusion is not None and scratch.confusion.matrix is not None
    assert sum(map(sum, scratch.confusion.matrix)) == 500
    assert (scratch.test_accuracy or 0) > 0.2  # synthetic data is learnable: well above chance
    assert (tuned.params_trainable or 0) > (frozen.params_trainable or 0)
    assert (
        ev.data.dataset == "synthetic" and ev.data.train_size == 2000 and ev.data.test_size == 500
    )
    assert ev.has_written_summary


def test_three_models_report_the_fallback_loudly(three_model_run: RunResult) -> None:
    result = three_model_run
    assert result.evidence is not None
    loud = [f for f in result.evidence.findings if f.code == "weights-fallback"]
    assert loud and "random initialisation" in loud[0].message
    assert (
        result.evidence.models[2].weights
        and "random initialisation" in result.evidence.models[2].weights
    )
    requests = result.manifest.weights.requests
    assert requests and requests[0].application == "MobileNetV2" and not requests[0].found
    assert result.manifest.network_attempts
    fits = result.capture.fits
    assert [f.status for f in fits] == ["finished"] * 4
    assert all("epochs" in " ".join(f.caps) for f in fits[:3])
    assert not any("epochs" in cap for cap in fits[3].caps)  # asked for 3, the cap's own value


def test_merged_grade_matches_static_check_of_executed_notebook(three_model_run: RunResult) -> None:
    from grader.grade.rubric import load_rubric
    from grader.pipeline import check_notebook

    assert three_model_run.evidence is not None and three_model_run.files.executed
    static = check_notebook(Path(three_model_run.files.executed))
    merged = load_rubric().grade(three_model_run.evidence, None)
    assert merged.points == static.grade.points
    assert [m.kind for m in static.models] == [m.kind for m in three_model_run.evidence.models]


def test_raises_halfway_keeps_the_models_before_it(home: Path, tmp_path: Path) -> None:
    path = scen.save(scen.raises_halfway(), tmp_path / "halfway.ipynb")
    seen: list[Progress] = []
    result = execute_and_extract(path, _options(home), progress=seen.append)
    epochs = [(p.model, p.epoch, p.epochs) for p in seen if p.phase == "epoch"]
    assert epochs == [("sequential", 1, 3), ("sequential", 2, 3), ("sequential", 3, 3)]
    f = result.failure
    assert f is not None and f.kind == FailureKind.exception and f.ename == "NameError"
    assert f.cell == 5 and f.models_captured == 1
    assert result.evidence is not None
    (model,) = result.evidence.models
    assert model.kind == ModelKind.scratch_cnn and model.test_accuracy is not None


def test_kernel_death_after_a_model_keeps_it(home: Path, tmp_path: Path) -> None:
    path = scen.save(scen.kills_kernel_after_model(), tmp_path / "dies.ipynb")
    result = execute_and_extract(path, _options(home))
    f = result.failure
    assert f is not None and f.kind == FailureKind.kernel_died and f.exit_code == 1
    assert f.cell == 5 and f.models_captured == 1
    assert result.evidence is not None and result.evidence.models[0].test_accuracy is not None


def test_full_profile_fails_on_missing_weights(home: Path, tmp_path: Path) -> None:
    path = scen.save(scen.uses_imagenet_weights(), tmp_path / "weights.ipynb")
    result = execute_and_extract(path, _options(home, profile="full"))
    f = result.failure
    assert f is not None and f.kind == FailureKind.missing_weights and f.cell == 1
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5" in f.message


def test_full_profile_fails_on_missing_cifar10(home: Path, tmp_path: Path) -> None:
    path = scen.save(scen.raises_halfway(), tmp_path / "data.ipynb")
    result = execute_and_extract(path, _options(home, profile="full", data="cifar10"))
    f = result.failure
    assert f is not None and f.kind == FailureKind.missing_data and f.cell == 1
    assert "grader data cifar10" in f.message


def test_weights_from_the_weights_folder_are_used(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "weights"
    folder.mkdir()
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    script = (
        "import sys, h5py, keras\n"
        "from keras.src.legacy.saving import legacy_h5_format\n"
        "m = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None)\n"
        "with h5py.File(sys.argv[1], 'w') as f:\n"
        "    legacy_h5_format.save_weights_to_hdf5_group(f, m)\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(folder / name)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    path = scen.save(scen.uses_imagenet_weights(), tmp_path / "weights.ipynb")
    result = execute_and_extract(path, _options(home, profile="full", weights=folder))
    assert result.status == "ok", result.failure
    (request,) = result.manifest.weights.requests
    assert request.found and request.file == name and request.fallback is None
    assert result.manifest.network_attempts == []


def test_seeded_deterministic_runs_repeat_exactly(home: Path, tmp_path: Path) -> None:
    path = scen.save(scen.raises_halfway(), tmp_path / "repeat.ipynb")
    options = _options(home, deterministic=True, seed=7, force=True)
    first = execute_and_extract(path, options)
    second = execute_and_extract(path, options)
    assert first.evidence is not None and second.evidence is not None
    assert first.evidence.models[0].history == second.evidence.models[0].history
    assert first.evidence.models[0].test_accuracy == second.evidence.models[0].test_accuracy
    assert first.manifest.seed == 7 and first.manifest.deterministic
    problems = [e for e in first.capture.events if e.type == "problem"]
    assert problems == []


@pytest.mark.skipif(
    importlib.util.find_spec("tf_keras") is None, reason="tf_keras is not installed"
)
def test_legacy_tf_keras_is_captured(home: Path, tmp_path: Path) -> None:
    path = scen.save(scen.legacy_tf_keras(), tmp_path / "legacy.ipynb")
    result = execute_and_extract(path, _options(home))
    assert result.status == "ok", result.failure
    assert [f.flavour for f in result.capture.fits] == ["tf_keras"]
    assert result.evidence is not None
    (model,) = result.evidence.models
    assert model.kind == ModelKind.scratch_cnn and model.epochs == 2
    assert set(model.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert model.test_accuracy is not None
    assert any(f.code == "weights-fallback" for f in result.evidence.findings)


@pytest.mark.parametrize(
    ("style", "flagged"),
    [("functional", True), ("sequential", True), ("flattened", True), ("preprocessed", False)],
)
def test_what_a_pretrained_base_receives_is_measured(
    home: Path, tmp_path: Path, style: str, flagged: bool
) -> None:
    path = scen.save(scen.base_fed(style), tmp_path / f"{style}.ipynb")
    result = execute_and_extract(path, _options(home, verify=False))
    assert result.status == "ok", result.failure
    (fit,) = result.capture.fits
    (used,) = fit.base_inputs
    assert used.application == "MobileNetV2" and used.weights == "imagenet"
    expected = (0.0, 1.0) if flagged else (-1.0, 1.0)
    assert used.min is not None and used.max is not None
    assert (round(used.min, 3), round(used.max, 3)) == expected
    assert result.evidence is not None
    codes = [f.code for f in result.evidence.findings]
    assert ("base-input-range" in codes) == flagged
    # the measurement is not a prediction of the student's: nothing else was recorded
    assert [e.type for e in result.capture.events].count("predict") == 0
