"""Unit tests of the execution package that need neither a kernel nor TensorFlow."""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
import pickle
import sys
import tarfile
import types
from pathlib import Path

import numpy as np
import pytest

from grader.errors import UsageError
from grader.execute import kernel_prelude as prelude
from grader.execute.cache import CacheStore, cache_key
from grader.execute.capture import (
    CaptureLimits,
    ConfusionEvent,
    EvaluateEvent,
    load_capture,
    parse_event_line,
)
from grader.execute.classify import ErrorFacts, classify_failure, missing_package
from grader.execute.data import (
    CIFAR10_SHA256,
    DataError,
    ensure_synthetic,
    find_cifar10,
    seed_cifar10_archive,
    seed_keras_home,
    synthetic_cifar,
)
from grader.execute.manifest import DataUsage, RunManifest, WeightsUsage, environment_info
from grader.execute.profiles import PROFILES, get_profile
from grader.execute.records import FailureKind, RunFiles, RunRecord
from grader.execute.sandbox.registry import get_backend
from grader.execute.weights import scan_weights

# ---------------------------------------------------------------- capture schema


def _fit(fid: str = "f1", **extra: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": fid,
        "model_key": "k1",
        "model_name": "cnn",
        "cell": 3,
        "status": "finished",
        "history": {"loss": [1.0, 0.5], "accuracy": [0.3, 0.6]},
        "epochs_run": 2,
    }
    record.update(extra)
    return record


def _capture_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "capture"
    (folder / "fits").mkdir(parents=True)
    (folder / "fingerprints").mkdir()
    return folder


def test_capture_valid_records_are_read(tmp_path: Path) -> None:
    folder = _capture_dir(tmp_path)
    (folder / "fits" / "f1.json").write_text(json.dumps(_fit()))
    (folder / "fingerprints" / "abcd1234.json").write_text(
        json.dumps(
            {
                "id": "abcd1234",
                "shape": [2, 4],
                "dtype": "uint8",
                "n": 2,
                "hashes": ["0a0b0c", "0d0e0f"],
            }
        )
    )
    events = [
        {"type": "session", "seq": 1, "cell": 2, "profile": "smoke"},
        {"type": "progress", "seq": 2, "fit": "f1", "epoch": 1, "epochs": 2},
        {
            "type": "evaluate",
            "seq": 3,
            "model_key": "k1",
            "fit": "f1",
            "result": [0.9, 0.7],
            "metrics": {"loss": 0.9, "accuracy": 0.7},
        },
    ]
    (folder / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    record = load_capture(folder)
    assert record.rejected == []
    assert [f.id for f in record.fits] == ["f1"]
    assert record.fits[0].history["accuracy"] == [0.3, 0.6]
    assert [e.type for e in record.events] == ["session", "evaluate"]  # progress is not kept
    assert record.fingerprints["abcd1234"].n == 2
    assert record.session() is not None


def test_capture_rejects_bad_content_without_raising(tmp_path: Path) -> None:
    folder = _capture_dir(tmp_path)
    (folder / "fits" / "f1.json").write_text(json.dumps(_fit(status="exploded")))
    (folder / "fits" / "f2.json").write_text("{not json")
    (folder / "fits" / "f3.json").write_text(json.dumps(_fit("f3", history={"loss": ["x"]})))
    (folder / "fits" / "notes.txt").write_text("ignored: not a record name")
    (folder / "fingerprints" / "abcd.json").write_text(
        json.dumps({"id": "ffff", "shape": [1], "dtype": "u1", "n": 1, "hashes": ["00"]})
    )
    lines = [
        json.dumps({"type": "evaluate", "seq": 1, "model_key": "k1", "result": NaN_TOKEN}).replace(
            '"NaN"', "NaN"
        ),
        '{"type": "unknown-kind", "seq": 2}',
        "\x00\x01 binary",
        '{"type": "confusion", "seq": 3, "source": "sklearn", "matrix": [[1, 2], [3, 4]]}',
    ]
    (folder / "events.jsonl").write_text("\n".join(lines))
    record = load_capture(folder)
    assert record.fits == []
    assert len(record.rejected) >= 5
    assert [e.type for e in record.events] == ["evaluate", "confusion"]
    first = record.events[0]
    assert isinstance(first, EvaluateEvent) and first.result is None  # NaN became null
    assert record.fingerprints == {}


NaN_TOKEN = "NaN"


def test_capture_size_limits_and_symlinks(tmp_path: Path) -> None:
    folder = _capture_dir(tmp_path)
    big = _fit(history={"loss": [0.1] * 5000})
    (folder / "fits" / "f1.json").write_text(json.dumps(big))
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps(_fit("f2")))
    os.symlink(outside, folder / "fits" / "f2.json")
    (folder / "fits" / "f3.json").write_text(json.dumps(_fit("f3")))
    record = load_capture(folder, CaptureLimits(fit_bytes=10_000))
    assert [f.id for f in record.fits] == ["f3"]
    assert any("over the limit" in r for r in record.rejected)
    assert any("not a regular file" in r for r in record.rejected)


