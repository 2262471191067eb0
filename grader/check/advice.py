"""How the checks word what they find: a model's label, its numbers, and the likely causes and
the advice for the framework the model is written in.

Shared by the band checks (:mod:`grader.check.band_checks`) and the checks that need no
band (:mod:`grader.check.unbanded`). Every sentence is put in the language in use when a
finding is made; advice that depends on the framework (Keras or PyTorch) names that
framework's calls, and says it without either where the framework is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from grader.check.bands import Band, BandSet, Stats
from grader.evidence import Evidence, Finding, Framework, ModelKind, ModelRun, Severity
from grader.extract.kinds import input_contract
from grader.i18n import _, ngettext

__all__ = [
    "BASE_INPUT_RANGE",
    "TRANSFER_KINDS",
    "at_chance",
    "below_causes",
    "broken_ordering",
    "chance_causes",
    "finding",
    "finite",
    "fine_tune_advice",
    "label",
    "leak_check",
    "leak_hint",
    "measured_input",
    "or_list",
    "ordering_causes",
    "overfitting_advice",
    "pct",
    "random_init",
    "range_text",
]

#: a run's own measurement (grader.check.integrity): a pretrained base fed the wrong input scale
BASE_INPUT_RANGE = "base-input-range"

TRANSFER_KINDS = (ModelKind.transfer_frozen, ModelKind.fine_tuned)


# ------------------------------------------------------------------ models and numbers


def random_init(weights: str | None) -> bool:
    """Whether a base ran without pretrained weights (none asked for, or a smoke fallback)."""
    if not weights:
        return False
    w = weights.lower()
    return w == "none" or "random" in w or "missing" in w


def label(m: ModelRun) -> str:
    return f"{m.name} ({m.kind.value}{', ' + m.base if m.base else ''})"


def pct(x: float) -> str:
    return f"{x:.1%}"


def range_text(st: Stats | tuple[float, float] | None, fmt: Callable[[float], str] = pct) -> str:
    if isinstance(st, tuple):
        return f"{fmt(st[0])}–{fmt(st[1])}"
    if st is None or st.low is None or st.high is None:
        return "?"
    return f"{fmt(st.low)}–{fmt(st.high)}"


def finite(values: Sequence[float] | None) -> list[float]:
    return [v for v in (values or []) if isinstance(v, int | float) and math.isfinite(v)]


def finding(code: str, severity: Severity, message: str, m: ModelRun | None = None) -> Finding:
    cell = None
    if m is not None:
        prov = m.test_accuracy_provenance or m.provenance
        cell = prov.cell if prov else None
    return Finding(
        code=code, severity=severity, message=message, cell=cell, model=m.id if m else None
    )


def or_list(items: Sequence[str]) -> str:
    """``a, b, or c`` in the language in use."""
    if len(items) < 2:
        return "".join(items)
    return _("{items}, or {last}").format(items=", ".join(items[:-1]), last=items[-1])


def _pick(m: ModelRun, keras: str, pytorch: str, neutral: str) -> str:
    if m.framework == Framework.keras:
        return keras
    if m.framework == Framework.pytorch:
        return pytorch
    return neutral


def broken_ordering(ev: Evidence) -> tuple[ModelRun, ModelRun] | None:
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


# ------------------------------------------------------------------ causes


def at_chance(ev: Evidence, m: ModelRun, bs: BandSet | None) -> str | None:
    """'the accuracy is at chance level ...' when it cannot be told from guessing, else None."""
    n_classes = ev.data.n_classes or (len(bs.data.classes) if bs and bs.data.classes else None)
    n_test = ev.data.test_size or (bs.data.test_size if bs else None)
    if not n_classes or not n_test or m.test_accuracy is None or n_classes < 2:
        return None
    chance = 1.0 / n_classes
    if m.test_accuracy > chance + 3 * math.sqrt(chance * (1 - chance) / n_test):
        return None
    return ngettext(
        "the accuracy is at chance level ({chance} for {n} class): the model predicts about "
        "one class for every image",
        "the accuracy is at chance level ({chance} for {n} classes): the model predicts about "
        "one class for every image",
        n_classes,
    ).format(chance=f"{chance:.0%}", n=n_classes)


def measured_input(ev: Evidence, m: ModelRun) -> str | None:
    """The run's own finding that this model's base gets inputs on the wrong scale, if any."""
    for f in ev.findings:
        if f.code == BASE_INPUT_RANGE and f.model == m.id:
            return _("measured in this run: {finding}").format(finding=f.message)
    return None


def _torch_inputs() -> str:
    return _(
        "the pretrained base fed unpreprocessed inputs (scale the pixels to [0, 1] and "
        "normalise them with the ImageNet mean and std: transforms.Normalize)"
    )


def unpreprocessed(m: ModelRun) -> str:
    """The pretrained base fed unpreprocessed inputs, with what it expects when that is known."""
    if m.framework == Framework.pytorch:
        return _torch_inputs()
    contract = input_contract(m.base)
    if contract is None or m.framework != Framework.keras:
        return _("the pretrained base fed unpreprocessed inputs")
    return _("the pretrained base fed unpreprocessed inputs ({base} expects {expects})").format(
        base=m.base, expects=contract.expects
    )


def _unpreprocessed_for_band(m: ModelRun) -> str:
    if m.framework == Framework.pytorch:
        return _torch_inputs()
    contract = input_contract(m.base)
    if contract is not None and m.framework == Framework.keras:
        return _("the pretrained base fed unpreprocessed inputs: {base} expects {expects}").format(
            base=m.base, expects=contract.expects
        )
    return _pick(
        m,
        keras=_("the pretrained base fed unpreprocessed inputs (use the base's preprocess_input)"),
        pytorch=_torch_inputs(),
        neutral=_("the pretrained base fed unpreprocessed inputs"),
    )


def _pixels(m: ModelRun) -> str:
    if m.framework == Framework.pytorch:
        return _("pixels not scaled (transforms.ToTensor() scales them to [0, 1])")
    return _("pixels not scaled (divide by 255)")


def below_causes(ev: Evidence, m: ModelRun, band: Band, bs: BandSet) -> list[str]:
    """The likely causes of a test accuracy below its kind's band."""
    causes = []
    chance = at_chance(ev, m, bs)
    if chance:
        causes.append(chance)
    ref_epochs = band.epochs.median if band.epochs else None
    if m.epochs and band.epochs and band.epochs.min and m.epochs < band.epochs.min:
        causes.append(
            _("too few epochs ({epochs}; the reference trains {reference})").format(
                epochs=m.epochs, reference=f"{ref_epochs:.0f}"
            )
            if ref_epochs
            else _("too few epochs ({epochs})").format(epochs=m.epochs)
        )
    ref_lr = band.learning_rate.max if band.learning_rate else None
    if m.kind == ModelKind.fine_tuned:
        if m.learning_rate and ref_lr and m.learning_rate > ref_lr:
            causes.append(
                _(
                    "a learning rate too high for fine-tuning ({rate}; the reference uses "
                    "{reference}): large steps destroy the pretrained features"
                ).format(rate=f"{m.learning_rate:g}", reference=f"{ref_lr:g}")
            )
        elif not m.learning_rate:
            causes.append(
                _("a learning rate too high for fine-tuning (use about 1/100 of the head's)")
            )
    if m.kind in TRANSFER_KINDS:
        measured = measured_input(ev, m)
        if measured:
            causes.insert(0, measured)
        else:
            causes.append(_unpreprocessed_for_band(m))
        causes.append(_("images not upsampled (the base was pretrained on 224 px images)"))
        if m.kind == ModelKind.fine_tuned:
            causes.append(
                _pick(
                    m,
                    keras=_(
                        "the base's batch normalisation in training mode (call it with "
                        "training=False)"
                    ),
                    pytorch=_(
                        "the base's batch normalisation in training mode (keep its BatchNorm "
                        "layers in eval mode while fine-tuning)"
                    ),
                    neutral=_("the base's batch normalisation in training mode"),
                )
            )
        return causes
    if m.framework == Framework.keras:
        causes.append(
            _(
                "batch normalisation statistics that have not settled (few steps per epoch: a "
                "large batch, or BatchNormalization's default momentum 0.99 on a small dataset)"
            )
        )
    else:
        causes.append(
            _(
                "batch normalisation statistics that have not settled (few steps per epoch: a "
                "large batch on a small dataset)"
            )
        )
    causes.append(_pixels(m))
    causes.append(_("a learning rate too high or too low for the optimizer"))
    if not m.epochs or not band.epochs:
        causes.append(_("too few epochs"))
    return causes


