"""Reference bands from seeded runs of the reference notebooks.

:func:`build_bands` runs every reference notebook once per seed (deterministic
TensorFlow ops, seeded Python/NumPy/TensorFlow) and :func:`build_band_set`
turns the runs' evidence into a :class:`~grader.check.bands.BandSet`: per
model kind (and per pretrained base where a kind has several) the test
accuracy, training time, epochs, learning rate, train/validation gap and
per-epoch curves as distributions with their bands, relations between kinds
within one run (transfer minus scratch accuracy, time-per-epoch ratios), and
the provenance needed to repeat the build. :func:`compare_band_sets` tells
whether a rebuild reproduced a band file within its stated tolerance.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.check.band_checks import TIME_RATIO_PREFIX, TRANSFER_KINDS, TRANSFER_MINUS_SCRATCH
from grader.check.band_checks import random_init as _random_init
from grader.check.bands import BAND_FORMAT, Band, BandData, BandSet, Stats, Tolerance
from grader.evidence import Evidence, ModelKind, ModelRun
from grader.reference.expectations import (
    Expectations,
    NotebookExpectation,
    ReferenceSolutionError,
    match_models,
)
from grader.reference.runs import (
    RunSettings,
    notebook_parameters,
    parameter_values,
    run_reference,
    sources_sha256,
)
from grader.reference.stats import accuracy_stats, curve_band, summarise

if TYPE_CHECKING:
    from grader.extract.runtime import RunResult

__all__ = [
    "SPREAD_K",
    "BuildResult",
    "RunSample",
    "band_file_name",
    "build_band_set",
    "build_bands",
    "compare_band_sets",
]

#: band = mean -/+ SPREAD_K standard deviations of the seeded runs (written into the file)
SPREAD_K = 3.0
#: a rebuild's training times may differ by this fraction (wall time depends on the machine's load)
SECONDS_TOLERANCE = 0.5

_CURVES = {
    "accuracy": (0.0, 1.0),
    "val_accuracy": (0.0, 1.0),
    "loss": (0.0, None),
    "val_loss": (0.0, None),
}


@dataclass
class RunSample:
    """One finished run of one reference notebook: what the bands are made of."""

    notebook: str
    seed: int
    expectation: NotebookExpectation
    evidence: Evidence
    wall_seconds: float | None = None


@dataclass
class BuildResult:
    band_set: BandSet
    samples: list[RunSample] = field(default_factory=list)
    wall_seconds: float = 0.0


def band_file_name(profile: str, data: str | None) -> str:
    """``smoke.json`` for a profile's usual data, ``<profile>-<data>.json`` otherwise."""
    from grader.reference.runs import DEFAULT_DATA

    if data is None or DEFAULT_DATA.get(profile) == data:
        return f"{profile}.json"
    return f"{profile}-{data}.json"


# ---------------------------------------------------------------- the bands


@dataclass
class _Collected:
    labels: list[str] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    per_epoch: list[float] = field(default_factory=list)
    epochs: list[float] = field(default_factory=list)
    gap: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    weights: list[str | None] = field(default_factory=list)
    curves: dict[str, list[list[float]]] = field(default_factory=dict)

    def add(self, label: str, m: ModelRun) -> None:
        if label not in self.labels:
            self.labels.append(label)
        if m.test_accuracy is not None:
            self.accuracy.append(m.test_accuracy)
        if m.fit_seconds is not None:
            self.seconds.append(m.fit_seconds)
            if m.epochs:
                self.per_epoch.append(m.fit_seconds / m.epochs)
        if m.epochs:
            self.epochs.append(float(m.epochs))
        if m.learning_rate:
            self.lr.append(m.learning_rate)
        self.weights.append(m.weights)
        acc = [v for v in m.history.get("accuracy", []) if math.isfinite(v)]
        val = [v for v in m.history.get("val_accuracy", []) if math.isfinite(v)]
        if acc and val:
            self.gap.append(acc[-1] - val[-1])
        for metric in _CURVES:
            series = m.history.get(metric)
            if series:
                self.curves.setdefault(metric, []).append(list(series))


def _pretrained(kind: str, weights: Sequence[str | None]) -> bool | None:
    if kind not in {k.value for k in TRANSFER_KINDS}:
        return None
    return not any(_random_init(w) for w in weights)


