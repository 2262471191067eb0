"""The checks that need no reference band: their bounds come from sampling statistics of the
notebook's own set sizes and curves, so they also run where no band matches (a student's
stored CIFAR-10 outputs before an instructor has built the full band).

* ``test-above-validation``: a test accuracy above the model's best validation
  accuracy by more than sampling noise (possible test leakage), with or
  without a band;
* ``fine-tune-learning-rate``: a fine-tuning stage that continues a frozen
  stage without lowering the learning rate (with or without a band);
* without a band only: ``at-chance`` (a test accuracy that cannot be told from
  guessing), ``overfitting`` (as information: a validation loss that rises by
  more than its own epoch-to-epoch noise while the accuracy gap exceeds
  sampling noise) and ``ordering`` (as information: transfer learning not above
  the CNN from scratch, which the assignment expects).
"""

from __future__ import annotations

import math

from grader.check.advice import (
    at_chance,
    broken_ordering,
    chance_causes,
    finding,
    fine_tune_advice,
    finite,
    label,
    leak_check,
    leak_hint,
    ordering_causes,
    overfitting_advice,
    pct,
)
from grader.evidence import Evidence, Finding, ModelKind, Severity
from grader.i18n import _

__all__ = [
    "AT_CHANCE",
    "FINE_TUNE_RATE",
    "ORDERING",
    "OVERFITTING",
    "TEST_ABOVE_VALIDATION",
    "any_band",
    "unbanded",
]

ORDERING = "ordering"
OVERFITTING = "overfitting"
AT_CHANCE = "at-chance"
TEST_ABOVE_VALIDATION = "test-above-validation"
FINE_TUNE_RATE = "fine-tune-learning-rate"
#: standard errors by which a test accuracy must exceed the best validation accuracy to be reported
_LEAK_Z = 4.0


def any_band(ev: Evidence) -> list[Finding]:
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
        val = finite(m.history.get("val_accuracy"))
        t = m.test_accuracy
        if t is None or not val:
            continue
        v = max(val)
        if not 0.0 <= v <= 1.0:
            continue
        se = math.sqrt(max(t * (1 - t), 1e-4) / n_test + max(v * (1 - v), 1e-4) / n_val)
        if t - v <= _LEAK_Z * se:
            continue
        said = _(
            "{model}: test accuracy {test} is far above its best validation accuracy {validation} "
            "({z} standard errors, with {n_test} test and {n_val} validation images from the "
            "same distribution): possible test leakage."
        ).format(
            model=label(m),
            test=pct(t),
            validation=pct(v),
            z=f"{(t - v) / se:.0f}",
            n_test=n_test,
            n_val=n_val,
        )
        out.append(
            finding(
                TEST_ABOVE_VALIDATION,
                Severity.warning,
                f"{said} {leak_check(m, after_validation=True)}{leak_hint(ev, m)}",
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
        said = _(
            "{model} fine-tunes the unfrozen base with learning rate {rate}, no lower than the "
            "{head_rate} that trained the new head ({head}): large steps destroy the pretrained "
            "features."
        ).format(
            model=label(m),
            rate=f"{m.learning_rate:g}",
            head_rate=f"{parent.learning_rate:g}",
            head=parent.name,
        )
        out.append(finding(FINE_TUNE_RATE, Severity.warning, f"{said} {fine_tune_advice(m)}", m))
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
        acc, val = finite(m.history.get("accuracy")), finite(m.history.get("val_accuracy"))
        val_loss = finite(m.history.get("val_loss"))
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
        said = _(
            "{model} overfits: the validation loss rose from {best_loss} (epoch {best_epoch}) to "
            "{last_loss} (epoch {last_epoch}) while training accuracy reached {train} against "
            "{validation} on validation (no reference band gives the expected gap)."
        ).format(
            model=label(m),
            best_loss=f"{val_loss[best]:.3f}",
            best_epoch=best + 1,
            last_loss=f"{val_loss[-1]:.3f}",
            last_epoch=len(val_loss),
            train=pct(acc[-1]),
            validation=pct(val[-1]),
        )
        advice = overfitting_advice(m, restore_best=True)
        out.append(finding(OVERFITTING, Severity.info, f"{said} {advice}", m))
    return out


def unbanded(ev: Evidence) -> list[Finding]:
    """What can be told without a band: models at chance level, overfitting, the ordering."""
    out = []
    for m in ev.models:
        if m.test_accuracy is None or m.kind == ModelKind.other:
            continue
        chance = at_chance(ev, m, None)
        if not chance:
            continue
        message = _("{model}: {chance}. Likely causes: {causes}.").format(
            model=label(m), chance=chance, causes="; ".join(chance_causes(ev, m))
        )
        out.append(finding(AT_CHANCE, Severity.warning, message, m))
    out.extend(_unbanded_overfitting(ev))
    broken = broken_ordering(ev)
    if broken is not None:
        best_s, best_t = broken
        message = _(
            "transfer learning ({model}, {accuracy}) is not above the CNN from scratch ({scratch}, "
            "{scratch_accuracy}), while the assignment expects a pretrained base to do better on "
            "a small training set (no reference band says by how much). Likely causes: {causes}."
        ).format(
            model=label(best_t),
            accuracy=pct(best_t.test_accuracy or 0.0),
            scratch=best_s.name,
            scratch_accuracy=pct(best_s.test_accuracy or 0.0),
            causes=ordering_causes(ev, best_t, measured=True),
        )
        out.append(finding(ORDERING, Severity.info, message, best_t))
    return out
