"""Checks of a notebook's evidence against the reference bands, as findings.

Each check compares what a notebook's models reached with what the seeded
reference runs reached on the same data in the same profile:

* ``below-band``: a test accuracy below its kind's band, with the likely causes
  worth telling a student;
* ``above-band``: a test accuracy above anything the references reach
  (possible test leakage);
* ``ordering``: transfer learning not above the CNN from scratch, where the
  reference runs show it reliably above;
* ``training-time-ratio``: time per epoch relative to the scratch CNN outside
  the references' range;
* ``overfitting``: a gap between training and validation accuracy at the last
  epoch wider than the references' while the validation loss rises.

Every threshold is a band end from the band file, derived there from the
spread of the seeded runs; nothing here is tuned by hand. A run is compared
only with the band of the same data and profile (:class:`BandContext`); when
there is none, a ``no-band`` finding says so plainly. Checks are registered in
:data:`BAND_CHECKS`, so adding one is adding a function.

Some checks need no band, so they also run where none matches (a student's
stored CIFAR-10 outputs before an instructor has built the full band); their
bounds come from sampling statistics of the notebook's own set sizes and curves:

* ``test-above-validation``: a test accuracy above the model's best validation
  accuracy by more than sampling noise (possible test leakage), with or
  without a band;
* ``at-chance``: a test accuracy that cannot be told from guessing;
* ``ordering`` (as information): transfer learning not above the CNN from
  scratch, which the assignment expects;
* ``overfitting`` (as information): a validation loss that rises by more than
  its own epoch-to-epoch noise while the accuracy gap exceeds sampling noise;
* ``fine-tune-learning-rate``: a fine-tuning stage that continues a frozen
  stage without lowering the learning rate (with or without a band).

This module reads plain evidence and band data only: the static check can use
it without importing TensorFlow, papermill or pandas.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from grader.check.bands import DATA_NAMES, Band, BandSet, Stats, select_band_set
from grader.evidence import Evidence, Finding, Method, ModelKind, ModelRun, Severity
from grader.extract.kinds import input_contract

__all__ = [
    "ABOVE_BAND",
    "AT_CHANCE",
    "BASE_INPUT_RANGE",
    "BAND_CHECKS",
    "BELOW_BAND",
    "FINE_TUNE_RATE",
    "NO_BAND",
    "ORDERING",
    "OVERFITTING",
    "PROBLEM_CODES",
    "REFERENCE_BAND",
    "TEST_ABOVE_VALIDATION",
    "TIME_RATIO",
    "BandContext",
    "band_findings",
    "random_init",
]

NO_BAND = "no-band"
REFERENCE_BAND = "reference-band"
BELOW_BAND = "below-band"
ABOVE_BAND = "above-band"
ORDERING = "ordering"
TIME_RATIO = "training-time-ratio"
OVERFITTING = "overfitting"
AT_CHANCE = "at-chance"
TEST_ABOVE_VALIDATION = "test-above-validation"
FINE_TUNE_RATE = "fine-tune-learning-rate"
#: a run's own measurement (grader.check.integrity): a pretrained base fed the wrong input scale
BASE_INPUT_RANGE = "base-input-range"
#: the codes that report a problem (the reference solutions must get none of them)
PROBLEM_CODES = (
    BELOW_BAND,
    ABOVE_BAND,
    ORDERING,
    TIME_RATIO,
    OVERFITTING,
    AT_CHANCE,
    TEST_ABOVE_VALIDATION,
    FINE_TUNE_RATE,
)
#: standard errors by which a test accuracy must exceed the best validation accuracy to be reported
_LEAK_Z = 4.0

TRANSFER_KINDS = (ModelKind.transfer_frozen, ModelKind.fine_tuned)

#: relation names in a band file
TRANSFER_MINUS_SCRATCH = "transfer_minus_scratch"
TIME_RATIO_PREFIX = "seconds_per_epoch_ratio:"


@dataclass(frozen=True)
class BandContext:
    """Which data and profile a run used: its results are compared with that band only."""

    profile: str | None
    data: str | None
    identity: str | None = None

    @classmethod
    def static(cls, evidence: Evidence | None = None) -> BandContext:
        """A notebook's stored outputs: the student's own run on CIFAR-10, as assigned.

        Outputs the harness itself produced (an example submission or a reference
        notebook saved from a smoke run) carry the run's profile and data in the
        notebook's metadata, and are compared with that band instead.
        """
        made = evidence.notebook.executed_by if evidence is not None else None
        if made is not None:
            return cls(profile=made.profile, data=made.data)
        return cls(profile="full", data="cifar10")

    @classmethod
    def for_evidence(cls, evidence: Evidence) -> BandContext:
        """From the evidence alone: stored outputs, or what the runtime capture recorded."""
        if evidence.source == "static":
            return cls.static(evidence)
        codes = {f.code for f in evidence.findings}
        profile = "smoke" if "smoke-profile" in codes else "full"
        return cls(profile=profile, data=evidence.data.dataset)

    @classmethod
    def for_run(cls, result: Any) -> BandContext:
        """From an execution result (``grader.execute.RunResult``): its profile and dataset."""
        spec = getattr(getattr(getattr(result, "manifest", None), "data", None), "spec", None)
        return cls(
            profile=getattr(result, "profile", None),
            data=getattr(spec, "kind", None),
            identity=getattr(spec, "identity", None),
        )

    def describe(self) -> str:
        data = DATA_NAMES.get(self.data or "", self.data or "unknown data")
        return f"{data}, {self.profile or 'unknown'} profile"


# ------------------------------------------------------------------ helpers


def random_init(weights: str | None) -> bool:
    """Whether a base ran without pretrained weights (none asked for, or a smoke fallback)."""
    if not weights:
        return False
    w = weights.lower()
    return w == "none" or "random" in w or "missing" in w


def _label(m: ModelRun) -> str:
    return f"{m.name} ({m.kind.value}{', ' + m.base if m.base else ''})"


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _range(st: Stats | tuple[float, float] | None, fmt: Callable[[float], str] = _pct) -> str:
    if isinstance(st, tuple):
        return f"{fmt(st[0])}–{fmt(st[1])}"
    if st is None or st.low is None or st.high is None:
        return "?"
    return f"{fmt(st.low)}–{fmt(st.high)}"


def _finite(values: Sequence[float] | None) -> list[float]:
    return [v for v in (values or []) if isinstance(v, int | float) and math.isfinite(v)]


def _comparable(m: ModelRun, band: Band | None) -> bool:
    """A band that says something about this model: same kind, real weights on both sides."""
    if band is None:
        return False
    return not (m.kind in TRANSFER_KINDS and (band.pretrained is False or random_init(m.weights)))


def _severity(bs: BandSet, serious: Severity = Severity.warning) -> Severity:
    # a smoke run's accuracies only show that the notebook runs: tell, do not warn
    return Severity.info if bs.profile == "smoke" else serious


def _seconds_per_epoch(m: ModelRun) -> float | None:
    if m.fit_seconds is None or not m.epochs or m.fit_seconds <= 0:
        return None
    return m.fit_seconds / m.epochs


def _finding(code: str, severity: Severity, message: str, m: ModelRun | None = None) -> Finding:
    cell = None
    if m is not None:
        prov = m.test_accuracy_provenance or m.provenance
        cell = prov.cell if prov else None
    return Finding(
        code=code, severity=severity, message=message, cell=cell, model=m.id if m else None
    )


def _input_expectation(base: str | None) -> str | None:
    contract = input_contract(base)
    return contract.expects if contract else None


def _at_chance(ev: Evidence, m: ModelRun, bs: BandSet | None) -> str | None:
    """'about chance level ...' when the accuracy cannot be told from guessing, else None."""
    n_classes = ev.data.n_classes or (len(bs.data.classes) if bs and bs.data.classes else None)
    n_test = ev.data.test_size or (bs.data.test_size if bs else None)
    if not n_classes or not n_test or m.test_accuracy is None or n_classes < 2:
        return None
    chance = 1.0 / n_classes
    if m.test_accuracy > chance + 3 * math.sqrt(chance * (1 - chance) / n_test):
        return None
    return (
        f"the accuracy is at chance level ({chance:.0%} for {n_classes} classes): the model "
        "predicts about one class for every image"
    )


def _below_causes(ev: Evidence, m: ModelRun, band: Band, bs: BandSet) -> list[str]:
    causes = []
    chance = _at_chance(ev, m, bs)
    if chance:
        causes.append(chance)
    ref_epochs = band.epochs.median if band.epochs else None
    if m.epochs and band.epochs and band.epochs.min and m.epochs < band.epochs.min:
        causes.append(
            f"too few epochs ({m.epochs}; the reference trains {ref_epochs:.0f})"
            if ref_epochs
            else f"too few epochs ({m.epochs})"
        )
    ref_lr = band.learning_rate.max if band.learning_rate else None
    if m.kind == ModelKind.fine_tuned:
        if m.learning_rate and ref_lr and m.learning_rate > ref_lr:
            causes.append(
                f"a learning rate too high for fine-tuning ({m.learning_rate:g}; the reference "
                f"uses {ref_lr:g}): large steps destroy the pretrained features"
            )
        elif not m.learning_rate:
            causes.append(
                "a learning rate too high for fine-tuning (use about 1/100 of the head's)"
            )
    if m.kind in TRANSFER_KINDS:
        measured = _measured_input(ev, m)
        if measured:
            causes.insert(0, measured)
        else:
            expects = _input_expectation(m.base)
            causes.append(
                "the pretrained base fed unpreprocessed inputs"
                + (
                    f": {m.base} expects {expects}"
                    if expects
                    else " (use the base's preprocess_input)"
                )
            )
        causes.append("images not upsampled (the base was pretrained on 224 px images)")
        if m.kind == ModelKind.fine_tuned:
            causes.append(
                "the base's batch normalisation in training mode (call it with training=False)"
            )
    else:
        causes.append(
            "batch normalisation statistics that have not settled (few steps per epoch: a large "
            "batch, or BatchNormalization's default momentum 0.99 on a small dataset)"
        )
        causes.append("pixels not scaled (divide by 255)")
        causes.append("a learning rate too high or too low for the optimizer")
        if not m.epochs or not band.epochs:
            causes.append("too few epochs")
    return causes


def _unpreprocessed(m: ModelRun) -> str:
    expects = _input_expectation(m.base)
    return "the pretrained base fed unpreprocessed inputs" + (
        f" ({m.base} expects {expects})" if expects else ""
    )


def _broken_ordering(ev: Evidence) -> tuple[ModelRun, ModelRun] | None:
    """(best CNN from scratch, best pretrained transfer model) when transfer is not above."""
    scratch = [
        m for m in ev.models if m.kind == ModelKind.scratch_cnn and m.test_accuracy is not None
    ]
    transfer = [
        m
        for m in ev.models
        if m.kind in TRANSFER_KINDS and m.test_accuracy is not None and not random_init(m.weights)
    ]
    if not scratch or not transfer:
        return None
    best_s = max(scratch, key=lambda m: m.test_accuracy or 0.0)
    best_t = max(transfer, key=lambda m: m.test_accuracy or 0.0)
    if (best_t.test_accuracy or 0.0) > (best_s.test_accuracy or 0.0):
        return None
    return best_s, best_t


def _measured_input(ev: Evidence, m: ModelRun) -> str | None:
    """The run's own finding that this model's base gets inputs on the wrong scale, if any."""
    for f in ev.findings:
        if f.code == BASE_INPUT_RANGE and f.model == m.id:
            return "measured in this run: " + f.message
    return None


def _leak_hint(ev: Evidence, m: ModelRun) -> str:
    related = [
        f.message
        for f in ev.findings
        if f.code in ("train-test-overlap", "test-used-for-validation")
        and (f.model is None or f.model == m.id)
    ]
    if related:
        return " The harness also found: " + "; ".join(related[:2]) + "."
    return ""


# ------------------------------------------------------------------- checks

BandCheck = Callable[[Evidence, BandSet], list[Finding]]
BAND_CHECKS: dict[str, BandCheck] = {}


def _check(code: str) -> Callable[[BandCheck], BandCheck]:
    def register(fn: BandCheck) -> BandCheck:
        BAND_CHECKS[code] = fn
        return fn

    return register


@_check("accuracy")
def _accuracy(ev: Evidence, bs: BandSet) -> list[Finding]:
    """Test accuracy below or above its kind's band."""
    out = []
    for m in ev.models:
        if m.test_accuracy is None or m.kind == ModelKind.other:
            continue
        band = bs.band_for(m.kind.value, m.base)
        if not _comparable(m, band) or band is None or band.test_accuracy is None:
            continue
        low, high = band.test_accuracy
        where = f"{_range(band.test_accuracy)} for {band.kind}" + (
            f" on {band.base}" if band.base else ""
        )
        if m.test_accuracy < low:
            causes = _below_causes(ev, m, band, bs)
            out.append(
                _finding(
                    BELOW_BAND,
                    _severity(bs),
                    f"{_label(m)}: test accuracy {_pct(m.test_accuracy)} is below what the "
                    f"reference solutions reach ({where}; {bs.describe()}). Likely causes: "
                    + "; ".join(causes)
                    + ".",
                    m,
                )
            )
        elif m.test_accuracy > high:
            out.append(
                _finding(
                    ABOVE_BAND,
                    _severity(bs),
                    f"{_label(m)}: test accuracy {_pct(m.test_accuracy)} is above anything the "
                    f"reference solutions reach ({where}; {bs.describe()}): possible test "
                    "leakage. Check that no test image reached training (fit on x_test, the "
                    "test set used as validation data or for early stopping, a split that "
                    "overlaps)." + _leak_hint(ev, m),
                    m,
                )
            )
    return out


