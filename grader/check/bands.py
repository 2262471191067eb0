"""Reference bands: the range the reference solutions reach, per model kind.

``grader reference build`` writes one band file per profile and dataset
(``reference/bands/<profile>.json``) from seeded runs of the reference
notebooks; the reports draw it and the band checks compare runs with it::

    {
      "format": "grader-bands/1",
      "profile": "smoke",
      "data": {"kind": "synthetic", "identity": "synthetic-v1-...", "test_size": 1000},
      "tolerance": {"spread_k": 3.0, ...},
      "provenance": {"seeds": [1, 2, 3], "date": "...", "hardware": {...}, ...},
      "bands": [
        {
          "kind": "scratch_cnn",
          "base": null,
          "test_accuracy": {"low": 0.55, "high": 0.68, "mean": 0.61, "std": 0.02, ...},
          "fit_seconds": {"low": ..., "high": ..., ...},
          "gap": {...},
          "curves": {"val_accuracy": {"low": [0.30, ...], "high": [0.38, ...]}, ...}
        }
      ],
      "relations": {"transfer_minus_scratch": {"low": ..., "high": ..., ...}, ...}
    }

Simpler files are read too: a single band (``{"kind": ..., "test_accuracy":
...}``), ``{"bands": [...]}`` or a list; ``low``/``high`` may also be spelled
``min``/``max``, ``lo``/``hi`` or ``p05``/``p95``, a range may be a two-element
list, and ``history`` is accepted for ``curves``. Files that cannot be read are
skipped: a missing band only means no band is drawn and nothing is compared.

Reading bands imports nothing heavy (json and pydantic only), so the static
check can use them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.i18n import N_, _, ngettext

__all__ = [
    "BAND_FORMAT",
    "Band",
    "BandData",
    "BandSet",
    "CurveBand",
    "Stats",
    "Tolerance",
    "default_bands_folder",
    "load_band_set",
    "load_band_sets",
    "load_bands",
    "parse_band",
    "parse_band_set",
    "resolve_bands",
    "data_name",
    "select_band_set",
]

BAND_FORMAT = "grader-bands/1"

# data kinds in words, for messages (translated where they are shown: see data_name)
DATA_NAMES = {"cifar10": N_("CIFAR-10"), "synthetic": N_("the synthetic CIFAR-like dataset")}


def data_name(kind: str | None) -> str:
    """A data kind (``cifar10``, ``synthetic``) in words, in the language in use."""
    if kind in DATA_NAMES:
        return _(DATA_NAMES[kind])
    return kind or _("unknown data")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stats(_Model):
    """A distribution over seeded runs; ``low``/``high`` is the band a result is held to."""

    n: int = 0
    mean: float | None = None
    std: float | None = Field(None, description="sample standard deviation over the runs")
    min: float | None = None
    max: float | None = None
    q05: float | None = None
    q25: float | None = None
    median: float | None = None
    q75: float | None = None
    q95: float | None = None
    low: float | None = Field(None, description="lower end of the band")
    high: float | None = Field(None, description="upper end of the band")
    values: list[float] = Field(default_factory=list, description="the runs' values")


class CurveBand(_Model):
    """A per-epoch band: ``low[i]``..``high[i]`` at epoch ``i + 1``."""

    low: list[float]
    high: list[float]
    mean: list[float] | None = None


class Band(_Model):
    """The band of one model kind (and, optionally, one pretrained base)."""

    kind: str
    base: str | None = Field(None, description="pretrained base; None: every base of the kind")
    label: str | None = Field(None, description="the reference models it was built from, in words")
    test_accuracy: tuple[float, float] | None = None
    accuracy: Stats | None = Field(None, description="test accuracy over the runs")
    fit_seconds: Stats | None = None
    seconds_per_epoch: Stats | None = None
    epochs: Stats | None = None
    gap: Stats | None = Field(
        None, description="training minus validation accuracy at the last epoch"
    )
    learning_rate: Stats | None = None
    pretrained: bool | None = Field(
        None, description="False when the reference ran its base without pretrained weights"
    )
    weights: str | None = None
    curves: dict[str, CurveBand] = Field(default_factory=dict)
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        """This band in the file's form (``test_accuracy`` with its distribution and band)."""
        out = self.model_dump(mode="json", exclude={"source", "accuracy", "test_accuracy"})
        if self.accuracy is not None:
            acc = self.accuracy.model_dump(mode="json")
            if self.test_accuracy is not None:
                acc["low"], acc["high"] = self.test_accuracy
            out["test_accuracy"] = acc
        elif self.test_accuracy is not None:
            out["test_accuracy"] = {"low": self.test_accuracy[0], "high": self.test_accuracy[1]}
        else:
            out["test_accuracy"] = None
        return {k: out[k] for k in _BAND_ORDER if k in out}


_BAND_ORDER = (
    "kind",
    "base",
    "label",
    "pretrained",
    "weights",
    "test_accuracy",
    "fit_seconds",
    "seconds_per_epoch",
    "epochs",
    "learning_rate",
    "gap",
    "curves",
)


