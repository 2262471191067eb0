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

Some checks need no band, so they also run where none matches
(:mod:`grader.check.unbanded`); the sentences, likely causes and advice of
both are worded in :mod:`grader.check.advice`, for the framework of each model.

This module reads plain evidence and band data only: the static check can use
it without importing TensorFlow, papermill or pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from grader.check.advice import (
    BASE_INPUT_RANGE,
    TRANSFER_KINDS,
    below_causes,
    broken_ordering,
    finding,
    finite,
    label,
    leak_check,
    leak_hint,
    ordering_causes,
    overfitting_advice,
    pct,
    random_init,
    range_text,
)
from grader.check.bands import Band, BandSet, data_name, select_band_set
from grader.check.unbanded import (
    AT_CHANCE,
    FINE_TUNE_RATE,
    ORDERING,
    OVERFITTING,
    TEST_ABOVE_VALIDATION,
    any_band,
    unbanded,
)
from grader.evidence import Evidence, Finding, Method, ModelKind, ModelRun, Severity
from grader.i18n import _, ngettext

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
    "TRANSFER_KINDS",
    "BandContext",
    "band_findings",
    "random_init",
]

NO_BAND = "no-band"
REFERENCE_BAND = "reference-band"
BELOW_BAND = "below-band"
ABOVE_BAND = "above-band"
TIME_RATIO = "training-time-ratio"
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
        """E.g. 'CIFAR-10, full profile', in the language in use."""
        profile = (
            _("{profile} profile").format(profile=self.profile)
            if self.profile
            else _("unknown profile")
        )
        return f"{data_name(self.data)}, {profile}"


# ------------------------------------------------------------------ helpers


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


# ------------------------------------------------------------------- checks

BandCheck = Callable[[Evidence, BandSet], list[Finding]]
BAND_CHECKS: dict[str, BandCheck] = {}


def _check(code: str) -> Callable[[BandCheck], BandCheck]:
    def register(fn: BandCheck) -> BandCheck:
        BAND_CHECKS[code] = fn
        return fn

    return register


def _where(band: Band) -> str:
    """The band a model is held to: '80.1%–85.3% for scratch_cnn (on MobileNetV2)'."""
    if band.base:
        return _("{range} for {kind} on {base}").format(
            range=range_text(band.test_accuracy), kind=band.kind, base=band.base
        )
    return _("{range} for {kind}").format(range=range_text(band.test_accuracy), kind=band.kind)


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
        values = {
            "model": label(m),
            "accuracy": pct(m.test_accuracy),
            "band": _where(band),
            "reference": bs.describe(),
        }
        if m.test_accuracy < low:
            message = _(
                "{model}: test accuracy {accuracy} is below what the reference solutions reach "
                "({band}; {reference}). Likely causes: {causes}."
            ).format(causes="; ".join(below_causes(ev, m, band, bs)), **values)
            out.append(finding(BELOW_BAND, _severity(bs), message, m))
        elif m.test_accuracy > high:
            said = _(
                "{model}: test accuracy {accuracy} is above anything the reference solutions "
                "reach ({band}; {reference}): possible test leakage."
            ).format(**values)
            message = f"{said} {leak_check(m)}{leak_hint(ev, m)}"
            out.append(finding(ABOVE_BAND, _severity(bs), message, m))
    return out


@_check(ORDERING)
def _ordering(ev: Evidence, bs: BandSet) -> list[Finding]:
    """Transfer learning not above the CNN from scratch, where the references show it above."""
    rel = bs.relations.get(TRANSFER_MINUS_SCRATCH)
    if rel is None or rel.low is None or rel.low <= 0 or rel.mean is None:
        return []  # the reference runs do not show the ordering reliably: nothing to hold to
    broken = broken_ordering(ev)
    if broken is None:
        return []
    best_s, best_t = broken
    message = _(
        "transfer learning ({model}, {accuracy}) is not above the CNN from scratch ({scratch}, "
        "{scratch_accuracy}); in the reference runs it is {mean} above (range {range}; "
        "{reference}). Likely causes: {causes}."
    ).format(
        model=label(best_t),
        accuracy=pct(best_t.test_accuracy or 0.0),
        scratch=best_s.name,
        scratch_accuracy=pct(best_s.test_accuracy or 0.0),
        mean=f"{rel.mean:+.1%}",
        range=range_text(rel, lambda x: f"{x:+.1%}"),
        reference=bs.describe(),
        causes=ordering_causes(ev, best_t, measured=False),
    )
    return [finding(ORDERING, _severity(bs), message, best_t)]


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
        said = _(
            "{model}: an epoch takes {ratio} as long as one of the scratch CNN {scratch} "
            "({seconds} s vs {scratch_seconds} s); in the reference runs {range} ({reference})."
        ).format(
            model=label(m),
            ratio=f"{ratio:.1f}×",
            scratch=scratch.name,
            seconds=f"{spe:.1f}",
            scratch_seconds=f"{base_spe:.1f}",
            range=range_text(rel, lambda x: f"{x:.1f}×"),
            reference=bs.describe(),
        )
        why = (
            _(
                "This is faster than expected: a smaller input size, fewer steps per epoch, or "
                "features computed once outside the model."
            )
            if ratio < rel.low
            else _(
                "This is slower than expected: a larger input size, more of the base unfrozen, a "
                "much smaller batch, or no GPU for this model."
            )
        )
        out.append(finding(TIME_RATIO, Severity.info, f"{said} {why}", m))
    return out