@_check(ORDERING)
def _ordering(ev: Evidence, bs: BandSet) -> list[Finding]:
    """Transfer learning not above the CNN from scratch, where the references show it above."""
    rel = bs.relations.get(TRANSFER_MINUS_SCRATCH)
    if rel is None or rel.low is None or rel.low <= 0 or rel.mean is None:
        return []  # the reference runs do not show the ordering reliably: nothing to hold to
    broken = _broken_ordering(ev)
    if broken is None:
        return []
    best_s, best_t = broken
    return [
        _finding(
            ORDERING,
            _severity(bs),
            f"transfer learning ({_label(best_t)}, {_pct(best_t.test_accuracy or 0.0)}) is not "
            f"above the CNN from scratch ({best_s.name}, {_pct(best_s.test_accuracy or 0.0)}); "
            f"in the reference runs it is {rel.mean:+.1%} above (range "
            f"{_range(rel, lambda x: f'{x:+.1%}')}; {bs.describe()}). Likely causes: "
            + _unpreprocessed(best_t)
            + ", images not upsampled, too few epochs for the new head, or a learning rate "
            "too high for fine-tuning.",
            best_t,
        )
    ]


@_check(TIME_RATIO)
def _time_ratio(ev: Evidence, bs: BandSet) -> list[Finding]:
    """Time per epoch relative to the scratch CNN outside the references' range."""
    scratch = next(
        (
            m
            for m in ev.models
            if m.kind == ModelKind.scratch_cnn and _seconds_per_epoch(m) is not None
        ),
        None,
    )
    base_spe = _seconds_per_epoch(scratch) if scratch is not None else None
    if scratch is None or base_spe is None:
        return []
    out = []
    for m in ev.models:
        spe = _seconds_per_epoch(m)
        rel = bs.relations.get(TIME_RATIO_PREFIX + m.kind.value)
        if m is scratch or spe is None or rel is None or rel.low is None or rel.high is None:
            continue
        ratio = spe / base_spe
        if rel.low <= ratio <= rel.high:
            continue
        if ratio < rel.low:
            why = (
                "faster than expected: a smaller input size, fewer steps per epoch, or features "
                "computed once outside the model"
            )
        else:
            why = (
                "slower than expected: a larger input size, more of the base unfrozen, a much "
                "smaller batch, or no GPU for this model"
            )
        out.append(
            _finding(
                TIME_RATIO,
                Severity.info,
                f"{_label(m)}: an epoch takes {ratio:.1f}× as long as one of the scratch CNN "
                f"{scratch.name} ({spe:.1f} s vs {base_spe:.1f} s); in the reference runs "
                f"{_range(rel, lambda x: f'{x:.1f}×')} ({bs.describe()}). This is {why}.",
                m,
            )
        )
    return out