class BandData(_Model):
    """The data the reference runs used; runs are compared only with bands of the same data."""

    kind: str | None = Field(None, description="cifar10, synthetic, ...")
    identity: str | None = Field(None, description="archive sha256 or synthetic generator id")
    classes: list[int] | None = None
    train_size: int | None = None
    val_size: int | None = None
    test_size: int | None = None


class Tolerance(_Model):
    """How the band ends were derived from the runs' spread, and how reproducible a rebuild is."""

    spread_k: float = Field(
        3.0,
        description="band = mean -/+ spread_k standard deviations, widened to the runs' "
        "min/max; for accuracies the deviation also counts the test set's sampling error",
    )
    reproducible_accuracy: float | None = Field(
        None, description="largest difference of a test accuracy between two builds, same seeds"
    )
    reproducible_seconds: float | None = Field(
        None, description="largest relative difference of a training time between two builds"
    )


class BandSet(_Model):
    """One band file: every kind's band for one profile and dataset, with its provenance."""

    format: str | None = None
    profile: str | None = None
    data: BandData = Field(default_factory=BandData)
    tolerance: Tolerance = Field(default_factory=Tolerance)
    provenance: dict[str, Any] = Field(default_factory=dict)
    bands: list[Band] = Field(default_factory=list)
    relations: dict[str, Stats] = Field(default_factory=dict)
    path: str | None = Field(None, description="the file it was read from (not stored)")

    def band_for(self, kind: str, base: str | None = None) -> Band | None:
        """The band of ``kind``: the one of the same base when there is one, else the pooled one."""
        same_kind = [b for b in self.bands if b.kind == kind]
        if base is not None:
            for b in same_kind:
                if b.base is not None and b.base.lower() == base.lower():
                    return b
        pooled = [b for b in same_kind if b.base is None]
        candidates = pooled or same_kind
        return candidates[0] if candidates else None

    def seeds(self) -> list[int]:
        raw = self.provenance.get("seeds")
        if isinstance(raw, list):
            return [int(s) for s in raw if isinstance(s, int)]
        return []

    def describe(self) -> str:
        """E.g. 'the synthetic CIFAR-like dataset, smoke profile, 3 seeded runs (smoke.json)'."""
        parts = [
            data_name(self.data.kind),
            _("{profile} profile").format(profile=self.profile)
            if self.profile
            else _("unknown profile"),
        ]
        seeds = self.seeds()
        if seeds:
            parts.append(
                ngettext("{n} seeded run", "{n} seeded runs", len(seeds)).format(n=len(seeds))
            )
        where = f" ({Path(self.path).name})" if self.path else ""
        return ", ".join(parts) + where

    def to_json(self) -> dict[str, Any]:
        """The file's content: each band's ``test_accuracy`` is its full distribution."""
        out = self.model_dump(mode="json", exclude={"path", "bands"})
        out["bands"] = [b.to_json() for b in self.bands]
        return out

    def as_json(self) -> str:
        """The file's text (without the ``path`` it was read from)."""
        return json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------- reading


def _pair(value: Any) -> tuple[Any, Any] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, Mapping):
        for lo, hi in (("low", "high"), ("min", "max"), ("lo", "hi"), ("p05", "p95")):
            if lo in value and hi in value:
                return value[lo], value[hi]
    return None


