"""Merging a runtime capture into static evidence, from hand-made capture records."""

from __future__ import annotations

from typing import Any

from grader.check.reproducibility import reproducibility_findings
from grader.evidence import (
    Evidence,
    Framework,
    Method,
    ModelKind,
    ModelRun,
    NotebookInfo,
    Provenance,
)
from grader.execute.capture import CaptureRecord, Fingerprint, FitRecord, parse_event_line
from grader.extract.runtime import (
    MergeContext,
    classify_architecture,
    merge_evidence,
    runtime_stages,
)

INFO = NotebookInfo(path="nb.ipynb", sha256="0" * 64, nbformat="4.5", cells=12)


def _cell_of(count: int | None) -> int | None:
    return None if count is None else count - 1  # execution count n ran in cell n - 1


def _fit(
    fid: str,
    key: str,
    cell: int,
    arch: dict[str, Any],
    *,
    opt: int = 1,
    lr: float = 1e-3,
    **extra: Any,
) -> FitRecord:
    data: dict[str, Any] = {
        "id": fid,
        "model_key": key,
        "model_name": f"model_{key}",
        "cell": cell,
        "status": "finished",
        "epochs_requested": 10,
        "history": {
            "loss": [1.5 + int(fid[1:]), 1.2],
            "accuracy": [0.4, 0.5],
            "val_loss": [1.6, 1.3],
            "val_accuracy": [0.35, 0.45],
        },
        "epochs_run": 2,
        "seconds": 3.5,
        "optimizer": {"class_name": "Adam", "learning_rate": lr, "id": opt},
        "architecture": arch,
        "train": {
            "kind": "array",
            "n": 512,
            "fingerprint": "aaaa0001",
            "label_counts": {str(i): 50 for i in range(10)},
        },
        "validation": {"kind": "array", "n": 256, "fingerprint": "bbbb0001"},
    }
    data.update(extra)
    return FitRecord.model_validate(data)


SCRATCH = {
    "layer_counts": {"Conv2D": 2, "MaxPooling2D": 2, "Dense": 2},
    "params_total": 1000,
    "params_trainable": 1000,
}
RESIDUAL = {
    "layer_counts": {"Conv2D": 5, "Add": 2, "Dense": 1},
    "params_total": 2000,
    "params_trainable": 2000,
}
SEPARABLE = {"layer_counts": {"SeparableConv2D": 4, "Conv2D": 1}, "op_counts": {"Add": 1}}


def _app_arch(trainable: int) -> dict[str, Any]:
    return {
        "layer_counts": {
            "Functional": 1,
            "Conv2D": 35,
            "DepthwiseConv2D": 17,
            "Add": 10,
            "Dense": 1,
        },
        "own_layer_counts": {"Functional": 1, "GlobalAveragePooling2D": 1, "Dense": 1},
        "nested": [
            {
                "name": "mobilenetv2_1.00_96",
                "class_name": "Functional",
                "application": "MobileNetV2",
                "weights": "imagenet",
                "weights_loaded": False,
                "fallback": "weights file x.h5 is not in the weights folder",
                "trainable": trainable > 0,
                "params": 2_257_984,
                "params_trainable": trainable,
            }
        ],
        "params_total": 2_270_794,
        "params_trainable": 12_810 + trainable,
    }


def _events(*events: dict[str, Any]) -> list[Any]:
    import json

    return [parse_event_line(json.dumps({"seq": i + 1, **e})) for i, e in enumerate(events)]