def test_events_file_is_read_up_to_its_cap(tmp_path: Path) -> None:
    folder = _capture_dir(tmp_path)
    line = json.dumps({"type": "problem", "seq": 1, "message": "x" * 50}) + "\n"
    (folder / "events.jsonl").write_text(line * 100)
    record = load_capture(folder, CaptureLimits(events_bytes=len(line) * 10))
    assert len(record.events) == 10
    assert any("only the first" in r for r in record.rejected)


def test_evaluate_accuracy_from_every_result_shape() -> None:
    by_metrics = parse_event_line(
        json.dumps(
            {
                "type": "evaluate",
                "seq": 1,
                "model_key": "k",
                "metrics": {"loss": 1.2, "accuracy": 0.61},
            }
        )
    )
    by_names = parse_event_line(
        json.dumps(
            {
                "type": "evaluate",
                "seq": 2,
                "model_key": "k",
                "result": [1.2, 0.62],
                "metrics_names": ["loss", "acc"],
            }
        )
    )
    by_dict = parse_event_line(
        json.dumps(
            {
                "type": "evaluate",
                "seq": 3,
                "model_key": "k",
                "result": {"loss": 1.0, "accuracy": 0.63},
            }
        )
    )
    loss_only = parse_event_line(
        json.dumps({"type": "evaluate", "seq": 4, "model_key": "k", "result": 0.8})
    )
    assert isinstance(by_metrics, EvaluateEvent) and by_metrics.accuracy() == 0.61
    assert isinstance(by_names, EvaluateEvent) and by_names.accuracy() == 0.62
    assert isinstance(by_dict, EvaluateEvent) and by_dict.accuracy() == 0.63
    assert (
        isinstance(loss_only, EvaluateEvent)
        and loss_only.accuracy() is None
        and loss_only.loss() == 0.8
    )


def test_confusion_int_matrix_refuses_normalised_matrices() -> None:
    counts = ConfusionEvent(type="confusion", seq=1, source="sklearn", matrix=[[3, 1], [0, 4]])
    normalised = ConfusionEvent(
        type="confusion", seq=2, source="sklearn", matrix=[[0.75, 0.25], [0.0, 1.0]]
    )
    ragged = ConfusionEvent(type="confusion", seq=3, source="tf", matrix=[[1, 2], [3]])
    assert counts.int_matrix() == [[3, 1], [0, 4]]
    assert normalised.int_matrix() is None
    assert ragged.int_matrix() is None


# ------------------------------------------------------------------- synthetic


def test_synthetic_dataset_shapes_and_determinism() -> None:
    (x1, y1), (xt1, yt1) = synthetic_cifar(600, 200, seed=3)
    (x2, y2), (xt2, yt2) = synthetic_cifar(600, 200, seed=3)
    (x3, _), _ = synthetic_cifar(600, 200, seed=4)
    assert x1.shape == (600, 32, 32, 3) and x1.dtype == np.uint8
    assert y1.shape == (600, 1) and y1.dtype == np.uint8
    assert xt1.shape == (200, 32, 32, 3) and yt1.shape == (200, 1)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2) and np.array_equal(xt1, xt2)
    assert not np.array_equal(x1, x3)
    counts = np.bincount(y1.ravel(), minlength=10)
    assert len(counts) == 10 and counts.min() >= 40
    assert len({row.tobytes() for row in x1.reshape(600, -1)}) == 600  # no duplicate images


