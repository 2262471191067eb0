"""The kind of a model from the architecture a run recorded: a pretrained base (frozen,
partly or wholly trainable), separable or residual blocks, or a plain convolution stack,
with the reasons in words."""

from __future__ import annotations

from grader.evidence import ModelKind
from grader.execute.capture import Architecture
from grader.i18n import _, ngettext

__all__ = ["classify_architecture"]

_SEPARABLE = (
    "SeparableConv2D",
    "SeparableConv1D",
    "DepthwiseConv2D",
    "DepthwiseConv1D",
    "SeparableConvolution2D",
)
_RESIDUAL = ("Add", "add")

#: how the evidence records a base whose pretrained weights were missing in a smoke
#: run (after the requested weights, e.g. "imagenet"); the reports translate it
RANDOM_FALLBACK = " requested; missing, random initialisation used (smoke)"


def classify_architecture(
    arch: Architecture | None, previously_frozen: bool
) -> tuple[ModelKind | None, list[str], str | None, str | None]:
    """(kind, reasons, base, weights) of a recorded architecture; kind None when unknown."""
    if arch is None:
        return None, [], None, None
    uses = arch.application_uses()
    if uses:
        app = uses[0]
        base = app.application
        if app.weights is None:
            reason = _("{base} architecture without pretrained weights (runtime)")
            return ModelKind.other, [reason.format(base=base)], base, "none"
        weights = app.weights
        if app.fallback:
            weights = f"{app.weights}{RANDOM_FALLBACK}"
        trainable = app.params_trainable or 0
        total = app.params or 0
        said = {"base": base, "trainable": f"{trainable:,}", "total": f"{total:,}"}
        if trainable == 0:
            reason = _("pretrained {base} base frozen at run time (0 trainable parameters)")
            return ModelKind.transfer_frozen, [reason.format(**said)], base, weights
        if total and trainable < total * 0.98 and not previously_frozen:
            reason = _(
                "part of the pretrained {base} base trainable ({trainable} of {total} parameters)"
            )
        elif previously_frozen:
            reason = _(
                "pretrained {base} base unfrozen after a frozen stage ({trainable} trainable "
                "parameters)"
            )
        else:
            reason = _(
                "pretrained {base} base trained (never frozen; {trainable} trainable parameters)"
            )
        return ModelKind.fine_tuned, [reason.format(**said)], base, weights
    counts = dict(arch.own_layer_counts or arch.layer_counts)
    separable = sum(counts.get(n, 0) for n in _SEPARABLE)
    residual = sum(counts.get(n, 0) for n in _RESIDUAL) + sum(
        arch.op_counts.get(n, 0) for n in _RESIDUAL
    )
    convs = sum(v for k, v in counts.items() if "Conv" in k)
    if separable:
        reasons = [
            ngettext(
                "separable/depthwise convolutions ({n} layer, runtime)",
                "separable/depthwise convolutions ({n} layers, runtime)",
                separable,
            ).format(n=separable)
        ]
        if residual:
            reasons.append(
                ngettext(
                    "with residual links ({n} addition)",
                    "with residual links ({n} additions)",
                    residual,
                ).format(n=residual)
            )
        return ModelKind.custom_xception, reasons, None, None
    if residual:
        reason = ngettext(
            "skip connections ({n} addition, runtime)",
            "skip connections ({n} additions, runtime)",
            residual,
        )
        return ModelKind.custom_residual, [reason.format(n=residual)], None, None
    if convs:
        reason = ngettext(
            "plain convolution stack ({n} conv layer, runtime)",
            "plain convolution stack ({n} conv layers, runtime)",
            convs,
        )
        return ModelKind.scratch_cnn, [reason.format(n=convs)], None, None
    if counts:
        return ModelKind.other, [_("no convolutional layers (runtime)")], None, None
    return None, [], None, None