def _capture() -> CaptureRecord:
    fits = [
        _fit("f1", "k1", 6, SCRATCH),
        _fit("f2", "k2", 9, RESIDUAL),
        _fit("f3", "k3", 11, _app_arch(0)),
        _fit("f4", "k3", 13, _app_arch(1_206_080), opt=2, lr=1e-5),
    ]
    events = _events(
        {"type": "data_load", "served": "synthetic", "dataset": "synthetic", "cell": 3},
        {
            "type": "evaluate",
            "cell": 7,
            "model_key": "k1",
            "fit": "f1",
            "metrics": {"loss": 1.0, "accuracy": 0.61},
            "data": {"kind": "array", "n": 500, "fingerprint": "cccc0001"},
        },
        {
            "type": "evaluate",
            "cell": 7,
            "model_key": "k1",
            "fit": "f1",
            "metrics": {"loss": 0.5, "accuracy": 0.9},
            "data": {"kind": "array", "n": 512, "fingerprint": "aaaa0001"},
        },
        {"type": "predict", "cell": 7, "model_key": "k1", "fit": "f1", "label_hashes": ["1111"]},
        {
            "type": "confusion",
            "cell": 7,
            "source": "sklearn",
            "matrix": [[5, 1], [2, 4]],
            "pred_hash": "1111",
        },
        {
            "type": "confusion",
            "cell": 7,
            "source": "sklearn-display",
            "matrix": [[5, 1], [2, 4]],
            "labels": ["cat", "dog"],
        },
        {
            "type": "figure",
            "cell": 8,
            "figure": {
                "axes": [{"title": "loss", "lines": [{"label": "train", "n": 2, "y": [2.5, 1.2]}]}]
            },
        },
        {
            "type": "evaluate",
            "cell": 10,
            "model_key": "k2",
            "fit": "f2",
            "result": [1.1, 0.52],
            "metrics_names": ["loss", "accuracy"],
            "data": {"kind": "array", "n": 500, "fingerprint": "cccc0001"},
        },
        {
            "type": "application",
            "cell": 11,
            "application": "MobileNetV2",
            "weights": "imagenet",
            "weights_loaded": False,
            "fallback": "weights file x.h5 is not in the weights folder",
        },
        {"type": "network_blocked", "cell": 11, "url": "https://storage.googleapis.com/x.h5"},
        {
            "type": "evaluate",
            "cell": 12,
            "model_key": "k3",
            "fit": "f3",
            "metrics": {"loss": 2.3, "accuracy": 0.1},
            "data": {"kind": "array", "n": 500, "fingerprint": "cccc0001"},
        },
        {
            "type": "evaluate",
            "cell": 14,
            "model_key": "k3",
            "fit": "f4",
            "metrics": {"loss": 2.2, "accuracy": 0.12},
            "data": {"kind": "array", "n": 500, "fingerprint": "cccc0001"},
        },
        {"type": "predict", "cell": 14, "model_key": "k3", "fit": "f4", "label_hashes": ["2222"]},
        {
            "type": "confusion",
            "cell": 14,
            "source": "tf",
            "matrix": [[1, 0], [0, 1]],
            "pred_hash": "2222",
        },
    )
    fingerprints = {
        "aaaa0001": Fingerprint(
            id="aaaa0001", shape=[4], dtype="f4", n=4, hashes=["0001", "0002", "0003", "0004"]
        ),
        "cccc0001": Fingerprint(
            id="cccc0001", shape=[4], dtype="f4", n=4, hashes=["0004", "0005", "0006", "0007"]
        ),
    }
    return CaptureRecord(fits=fits, events=events, fingerprints=fingerprints)


def test_architecture_kinds() -> None:
    from grader.execute.capture import Architecture

    assert (
        classify_architecture(Architecture.model_validate(SCRATCH), False)[0]
        == ModelKind.scratch_cnn
    )
    assert (
        classify_architecture(Architecture.model_validate(RESIDUAL), False)[0]
        == ModelKind.custom_residual
    )
    assert (
        classify_architecture(Architecture.model_validate(SEPARABLE), False)[0]
        == ModelKind.custom_xception
    )
    frozen = classify_architecture(Architecture.model_validate(_app_arch(0)), False)
    assert frozen[0] == ModelKind.transfer_frozen and frozen[2] == "MobileNetV2"
    assert "random initialisation" in (frozen[3] or "")
    tuned = classify_architecture(Architecture.model_validate(_app_arch(1_000_000)), True)
    assert tuned[0] == ModelKind.fine_tuned and "after a frozen stage" in tuned[1][0]
    assert classify_architecture(None, False)[0] is None


def test_stages_group_continued_training_and_split_changed_setups() -> None:
    same = [_fit("f1", "k1", 3, SCRATCH), _fit("f2", "k1", 4, SCRATCH)]
    stages = runtime_stages(same, _cell_of)
    assert len(stages) == 1 and stages[0].cells == [2, 3] and stages[0].epochs_run() == 4
    changed = [
        _fit("f1", "k1", 3, _app_arch(0)),
        _fit("f2", "k1", 5, _app_arch(5000), opt=9, lr=1e-5),
    ]
    stages = runtime_stages(changed, _cell_of)
    assert len(stages) == 2 and stages[1].continues == 0
    assert any("learning rate" in c for c in stages[1].changes)
    assert any("trainable parameters" in c for c in stages[1].changes)


def test_runtime_only_evidence() -> None:
    ctx = MergeContext(profile="smoke", data_kind="synthetic")
    ev = merge_evidence(None, _capture(), INFO, _cell_of, ctx)
    assert ev.source == "runtime" and ev.framework == Framework.keras
    kinds = [m.kind for m in ev.models]
    assert kinds == [
        ModelKind.scratch_cnn,
        ModelKind.custom_residual,
        ModelKind.transfer_frozen,
        ModelKind.fine_tuned,
    ]
    scratch, residual, frozen, tuned = ev.models
    assert scratch.test_accuracy == 0.61  # the evaluate on training data is not the test accuracy
    assert scratch.test_accuracy_provenance is not None
    assert scratch.test_accuracy_provenance.method == Method.runtime
    assert scratch.confusion is not None and scratch.confusion.matrix == [[5, 1], [2, 4]]
    assert scratch.confusion.labels == ["cat", "dog"]
    assert scratch.confusion_matrix_shown and scratch.curves_shown
    assert residual.test_accuracy == 0.52 and not residual.curves_shown
    assert frozen.base == "MobileNetV2" and frozen.test_accuracy == 0.1
    assert tuned.continues == frozen.id and tuned.test_accuracy == 0.12
    assert tuned.learning_rate == 1e-5 and tuned.confusion is not None
    assert (
        scratch.history["val_accuracy"] == [0.35, 0.45]
        and scratch.epochs == 2
        and scratch.epochs_planned == 10
    )
    assert ev.data.dataset == "synthetic" and ev.data.train_size == 512 and ev.data.n_classes == 10
    assert ev.data.test_size == 500
    codes = {f.code for f in ev.findings}
    assert {
        "smoke-profile",
        "synthetic-data",
        "weights-fallback",
        "network-blocked",
        "train-test-overlap",
    } <= codes
    loud = next(f for f in ev.findings if f.code == "weights-fallback")
    assert "MISSING" in loud.message and loud.cell == 10