@_check(OVERFITTING)
def _overfitting(ev: Evidence, bs: BandSet) -> list[Finding]:
    """Train/validation accuracy gap wider than the references' while validation loss rises."""
    out = []
    for m in ev.models:
        acc, val = _finite(m.history.get("accuracy")), _finite(m.history.get("val_accuracy"))
        if not acc or not val or m.kind == ModelKind.other:
            continue
        band = bs.band_for(m.kind.value, m.base)
        if not _comparable(m, band) or band is None or band.gap is None or band.gap.high is None:
            continue
        gap = acc[-1] - val[-1]
        if gap <= band.gap.high:
            continue
        val_loss = _finite(m.history.get("val_loss"))
        rising = ""
        if len(val_loss) >= 2:
            best = min(range(len(val_loss)), key=val_loss.__getitem__)
            if best == len(val_loss) - 1:
                continue  # validation loss still falling: a gap, not (yet) overfitting
            rising = (
                f"; the validation loss rose from {val_loss[best]:.3f} (epoch {best + 1}) to "
                f"{val_loss[-1]:.3f}"
            )
        out.append(
            _finding(
                OVERFITTING,
                _severity(bs),
                f"{_label(m)} overfits: training accuracy {_pct(acc[-1])} vs validation "
                f"{_pct(val[-1])} at the last epoch (gap {gap:.1%}; the reference solutions' "
                f"gap is {_range(band.gap)}; {bs.describe()}){rising}. Add data augmentation "
                "and dropout, or stop earlier (EarlyStopping on val_loss).",
                m,
            )
        )
    return out


