"""The capture prelude: runs inside the notebook's kernel and records what the notebook does.

The runner copies this file into the run folder and the injected first cell
loads it as the module ``_grader_capture`` and calls :func:`install`. It uses
the standard library only and imports nothing heavy itself: Keras, scikit-learn,
TensorFlow and matplotlib are patched when (and only if) the notebook imports
them, through a ``sys.meta_path`` finder that runs a patch right after the
module has executed and before anything else binds its names.

What it records (as JSON, in the run's capture folder):

* ``fits/<id>.json``: one file per ``fit`` call, rewritten atomically after
  every epoch: architecture, optimizer, per-epoch logs, data fingerprints;
* ``events.jsonl``: evaluate/predict results, confusion matrices, accuracy
  scores, figures shown, application models built, data served, downloads
  refused, progress;
* ``fingerprints/<id>.json``: per-sample hashes of arrays passed to fit/evaluate.

In the ``full`` profile nothing here changes what the notebook computes: a
callback is added to ``fit`` and values are read, never written. The ``smoke``
profile caps epochs and the samples that reach ``fit``/``evaluate``/``predict``.
Nothing recorded here is trusted by the grader: the harness validates every
file against a schema and caps its size.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.abc
import importlib.machinery
import inspect
import itertools
import json
import math
import os
import sys
import threading
import time
import weakref
from typing import Any

__all__ = [
    "GraderDataUnavailable",
    "GraderNetworkBlocked",
    "GraderWeightsUnavailable",
    "install",
]

PRELUDE_VERSION = "1"

_REC: _Recorder | None = None


class GraderDataUnavailable(RuntimeError):
    """The dataset the notebook loads is not provisioned for this run."""


class GraderWeightsUnavailable(RuntimeError):
    """Pretrained weights the notebook asks for are not in the weights folder."""


class GraderNetworkBlocked(RuntimeError):
    """The notebook tried to download something; grading runs offline."""


# ----------------------------------------------------------------- plain values


def _plain(obj: Any, depth: int = 0, max_list: int = 2000) -> Any:
    """JSON-safe copy of ``obj``: numbers, strings, lists, dicts; NaN/inf become None."""
    if depth > 8:
        return None
    if obj is None or isinstance(obj, bool | str):
        return obj[:2000] if isinstance(obj, str) else obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {
            str(k)[:200]: _plain(v, depth + 1, max_list) for k, v in list(obj.items())[:max_list]
        }
    if isinstance(obj, list | tuple):
        return [_plain(v, depth + 1, max_list) for v in list(obj)[:max_list]]
    # numpy scalars and arrays, tensors: through their Python values
    try:
        if hasattr(obj, "numpy") and callable(obj.numpy):
            obj = obj.numpy()
        if hasattr(obj, "tolist"):
            return _plain(obj.tolist(), depth + 1, max_list)
        if hasattr(obj, "item"):
            return _plain(obj.item(), depth + 1, max_list)
    except Exception:
        return None
    try:
        return _plain(float(obj), depth + 1, max_list)
    except Exception:
        return repr(obj)[:200]


def _float(value: Any) -> float | None:
    try:
        out = float(_plain(value) if not isinstance(value, float | int) else value)
    except Exception:
        return None
    return out if math.isfinite(out) else None


# ------------------------------------------------------------------ import hook


class _HookLoader(importlib.abc.Loader):
    """Runs the real loader, then the patches registered for the module."""

    def __init__(self, loader: Any, callbacks: list[Any]) -> None:
        self._loader = loader
        self._callbacks = callbacks

    def create_module(self, spec: Any) -> Any:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: Any) -> None:
        # the module sees its real loader (resources, get_data, isinstance checks)
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self._loader
        with contextlib.suppress(Exception):
            module.__loader__ = self._loader
        self._loader.exec_module(module)
        for callback in self._callbacks:
            _safe(callback, module)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """A meta path finder that only wraps the loaders of the modules it watches."""

    def __init__(self, exact: dict[str, list[Any]], prefixes: list[tuple[str, Any]]) -> None:
        self.exact = exact
        self.prefixes = prefixes
        self._prefix_tuple = tuple(p for p, _ in prefixes)
        self._busy = threading.local()

    def callbacks_for(self, fullname: str) -> list[Any]:
        found = list(self.exact.get(fullname, ()))
        if self._prefix_tuple and fullname.startswith(self._prefix_tuple):
            found.extend(cb for p, cb in self.prefixes if fullname.startswith(p))
        return found

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in self.exact and not (
            self._prefix_tuple and fullname.startswith(self._prefix_tuple)
        ):
            return None
        busy = getattr(self._busy, "names", None)
        if busy is None:
            busy = self._busy.names = set()
        if fullname in busy:
            return None
        busy.add(fullname)
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self:
                    continue
                find = getattr(finder, "find_spec", None)
                if find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    break
        finally:
            busy.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _HookLoader(spec.loader, self.callbacks_for(fullname))
        return spec


def _safe(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # a patch must never break the notebook
        rec = _REC
        if rec is not None:
            rec.problem(f"{getattr(fn, '__name__', fn)}: {type(exc).__name__}: {exc}")
        return None


# -------------------------------------------------------------------- recorder


class _Recorder:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.dir = config["capture_dir"]
        self.profile = config.get("profile") or {}
        self.t0 = time.monotonic()
        self.lock = threading.RLock()
        self.seq = itertools.count(1)
        self.fit_counter = itertools.count(1)
        self.model_counter = itertools.count(1)
        self.models: dict[int, tuple[Any, str]] = {}
        self.latest_fit: dict[str, str] = {}
        self.apps: list[dict[str, Any]] = []
        self.app_refs: list[tuple[Any, Any, dict[str, Any]]] = []
        self.fingerprint_cache: dict[int, tuple[Any, str | None]] = {}
        self.figures_seen: dict[int, set[int]] = {}
        self.local = threading.local()
        self.events_written = 0
        self.problems = 0
        self.verify_state: dict[str, Any] = {
            "models": {},
            "inputs": {},
            "saves": 0,
            "input_count": 0,
        }
        for sub in ("fits", "fingerprints"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self._events = open(os.path.join(self.dir, "events.jsonl"), "a", encoding="utf-8")  # noqa: SIM115

    # --- writing

    def cell(self) -> int | None:
        try:
            ip = sys.modules["IPython"].get_ipython()
            return int(ip.execution_count) if ip is not None else None
        except Exception:
            return None

    def event(self, kind: str, **fields: Any) -> None:
        limit = int(self.config.get("max_events", 20000))
        with self.lock:
            if self.events_written >= limit and kind not in ("problem",):
                return
            record = {
                "type": kind,
                "seq": next(self.seq),
                "t": round(time.monotonic() - self.t0, 3),
                "cell": self.cell(),
            }
            record.update(fields)
            try:
                line = json.dumps(_plain(record), allow_nan=False, separators=(",", ":"))
            except Exception as exc:
                line = json.dumps({"type": "problem", "message": f"unserialisable {kind}: {exc}"})
            self._events.write(line + "\n")
            self._events.flush()
            self.events_written += 1

    def problem(self, message: str) -> None:
        self.problems += 1
        if self.problems <= 200:
            self.event("problem", message=message[:1000])

    def write_json(self, relpath: str, obj: Any) -> None:
        path = os.path.join(self.dir, relpath)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(_plain(obj, max_list=200000), fh, allow_nan=False, separators=(",", ":"))
        os.replace(tmp, path)

    # --- identities

    def model_key(self, model: Any) -> str:
        with self.lock:
            entry = self.models.get(id(model))
            if entry is not None and entry[0]() is model:
                return entry[1]
            key = f"k{next(self.model_counter)}"
            ref: Any
            try:
                ref = weakref.ref(model)
            except TypeError:
                ref = _StrongRef(model)
            self.models[id(model)] = (ref, key)
            return key


class _StrongRef:
    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __call__(self) -> Any:
        return self.obj


# ------------------------------------------------------------ data description


def _np() -> Any:
    return sys.modules.get("numpy")


def _is_dataset(x: Any) -> bool:
    mod = type(x).__module__ or ""
    return mod.startswith("tensorflow") and hasattr(x, "take") and hasattr(x, "element_spec")


def _is_arraylike(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "__len__") and not _is_dataset(x)


def _data_kind(x: Any) -> str:
    if x is None:
        return "none"
    if _is_dataset(x):
        return "dataset"
    if _is_arraylike(x):
        return "array"
    if isinstance(x, dict) and x and all(_is_arraylike(v) for v in x.values()):
        return "array"
    if isinstance(x, list | tuple) and x and all(_is_arraylike(v) for v in x):
        return "array"
    if isinstance(x, list | tuple):
        return "array"
    if hasattr(x, "__getitem__") and hasattr(x, "__len__"):
        return "generator"
    if hasattr(x, "__next__") or hasattr(x, "__iter__"):
        return "generator"
    return "other"


def _first_array(x: Any) -> Any:
    if isinstance(x, dict):
        for v in x.values():
            return v
        return None
    if isinstance(x, list | tuple) and x and _is_arraylike(x[0]):
        return x[0]
    return x


def _length(x: Any) -> int | None:
    first = _first_array(x)
    try:
        shape = getattr(first, "shape", None)
        if shape is not None and len(shape) > 0 and shape[0] is not None:
            return int(shape[0])
        return len(first)
    except Exception:
        return None


def _head(x: Any, n: int) -> Any:
    """The first ``n`` samples of an array, tensor, frame, or a list/dict of them."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: _head(v, n) for k, v in x.items()}
    if isinstance(x, list | tuple) and x and all(_is_arraylike(v) for v in x):
        return type(x)(_head(v, n) for v in x)
    iloc = getattr(x, "iloc", None)
    if iloc is not None:
        return iloc[:n]
    return x[:n]