def _static_model(
    mid: str, name: str, kind: ModelKind, cells: list[int], acc: float | None = None
) -> ModelRun:
    return ModelRun(
        id=mid,
        name=name,
        kind=kind,
        fit_cells=cells,
        test_accuracy=acc,
        provenance=Provenance(cell=cells[0], method=Method.output_log, confidence=0.9),
    )


def test_merge_keeps_static_names_and_runtime_facts_win() -> None:
    static = Evidence(
        notebook=INFO,
        framework=Framework.keras,
        models=[
            _static_model("m1", "model_cnn", ModelKind.scratch_cnn, [5], 0.33),
            _static_model("m2", "model_res", ModelKind.scratch_cnn, [8]),
            _static_model("m3", "torch_net", ModelKind.other, [2]),
        ],
    )
    static.models[2].framework = Framework.pytorch
    ctx = MergeContext(profile="smoke", data_kind="synthetic")
    ev = merge_evidence(static, _capture(), INFO, _cell_of, ctx)
    assert ev.source == "merged"
    by_id = {m.id: m for m in ev.models}
    assert by_id["m1"].name == "model_cnn" and by_id["m1"].test_accuracy == 0.61
    assert by_id["m2"].kind == ModelKind.custom_residual
    assert "static reading said scratch_cnn" in by_id["m2"].kind_reasons[-1]
    assert by_id["m3"].name == "torch_net"  # nothing captured for it: kept as read
    assert [m.id for m in ev.models] == ["m1", "m2", "m3", "m4", "m5"]
    assert by_id["m5"].continues == "m4"
    # a stage the static reading did not see is named after the entry it continues
    assert by_id["m5"].name == f"{by_id['m4'].name} (stage 2)"


def test_reproducibility_findings() -> None:
    original = Evidence(
        notebook=INFO,
        framework=Framework.keras,
        models=[
            _static_model("m1", "model_cnn", ModelKind.scratch_cnn, [5], 0.62),
            _static_model("m2", "model_res", ModelKind.custom_residual, [8], 0.80),
        ],
    )
    full = MergeContext(profile="full", data_kind="cifar10", repro_tolerance=0.05)
    ev = merge_evidence(None, _capture(), INFO, _cell_of, full)
    repro = reproducibility_findings(original, ev, full)
    assert len(repro) == 2
    assert (
        repro[0].severity.value == "info"
        and "reproduced" in repro[0].message
        and "±0.05" in repro[0].message
    )
    assert repro[1].severity.value == "warning" and "NOT reproduced" in repro[1].message
    assert "-0.2800" in repro[1].message
    smoke_context = MergeContext(profile="smoke", data_kind="synthetic")
    smoke = merge_evidence(None, _capture(), INFO, _cell_of, smoke_context)
    notes = reproducibility_findings(original, smoke, smoke_context)
    assert len(notes) == 1 and "not compared" in notes[0].message


def test_failed_run_is_a_finding() -> None:
    ctx = MergeContext(
        profile="smoke", failed=True, failure_message="cell 5 raised NameError", failure_cell=5
    )
    ev = merge_evidence(None, CaptureRecord(), INFO, _cell_of, ctx)
    assert ev.models == [] and ev.framework == Framework.unknown
    run_failed = [f for f in ev.findings if f.code == "run-failed"]
    assert run_failed and run_failed[0].cell == 5 and run_failed[0].severity.value == "error"


def test_history_names_are_normalised() -> None:
    from grader.extract.runtime import _history_names

    assert _history_names(["loss", "acc", "val_loss", "val_acc"]) == {
        "loss": "loss",
        "acc": "accuracy",
        "val_loss": "val_loss",
        "val_acc": "val_accuracy",
    }
    sparse = _history_names(
        ["loss", "sparse_categorical_accuracy", "val_sparse_categorical_accuracy"]
    )
    assert sparse["sparse_categorical_accuracy"] == "accuracy"
    assert sparse["val_sparse_categorical_accuracy"] == "val_accuracy"
    both = _history_names(["accuracy", "top_k_categorical_accuracy"])
    assert both == {
        "accuracy": "accuracy",
        "top_k_categorical_accuracy": "top_k_categorical_accuracy",
    }
