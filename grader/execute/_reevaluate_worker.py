"""Out-of-process verification worker: load saved models safely, predict, write predictions.

Run by :mod:`grader.execute.reevaluate` inside the run's sandbox, with the
kernel's Python (it needs Keras), never with the labels: it reads a request
(JSON) naming model files (``.keras``, loaded with ``safe_mode=True``, so no
code stored in them runs) and input arrays (``.npy`` without pickles), and
writes one ``p-<id>.npy`` of predicted class indices per item plus
``result.json``. The harness scores the predictions itself.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

__all__ = ["main"]


def _layers(model: Any, depth: int = 0) -> set[str]:
    names: set[str] = set()
    for layer in list(getattr(model, "layers", []) or []):
        names.add(type(layer).__name__)
        if depth < 6 and hasattr(layer, "layers"):
            names |= _layers(layer, depth + 1)
    return names


def _classes(out: Any, np: Any) -> Any:
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    flat = out.reshape(len(out), -1)[:, 0]
    threshold = 0.5 if (flat.min() >= 0.0 and flat.max() <= 1.0) else 0.0
    return (flat > threshold).astype(np.int64)


def _one(item: dict[str, Any], out_dir: str, np: Any, keras: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"id": item["id"], "ok": False}
    model = keras.saving.load_model(item["model"], compile=False, safe_mode=True)
    result["params"] = int(model.count_params())
    result["layers"] = sorted(_layers(model))[:200]
    x = np.load(item["inputs"], mmap_mode="r", allow_pickle=False)
    take = item.get("take")
    if take:
        x = np.asarray(x[np.asarray(take, dtype=np.int64)])
        result["take"] = [int(i) for i in take]
    else:
        x = np.asarray(x[: int(item.get("predict_rows") or len(x))])
    size = int(item.get("batch_size") or 256)
    parts = [model.predict_on_batch(x[i : i + size]) for i in range(0, len(x), size)]
    if any(isinstance(p, dict | list | tuple) for p in parts):
        result["error"] = "the model has several outputs"
        return result
    out = np.concatenate([np.asarray(p) for p in parts]) if parts else np.zeros((0, 1))
    if isinstance(out, dict | list | tuple):
        result["error"] = "the model has several outputs"
        return result
    out = np.asarray(out)
    result["output_shape"] = list(out.shape)
    pred = _classes(out, np).astype(np.int32)
    np.save(os.path.join(out_dir, f"p-{item['id']}.npy"), pred, allow_pickle=False)
    result.update(ok=True, rows=int(len(pred)))
    return result


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        request = json.load(fh)
    out_dir = request["out"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    results: list[dict[str, Any]] = []
    try:
        import keras
    except Exception as exc:
        results = [
            {"id": i["id"], "ok": False, "error": f"no Keras: {exc}"} for i in request["items"]
        ]
        keras = None
    if keras is not None:
        for item in request["items"]:
            try:
                results.append(_one(item, out_dir, np, keras))
            except Exception as exc:
                results.append(
                    {"id": item["id"], "ok": False, "error": f"{type(exc).__name__}: {exc}"[:600]}
                )
            with open(os.path.join(out_dir, "result.json"), "w", encoding="utf-8") as fh:
                json.dump({"results": results}, fh)
    with open(os.path.join(out_dir, "result.json"), "w", encoding="utf-8") as fh:
        json.dump({"results": results}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