# ---------------------------------------------------------------- entry point


def _available(sets: Sequence[BandSet]) -> str:
    names = [s.describe() for s in sets]
    return "; bands available: " + "; ".join(names) if names else ""


def band_findings(
    evidence: Evidence,
    bands: BandSet | Sequence[BandSet] | None,
    context: BandContext | None = None,
) -> list[Finding]:
    """Findings from comparing ``evidence`` with the band of its data and profile.

    ``bands`` is one band set or all of them (the one matching ``context`` is
    used); ``context`` defaults to what the evidence says about its run.
    Returns nothing for a notebook without a trained model.
    """
    if not evidence.models:
        return []
    ctx = context or BandContext.for_evidence(evidence)
    sets = [bands] if isinstance(bands, BandSet) else list(bands or [])
    chosen = select_band_set(sets, ctx.profile, ctx.data, ctx.identity)
    if chosen is None:
        return [
            Finding(
                code=NO_BAND,
                severity=Severity.info,
                message=f"no reference band exists for {ctx.describe()}: test accuracies, "
                "curves and training times were not compared with the reference solutions"
                + _available(sets)
                + ". An instructor builds one with `grader reference build`. Checked "
                "without a band: test accuracies above validation beyond sampling noise and "
                "fine-tuning learning rates"
                + (
                    "."
                    if ctx.profile == "smoke"
                    else ", accuracies at chance level, overfitting in the curves, and transfer "
                    "learning below the CNN from scratch."
                ),
            ),
            *_any_band(evidence),
            # a smoke run trains for two epochs: chance level is what it is expected to show
            *(_unbanded(evidence) if ctx.profile != "smoke" else []),
        ]
    note = ""
    if ctx.identity and chosen.data.identity and ctx.identity != chosen.data.identity:
        note = f" (built on {chosen.data.identity}; this run used {ctx.identity})"
    skipped = sorted(
        {
            b.kind + (f" on {b.base}" if b.base else "")
            for b in chosen.bands
            if b.pretrained is False
        }
    )
    if skipped:
        note += (
            "; not compared: "
            + ", ".join(skipped)
            + " (the reference ran those bases without pretrained weights)"
        )
    other_task = _other_task(evidence, chosen)
    if other_task:
        note += f"; accuracies and curves not compared: {other_task}"
    built = chosen.provenance.get("date")
    out = [
        Finding(
            code=REFERENCE_BAND,
            severity=Severity.info,
            message=f"compared with the reference bands for {chosen.describe()}"
            + (f", built {str(built)[:10]}" if built else "")
            + note,
        )
    ]
    for code, check in BAND_CHECKS.items():
        if other_task and code in _TASK_BOUND:
            continue
        out.extend(check(evidence, chosen))
    out.extend(_any_band(evidence))
    return out