def _band(kind: str, base: str | None, c: _Collected, k: float, n_test: int | None) -> Band:
    acc = accuracy_stats(c.accuracy, k=k, n_test=n_test) if c.accuracy else None
    curves = {}
    for metric, (lower, upper) in _CURVES.items():
        cb = curve_band(c.curves.get(metric, []), k=k, lower=lower, upper=upper)
        if cb is not None:
            curves[metric] = cb
    weights = sorted({w for w in c.weights if w})
    return Band(
        kind=kind,
        base=base,
        label="; ".join(c.labels),
        test_accuracy=(acc.low, acc.high)
        if acc is not None and acc.low is not None and acc.high is not None
        else None,
        accuracy=acc,
        fit_seconds=summarise(c.seconds, k=k, lower=0.0) if c.seconds else None,
        seconds_per_epoch=summarise(c.per_epoch, k=k, lower=0.0) if c.per_epoch else None,
        epochs=summarise(c.epochs, k=k, lower=0.0) if c.epochs else None,
        gap=summarise(c.gap, k=k, lower=-1.0, upper=1.0) if c.gap else None,
        learning_rate=summarise(c.lr, k=0.0) if c.lr else None,
        pretrained=_pretrained(kind, c.weights),
        weights="; ".join(weights) if weights else None,
        curves=curves,
    )


def _relations(samples: Sequence[RunSample], k: float) -> dict[str, Stats]:
    diffs: list[float] = []
    ratios: dict[str, list[float]] = {}
    for s in samples:
        matched = [m for _, m in match_models(s.expectation.models, s.evidence.models) if m]
        scratch = [m for m in matched if m.kind == ModelKind.scratch_cnn]
        transfer = [m for m in matched if m.kind in TRANSFER_KINDS]
        s_acc = [m.test_accuracy for m in scratch if m.test_accuracy is not None]
        t_acc = [m.test_accuracy for m in transfer if m.test_accuracy is not None]
        if s_acc and t_acc:
            diffs.append(max(t_acc) - max(s_acc))
        base = next((m for m in scratch if m.fit_seconds and m.epochs), None)
        if base is None or not base.fit_seconds or not base.epochs:
            continue
        base_spe = base.fit_seconds / base.epochs
        seen: set[ModelKind] = set()
        for m in matched:
            if m is base or m.kind in seen or not m.fit_seconds or not m.epochs:
                continue
            seen.add(m.kind)
            ratios.setdefault(m.kind.value, []).append((m.fit_seconds / m.epochs) / base_spe)
    out: dict[str, Stats] = {}
    if diffs:
        out[TRANSFER_MINUS_SCRATCH] = summarise(diffs, k=k, lower=-1.0, upper=1.0)
    for kind, values in sorted(ratios.items()):
        out[TIME_RATIO_PREFIX + kind] = _widened(summarise(values, k=k, lower=0.0))
    return out


def _widened(st: Stats, tolerance: float = SECONDS_TOLERANCE) -> Stats:
    """A time ratio's band widened by the stated training-time tolerance on both sides.

    Seeded runs on one machine in one sitting vary less than training times do
    between sittings and machines; the band file states that tolerance
    (``reproducible_seconds``) and the ratio's band includes it.
    """
    if st.low is None or st.high is None:
        return st
    return st.model_copy(
        update={
            "low": round(st.low / (1 + tolerance), 6),
            "high": round(st.high * (1 + tolerance), 6),
        }
    )


def build_band_set(
    samples: Sequence[RunSample],
    *,
    profile: str,
    data: BandData | None = None,
    provenance: Mapping[str, Any] | None = None,
    k: float = SPREAD_K,
) -> BandSet:
    """The band file from finished runs (pure: no execution, no files).

    Only models that match an expected model of their notebook count; the
    expected model's base groups transfer models per base.
    """
    data = data.model_copy() if data is not None else BandData()
    if data.test_size is None:
        sizes = [s.evidence.data.test_size for s in samples if s.evidence.data.test_size]
        data.test_size = sizes[0] if sizes else None
    for attr in ("train_size", "val_size"):
        if getattr(data, attr) is None:
            sizes = [getattr(s.evidence.data, attr) for s in samples]
            known = [v for v in sizes if v]
            setattr(data, attr, known[0] if known else None)
    pooled: dict[str, _Collected] = {}
    per_base: dict[tuple[str, str], _Collected] = {}
    for s in samples:
        if not s.expectation.bands:
            continue
        for exp, m in match_models(s.expectation.models, s.evidence.models):
            if m is None:
                continue
            label = exp.label
            pooled.setdefault(exp.kind.value, _Collected()).add(label, m)
            base = exp.base or m.base
            if base:
                per_base.setdefault((exp.kind.value, base), _Collected()).add(label, m)
    order = [k_.value for k_ in ModelKind]
    bands = [_band(kind, None, pooled[kind], k, data.test_size) for kind in order if kind in pooled]
    for (kind, base), c in sorted(
        per_base.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])
    ):
        bases_of_kind = {b for (k2, b) in per_base if k2 == kind}
        if len(bases_of_kind) > 1:
            bands.append(_band(kind, base, c, k, data.test_size))
    prov = dict(provenance or {})
    prov.setdefault("seeds", sorted({s.seed for s in samples}))
    return BandSet(
        format=BAND_FORMAT,
        profile=profile,
        data=data,
        tolerance=Tolerance(
            spread_k=k,
            reproducible_accuracy=round(1.0 / data.test_size, 6) if data.test_size else None,
            reproducible_seconds=SECONDS_TOLERANCE,
        ),
        provenance=prov,
        bands=bands,
        relations=_relations([s for s in samples if s.expectation.bands], k),
    )


