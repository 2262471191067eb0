"""Which of the assignment's approaches a model is: its kind, and what a heading claims.

:func:`kind_of` reads a model's features (pretrained base, frozen or not,
separable or residual blocks, plain convolutions) into a
:class:`~grader.evidence.ModelKind` with the reasons; :func:`claim` reads which
approach a markdown heading announces, so that a mismatch can be reported.
"""

from __future__ import annotations

import re

from grader.evidence import ModelKind
from grader.extract.assemble.state import Features
from grader.i18n import _, ngettext

__all__ = ["CLAIMED_KIND", "approach", "claim", "kind_of"]

_PRETRAINED = (ModelKind.transfer_frozen, ModelKind.fine_tuned)


def kind_of(feats: Features, frozen: str, previously_frozen: bool) -> tuple[ModelKind, list[str]]:
    reasons: list[str] = []
    if feats.base:
        if feats.weights == "none":
            reasons.append(
                _("{base} architecture without pretrained weights").format(base=feats.base)
            )
            return ModelKind.other, reasons
        if frozen == "frozen":
            reasons.append(_("pretrained {base} base kept frozen").format(base=feats.base))
            return ModelKind.transfer_frozen, reasons
        if frozen == "partial":
            reasons.append(_("part of the pretrained {base} base unfrozen").format(base=feats.base))
        elif previously_frozen:
            reasons.append(
                _("pretrained {base} base unfrozen after a frozen stage").format(base=feats.base)
            )
        else:
            reasons.append(
                _("pretrained {base} base trained (never frozen)").format(base=feats.base)
            )
        return ModelKind.fine_tuned, reasons
    if feats.ensemble:
        return ModelKind.other, [_("ensemble of several models")]
    if feats.separable:
        reasons.append(_("separable/depthwise convolutions"))
        if feats.residual:
            reasons.append(_("with residual links"))
        return ModelKind.custom_xception, reasons
    if feats.residual:
        reasons.append(_("skip connections (residual blocks)"))
        if feats.bottleneck:
            reasons.append(_("bottleneck blocks"))
        return ModelKind.custom_residual, reasons
    convs = sum(v for k, v in feats.layers.items() if "conv" in k.lower())
    if convs:
        return ModelKind.scratch_cnn, [
            ngettext(
                "plain convolution stack ({n} conv layer)",
                "plain convolution stack ({n} conv layers)",
                convs,
            ).format(n=convs)
        ]
    if feats.layers:
        return ModelKind.other, [_("no convolutional layers found")]
    return ModelKind.scratch_cnn, [_("architecture not readable from the code; assumed a CNN")]


_HEADING_CLAIMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"transfer|pre-?trained|p[rř]edtr[eé]novan|fine-?tun|dolad", re.I), "pretrained"),
    (re.compile(r"xception|separab|resnet-?like|residual|rezidu|custom|vlastn", re.I), "custom"),
    (re.compile(r"scratch|baseline|od nuly|bipyramid|simple cnn|jednoduch", re.I), "scratch"),
]


def approach(kind: ModelKind) -> str:
    if kind in _PRETRAINED:
        return "pretrained"
    if kind in (ModelKind.custom_residual, ModelKind.custom_xception):
        return "custom"
    if kind == ModelKind.scratch_cnn:
        return "scratch"
    return "other"


def claim(heading: str) -> str | None:
    found = [label for pat, label in _HEADING_CLAIMS if pat.search(heading)]
    return found[0] if len(found) == 1 else None


#: The kind a heading's claim stands for in a claim-code-mismatch finding.
CLAIMED_KIND = {
    "pretrained": ModelKind.transfer_frozen,
    "custom": ModelKind.custom_residual,
    "scratch": ModelKind.scratch_cnn,
}