# ------------------------------------------------ checks that need no band


def _any_band(ev: Evidence) -> list[Finding]:
    """The checks that run with or without a band."""
    return _test_above_validation(ev) + _fine_tune_rate(ev)


def _test_above_validation(ev: Evidence) -> list[Finding]:
    """A test accuracy above the model's best validation accuracy by more than sampling noise.

    Validation and test images are drawn from the same distribution, so an
    honest model scores about the same on both; the bound is ``_LEAK_Z``
    standard errors of the difference of the two proportions, from the two
    set sizes the notebook used. Without both sizes nothing is claimed.
    """
    n_test, n_val = ev.data.test_size, ev.data.val_size
    if not n_test or not n_val:
        return []
    out = []
    for m in ev.models:
        val = _finite(m.history.get("val_accuracy"))
        t = m.test_accuracy
        if t is None or not val:
            continue
        v = max(val)
        if not 0.0 <= v <= 1.0:
            continue
        se = math.sqrt(max(t * (1 - t), 1e-4) / n_test + max(v * (1 - v), 1e-4) / n_val)
        if t - v <= _LEAK_Z * se:
            continue
        out.append(
            _finding(
                TEST_ABOVE_VALIDATION,
                Severity.warning,
                f"{_label(m)}: test accuracy {_pct(t)} is far above its best validation accuracy "
                f"{_pct(v)} ({(t - v) / se:.0f} standard errors, with {n_test} test and {n_val} "
                "validation images from the same distribution): possible test leakage. Check "
                "that no test image reached training (fit on x_test, test images in the "
                "training split, a model evaluated after training on the test set)."
                + _leak_hint(ev, m),
                m,
            )
        )
    return out