def _floats(value: Any) -> list[float] | None:
    if isinstance(value, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        return [float(v) for v in value]
    return None


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _stats(value: Any) -> Stats | None:
    if not isinstance(value, Mapping):
        pair = _pair(value)
        if pair and all(_number(v) for v in pair):
            return Stats(low=float(pair[0]), high=float(pair[1]))
        return None
    fields: dict[str, Any] = {}
    for key in Stats.model_fields:
        v = value.get(key)
        if key == "values":
            floats = _floats(v)
            if floats is not None:
                fields[key] = floats
        elif key == "n":
            if isinstance(v, int) and not isinstance(v, bool):
                fields[key] = v
        elif _number(v):
            fields[key] = float(v)
    if "low" not in fields or "high" not in fields:
        pair = _pair(value)
        if pair and all(_number(v) for v in pair):
            fields["low"], fields["high"] = float(pair[0]), float(pair[1])
    return Stats(**fields) if fields else None


def parse_band(raw: Any, source: str | None = None) -> Band | None:
    """One band from its JSON form, or None when it does not describe one."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("kind"), str):
        return None
    acc = None
    pair = _pair(raw.get("test_accuracy"))
    if pair and all(_number(v) for v in pair):
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
                mean = _floats(spec.get("mean")) if isinstance(spec, Mapping) else None
                curves[str(metric)] = CurveBand(
                    low=low, high=high, mean=mean if mean and len(mean) == len(low) else None
                )
    base = raw.get("base")
    pretrained = raw.get("pretrained")
    return Band(
        kind=raw["kind"],
        base=base if isinstance(base, str) else None,
        label=raw["label"] if isinstance(raw.get("label"), str) else None,
        test_accuracy=acc,
        accuracy=_stats(raw.get("test_accuracy")) if acc is not None else None,
        fit_seconds=_stats(raw.get("fit_seconds")),
        seconds_per_epoch=_stats(raw.get("seconds_per_epoch")),
        epochs=_stats(raw.get("epochs")),
        gap=_stats(raw.get("gap")),
        learning_rate=_stats(raw.get("learning_rate")),
        pretrained=pretrained if isinstance(pretrained, bool) else None,
        weights=raw["weights"] if isinstance(raw.get("weights"), str) else None,
        curves=curves,
        source=source,
    )


def _model_or_default(cls: type[_Model], raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        return cls()
    known = {k: v for k, v in raw.items() if k in cls.model_fields}
    try:
        return cls.model_validate(known)
    except ValidationError:
        return cls()


def parse_band_set(raw: Any, source: str | None = None) -> BandSet | None:
    """A band file's content, or None when it holds no band at all."""
    items = raw.get("bands") if isinstance(raw, Mapping) and "bands" in raw else raw
    bands = [
        b
        for b in (
            parse_band(item, source) for item in (items if isinstance(items, list) else [items])
        )
        if b is not None
    ]
    if not bands:
        return None
    head: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    relations: dict[str, Stats] = {}
    raw_rel = head.get("relations")
    if isinstance(raw_rel, Mapping):
        for name, spec in raw_rel.items():
            st = _stats(spec)
            if st is not None:
                relations[str(name)] = st
    provenance = head.get("provenance")
    return BandSet(
        format=head["format"] if isinstance(head.get("format"), str) else None,
        profile=head["profile"] if isinstance(head.get("profile"), str) else None,
        data=_model_or_default(BandData, head.get("data")),
        tolerance=_model_or_default(Tolerance, head.get("tolerance")),
        provenance=dict(provenance) if isinstance(provenance, Mapping) else {},
        bands=bands,
        relations=relations,
        path=source,
    )


def load_band_set(path: Path) -> BandSet | None:
    """One band file, or None when it cannot be read or holds no band."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return parse_band_set(raw, str(path))


def load_band_sets(folder: Path | None) -> list[BandSet]:
    """Every band file under ``folder`` (by name); empty when there is none."""
    if folder is None:
        return []
    if folder.is_file():
        one = load_band_set(folder)
        return [one] if one is not None else []
    if not folder.is_dir():
        return []
    return [s for s in (load_band_set(p) for p in sorted(folder.glob("*.json"))) if s is not None]


def default_bands_folder() -> Path | None:
    """Where the reference bands are when nobody names them: ``reference/bands`` in the
    working folder (a course repository), else the bands the grader comes with
    (:mod:`grader.bundled`); None when neither exists."""
    from grader import bundled

    folder = Path.cwd() / "reference" / "bands"
    if folder.is_dir() and any(folder.glob("*.json")):
        return folder
    return bundled.bands_folder()


def resolve_bands(path: Path | None, *, enabled: bool = True) -> Path | None:
    """The bands a command compares with: ``path`` when given (it must hold a readable
    band file), the default folder otherwise, None when switched off or absent.

    Raises :class:`~grader.errors.UsageError` for a named path without a band in it.
    """
    from grader.errors import UsageError

    if not enabled:
        return None
    if path is None:
        return default_bands_folder()
    if not path.exists():
        raise UsageError(_("{path}: no such band file or folder").format(path=path))
    if not load_band_sets(path):
        raise UsageError(
            _(
                "{path}: no readable reference band in it (build one with `grader reference build`)"
            ).format(path=path)
        )
    return path


def select_band_set(
    sets: Iterable[BandSet], profile: str | None, data: str | None, identity: str | None = None
) -> BandSet | None:
    """The band set built on the same data and profile as a run; None when there is none.

    Among several, one built on the very same dataset (``identity``) wins.
    """
    matching = [
        s for s in sets if s.profile == profile and s.data.kind is not None and s.data.kind == data
    ]
    if identity is not None:
        for s in matching:
            if s.data.identity == identity:
                return s
    return matching[0] if matching else None


def load_bands(
    folder: Path | None, profile: str | None = None, data: str | None = None
) -> dict[str, Band]:
    """Every band under ``folder`` by model kind; empty when there is none.

    With ``profile`` (and ``data``) only the files built for that profile (and
    dataset) are read; without them the first band of each kind across the
    files is kept. For a kind with bands per pretrained base, the one pooled
    over bases is returned. Bands of transfer models whose reference ran
    without pretrained weights (``pretrained: false``) say nothing about
    transfer learning and are left out.
    """
    sets = load_band_sets(folder)
    if profile is not None:
        sets = [s for s in sets if s.profile == profile and (data is None or s.data.kind == data)]
    bands: dict[str, Band] = {}
    for s in sets:
        for band in sorted(s.bands, key=lambda b: b.base is not None):
            if band.pretrained is not False:
                bands.setdefault(band.kind, band)
    return bands