# ---------------------------------------------------------------- the runs


def _sources_sha256(path: Path) -> str | None:
    import nbformat

    try:
        return sources_sha256(nbformat.read(str(path), as_version=4))
    except (OSError, ValueError):
        return None


def _environment(result: RunResult) -> tuple[dict[str, Any], dict[str, Any]]:
    env = result.manifest.environment
    hardware = {
        "machine": env.machine,
        "platform": env.platform,
        "cpu_model": env.cpu_model,
        "cpu_count": env.cpu_count,
        "memory_bytes": env.memory_bytes,
        "gpus": env.gpus,
        "cuda_driver": env.cuda_driver,
        "tensorflow_cuda": env.tensorflow_cuda,
        "threads": result.manifest.threads,
    }
    versions = {"python": env.python, "harness": result.manifest.harness_version}
    versions.update({k: v for k, v in env.packages.items() if v})
    return hardware, versions


def _failure_text(result: RunResult) -> str:
    f = result.failure
    if f is None:
        return "the run failed"
    where = f" in cell {f.cell}" if f.cell is not None else ""
    return f"{f.kind.value}{where}: {f.message}"


def build_bands(
    expectations: Expectations,
    seeds: Sequence[int],
    settings: RunSettings,
    *,
    work: Path | None = None,
    command: str | None = None,
    on_run: Callable[[RunSample, RunResult], None] | None = None,
) -> BuildResult:
    """Run every reference notebook with every seed and build the band file's content.

    Raises :class:`ReferenceSolutionError` naming the notebook and seed when a run fails.
    """
    import time

    if not seeds:
        raise ReferenceSolutionError("no seeds: build needs at least one seeded run")
    started = time.monotonic()
    samples: list[RunSample] = []
    results: list[RunResult] = []
    items = [n for n in expectations.notebooks if n.bands]
    if not items:
        raise ReferenceSolutionError("no reference notebook is marked to make the bands")
    with tempfile.TemporaryDirectory(prefix="grader-reference-") as tmp:
        folder = work or Path(tmp)
        for seed in seeds:
            for item in items:
                source = expectations.notebook_path(item)
                result = run_reference(source, item, seed, settings, folder / Path(item.path).stem)
                if result.status != "ok" or result.evidence is None:
                    raise ReferenceSolutionError(
                        f"{item.path} (seed {seed}): the run failed, no bands written: "
                        + _failure_text(result),
                        notebook=item.path,
                        seed=seed,
                    )
                sample = RunSample(
                    notebook=item.path,
                    seed=seed,
                    expectation=item,
                    evidence=result.evidence,
                    wall_seconds=result.wall_seconds,
                )
                samples.append(sample)
                results.append(result)
                if on_run is not None:
                    on_run(sample, result)
    first = results[0]
    spec = first.manifest.data.spec
    params = _parameters(expectations, items)
    classes = params.get("CLASSES")
    data = BandData(
        kind=spec.kind if spec else settings.data_name(),
        identity=spec.identity if spec else None,
        classes=[int(c) for c in classes] if isinstance(classes, list | tuple) else None,
        train_size=_int(params.get("N_TRAIN")),
        val_size=_int(params.get("N_VAL")),
        test_size=None,
    )
    hardware, versions = _environment(first)
    provenance = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "profile": settings.profile,
        "seeds": list(seeds),
        "deterministic": True,
        "data_note": first.manifest.data.note,
        "weights": {
            "dir": first.manifest.weights.dir,
            "identity": first.manifest.weights.identity,
        },
        "notebooks": [
            {
                "path": item.path,
                "sources_sha256": _sources_sha256(expectations.notebook_path(item)),
                "parameters": parameter_values(item, settings.profile, 0) | {"SEED": "per run"},
            }
            for item in items
        ],
        "runs": [
            {
                "notebook": s.notebook,
                "seed": s.seed,
                "wall_seconds": s.wall_seconds,
                "cache_key": r.cache_key,
                "from_cache": r.from_cache,
            }
            for s, r in zip(samples, results, strict=True)
        ],
        "hardware": hardware,
        "versions": versions,
    }
    band_set = build_band_set(samples, profile=settings.profile, data=data, provenance=provenance)
    return BuildResult(
        band_set=band_set, samples=samples, wall_seconds=round(time.monotonic() - started, 1)
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _parameters(expectations: Expectations, items: Iterable[NotebookExpectation]) -> dict[str, Any]:
    """The first notebook's parameters cell defaults, with its expectation's overrides."""
    import nbformat

    for item in items:
        try:
            nb = nbformat.read(str(expectations.notebook_path(item)), as_version=4)
        except (OSError, ValueError):
            continue
        return {**notebook_parameters(nb), **item.parameters}
    return {}


# ----------------------------------------------------------- reproducibility


def _differs(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > tol + 1e-12


def _rel_differs(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    scale = max(abs(a), abs(b), 1e-9)
    return abs(a - b) / scale > tol


def _key(b: Band) -> str:
    return b.kind + (f"/{b.base}" if b.base else "")


def compare_band_sets(
    old: BandSet,
    new: BandSet,
    *,
    accuracy_tolerance: float | None = None,
    seconds_tolerance: float | None = None,
) -> list[str]:
    """Where ``new`` does not reproduce ``old`` within the stated tolerance; empty when it does.

    Accuracies (every run's value, the band ends, the validation-accuracy
    curve and the train/validation gap) are held to ``accuracy_tolerance``
    (default: the file's ``reproducible_accuracy``); training times and their
    ratios, relatively, to ``seconds_tolerance`` (default: ``reproducible_seconds``).
    """
    acc_tol = (
        accuracy_tolerance
        if accuracy_tolerance is not None
        else old.tolerance.reproducible_accuracy or 0.0
    )
    sec_tol = (
        seconds_tolerance
        if seconds_tolerance is not None
        else old.tolerance.reproducible_seconds or 0.0
    )
    out: list[str] = []
    if (old.profile, old.data.kind, old.data.identity) != (
        new.profile,
        new.data.kind,
        new.data.identity,
    ):
        out.append(
            f"built for different runs: {old.profile}/{old.data.identity} vs "
            f"{new.profile}/{new.data.identity}"
        )
    if old.seeds() != new.seeds():
        out.append(f"different seeds: {old.seeds()} vs {new.seeds()}")
    old_b = {_key(b): b for b in old.bands}
    new_b = {_key(b): b for b in new.bands}
    for key in sorted(set(old_b) ^ set(new_b)):
        out.append(f"{key}: band only in {'the first' if key in old_b else 'the second'} file")
    for key in sorted(set(old_b) & set(new_b)):
        a, b = old_b[key], new_b[key]
        sa, sb = a.accuracy or Stats(), b.accuracy or Stats()
        if len(sa.values) != len(sb.values):
            out.append(f"{key}: {len(sa.values)} vs {len(sb.values)} runs")
        for i, (x, y) in enumerate(zip(sa.values, sb.values, strict=False)):
            if _differs(x, y, acc_tol):
                out.append(f"{key}: run {i + 1} test accuracy {x:.4f} vs {y:.4f} (±{acc_tol:g})")
        for name in ("low", "high", "mean"):
            if _differs(getattr(sa, name), getattr(sb, name), acc_tol):
                out.append(
                    f"{key}: test accuracy {name} {getattr(sa, name)} vs {getattr(sb, name)}"
                )
        ga, gb = a.gap or Stats(), b.gap or Stats()
        if _differs(ga.mean, gb.mean, acc_tol):
            out.append(f"{key}: train/validation gap {ga.mean} vs {gb.mean} (±{acc_tol:g})")
        ca, cb = a.curves.get("val_accuracy"), b.curves.get("val_accuracy")
        if ca is not None and cb is not None and ca.mean and cb.mean:
            worst = max((abs(x - y) for x, y in zip(ca.mean, cb.mean, strict=False)), default=0.0)
            if worst > acc_tol + 1e-12:
                out.append(f"{key}: validation accuracy curve differs by up to {worst:.4f}")
        fa, fb = a.fit_seconds or Stats(), b.fit_seconds or Stats()
        if _rel_differs(fa.mean, fb.mean, sec_tol):
            out.append(f"{key}: mean training time {fa.mean} s vs {fb.mean} s (±{sec_tol:.0%})")
    for name in sorted(set(old.relations) | set(new.relations)):
        ra, rb = old.relations.get(name), new.relations.get(name)
        if ra is None or rb is None:
            out.append(f"relation {name}: only in one file")
            continue
        tol = sec_tol if name.startswith(TIME_RATIO_PREFIX) else 2 * acc_tol
        differs = (
            _rel_differs(ra.mean, rb.mean, tol)
            if name.startswith(TIME_RATIO_PREFIX)
            else _differs(ra.mean, rb.mean, tol)
        )
        if differs:
            out.append(f"relation {name}: mean {ra.mean} vs {rb.mean}")
    return out