def _fine_tune_rate(ev: Evidence) -> list[Finding]:
    """Fine-tuning that continues a frozen stage without lowering the learning rate.

    Unfrozen pretrained layers trained with the step size that suited a new
    random head lose the features they were pretrained for; the lecture (and
    every reference) lowers it. Only stages whose rates are both known are
    compared, so nothing depends on a guessed default.
    """
    by_id = {m.id: m for m in ev.models}
    out = []
    for m in ev.models:
        parent = by_id.get(m.continues or "")
        if (
            m.kind != ModelKind.fine_tuned
            or parent is None
            or parent.kind != ModelKind.transfer_frozen
            or not m.learning_rate
            or not parent.learning_rate
            or m.learning_rate < parent.learning_rate
        ):
            continue
        out.append(
            _finding(
                FINE_TUNE_RATE,
                Severity.warning,
                f"{_label(m)} fine-tunes the unfrozen base with learning rate {m.learning_rate:g}, "
                f"no lower than the {parent.learning_rate:g} that trained the new head "
                f"({parent.name}): large steps destroy the pretrained features. Recompile with "
                "a learning rate about 10 to 100 times smaller before fine-tuning.",
                m,
            )
        )
    return out


def _unbanded_overfitting(ev: Evidence) -> list[Finding]:
    """Overfitting read from a model's own curves, where no band gives the references' gap.

    The validation loss must have risen from its minimum (two or more epochs
    before the end) by more than four standard deviations of the difference of
    two of its points, with the curve's noise estimated from its second
    differences, and the last train/validation accuracy gap must exceed four
    standard errors of the validation accuracy: a trend, not noise.
    """
    n_val = ev.data.val_size or 0
    out = []
    for m in ev.models:
        acc, val = _finite(m.history.get("accuracy")), _finite(m.history.get("val_accuracy"))
        val_loss = _finite(m.history.get("val_loss"))
        if m.kind == ModelKind.other or not acc or not val or len(val_loss) < 4 or not n_val:
            continue
        best = min(range(len(val_loss)), key=val_loss.__getitem__)
        if best >= len(val_loss) - 2:
            continue
        # the curve's own noise, from second differences (a steady trend has none):
        # for white noise of deviation s, the median |second difference| is 1.65 s
        bends = sorted(
            abs(c - 2 * b + a)
            for a, b, c in zip(val_loss, val_loss[1:], val_loss[2:], strict=False)
        )
        noise = bends[len(bends) // 2] / 1.65
        gap = acc[-1] - val[-1]
        se = math.sqrt(max(val[-1] * (1 - val[-1]), 1e-4) / n_val)
        if val_loss[-1] - val_loss[best] <= 4 * math.sqrt(2) * noise or gap <= 4 * se:
            continue
        out.append(
            _finding(
                OVERFITTING,
                Severity.info,
                f"{_label(m)} overfits: the validation loss rose from {val_loss[best]:.3f} "
                f"(epoch {best + 1}) to {val_loss[-1]:.3f} (epoch {len(val_loss)}) while "
                f"training accuracy reached {_pct(acc[-1])} against {_pct(val[-1])} on "
                "validation (no reference band gives the expected gap). Add data augmentation "
                "and dropout, or stop earlier (EarlyStopping on val_loss with "
                "restore_best_weights).",
                m,
            )
        )
    return out


def _unbanded(ev: Evidence) -> list[Finding]:
    """What can be told without a band: models at chance level, the expected ordering."""
    out = []
    for m in ev.models:
        if m.test_accuracy is None or m.kind == ModelKind.other:
            continue
        chance = _at_chance(ev, m, None)
        if not chance:
            continue
        if m.kind in TRANSFER_KINDS:
            causes = [
                _measured_input(ev, m) or _unpreprocessed(m),
                "a learning rate too high for the new head or for fine-tuning",
            ]
        else:
            causes = [
                "pixels not scaled (divide by 255)",
                "a learning rate too high",
                "labels out of step with the images (shuffled separately)",
                "a loss that does not fit the labels (categorical vs sparse)",
                "too few training steps for batch normalisation to settle",
            ]
        out.append(
            _finding(
                AT_CHANCE,
                Severity.warning,
                f"{_label(m)}: {chance}. Likely causes: " + "; ".join(causes) + ".",
                m,
            )
        )
    out.extend(_unbanded_overfitting(ev))
    broken = _broken_ordering(ev)
    if broken is not None:
        best_s, best_t = broken
        out.append(
            _finding(
                ORDERING,
                Severity.info,
                f"transfer learning ({_label(best_t)}, {_pct(best_t.test_accuracy or 0.0)}) "
                f"is not above the CNN from scratch ({best_s.name}, "
                f"{_pct(best_s.test_accuracy or 0.0)}), while the assignment expects a "
                "pretrained base to do better on a small training set (no reference band "
                "says by how much). Likely causes: "
                + (_measured_input(ev, best_t) or _unpreprocessed(best_t))
                + ", images not upsampled, too few epochs for the new head, or a learning "
                "rate too high for fine-tuning.",
                best_t,
            )
        )
    return out


# accuracies and curves depend on the task (how many classes); time ratios and ordering do not
_TASK_BOUND = ("accuracy", OVERFITTING)


def _other_task(evidence: Evidence, bs: BandSet) -> str:
    """Why the run's task differs from the reference's (another number of classes), or ''."""
    data = evidence.data
    measured = data.provenance is not None and data.provenance.method == Method.runtime
    if not measured or not data.n_classes or not bs.data.classes:
        return ""
    if data.n_classes == len(bs.data.classes):
        return ""
    return f"the run trained on {data.n_classes} classes, the reference on {len(bs.data.classes)}"