def chance_causes(ev: Evidence, m: ModelRun) -> list[str]:
    """The likely causes of a test accuracy at chance level."""
    if m.kind in TRANSFER_KINDS:
        return [
            measured_input(ev, m) or unpreprocessed(m),
            _("a learning rate too high for the new head or for fine-tuning"),
        ]
    return [
        _pixels(m),
        _("a learning rate too high"),
        _("labels out of step with the images (shuffled separately)"),
        _pick(
            m,
            keras=_("a loss that does not fit the labels (categorical vs sparse)"),
            pytorch=_(
                "a loss that does not fit the outputs (CrossEntropyLoss takes raw logits and "
                "class indices, not softmax outputs)"
            ),
            neutral=_("a loss that does not fit the labels"),
        ),
        _("too few training steps for batch normalisation to settle"),
    ]


def ordering_causes(ev: Evidence, m: ModelRun, *, measured: bool) -> str:
    """Why transfer learning may not beat the CNN from scratch: 'a, b, c, or d'."""
    first = (measured_input(ev, m) if measured else None) or unpreprocessed(m)
    return or_list(
        [
            first,
            _("images not upsampled"),
            _("too few epochs for the new head"),
            _("a learning rate too high for fine-tuning"),
        ]
    )


# ------------------------------------------------------------------ advice


