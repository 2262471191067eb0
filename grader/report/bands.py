"""Reference bands: the range the reference solutions reach, per model kind.

Band files (``reference/bands/*.json``) are built by running the reference
notebooks over several seeds. A band file describes one model kind::

    {
      "kind": "scratch_cnn",
      "test_accuracy": {"low": 0.55, "high": 0.68},
      "curves": {
        "val_accuracy": {"low": [0.30, 0.41, ...], "high": [0.38, 0.50, ...]},
        "val_loss": {"low": [...], "high": [...]}
      }
    }

``low``/``high`` may also be spelled ``min``/``max`` or ``lo``/``hi``, a range
may be a two-element list, and ``history`` is accepted for ``curves``. A file
for several kinds may hold ``{"bands": [...]}`` or a list. Files that cannot
be read are skipped: a missing band only means no band is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Band", "CurveBand", "load_bands", "parse_band"]


class CurveBand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: list[float]
    high: list[float]


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    test_accuracy: tuple[float, float] | None = None
    curves: dict[str, CurveBand] = Field(default_factory=dict)
    source: str | None = None


def _pair(value: Any) -> tuple[Any, Any] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, Mapping):
        for lo, hi in (("low", "high"), ("min", "max"), ("lo", "hi"), ("p05", "p95")):
            if lo in value and hi in value:
                return value[lo], value[hi]
    return None


def _floats(value: Any) -> list[float] | None:
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return [float(v) for v in value]
    return None


def parse_band(raw: Any, source: str | None = None) -> Band | None:
    """One band from its JSON form, or None when it does not describe one."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("kind"), str):
        return None
    acc = None
    pair = _pair(raw.get("test_accuracy"))
    if pair and all(isinstance(v, int | float) for v in pair):
        acc = (float(pair[0]), float(pair[1]))
    curves: dict[str, CurveBand] = {}
    raw_curves = raw.get("curves", raw.get("history"))
    if isinstance(raw_curves, Mapping):
        for metric, spec in raw_curves.items():
            pair = _pair(spec)
            if pair is None:
                continue
            low, high = _floats(pair[0]), _floats(pair[1])
            if low and high and len(low) == len(high):
                curves[str(metric)] = CurveBand(low=low, high=high)
    return Band(kind=raw["kind"], test_accuracy=acc, curves=curves, source=source)


def load_bands(folder: Path | None) -> dict[str, Band]:
    """Every band under ``folder`` by model kind; empty when there is none."""
    bands: dict[str, Band] = {}
    if folder is None or not folder.is_dir():
        return bands
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        items = raw.get("bands") if isinstance(raw, Mapping) and "bands" in raw else raw
        for item in items if isinstance(items, list) else [items]:
            band = parse_band(item, path.name)
            if band is not None:
                bands.setdefault(band.kind, band)
    return bands
