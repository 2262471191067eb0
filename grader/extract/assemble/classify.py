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

__all__ = ["CLAIMED_KIND", "approach", "claim", "kind_of"]

_PRETRAINED = (ModelKind.transfer_frozen, ModelKind.fine_tuned)


def kind_of(feats: Features, frozen: str, previously_frozen: bool) -> tuple[ModelKind, list[str]]:
    reasons: list[str] = []
    if feats.base:
        if feats.weights == "none":
            reasons.append(f"{feats.base} architecture without pretrained weights")
            return ModelKind.other, reasons
        if frozen == "frozen":
            reasons.append(f"pretrained {feats.base} base kept frozen")
            return ModelKind.transfer_frozen, reasons
        if frozen == "partial":
            reasons.append(f"part of the pretrained {feats.base} base unfrozen")
        elif previously_frozen:
            reasons.append(f"pretrained {feats.base} base unfrozen after a frozen stage")
        else:
            reasons.append(f"pretrained {feats.base} base trained (never frozen)")
        return ModelKind.fine_tuned, reasons
    if feats.ensemble:
        return ModelKind.other, ["ensemble of several models"]
    if feats.separable:
        reasons.append("separable/depthwise convolutions")
        if feats.residual:
            reasons.append("with residual links")
        return ModelKind.custom_xception, reasons
    if feats.residual:
        reasons.append("skip connections (residual blocks)")
        if feats.bottleneck:
            reasons.append("bottleneck blocks")
        return ModelKind.custom_residual, reasons
    convs = sum(v for k, v in feats.layers.items() if "conv" in k.lower())
    if convs:
        return ModelKind.scratch_cnn, [f"plain convolution stack ({convs} conv layers)"]
    if feats.layers:
        return ModelKind.other, ["no convolutional layers found"]
    return ModelKind.scratch_cnn, ["architecture not readable from the code; assumed a CNN"]


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