@_check(OVERFITTING)
def _overfitting(ev: Evidence, bs: BandSet) -> list[Finding]:
    """Train/validation accuracy gap wider than the references' while validation loss rises."""
    out = []
    for m in ev.models:
        acc, val = finite(m.history.get("accuracy")), finite(m.history.get("val_accuracy"))
        if not acc or not val or m.kind == ModelKind.other:
            continue
        band = bs.band_for(m.kind.value, m.base)
        if not _comparable(m, band) or band is None or band.gap is None or band.gap.high is None:
            continue
        gap = acc[-1] - val[-1]
        if gap <= band.gap.high:
            continue
        val_loss = finite(m.history.get("val_loss"))
        values = {
            "model": label(m),
            "train": pct(acc[-1]),
            "validation": pct(val[-1]),
            "gap": f"{gap:.1%}",
            "range": range_text(band.gap),
            "reference": bs.describe(),
        }
        if len(val_loss) >= 2:
            best = min(range(len(val_loss)), key=val_loss.__getitem__)
            if best == len(val_loss) - 1:
                continue  # validation loss still falling: a gap, not (yet) overfitting
            said = _(
                "{model} overfits: training accuracy {train} vs validation {validation} at the "
                "last epoch (gap {gap}; the reference solutions' gap is {range}; {reference}); "
                "the validation loss rose from {best_loss} (epoch {best_epoch}) to {last_loss}."
            ).format(
                best_loss=f"{val_loss[best]:.3f}",
                best_epoch=best + 1,
                last_loss=f"{val_loss[-1]:.3f}",
                **values,
            )
        else:
            said = _(
                "{model} overfits: training accuracy {train} vs validation {validation} at the "
                "last epoch (gap {gap}; the reference solutions' gap is {range}; {reference})."
            ).format(**values)
        message = f"{said} {overfitting_advice(m)}"
        out.append(finding(OVERFITTING, _severity(bs), message, m))
    return out


# ---------------------------------------------------------------- entry point


def _no_band(evidence: Evidence, ctx: BandContext, sets: Sequence[BandSet]) -> list[Finding]:
    """No band of this data and profile: say so, and run the checks that need none."""
    names = "; ".join(s.describe() for s in sets)
    if names:
        head = _(
            "no reference band exists for {context}: test accuracies, curves and training times "
            "were not compared with the reference solutions; bands available: {bands}."
        ).format(context=ctx.describe(), bands=names)
    else:
        head = _(
            "no reference band exists for {context}: test accuracies, curves and training times "
            "were not compared with the reference solutions."
        ).format(context=ctx.describe())
    build = _("An instructor builds one with `grader reference build`.")
    checked = (
        _(
            "Checked without a band: test accuracies above validation beyond sampling noise and "
            "fine-tuning learning rates."
        )
        if ctx.profile == "smoke"
        else _(
            "Checked without a band: test accuracies above validation beyond sampling noise and "
            "fine-tuning learning rates, accuracies at chance level, overfitting in the curves, "
            "and transfer learning below the CNN from scratch."
        )
    )
    return [
        Finding(code=NO_BAND, severity=Severity.info, message=f"{head} {build} {checked}"),
        *any_band(evidence),
        # a smoke run trains for two epochs: chance level is what it is expected to show
        *(unbanded(evidence) if ctx.profile != "smoke" else []),
    ]


def _compared(ctx: BandContext, chosen: BandSet, other_task: str) -> str:
    """What the band compared with is, and what of the run it does not cover."""
    built = chosen.provenance.get("date")
    message = (
        _("compared with the reference bands for {reference}, built {date}").format(
            reference=chosen.describe(), date=str(built)[:10]
        )
        if built
        else _("compared with the reference bands for {reference}").format(
            reference=chosen.describe()
        )
    )
    if ctx.identity and chosen.data.identity and ctx.identity != chosen.data.identity:
        message += " " + _("(built on {band_data}; this run used {run_data})").format(
            band_data=chosen.data.identity, run_data=ctx.identity
        )
    skipped = sorted(
        {
            _("{kind} on {base}").format(kind=b.kind, base=b.base) if b.base else b.kind
            for b in chosen.bands
            if b.pretrained is False
        }
    )
    if skipped:
        message += "; " + _(
            "not compared: {kinds} (the reference ran those bases without pretrained weights)"
        ).format(kinds=", ".join(skipped))
    if other_task:
        message += "; " + _("accuracies and curves not compared: {why}").format(why=other_task)
    return message


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
        return _no_band(evidence, ctx, sets)
    other_task = _other_task(evidence, chosen)
    message = _compared(ctx, chosen, other_task)
    out = [Finding(code=REFERENCE_BAND, severity=Severity.info, message=message)]
    for code, check in BAND_CHECKS.items():
        if other_task and code in _TASK_BOUND:
            continue
        out.extend(check(evidence, chosen))
    out.extend(any_band(evidence))
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
    return ngettext(
        "the run trained on {n} class, the reference on {reference}",
        "the run trained on {n} classes, the reference on {reference}",
        data.n_classes,
    ).format(n=data.n_classes, reference=len(bs.data.classes))