def test_synthetic_dataset_is_learnable() -> None:
    """A nearest-class-mean classifier on downsampled pixels clearly beats chance (10%)."""
    (x, y), (xt, yt) = synthetic_cifar(2000, 500, seed=0)

    def features(a: np.ndarray) -> np.ndarray:
        return a.reshape(len(a), 8, 4, 8, 4, 3).mean(axis=(2, 4)).reshape(len(a), -1) / 255.0

    f, ft = features(x), features(xt)
    means = np.stack([f[y.ravel() == c].mean(axis=0) for c in range(10)])
    pred = np.argmin(((ft[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (pred == yt.ravel()).mean() > 0.5


def test_synthetic_store_is_generated_once(tmp_path: Path) -> None:
    spec = ensure_synthetic(tmp_path, 300, 100)
    first = (Path(spec.dir) / "x_train.npy").stat().st_mtime_ns
    again = ensure_synthetic(tmp_path, 300, 100)
    assert again == spec
    assert (Path(spec.dir) / "x_train.npy").stat().st_mtime_ns == first
    assert np.load(Path(spec.dir) / "x_test.npy").shape == (100, 32, 32, 3)


# ------------------------------------------------------------------- CIFAR-10


def _fake_cifar_archive(path: Path, n: int = 20) -> str:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
        for name in names:
            payload = {
                b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                b"labels": list(rng.integers(0, 10, n)),
            }
            data = pickle.dumps(payload)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        evil = tarfile.TarInfo("../../outside.txt")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"evil"))
    path.write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def test_archive_with_wrong_checksum_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "cifar-10-python.tar.gz"
    _fake_cifar_archive(archive)
    with pytest.raises(DataError, match=CIFAR10_SHA256):
        seed_cifar10_archive(archive, tmp_path / "home")
    assert find_cifar10(tmp_path / "home") is None
    with pytest.raises(DataError, match="no such file"):
        seed_cifar10_archive(tmp_path / "missing.tar.gz", tmp_path / "home")


def test_archive_is_seeded_into_the_store(tmp_path: Path) -> None:
    archive = tmp_path / "cifar-10-python.tar.gz"
    digest = _fake_cifar_archive(archive)
    home = tmp_path / "home"
    spec = seed_cifar10_archive(archive, home, expected_sha256=digest)
    assert spec.kind == "cifar10" and spec.identity == digest
    assert spec.n_train == 100 and spec.n_test == 20
    x = np.load(Path(spec.dir) / "x_train.npy")
    assert x.shape == (100, 32, 32, 3) and x.dtype == np.uint8
    assert find_cifar10(home) == spec
    assert not (tmp_path / "outside.txt").exists()
    keras_home = tmp_path / "kh"
    weights = tmp_path / "w.h5"
    weights.write_bytes(b"h5")
    seed_keras_home(keras_home, spec, {"w.h5": str(weights)})
    assert (keras_home / "datasets" / "cifar-10-batches-py-target_archive").resolve() == Path(
        spec.archive or ""
    ).resolve()
    assert (keras_home / "datasets" / "cifar-10-batches-py" / "test_batch").is_file()
    assert (keras_home / "models" / "w.h5").read_bytes() == b"h5"


# --------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("facts", "kind"),
    [
        (
            ErrorFacts("PapermillExecutionError", cell=4, ename="ValueError", evalue="bad shape"),
            FailureKind.exception,
        ),
        (
            ErrorFacts(
                "PapermillExecutionError",
                cell=2,
                ename="ModuleNotFoundError",
                evalue="No module named 'cv2'",
            ),
            FailureKind.missing_package,
        ),
        (
            ErrorFacts(
                "PapermillExecutionError", cell=2, ename="GraderDataUnavailable", evalue="no CIFAR"
            ),
            FailureKind.missing_data,
        ),
        (
            ErrorFacts(
                "PapermillExecutionError",
                cell=5,
                ename="GraderWeightsUnavailable",
                evalue="no file",
            ),
            FailureKind.missing_weights,
        ),
        (
            ErrorFacts(
                "PapermillExecutionError", cell=5, ename="GraderNetworkBlocked", evalue="refused"
            ),
            FailureKind.network_blocked,
        ),
        (
            ErrorFacts("PapermillExecutionError", injected=True, ename="SyntaxError", evalue="x"),
            FailureKind.cannot_start,
        ),
        (
            ErrorFacts("CellTimeoutError", cell=3, limit_hit="cell", limit_seconds=60),
            FailureKind.cell_timeout,
        ),
        (
            ErrorFacts("CellTimeoutError", cell=3, limit_hit="run", limit_seconds=600),
            FailureKind.run_timeout,
        ),
        (ErrorFacts("DeadKernelError", cell=7, exit_code=-9), FailureKind.kernel_died),
        (
            ErrorFacts("KernelStartError", message="Kernel died before replying to kernel_info"),
            FailureKind.cannot_start,
        ),
    ],
)
def test_failure_classes(facts: ErrorFacts, kind: FailureKind) -> None:
    failure = classify_failure(facts)
    assert failure.kind == kind
    assert failure.message
    assert failure.cell == facts.cell


def test_failure_messages_name_what_matters() -> None:
    pkg = classify_failure(
        ErrorFacts(
            "PapermillExecutionError",
            cell=1,
            ename="ModuleNotFoundError",
            evalue="No module named 'cv2'",
        )
    )
    assert pkg.package == "opencv-python" and "cv2" in pkg.message
    oom = classify_failure(ErrorFacts("DeadKernelError", cell=7, exit_code=-9))
    assert "memory" in oom.message and oom.exit_code == -9
    segv = classify_failure(ErrorFacts("DeadKernelError", cell=7, exit_code=-11))
    assert "segmentation" in segv.message
    exited = classify_failure(ErrorFacts("DeadKernelError", cell=2, exit_code=1))
    assert "status 1" in exited.message
    tb = classify_failure(
        ErrorFacts(
            "PapermillExecutionError",
            cell=1,
            ename="KeyError",
            evalue="'x'",
            traceback=("\x1b[31mKeyError\x1b[0m: 'x'",),
        )
    )
    assert tb.traceback == ["KeyError: 'x'"]
    assert missing_package("No module named 'tensorflow.keras.layers'") == "tensorflow"
    assert missing_package("cannot import name 'x'") is None


# ------------------------------------------------------------------- cache keys


def _key(**changes: object) -> str:
    args: dict[str, object] = {
        "notebook_sha256": "a" * 64,
        "profile": get_profile("smoke").model_dump(),
        "data_identity": "synthetic-v1",
        "weights_identity": "none",
        "harness_version": "0.1.0",
        "prelude_sha256": "b" * 64,
        "environment": {"python": "3.11.7", "packages": {"tensorflow": "2.21.0"}},
        "seed": None,
        "deterministic": False,
        "threads": None,
        "timeouts": {"cell": 900.0, "run": 3600.0},
        "backend": "local",
    }
    args.update(changes)
    return cache_key(**args)  # type: ignore[arg-type]


def test_cache_key_covers_every_input() -> None:
    base = _key()
    assert _key() == base
    variants = [
        _key(notebook_sha256="c" * 64),
        _key(profile=get_profile("full").model_dump()),
        _key(data_identity="cifar10-sha"),
        _key(weights_identity="w1"),
        _key(harness_version="0.2.0"),
        _key(prelude_sha256="d" * 64),
        _key(environment={"python": "3.11.7", "packages": {"tensorflow": "2.20.0"}}),
        _key(seed=0),
        _key(deterministic=True),
        _key(threads=2),
        _key(timeouts={"cell": 60.0, "run": 3600.0}),
    ]
    assert len({base, *variants}) == len(variants) + 1


def _result(folder: Path, key: str) -> RunRecord:
    manifest = RunManifest(
        harness_version="0.1.0",
        prelude_sha256="x",
        notebook="nb.ipynb",
        notebook_sha256="y",
        profile=get_profile("smoke"),
        data=DataUsage(requested="synthetic"),
        weights=WeightsUsage(),
        environment=environment_info(),
    )
    from grader.execute.capture import CaptureRecord

    return RunRecord(
        status="ok",
        notebook="nb.ipynb",
        sha256="y",
        profile="smoke",
        cache_key=key,
        wall_seconds=1.0,
        files=RunFiles(folder=str(folder), log=str(folder / "run.log")),
        capture=CaptureRecord(),
        manifest=manifest,
    )


def test_cache_store_round_trip(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "cache")
    key = _key()
    assert store.load(key) is None
    run_dir = tmp_path / "out"
    run_dir.mkdir()
    (run_dir / "run.log").write_text("log")
    entry = store.store(key, run_dir)
    result = _result(entry, key)
    (entry / "result.json").write_text(result.model_dump_json())
    loaded = store.load(key)
    assert loaded is not None and loaded.cache_key == key
    assert store.load(_key(seed=1)) is None
    (entry / "result.json").write_text("{broken")
    assert store.load(key) is None
    moved = result.files.moved(tmp_path / "elsewhere")
    assert moved.log == str(tmp_path / "elsewhere" / "run.log")


# ------------------------------------------------------------- small registries


def test_profiles_and_backends_registries() -> None:
    assert set(PROFILES) == {"smoke", "full"}
    smoke = get_profile("smoke")
    assert smoke.max_epochs == 3 and smoke.weights_fallback and smoke.batchnorm_momentum == 0.9
    assert get_profile("full").max_epochs is None
    with pytest.raises(UsageError, match="did you mean 'smoke'"):
        get_profile("smok")
    assert get_backend("local").name == "local"
    with pytest.raises(UsageError, match="unknown execution backend"):
        get_backend("no-such-backend")


def test_weights_identity_follows_the_folder(tmp_path: Path) -> None:
    assert scan_weights(None).identity == "none"
    (tmp_path / "a.h5").write_bytes(b"1")
    (tmp_path / "readme.txt").write_text("not weights")
    first = scan_weights(tmp_path)
    assert first.files == {"a.h5": 1}
    (tmp_path / "b.h5").write_bytes(b"22")
    assert scan_weights(tmp_path).identity != first.identity
    with pytest.raises(UsageError):
        scan_weights(tmp_path / "nope")


# -------------------------------------------------------------- prelude helpers


def test_prelude_plain_values_are_json_safe() -> None:
    value = prelude._plain(
        {"a": np.float32(0.5), "b": [float("nan"), np.int64(3)], "c": np.arange(3)}
    )
    assert value == {"a": 0.5, "b": [None, 3], "c": [0, 1, 2]}
    json.dumps(value, allow_nan=False)


def test_prelude_smoke_caps_slice_arrays_consistently() -> None:
    smoke = get_profile("smoke")
    assert smoke.train_samples and smoke.val_samples and smoke.max_epochs
    x = np.zeros((2000, 4, 4, 3), dtype=np.float32)
    y = np.arange(2000)
    xv, yv = np.zeros((300, 4, 4, 3)), np.arange(300)
    args: dict[str, object] = {"x": x, "y": y, "epochs": 30, "validation_data": (xv, yv)}
    caps = prelude._apply_fit_caps(args, smoke.model_dump())
    assert args["epochs"] == smoke.max_epochs
    n = smoke.train_samples
    assert len(args["x"]) == n and len(args["y"]) == n  # type: ignore[arg-type]
    val = args["validation_data"]
    assert isinstance(val, tuple) and len(val[0]) == smoke.val_samples == len(val[1])
    assert any(f"epochs 30 -> {smoke.max_epochs}" in c for c in caps)
    resumed: dict[str, object] = {"x": x[:10], "y": y[:10], "epochs": 20, "initial_epoch": 10}
    prelude._apply_fit_caps(resumed, smoke.model_dump())
    assert resumed["epochs"] == 10 + smoke.max_epochs
    multi: dict[str, object] = {"x": {"a": x, "b": x}, "y": y}
    prelude._apply_fit_caps(multi, smoke.model_dump())
    assert all(len(v) == n for v in multi["x"].values())  # type: ignore[attr-defined]


def test_prelude_generator_steps_are_capped() -> None:
    class Batches:
        def __len__(self) -> int:
            return 100

        def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
            return np.zeros((2, 2)), np.zeros(2)

    args: dict[str, object] = {"x": Batches(), "epochs": 5, "validation_data": Batches()}
    steps = get_profile("smoke").max_steps
    prelude._apply_fit_caps(args, get_profile("smoke").model_dump())
    assert args["steps_per_epoch"] == steps and args["validation_steps"] == steps


def test_prelude_label_hashes_ignore_integer_width() -> None:
    labels = np.array([0, 3, 9, 1])
    assert prelude._labels_hash(labels.astype(np.int32)) == prelude._labels_hash(
        labels.astype(np.int64)
    )
    assert prelude._labels_hash(labels.astype(np.float64)) == prelude._labels_hash(labels)
    assert prelude._labels_hash(np.array([0.5, 1.0])) is None
    counts = prelude._label_counts(np.eye(3)[[0, 1, 1, 2]])
    assert counts == {"0": 1, "1": 2, "2": 1}


def test_prelude_predict_fill_keeps_shapes() -> None:
    out = np.arange(10).reshape(5, 2)
    filled = prelude._fill_rows(out, 12, 5)
    assert filled.shape == (12, 2) and np.array_equal(filled[5], out[0])


def test_prelude_import_hook_patches_after_module_runs(tmp_path: Path) -> None:
    pkg = tmp_path / "grader_fake_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "target.py").write_text("VALUE = 1\ndef f():\n    return 'original'\n")
    seen: list[str] = []

    def patch(module: types.ModuleType) -> None:
        seen.append(module.__name__)
        module.f = lambda: "patched"  # type: ignore[attr-defined]

    finder = prelude._PostImportFinder({"grader_fake_pkg.target": [patch]}, [])
    sys.path.insert(0, str(tmp_path))
    sys.meta_path.insert(0, finder)
    try:
        import grader_fake_pkg.target as target

        assert target.f() == "patched" and target.VALUE == 1
        assert seen == ["grader_fake_pkg.target"]
        assert type(target.__loader__).__name__ != "_HookLoader"  # the module keeps its real loader
    finally:
        sys.meta_path.remove(finder)
        sys.path.remove(str(tmp_path))
        for name in ("grader_fake_pkg.target", "grader_fake_pkg"):
            sys.modules.pop(name, None)


def test_colab_only_imports_are_explained() -> None:
    failure = classify_failure(
        ErrorFacts(
            "PapermillExecutionError",
            cell=0,
            ename="ModuleNotFoundError",
            evalue="No module named 'google.colab'",
        )
    )
    assert failure.kind == FailureKind.missing_package and failure.package == "google.colab"
    assert "Colab" in failure.message


def test_prelude_smoke_batchnorm_momentum_only_where_the_code_leaves_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    class BatchNormalization:
        def __init__(self, axis: int = -1, momentum: float = 0.99, **kwargs: object) -> None:
            self.momentum = momentum

    module = SimpleNamespace(BatchNormalization=BatchNormalization)
    monkeypatch.setattr(prelude, "_REC", SimpleNamespace(profile={"batchnorm_momentum": 0.9}))
    prelude._patch_batchnorm(module)
    prelude._patch_batchnorm(module)  # a second import does not wrap it twice
    assert BatchNormalization().momentum == 0.9
    assert BatchNormalization(-1).momentum == 0.9
    assert BatchNormalization(momentum=0.95).momentum == 0.95
    assert BatchNormalization(-1, 0.8).momentum == 0.8
    assert inspect.signature(BatchNormalization.__init__).parameters["momentum"].default == 0.9

    class Untouched:
        def __init__(self, momentum: float = 0.99) -> None:
            self.momentum = momentum

    monkeypatch.setattr(prelude, "_REC", SimpleNamespace(profile={"batchnorm_momentum": None}))
    prelude._patch_batchnorm(SimpleNamespace(BatchNormalization=Untouched))
    assert Untouched().momentum == 0.99  # the full profile changes nothing


def test_prelude_smoke_caps_a_model_with_a_pretrained_base_to_fewer_samples() -> None:
    smoke = get_profile("smoke")
    x, y = np.zeros((2000, 4, 4, 3), dtype=np.float32), np.arange(2000)
    args: dict[str, object] = {"x": x, "y": y, "epochs": 5}
    caps = prelude._apply_fit_caps(args, smoke.model_dump(), pretrained=True)
    assert len(args["x"]) == smoke.pretrained_train_samples == 512  # type: ignore[arg-type]
    assert any("train samples 2000 -> 512" in c for c in caps)