def _as_numpy(x: Any) -> Any:
    np = _np()
    if np is None:
        return None
    first = _first_array(x)
    if first is None:
        return None
    try:
        if hasattr(first, "numpy") and callable(first.numpy):
            first = first.numpy()
        elif hasattr(first, "to_numpy"):
            first = first.to_numpy()
        arr = np.asarray(first)
    except Exception:
        return None
    if arr.dtype == object or arr.ndim == 0:
        return None
    return arr


def _label_counts(y: Any) -> dict[str, int] | None:
    np = _np()
    arr = _as_numpy(y)
    if np is None or arr is None or arr.size == 0:
        return None
    try:
        if arr.ndim == 2 and arr.shape[1] > 1:
            arr = arr.argmax(axis=1)
        arr = arr.reshape(-1) if arr.ndim <= 2 else None
        if arr is None or arr.size > 10_000_000:
            return None
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                return None
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iub":
            return None
        values, counts = np.unique(arr, return_counts=True)
        if len(values) > 1000:
            return None
        return {str(int(v)): int(c) for v, c in zip(values, counts, strict=False)}
    except Exception:
        return None


def _labels_hash(labels: Any) -> str | None:
    np = _np()
    if np is None:
        return None
    try:
        arr = np.asarray(labels)
        if arr.ndim == 2 and arr.shape[1] > 1:
            return None
        arr = arr.reshape(-1)
        if arr.dtype.kind == "f" and (arr.size == 0 or not np.all(arr == np.round(arr))):
            return None
        if arr.dtype.kind not in "iubf":
            return None
        data = np.ascontiguousarray(arr.astype(np.int64)).tobytes()
        return hashlib.blake2b(data, digest_size=8).hexdigest()
    except Exception:
        return None


def _fingerprint(rec: _Recorder, x: Any) -> str | None:
    """Per-sample hashes of an array (a strided sample of each row when rows are large)."""
    np = _np()
    if np is None:
        return None
    first = _first_array(x)
    try:
        cached = rec.fingerprint_cache.get(id(first))
        if cached is not None and cached[0]() is first:
            return cached[1]
    except Exception:
        pass
    arr = _as_numpy(x)
    if arr is None or arr.ndim < 1 or arr.shape[0] == 0:
        return None
    try:
        n = int(arr.shape[0])
        limit = int(rec.config.get("max_hashes", 100000))
        rows = arr[:limit].reshape(min(n, limit), -1)
        width = rows.shape[1] * rows.itemsize
        if width > 4096:
            rows = rows[:, :: max(1, math.ceil(width / 4096))]
        rows = np.ascontiguousarray(rows)
        blake = hashlib.blake2b
        hashes = [blake(r.tobytes(), digest_size=6).hexdigest() for r in rows]
        digest = hashlib.blake2b(digest_size=8)
        digest.update(f"{arr.shape}|{arr.dtype}|".encode())
        digest.update("".join(hashes).encode())
        fid = digest.hexdigest()
        path = os.path.join(rec.dir, "fingerprints", f"{fid}.json")
        if not os.path.exists(path):
            rec.write_json(
                os.path.join("fingerprints", f"{fid}.json"),
                {
                    "id": fid,
                    "shape": list(arr.shape),
                    "dtype": str(arr.dtype),
                    "n": n,
                    "hashes": hashes,
                    "signatures": _safe(_row_signatures, np, arr[:limit]) or [],
                },
            )
    except Exception as exc:
        rec.problem(f"fingerprint: {type(exc).__name__}: {exc}")
        return None
    with contextlib.suppress(TypeError):
        rec.fingerprint_cache[id(first)] = (weakref.ref(first), fid)
    return fid


def _describe(rec: _Recorder, x: Any, y: Any = None, *, fingerprint: bool = True) -> dict[str, Any]:
    kind = _data_kind(x)
    out: dict[str, Any] = {"kind": kind}
    if kind == "array":
        arr = _as_numpy(x)
        out["n"] = _length(x)
        if arr is not None:
            out["shape"] = list(arr.shape)
            out["dtype"] = str(arr.dtype)
            try:
                if arr.size and arr.size <= 200_000_000 and arr.dtype.kind in "iuf":
                    out["min"] = _float(arr.min())
                    out["max"] = _float(arr.max())
            except Exception:
                pass
            if fingerprint:
                out["fingerprint"] = _fingerprint(rec, x)
        if y is not None:
            out["label_counts"] = _label_counts(y)
            yarr = _as_numpy(y)
            if yarr is not None:
                out["y_shape"] = list(yarr.shape)
    elif kind == "dataset":
        out["spec"] = repr(getattr(x, "element_spec", None))[:300]
        with contextlib.suppress(Exception):
            out["n_batches"] = int(x.cardinality())
    elif kind == "generator":
        out["class"] = type(x).__name__
        with contextlib.suppress(Exception):
            out["n_batches"] = len(x)
        inner_x = getattr(x, "x", None)
        if inner_x is not None and _is_arraylike(inner_x):
            inner = _describe(rec, inner_x, getattr(x, "y", None), fingerprint=fingerprint)
            out.update({k: v for k, v in inner.items() if k != "kind"})
    return out


# ------------------------------------------------------------------- models


def _walk_layers(model: Any, depth: int = 0, seen: set[int] | None = None) -> list[Any]:
    seen = set() if seen is None else seen
    out = []
    try:
        layers = list(getattr(model, "layers", []) or [])
    except Exception:
        layers = []
    for layer in layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        if depth < 6 and hasattr(layer, "layers"):
            out.extend(_walk_layers(layer, depth + 1, seen))
    return out


def _count_weights(weights: Any) -> int:
    total = 0
    for w in list(weights or []):
        n = 1
        for d in tuple(getattr(w, "shape", ()) or ()):
            try:
                n *= int(d)
            except Exception:
                n *= 0
        total += n
    return total


def _shape(value: Any) -> Any:
    try:
        if isinstance(value, list) and value and not isinstance(value[0], int | type(None)):
            value = value[0]
        return [None if d is None else int(d) for d in tuple(value)]
    except Exception:
        return None


def _input_shape(model: Any) -> Any:
    for attr in ("input_shape",):
        try:
            value = getattr(model, attr)
            if value is not None:
                return _shape(value)
        except Exception:
            pass
    try:
        return _shape(model.inputs[0].shape)
    except Exception:
        return None


def _uses_application(rec: _Recorder, model: Any) -> bool:
    """Whether the model contains a Keras application (a pretrained base)."""
    return any(_app_for(rec, layer) for layer in _walk_layers(model) if hasattr(layer, "layers"))