def leak_hint(ev: Evidence, m: ModelRun) -> str:
    """' The harness also found: ...' with the run's findings of a leak, or ''."""
    related = [
        f.message
        for f in ev.findings
        if f.code in ("train-test-overlap", "test-used-for-validation")
        and (f.model is None or f.model == m.id)
    ]
    if related:
        return " " + _("The harness also found: {findings}.").format(
            findings="; ".join(related[:2])
        )
    return ""


def leak_check(m: ModelRun, *, after_validation: bool = False) -> str:
    """Where a test image may have reached training, in the calls of the model's framework."""
    if after_validation:
        return _pick(
            m,
            keras=_(
                "Check that no test image reached training (fit on x_test, test images in the "
                "training split, a model evaluated after training on the test set)."
            ),
            pytorch=_(
                "Check that no test image reached training (a training loop over the test "
                "loader, test images in the training split, a model evaluated after training "
                "on the test set)."
            ),
            neutral=_(
                "Check that no test image reached training (training on the test set, test "
                "images in the training split, a model evaluated after training on the test "
                "set)."
            ),
        )
    return _pick(
        m,
        keras=_(
            "Check that no test image reached training (fit on x_test, the test set used as "
            "validation data or for early stopping, a split that overlaps)."
        ),
        pytorch=_(
            "Check that no test image reached training (a training loop over the test loader, "
            "the test set used for validation or for early stopping, a split that overlaps)."
        ),
        neutral=_(
            "Check that no test image reached training (training on the test set, the test "
            "set used as validation data or for early stopping, a split that overlaps)."
        ),
    )


def overfitting_advice(m: ModelRun, *, restore_best: bool = False) -> str:
    """What to do about overfitting, in the calls of the model's framework."""
    keras = (
        _(
            "Add data augmentation and dropout, or stop earlier (EarlyStopping on val_loss with "
            "restore_best_weights)."
        )
        if restore_best
        else _("Add data augmentation and dropout, or stop earlier (EarlyStopping on val_loss).")
    )
    return _pick(
        m,
        keras=keras,
        pytorch=_(
            "Add data augmentation and dropout, or stop earlier (keep the weights of the epoch "
            "with the lowest validation loss)."
        ),
        neutral=_(
            "Add data augmentation and dropout, or stop earlier (at the epoch with the lowest "
            "validation loss)."
        ),
    )


def fine_tune_advice(m: ModelRun) -> str:
    """How to lower the learning rate before fine-tuning, in the model's framework."""
    return _pick(
        m,
        keras=_("Recompile with a learning rate about 10 to 100 times smaller before fine-tuning."),
        pytorch=_(
            "Give the optimizer of the fine-tuning stage a learning rate about 10 to 100 times "
            "smaller."
        ),
        neutral=_("Lower the learning rate about 10 to 100 times before fine-tuning."),
    )