def _architecture(rec: _Recorder, model: Any) -> dict[str, Any]:
    layers = _walk_layers(model)
    ids = {id(layer) for layer in layers}
    counts: dict[str, int] = {}
    for layer in layers:
        name = type(layer).__name__
        counts[name] = counts.get(name, 0) + 1
    op_counts: dict[str, int] = {}
    try:
        for op in list(getattr(model, "operations", []) or []):
            if id(op) in ids:
                continue
            name = type(op).__name__
            op_counts[name] = op_counts.get(name, 0) + 1
    except Exception:
        pass
    try:
        top = [type(layer).__name__ for layer in list(model.layers)[:300]]
    except Exception:
        top = []
    nested = []
    for layer in layers:
        if not hasattr(layer, "layers"):
            continue
        app = _app_for(rec, layer)
        nested.append(
            {
                "name": str(getattr(layer, "name", "")),
                "class_name": type(layer).__name__,
                "application": app.get("application") if app else None,
                "weights": app.get("weights") if app else None,
                "weights_loaded": app.get("weights_loaded") if app else None,
                "fallback": app.get("fallback") if app else None,
                "trainable": bool(getattr(layer, "trainable", True)),
                "params": _safe_int(lambda layer=layer: layer.count_params()),
                "params_trainable": _count_weights(getattr(layer, "trainable_weights", [])),
                "layers": len(getattr(layer, "layers", []) or []),
            }
        )
    flattened = []
    for ref, first, app in rec.app_refs:
        app_model = ref()
        if app_model is None or id(app_model) in ids:
            continue
        first_layer = first()
        if first_layer is not None and id(first_layer) in ids:
            entry = dict(app)
            entry["params_trainable"] = _count_weights(getattr(app_model, "trainable_weights", []))
            entry["params"] = _safe_int(lambda m=app_model: m.count_params())
            flattened.append(entry)
    app_layers: set[int] = set()
    for ref, _first, _app in rec.app_refs:
        app_model = ref()
        if app_model is not None:
            app_layers.add(id(app_model))
            app_layers.update(id(layer) for layer in _walk_layers(app_model))
    own: dict[str, int] = {}
    for layer in layers:
        if id(layer) not in app_layers:
            name = type(layer).__name__
            own[name] = own.get(name, 0) + 1
    trainable = _count_weights(getattr(model, "trainable_weights", []))
    non_trainable = _count_weights(getattr(model, "non_trainable_weights", []))
    return {
        "class_name": type(model).__name__,
        "name": str(getattr(model, "name", "")),
        "layer_counts": counts,
        "own_layer_counts": own,
        "op_counts": op_counts,
        "top_layers": top,
        "n_layers": len(layers),
        "nested": nested,
        "applications": flattened,
        "params_total": _safe_int(model.count_params) or (trainable + non_trainable),
        "params_trainable": trainable,
        "params_non_trainable": non_trainable,
        "input_shape": _input_shape(model),
        "output_shape": _shape(getattr(model, "output_shape", None))
        if _safe_attr(model, "output_shape")
        else None,
    }


def _safe_attr(obj: Any, name: str) -> bool:
    try:
        return getattr(obj, name, None) is not None
    except Exception:
        return False


def _safe_int(fn: Any) -> int | None:
    try:
        return int(fn())
    except Exception:
        return None


def _app_for(rec: _Recorder, model: Any) -> dict[str, Any] | None:
    for ref, _first, app in rec.app_refs:
        if ref() is model:
            return app
    return None


def _optimizer(model: Any) -> dict[str, Any] | None:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    out: dict[str, Any] = {"class_name": type(opt).__name__, "id": id(opt)}
    for attr in ("learning_rate", "lr"):
        try:
            value = getattr(opt, attr)
        except Exception:
            continue
        if value is None:
            continue
        if callable(value) and not hasattr(value, "numpy"):
            out["schedule"] = type(value).__name__
            with contextlib.suppress(Exception):
                out["learning_rate"] = _float(value(0))
            break
        out["learning_rate"] = _float(value)
        break
    return out


def _compile_info(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    loss = getattr(model, "loss", None)
    if loss is not None:
        out["loss"] = loss if isinstance(loss, str) else type(loss).__name__
    return out


# ------------------------------------------------------------------ callbacks


def _callback_class(base: Any) -> Any:
    class CaptureCallback(base):
        def __init__(self, rec: _Recorder, fit: dict[str, Any], model: Any) -> None:
            super().__init__()
            self.async_safe = True  # no batch hooks: Keras may keep dispatching batches async
            self._grader_rec = rec
            self._grader_fit = fit
            self._grader_model = model

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            _safe(_on_epoch, self._grader_rec, self._grader_fit, self._grader_model, epoch, logs)

    return CaptureCallback


def _on_epoch(rec: _Recorder, fit: dict[str, Any], model: Any, epoch: int, logs: Any) -> None:
    logs = dict(logs or {})
    history = fit["history"]
    for key, value in logs.items():
        series = history.setdefault(str(key), [])
        while len(series) < fit["epochs_run"]:
            series.append(None)
        series.append(_float(value))
    fit["epochs_run"] += 1
    fit["last_epoch"] = int(epoch) + 1
    fit["seconds"] = round(time.monotonic() - fit["_start"], 3)
    if fit.get("architecture") is None:
        fit["architecture"] = _safe(_architecture, rec, model)
    _write_fit(rec, fit)
    rec.event(
        "progress",
        fit=fit["id"],
        model=fit["model_name"],
        epoch=int(epoch) + 1,
        epochs=fit.get("epochs"),
    )


def _write_fit(rec: _Recorder, fit: dict[str, Any]) -> None:
    public = {k: v for k, v in fit.items() if not k.startswith("_")}
    rec.write_json(os.path.join("fits", f"{fit['id']}.json"), public)


# --------------------------------------------------------------- Keras patches

_FIT_CALLBACK_BASES: dict[str, str] = {
    "keras3": "keras.src.callbacks.callback",
    "tf_keras": "tf_keras.src.callbacks",
    "keras2": "keras.callbacks",
    "keras2src": "keras.src.callbacks",
}


def _patch_model_class(module: Any, flavour: str) -> None:
    cls = getattr(module, "Model", None)
    if cls is None or getattr(cls, "_grader_patched", False):
        return
    for name, wrapper in (
        ("fit", _wrap_fit),
        ("evaluate", _wrap_evaluate),
        ("predict", _wrap_predict),
    ):
        original = getattr(cls, name, None)
        if original is None or getattr(original, "_grader_wrapped", False):
            continue
        patched = wrapper(original, flavour)
        patched._grader_wrapped = True
        setattr(cls, name, patched)
    cls._grader_patched = True


def _patch_batchnorm(module: Any) -> None:
    """Smoke runs: BatchNormalization layers whose code leaves the momentum at its default
    get the profile's (a few dozen steps cannot warm up 0.99's moving averages).

    The default value itself is changed, not the constructor: Keras reads the
    constructor's signature, and a value the code passes is kept.
    """
    rec = _REC
    momentum = rec.profile.get("batchnorm_momentum") if rec is not None else None
    cls = getattr(module, "BatchNormalization", None)
    if momentum is None or cls is None or getattr(cls, "_grader_momentum", None) is not None:
        return
    init = cls.__init__
    params = list(inspect.signature(init).parameters.values())
    positional = [
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    defaults = list(init.__defaults__ or ())
    first = len(positional) - len(defaults)
    if "momentum" in positional and positional.index("momentum") >= first:
        defaults[positional.index("momentum") - first] = float(momentum)
        init.__defaults__ = tuple(defaults)
    elif "momentum" in (init.__kwdefaults__ or {}):
        init.__kwdefaults__["momentum"] = float(momentum)
    else:
        return
    cls._grader_momentum = float(momentum)


def _bind(original: Any, self: Any, args: Any, kwargs: Any) -> Any:
    try:
        sig = inspect.signature(original)
        return sig.bind(self, *args, **kwargs)
    except (TypeError, ValueError):
        return None


def _guard() -> Any:
    rec = _REC
    if rec is None:
        return None
    if getattr(rec.local, "depth", 0) > 0:
        return None
    return rec


class _Depth:
    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec

    def __enter__(self) -> None:
        self.rec.local.depth = getattr(self.rec.local, "depth", 0) + 1

    def __exit__(self, *exc: Any) -> None:
        self.rec.local.depth -= 1


def _wrap_fit(original: Any, flavour: str) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        rec = _guard()
        bound = _bind(original, self, args, kwargs) if rec is not None else None
        if rec is None or bound is None:
            return original(self, *args, **kwargs)
        record = _safe(_begin_fit, rec, self, bound, flavour)
        if record is None:
            return original(self, *args, **kwargs)
        with _Depth(rec):
            try:
                history = original(*bound.args, **bound.kwargs)
            except BaseException as exc:
                _safe(_end_fit, rec, self, record, exc)
                raise
        _safe(_end_fit, rec, self, record, None)
        return history

    return fit


def _cap_generator_steps(args: dict[str, Any], x: Any, key: str, cap: int, caps: list[str]) -> None:
    given = args.get(key)
    try:
        length = len(x)
    except Exception:
        length = None
    current = given or length
    if current is None:
        return
    if current > cap:
        args[key] = cap
        caps.append(f"{key} {current} -> {cap}")


def _cap_dataset(
    args: dict[str, Any], name: str, steps_key: str, cap: int, caps: list[str]
) -> None:
    x = args[name]
    given = args.get(steps_key)
    if given:
        if given > cap:
            args[steps_key] = cap
            caps.append(f"{steps_key} {given} -> {cap}")
        return
    try:
        card = int(x.cardinality())
    except Exception:
        card = -2
    if card < 0 or card > cap:
        args[name] = x.take(cap)
        caps.append(f"{name} dataset .take({cap})")


def _apply_fit_caps(
    args: dict[str, Any], profile: dict[str, Any], pretrained: bool = False
) -> list[str]:
    """The profile's caps on one fit; a model with a pretrained base may get fewer samples."""
    caps: list[str] = []
    max_epochs = profile.get("max_epochs")
    if max_epochs:
        epochs = int(args.get("epochs", 1) or 1)
        initial = int(args.get("initial_epoch", 0) or 0)
        if epochs - initial > max_epochs:
            args["epochs"] = initial + max_epochs
            caps.append(f"epochs {epochs - initial} -> {max_epochs}")
    steps = profile.get("max_steps")
    n_train = profile.get("train_samples")
    if pretrained and profile.get("pretrained_train_samples"):
        n_train = profile.get("pretrained_train_samples")
    x = args.get("x")
    kind = _data_kind(x)
    if kind == "array" and n_train:
        n = _length(x)
        if n is not None and n > n_train:
            for key in ("x", "y", "sample_weight"):
                if args.get(key) is not None:
                    args[key] = _head(args[key], n_train)
            caps.append(f"train samples {n} -> {n_train}")
    elif kind == "dataset" and steps:
        _cap_dataset(args, "x", "steps_per_epoch", steps, caps)
    elif kind == "generator" and steps:
        _cap_generator_steps(args, x, "steps_per_epoch", steps, caps)
    val = args.get("validation_data")
    n_val = profile.get("val_samples")
    if isinstance(val, tuple | list) and n_val and 2 <= len(val) <= 3:
        n = _length(val[0])
        if n is not None and n > n_val:
            args["validation_data"] = type(val)(_head(v, n_val) for v in val)
            caps.append(f"validation samples {n} -> {n_val}")
    elif val is not None and _data_kind(val) == "dataset" and steps:
        _cap_dataset(args, "validation_data", "validation_steps", steps, caps)
    elif val is not None and _data_kind(val) == "generator" and steps:
        _cap_generator_steps(args, val, "validation_steps", steps, caps)
    return caps


def _begin_fit(rec: _Recorder, model: Any, bound: Any, flavour: str) -> dict[str, Any]:
    args = bound.arguments
    key = rec.model_key(model)
    fit_id = f"f{next(rec.fit_counter)}"
    x, y = args.get("x"), args.get("y")
    val = args.get("validation_data")
    record: dict[str, Any] = {
        "id": fit_id,
        "model_key": key,
        "model_name": str(getattr(model, "name", "")),
        "cell": rec.cell(),
        "flavour": flavour,
        "started": round(time.monotonic() - rec.t0, 3),
        "status": "running",
        "epochs_requested": _plain(args.get("epochs", 1)),
        "initial_epoch": _plain(args.get("initial_epoch", 0)),
        "batch_size": _plain(args.get("batch_size")),
        "steps_per_epoch": _plain(args.get("steps_per_epoch")),
        "validation_split": _plain(args.get("validation_split")),
        "callbacks": [type(c).__name__ for c in list(args.get("callbacks") or [])],
        "optimizer": _optimizer(model),
        "compile": _compile_info(model),
        "train": _describe(rec, x, y),
        "validation": None,
        "history": {},
        "epochs_run": 0,
        "seconds": None,
        "architecture": None,
        "caps": [],
        "error": None,
    }
    if isinstance(val, tuple | list) and len(val) >= 2:
        record["validation"] = _describe(rec, val[0], val[1])
    elif val is not None:
        record["validation"] = _describe(rec, val)
    if getattr(model, "built", False):
        record["architecture"] = _safe(_architecture, rec, model)
    if rec.app_refs and record["train"].get("kind") == "array":
        record["_sample"] = _safe(_input_sample, x)
    if rec.profile.get("name") == "smoke":
        pretrained = bool(rec.app_refs) and bool(_safe(_uses_application, rec, model))
        record["caps"] = _apply_fit_caps(args, rec.profile, pretrained)
    record["epochs"] = _plain(args.get("epochs", 1))
    base = _callback_base(flavour)
    if base is not None:
        callbacks = args.get("callbacks")
        callbacks = [] if callbacks is None else list(callbacks)
        callbacks.append(_callback_class(base)(rec, record, model))
        args["callbacks"] = callbacks
    else:
        rec.problem(f"no Keras Callback class for {flavour}; per-epoch logs come from History")
    record["_start"] = time.monotonic()
    with rec.lock:
        rec.latest_fit[key] = fit_id
    _write_fit(rec, record)
    rec.event("fit_start", fit=fit_id, model=record["model_name"], epochs=record["epochs"])
    return record


# ------------------------------------------------- what a pretrained base is fed

_MODEL_MODULES = ("keras", "tf_keras")


def _input_sample(x: Any, n: int = 32) -> Any:
    """A small private copy of the first training images, for :func:`_base_inputs`."""
    if isinstance(x, dict | list | tuple):
        return None  # several inputs: which one reaches the base is not known
    arr = _as_numpy(_head(x, n))
    np = _np()
    if arr is None or np is None or arr.ndim != 4 or arr.dtype.kind not in "iuf":
        return None
    return np.array(arr, dtype="float32")


def _model_class(model: Any) -> Any:
    module = type(model).__module__.split(".", 1)[0]
    if module not in _MODEL_MODULES:
        module = "keras"
    return getattr(importlib.import_module(module), "Model", None)


def _feeding_tensors(layer: Any) -> list[Any]:
    tensors = []
    for node in list(getattr(layer, "_inbound_nodes", []) or []):
        try:
            found = node.input_tensors
        except Exception:
            continue
        found = list(found) if isinstance(found, list | tuple) else [found]
        if len(found) == 1:
            tensors.append(found[0])
    return tensors


def _base_inputs(rec: _Recorder, model: Any, sample: Any) -> list[dict[str, Any]]:
    """The value range that each pretrained base inside ``model`` receives.

    The model's own layers up to the base (resizing, rescaling, preprocessing
    operations) are run on a few training images, in inference mode; nothing is
    trained and no prediction is recorded. Tells whether the base gets the
    inputs its weights were trained on.
    """
    np = _np()
    if np is None:
        return []
    layers = _walk_layers(model)
    ids = {id(layer) for layer in layers}
    inputs = list(getattr(model, "inputs", None) or [])
    if len(inputs) != 1:
        return []
    model_cls = _model_class(model)
    out: list[dict[str, Any]] = []
    for ref, first_ref, app in rec.app_refs:
        app_model = ref()
        if app_model is None:
            continue
        if id(app_model) in ids:
            candidates = _feeding_tensors(app_model)
        else:
            first = first_ref()
            if first is None or id(first) not in ids or app.get("input_tensor"):
                continue
            candidates = _feeding_tensors(first)
        values = None
        for tensor in reversed(candidates):
            if tensor is inputs[0]:
                values = sample
                break
            try:
                probe = model_cls(inputs, tensor, name=f"grader_probe_{len(out)}")
                values = np.asarray(probe(sample, training=False))
                break
            except Exception:
                continue
        if values is None or not values.size:
            continue
        values = values.astype("float64")
        out.append(
            {
                "application": app.get("application"),
                "weights": app.get("weights"),
                "preprocessing": app.get("include_preprocessing"),
                "n": int(values.shape[0]),
                "min": _float(values.min()),
                "max": _float(values.max()),
                "mean": _float(values.mean()),
            }
        )
    return out


_CALLBACK_BASE_CACHE: dict[str, Any] = {}


def _callback_base(flavour: str) -> Any:
    if flavour in _CALLBACK_BASE_CACHE:
        return _CALLBACK_BASE_CACHE[flavour]
    module_name = _FIT_CALLBACK_BASES.get(flavour)
    base = None
    if module_name:
        try:
            base = getattr(importlib.import_module(module_name), "Callback", None)
        except Exception:
            base = None
    _CALLBACK_BASE_CACHE[flavour] = base
    return base


def _end_fit(rec: _Recorder, model: Any, record: dict[str, Any], exc: BaseException | None) -> None:
    record["seconds"] = round(time.monotonic() - record["_start"], 3)
    if record.get("architecture") is None or record["epochs_run"] == 0:
        record["architecture"] = _safe(_architecture, rec, model) or record.get("architecture")
    sample = record.pop("_sample", None)
    if sample is not None:
        with _Depth(rec):
            record["base_inputs"] = _safe(_base_inputs, rec, model, sample) or []
    if exc is None:
        record["status"] = "finished"
        history = getattr(getattr(model, "history", None), "history", None)
        if not record["history"] and isinstance(history, dict):
            record["history"] = {str(k): [_float(v) for v in vs] for k, vs in history.items()}
            record["epochs_run"] = max((len(v) for v in record["history"].values()), default=0)
    else:
        record["status"] = "failed"
        record["error"] = {"ename": type(exc).__name__, "evalue": str(exc)[:1000]}
    _write_fit(rec, record)
    rec.event("fit_end", fit=record["id"], status=record["status"], seconds=record["seconds"])


def _cap_eval_args(rec: _Recorder, args: dict[str, Any], key: str) -> list[str]:
    caps: list[str] = []
    if rec.profile.get("name") != "smoke":
        return caps
    cap = rec.profile.get(key)
    steps = rec.profile.get("max_steps")
    x = args.get("x")
    kind = _data_kind(x)
    if kind == "array" and cap:
        n = _length(x)
        if n is not None and n > cap:
            for name in ("x", "y", "sample_weight"):
                if args.get(name) is not None:
                    args[name] = _head(args[name], cap)
            caps.append(f"samples {n} -> {cap}")
    elif kind == "dataset" and steps:
        _cap_dataset(args, "x", "steps", steps, caps)
    elif kind == "generator" and steps:
        _cap_generator_steps(args, x, "steps", steps, caps)
    return caps


def _wrap_evaluate(original: Any, flavour: str) -> Any:
    @functools.wraps(original)
    def evaluate(self: Any, *args: Any, **kwargs: Any) -> Any:
        rec = _guard()
        bound = _bind(original, self, args, kwargs) if rec is not None else None
        if rec is None or bound is None:
            return original(self, *args, **kwargs)
        data = _safe(_describe, rec, bound.arguments.get("x"), bound.arguments.get("y")) or {}
        caps = _safe(_cap_eval_args, rec, bound.arguments, "eval_samples") or []
        with _Depth(rec):
            result = original(*bound.args, **bound.kwargs)
        given = bound.arguments
        saved = _safe(_save_for_verification, rec, self, given.get("x"), None, given.get("y"))
        _safe(_record_evaluate, rec, self, result, data, caps, saved)
        return result

    return evaluate


def _record_evaluate(
    rec: _Recorder,
    model: Any,
    result: Any,
    data: dict[str, Any],
    caps: list[str],
    saved: dict[str, Any] | None = None,
) -> None:
    key = rec.model_key(model)
    metrics = None
    try:
        getter = getattr(model, "get_metrics_result", None)
        if getter is not None:
            metrics = {str(k): _float(v) for k, v in dict(getter()).items()}
    except Exception:
        metrics = None
    names = None
    with contextlib.suppress(Exception):
        names = [str(n) for n in model.metrics_names]
    rec.event(
        "evaluate",
        model_key=key,
        model_name=str(getattr(model, "name", "")),
        fit=rec.latest_fit.get(key),
        result=_plain(result),
        metrics=metrics,
        metrics_names=names,
        data=data,
        caps=caps,
        verify=saved,
    )


def _wrap_predict(original: Any, flavour: str) -> Any:
    @functools.wraps(original)
    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        rec = _guard()
        bound = _bind(original, self, args, kwargs) if rec is not None else None
        if rec is None or bound is None:
            return original(self, *args, **kwargs)
        x = bound.arguments.get("x")
        data = _safe(_describe, rec, x, None, fingerprint=True) or {}
        cap = rec.profile.get("predict_samples") if rec.profile.get("name") == "smoke" else None
        n = _length(x) if _data_kind(x) == "array" else None
        filled = None
        with _Depth(rec):
            if cap and n is not None and n > cap:
                bound.arguments["x"] = _head(x, cap)
                out = original(*bound.args, **bound.kwargs)
                filled = _safe(_fill_rows, out, n, cap)
                if filled is not None:
                    out, filled = filled, f"predicted {cap} of {n} samples, rest repeated"
                else:
                    bound.arguments["x"] = x
                    out = original(*bound.args, **bound.kwargs)
            else:
                out = original(*bound.args, **bound.kwargs)
        saved = _safe(_save_for_verification, rec, self, x, cap if filled else None)
        _safe(_record_predict, rec, self, out, data, filled, saved)
        return out

    return predict


def _fill_rows(out: Any, n: int, cap: int) -> Any:
    np = _np()
    if np is None:
        return None
    index = np.arange(n) % cap
    if isinstance(out, dict):
        return {k: np.asarray(v)[index] for k, v in out.items()}
    if isinstance(out, list | tuple):
        return type(out)(np.asarray(v)[index] for v in out)
    return np.asarray(out)[index]


def _record_predict(
    rec: _Recorder,
    model: Any,
    out: Any,
    data: dict[str, Any],
    filled: str | None,
    saved: dict[str, Any] | None = None,
) -> None:
    np = _np()
    key = rec.model_key(model)
    hashes = []
    shape = None
    if np is not None and not isinstance(out, dict | list | tuple):
        arr = np.asarray(out)
        shape = list(arr.shape)
        if arr.ndim == 2 and arr.shape[1] > 1:
            hashes.append(_labels_hash(arr.argmax(axis=1)))
        elif arr.ndim in (1, 2) and arr.size:
            flat = arr.reshape(-1)
            hashes.append(_labels_hash((flat > 0.5).astype(np.int64)))
            hashes.append(_labels_hash((flat > 0.0).astype(np.int64)))
    rec.event(
        "predict",
        model_key=key,
        model_name=str(getattr(model, "name", "")),
        fit=rec.latest_fit.get(key),
        output_shape=shape,
        label_hashes=[h for h in hashes if h],
        data=data,
        filled=filled,
        verify=saved,
    )


# ------------------------------------------------- out-of-process verification


def _row_signatures(np: Any, arr: Any) -> list[str] | None:
    """Per-image signatures that survive a per-channel affine preprocessing.

    ``x / 255``, mean/std normalisation and ``preprocess_input`` (with its
    RGB->BGR flip) leave them unchanged: 8x8 block means, standardised per
    image and channel, channels sorted per block, quantised to quarters, hashed.
    The harness computes the same for the data it served, to tell test images
    from training images whatever the notebook did to them.
    """
    a = arr
    if a.ndim == 2 and a.shape[1] == 3072:
        a = a.reshape(-1, 32, 32, 3)
    if a.ndim != 4 or a.dtype.kind not in "uif":
        return None
    if a.shape[-1] not in (1, 3) and a.shape[1] in (1, 3):
        a = a.transpose(0, 2, 3, 1)
    n, h, w, c = a.shape
    if c not in (1, 3) or h % 8 or w % 8 or n == 0:
        return None
    out: list[str] = []
    blake = hashlib.blake2b
    step = max(1, (64 << 20) // (h * w * c * 8))  # about 64 MB of float64 at a time
    for start in range(0, n, step):
        block = np.asarray(a[start : start + step], dtype=np.float64)
        pooled = block.reshape(-1, 8, h // 8, 8, w // 8, c).mean(axis=(2, 4))
        mean = pooled.mean(axis=(1, 2), keepdims=True)
        std = pooled.std(axis=(1, 2), keepdims=True)
        flat = std > 1e-9 * (np.abs(mean) + 1.0)
        z = np.where(flat, (pooled - mean) / np.where(flat, std, 1.0), 0.0)
        z = np.sort(z, axis=-1)
        q = np.clip(np.round(z * 4.0), -127, 127).astype(np.int8).reshape(len(block), -1)
        out.extend(blake(row.tobytes(), digest_size=6).hexdigest() for row in q)
    return out


def _weights_probe(np: Any, model: Any) -> tuple[Any, ...]:
    """A cheap summary that changes when the model's weights change (training, load_weights)."""
    parts: list[Any] = [len(getattr(model, "weights", []) or [])]
    opt: Any = getattr(model, "optimizer", None)
    with contextlib.suppress(Exception):
        parts.append(int(np.asarray(opt.iterations)))
    for w in list(getattr(model, "weights", []) or [])[:400]:
        try:
            a = np.asarray(w).reshape(-1)
            parts.append(float(a[:256].sum()) + float(a[-256:].sum()) + a.size)
        except Exception:
            parts.append(None)
    return tuple(parts)


def _save_for_verification(
    rec: _Recorder, model: Any, x: Any, predicted_rows: int | None, y: Any = None
) -> dict[str, Any] | None:
    """Save the model (``.keras``) and the inputs it was given, for the harness to re-check.

    The harness loads them in a separate process, never trusting this one: the
    files are only inputs to its own predictions, scored against the labels it
    holds itself. The notebook's own labels (``y``) only tell the harness how
    the notebook numbered the classes (a renumbered subset of CIFAR-10).
    """
    cfg = rec.config.get("verify")
    np = _np()
    if not cfg or np is None or _data_kind(x) != "array":
        return None
    first = _first_array(x)
    if first is not x and not (isinstance(x, list | tuple) and len(x) == 1):
        return {"error": "a model with several inputs"}
    n = _length(x)
    if n is None or n < int(cfg.get("min_rows", 50)):
        return None
    folder = os.path.join(rec.dir, "verify")
    os.makedirs(folder, exist_ok=True)
    key = rec.model_key(model)
    state = rec.verify_state
    probe = _weights_probe(np, model)
    model_file = state["models"].get(key, (None, None))
    if model_file[0] != probe:
        if state["saves"] >= int(cfg.get("max_models", 40)):
            return {"error": "too many models saved in this run"}
        state["saves"] += 1
        name = f"m-{state['saves']:03d}.keras"
        tmp = os.path.join(folder, f".{name}.tmp.keras")
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.save(tmp)
            os.replace(tmp, os.path.join(folder, name))
        except Exception as exc:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            state["models"][key] = (probe, None)
            return {"error": f"the model could not be saved: {type(exc).__name__}: {exc}"[:300]}
        model_file = (probe, name)
        state["models"][key] = model_file
    if model_file[1] is None:
        return {"error": "the model could not be saved"}
    cached = state["inputs"].get(id(first))
    if cached is not None and cached[0]() is first:
        inputs_name = cached[1]
    else:
        arr = _as_numpy(x)
        if arr is None or arr.dtype.kind not in "uif":
            return {"model_file": model_file[1], "error": "inputs are not a numeric array"}
        size = arr.size * 4 if arr.dtype == np.float64 else arr.nbytes
        if size > int(cfg.get("max_input_bytes", 1 << 30)):
            return {"model_file": model_file[1], "error": f"inputs of {size} bytes"}
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        state["input_count"] += 1
        inputs_name = f"x-{state['input_count']:03d}.npy"
        tmp = os.path.join(folder, f".{inputs_name}.tmp.npy")
        np.save(tmp, np.ascontiguousarray(arr), allow_pickle=False)
        os.replace(tmp, os.path.join(folder, inputs_name))
        with contextlib.suppress(TypeError):
            state["inputs"][id(first)] = (weakref.ref(first), inputs_name)
    labels_name = None
    labels = _as_numpy(y) if y is not None else None
    if labels is not None and labels.dtype.kind in "uifb" and len(labels) == n:
        if labels.ndim == 2 and labels.shape[1] > 1:
            labels = labels.argmax(axis=1)
        if labels.size == n:
            state["input_count"] += 1
            labels_name = f"y-{state['input_count']:03d}.npy"
            tmp = os.path.join(folder, f".{labels_name}.tmp.npy")
            np.save(tmp, labels.reshape(-1).astype(np.int64), allow_pickle=False)
            os.replace(tmp, os.path.join(folder, labels_name))
    return {
        "model_file": model_file[1],
        "inputs_file": inputs_name,
        "labels_file": labels_name,
        "rows": n,
        "predicted_rows": predicted_rows,
    }


# --------------------------------------------------------- applications, files


def _patch_applications(module: Any) -> None:
    for name in dir(module):
        if not name[:1].isupper():
            continue
        fn = getattr(module, name, None)
        if not inspect.isfunction(fn) or getattr(fn, "_grader_wrapped", False):
            continue
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            continue
        if "weights" not in params:
            continue
        wrapped = _wrap_application(fn, name, params["weights"].default)
        wrapped._grader_wrapped = True
        setattr(module, name, wrapped)


def _wrap_application(fn: Any, app_name: str, default_weights: Any) -> Any:
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def application(*args: Any, **kwargs: Any) -> Any:
        rec = _REC
        if rec is None or getattr(rec.local, "app_depth", 0) > 0:
            return fn(*args, **kwargs)
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError:
            return fn(*args, **kwargs)
        weights = bound.arguments.get("weights", default_weights)
        rec.local.app_depth = 1
        rec.local.weights_file = None
        fallback = None
        try:
            try:
                model = fn(*args, **kwargs)
            except GraderWeightsUnavailable as exc:
                if not rec.profile.get("weights_fallback"):
                    rec.event(
                        "application",
                        application=app_name,
                        weights=_plain(weights),
                        weights_loaded=False,
                        fallback=None,
                        error=str(exc)[:500],
                        weights_file=getattr(rec.local, "weights_file", None),
                    )
                    raise
                fallback = str(exc)[:500]
                bound.arguments["weights"] = None
                model = fn(*bound.args, **bound.kwargs)
        finally:
            rec.local.app_depth = 0
        _safe(_record_application, rec, model, app_name, weights, fallback, bound)
        return model

    return application


def _record_application(
    rec: _Recorder, model: Any, app_name: str, weights: Any, fallback: str | None, bound: Any
) -> None:
    weights_desc: str | None
    if isinstance(weights, str) and weights not in ("imagenet",):
        weights_desc = "file"
    else:
        weights_desc = None if weights is None else str(weights)
    loaded = weights is not None and fallback is None
    app = {
        "application": app_name,
        "model_name": str(getattr(model, "name", "")),
        "weights": weights_desc,
        "weights_loaded": loaded,
        "fallback": fallback,
        "weights_file": getattr(rec.local, "weights_file", None),
        "include_top": _plain(bound.arguments.get("include_top")),
        "input_tensor": bound.arguments.get("input_tensor") is not None,
        "include_preprocessing": _plain(bound.arguments.get("include_preprocessing")),
        "input_shape": _plain(bound.arguments.get("input_shape")),
    }
    layers = list(getattr(model, "layers", []) or [])
    first = layers[1] if len(layers) > 1 else (layers[0] if layers else None)
    ref: Any
    first_ref: Any
    try:
        ref = weakref.ref(model)
        first_ref = weakref.ref(first) if first is not None else (lambda: None)
    except TypeError:
        ref, first_ref = _StrongRef(model), _StrongRef(first)
    rec.app_refs.append((ref, first_ref, app))
    rec.event("application", **app)


def _patch_file_utils(module: Any) -> None:
    if hasattr(module, "urlretrieve") and not getattr(module.urlretrieve, "_grader_wrapped", False):
        refuse = functools.partial(_refuse_download, module.__name__)
        refuse._grader_wrapped = True  # type: ignore[attr-defined]
        module.urlretrieve = refuse
    get_file = getattr(module, "get_file", None)
    if get_file is not None and not getattr(get_file, "_grader_wrapped", False):
        module.get_file = _wrap_get_file(get_file)


def _wrap_get_file(original: Any) -> Any:
    sig = inspect.signature(original)

    @functools.wraps(original)
    def get_file(*args: Any, **kwargs: Any) -> Any:
        rec = _REC
        if rec is not None:
            try:
                bound = sig.bind(*args, **kwargs)
                fname = bound.arguments.get("fname") or os.path.basename(
                    str(bound.arguments.get("origin", ""))
                )
                rec.local.get_file = {
                    "fname": str(fname),
                    "origin": str(bound.arguments.get("origin", "")),
                    "subdir": str(bound.arguments.get("cache_subdir", "datasets")),
                }
                if getattr(rec.local, "app_depth", 0):
                    rec.local.weights_file = str(fname)
            except Exception:
                pass
        return original(*args, **kwargs)

    get_file._grader_wrapped = True  # type: ignore[attr-defined]
    return get_file


def _refuse_download(
    module_name: str, url: Any, filename: Any = None, *args: Any, **kwargs: Any
) -> Any:
    rec = _REC
    local = rec.local if rec is not None else threading.local()
    ctx = getattr(local, "get_file", None) or {}
    target = str(filename or "")
    subdir = ctx.get("subdir", "")
    name = ctx.get("fname") or os.path.basename(str(url))
    if rec is not None:
        rec.event("network_blocked", url=str(url)[:500], target=target[-300:], module=module_name)
    weights_dir = rec.config.get("weights_dir") if rec is not None else None
    if subdir == "models" or getattr(local, "app_depth", 0) or str(url).endswith((".h5", ".keras")):
        present = bool(target) and os.path.exists(target)
        why = (
            "is in the weights folder but its checksum does not match"
            if present
            else f"is not in the weights folder ({weights_dir or 'none given; use --weights DIR'})"
        )
        raise GraderWeightsUnavailable(f"weights file {name} {why}; grading runs offline")
    if subdir == "datasets":
        raise GraderDataUnavailable(
            f"dataset file {name} is not provisioned for grading (only CIFAR-10 is); "
            "grading runs offline"
        )
    raise GraderNetworkBlocked(f"download of {url} refused: grading runs offline")


def _patch_cifar10(module: Any) -> None:
    original = getattr(module, "load_data", None)
    if original is None or getattr(original, "_grader_wrapped", False):
        return

    @functools.wraps(original)
    def load_data(*args: Any, **kwargs: Any) -> Any:
        return _serve_cifar10(module)

    load_data._grader_wrapped = True  # type: ignore[attr-defined]
    module.load_data = load_data


def _serve_cifar10(module: Any) -> Any:
    rec = _REC
    data = rec.config.get("data") if rec is not None else None
    if not data:
        reason = (rec.config.get("data_missing") if rec is not None else None) or (
            "CIFAR-10 is not provisioned for this run; run `grader data cifar10 --archive "
            "cifar-10-python.tar.gz` once, or use --data synthetic"
        )
        if rec is not None:
            rec.event("data_load", dataset="cifar10", served=None, error=reason)
        raise GraderDataUnavailable(reason)
    import numpy as np  # the notebook loads CIFAR-10, so it uses numpy anyway

    folder = data["dir"]
    arrays = [
        np.load(os.path.join(folder, f"{name}.npy"), mmap_mode="c")
        for name in ("x_train", "y_train", "x_test", "y_test")
    ]
    x_train, y_train, x_test, y_test = (np.array(a) for a in arrays)
    try:
        backend = sys.modules.get("keras.src.backend") or sys.modules.get("keras.backend")
        if backend is not None and backend.image_data_format() == "channels_first":
            x_train = x_train.transpose(0, 3, 1, 2)
            x_test = x_test.transpose(0, 3, 1, 2)
    except Exception:
        pass
    if rec is not None:
        rec.event(
            "data_load",
            dataset=data.get("kind"),
            identity=data.get("identity"),
            served=data.get("kind"),
            module=getattr(module, "__name__", None),
            shapes=[list(a.shape) for a in (x_train, y_train, x_test, y_test)],
        )
    return (x_train, y_train), (x_test, y_test)


# ------------------------------------------------- metrics and figures (others)


def _patch_sklearn_classification(module: Any) -> None:
    original = getattr(module, "confusion_matrix", None)
    if original is not None and not getattr(original, "_grader_wrapped", False):

        @functools.wraps(original)
        def confusion_matrix(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            _safe(_record_confusion, "sklearn", result, args, kwargs)
            return result

        confusion_matrix._grader_wrapped = True  # type: ignore[attr-defined]
        module.confusion_matrix = confusion_matrix
    score = getattr(module, "accuracy_score", None)
    if score is not None and not getattr(score, "_grader_wrapped", False):

        @functools.wraps(score)
        def accuracy_score(*args: Any, **kwargs: Any) -> Any:
            result = score(*args, **kwargs)
            _safe(_record_accuracy, result, args, kwargs)
            return result

        accuracy_score._grader_wrapped = True  # type: ignore[attr-defined]
        module.accuracy_score = accuracy_score


def _pred_arg(args: Any, kwargs: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if name in kwargs:
            return kwargs[name]
    return args[1] if len(args) > 1 else None


def _record_confusion(source: str, result: Any, args: Any, kwargs: Any) -> None:
    rec = _REC
    if rec is None or getattr(rec.local, "in_display", False):
        return
    matrix = _plain(result)
    if not isinstance(matrix, list) or len(matrix) > 200:
        return
    y_pred = _pred_arg(args, kwargs, ("y_pred", "predictions"))
    y_true = args[0] if args else kwargs.get("y_true", kwargs.get("labels"))
    rec.event(
        "confusion",
        source=source,
        matrix=matrix,
        pred_hash=_labels_hash(y_pred),
        true_counts=_label_counts(y_true),
    )


def _record_accuracy(result: Any, args: Any, kwargs: Any) -> None:
    rec = _REC
    if rec is None:
        return
    y_pred = _pred_arg(args, kwargs, ("y_pred",))
    rec.event("accuracy_score", value=_float(result), pred_hash=_labels_hash(y_pred))


def _patch_sklearn_display(module: Any) -> None:
    cls = getattr(module, "ConfusionMatrixDisplay", None)
    if cls is None or getattr(cls.plot, "_grader_wrapped", False):
        return
    original = cls.plot

    @functools.wraps(original)
    def plot(self: Any, *args: Any, **kwargs: Any) -> Any:
        rec = _REC
        if rec is not None:
            _safe(
                lambda: rec.event(
                    "confusion",
                    source="sklearn-display",
                    matrix=_plain(getattr(self, "confusion_matrix", None)),
                    pred_hash=None,
                    labels=_plain(getattr(self, "display_labels", None)),
                )
            )
        return original(self, *args, **kwargs)

    plot._grader_wrapped = True  # type: ignore[attr-defined]
    cls.plot = plot


def _patch_tf_confusion(module: Any) -> None:
    original = getattr(module, "confusion_matrix", None)
    if original is None or getattr(original, "_grader_wrapped", False):
        return

    @functools.wraps(original)
    def confusion_matrix(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if hasattr(result, "numpy"):
            _safe(_record_confusion, "tf", result, args, kwargs)
        return result

    confusion_matrix._grader_wrapped = True  # type: ignore[attr-defined]
    module.confusion_matrix = confusion_matrix


def _patch_pyplot(module: Any) -> None:
    original = getattr(module, "show", None)
    if original is None or getattr(original, "_grader_wrapped", False):
        return

    @functools.wraps(original)
    def show(*args: Any, **kwargs: Any) -> Any:
        _safe(_snapshot_figures, "show")
        return original(*args, **kwargs)

    show._grader_wrapped = True  # type: ignore[attr-defined]
    module.show = show


def _snapshot_figures(reason: str) -> None:
    rec = _REC
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    if rec is None or helpers is None:
        return
    cell = rec.cell() or 0
    seen = rec.figures_seen.setdefault(cell, set())
    for manager in list(helpers.Gcf.get_all_fig_managers()):
        fig = manager.canvas.figure
        if id(fig) in seen:
            continue
        seen.add(id(fig))
        info = _safe(_figure_info, fig)
        if info:
            rec.event("figure", via=reason, figure=info)


def _text(obj: Any) -> str | None:
    try:
        value = obj.get_text() if obj is not None else None
    except Exception:
        return None
    return value[:300] if value else None


def _figure_info(fig: Any) -> dict[str, Any]:
    axes_info = []
    for ax in list(fig.get_axes())[:40]:
        lines = []
        for line in list(ax.get_lines())[:40]:
            try:
                ydata = [_float(v) for v in list(line.get_ydata())[:500]]
                n = len(line.get_ydata())
            except Exception:
                ydata, n = [], 0
            label = str(line.get_label() or "")
            lines.append(
                {"label": None if label.startswith("_") else label[:200], "n": n, "y": ydata}
            )
        images = []
        for im in list(getattr(ax, "images", []))[:20]:
            images.append(_array_info(im.get_array()))
        meshes = []
        for coll in list(getattr(ax, "collections", []))[:20]:
            if type(coll).__name__ == "QuadMesh":
                meshes.append(_array_info(coll.get_array()))
        title = None
        for loc in ("center", "left", "right"):
            with contextlib.suppress(Exception):
                title = ax.get_title(loc=loc) or title
        axes_info.append(
            {
                "title": (title or None) and title[:300],
                "xlabel": (ax.get_xlabel() or None),
                "ylabel": (ax.get_ylabel() or None),
                "lines": lines,
                "images": images,
                "meshes": meshes,
                "bars": sum(
                    1 for p in getattr(ax, "patches", []) if type(p).__name__ == "Rectangle"
                ),
                "texts": len(getattr(ax, "texts", [])),
                "legend": [
                    _text(t) for t in (ax.get_legend().get_texts() if ax.get_legend() else [])
                ][:40],
            }
        )
    return {"suptitle": _text(getattr(fig, "_suptitle", None)), "axes": axes_info}


def _array_info(arr: Any) -> dict[str, Any]:
    np = _np()
    out: dict[str, Any] = {"shape": None}
    try:
        a = np.asarray(arr) if np is not None else None
        if a is None:
            return out
        out["shape"] = list(a.shape)
        if a.ndim == 2 and a.shape[0] == a.shape[1] and a.size <= 900:
            out["values"] = _plain(a.tolist())
    except Exception:
        pass
    return out


def _post_execute() -> None:
    if "matplotlib._pylab_helpers" in sys.modules:
        _safe(_snapshot_figures, "cell-end")


# ---------------------------------------------------------- seeds and threads


def _seed_numpy(module: Any) -> None:
    rec = _REC
    if rec is not None and rec.config.get("seed") is not None:
        module.random.seed(int(rec.config["seed"]))


def _on_tensorflow(module: Any) -> None:
    rec = _REC
    if rec is None:
        return
    seed = rec.config.get("seed")
    if seed is not None:
        module.random.set_seed(int(seed))
    if rec.config.get("deterministic"):
        module.config.experimental.enable_op_determinism()
    info: dict[str, Any] = {"tensorflow": getattr(module, "__version__", None)}
    try:
        build = dict(module.sysconfig.get_build_info())
        info["cuda"] = build.get("cuda_version")
        info["cudnn"] = build.get("cudnn_version")
    except Exception:
        pass
    rec.event("tensorflow", **info)


def _on_keras(module: Any) -> None:
    rec = _REC
    if rec is None:
        return
    seed = rec.config.get("seed")
    if seed is not None:
        utils = getattr(module, "utils", None)
        setter = getattr(utils, "set_random_seed", None)
        if setter is not None:
            setter(int(seed))
    rec.event("keras", version=getattr(module, "__version__", None), module=module.__name__)


# --------------------------------------------------------------------- install


def _hooks() -> tuple[dict[str, list[Any]], list[tuple[str, Any]]]:
    def model(flavour: str) -> Any:
        def patch(module: Any) -> None:
            _patch_model_class(module, flavour)

        patch.__name__ = f"patch_model_{flavour}"
        return patch

    exact: dict[str, list[Any]] = {
        "keras.src.models.model": [model("keras3")],
        "tf_keras.src.engine.training": [model("tf_keras")],
        "keras.engine.training": [model("keras2")],
        "keras.src.engine.training": [model("keras2src")],
        "keras.src.datasets.cifar10": [_patch_cifar10],
        "keras.datasets.cifar10": [_patch_cifar10],
        "tf_keras.src.datasets.cifar10": [_patch_cifar10],
        "keras.src.utils.file_utils": [_patch_file_utils],
        "keras.utils.data_utils": [_patch_file_utils],
        "keras.src.utils.data_utils": [_patch_file_utils],
        "tf_keras.src.utils.data_utils": [_patch_file_utils],
        "keras.src.layers.normalization.batch_normalization": [_patch_batchnorm],
        "keras.layers.normalization.batch_normalization": [_patch_batchnorm],
        "keras.src.layers.normalization.batch_normalization_v1": [_patch_batchnorm],
        "tf_keras.src.layers.normalization.batch_normalization": [_patch_batchnorm],
        "keras": [_on_keras],
        "tf_keras": [_on_keras],
        "tensorflow": [_on_tensorflow],
        "tensorflow.python.ops.confusion_matrix": [_patch_tf_confusion],
        "sklearn.metrics._classification": [_patch_sklearn_classification],
        "sklearn.metrics._plot.confusion_matrix": [_patch_sklearn_display],
        "matplotlib.pyplot": [_patch_pyplot],
        "numpy": [_seed_numpy],
    }
    prefixes: list[tuple[str, Any]] = [
        ("keras.src.applications.", _patch_applications),
        ("tf_keras.src.applications.", _patch_applications),
        ("keras.applications.", _patch_applications),
    ]
    return exact, prefixes


def install(config_path: str) -> None:
    """Install the capture in this kernel (called once by the injected first cell)."""
    global _REC
    if _REC is not None:
        return
    with open(config_path, encoding="utf-8") as fh:
        config = json.load(fh)
    rec = _Recorder(config)
    _REC = rec
    seed = config.get("seed")
    if seed is not None:
        import random

        random.seed(int(seed))
    exact, prefixes = _hooks()
    finder = _PostImportFinder(exact, prefixes)
    sys.meta_path.insert(0, finder)
    for name in sorted(sys.modules):
        module = sys.modules.get(name)
        if module is None:
            continue
        for callback in finder.callbacks_for(name):
            _safe(callback, module)
    try:
        ip = sys.modules["IPython"].get_ipython()
        if ip is not None:
            ip.events.register("post_execute", _post_execute)
    except Exception as exc:
        rec.problem(f"no IPython shell for figure capture: {exc}")
    rec.event(
        "session",
        prelude_version=PRELUDE_VERSION,
        python=sys.version.split()[0],
        executable=sys.executable,
        pid=os.getpid(),
        profile=rec.profile.get("name"),
        seed=seed,
        deterministic=bool(config.get("deterministic")),
        data=(config.get("data") or {}).get("kind"),
        preloaded=[m for m in ("numpy", "tensorflow", "keras", "matplotlib") if m in sys.modules],
    )
