"""Recognisers of pretrained networks: Keras applications, torchvision, timm, TF-Hub, presets.

``tf.keras.applications.MobileNetV2(weights="imagenet", include_top=False)``,
``torchvision.models.resnet18(weights=...)``, ``timm.create_model("resnet50",
pretrained=True)``, ``hub.KerasLayer(url, trainable=False)`` and
``keras_hub.models.Backbone.from_preset("resnet_50_imagenet")`` each give a model
value carrying the canonical base name and its weights.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.kinds import KERAS_APPLICATIONS, TORCHVISION_MODELS, canonical_base
from grader.extract.source.recognisers.registry import FunctionCall, MethodCall, Recognisers
from grader.extract.source.values import Framework, Value

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["base_value", "recognisers"]

recognisers = Recognisers()


def base_value(r: Reader, canon: str, weights: str | None, framework: Framework) -> Value:
    """A pretrained base ``canon`` just built."""
    r.framework_hint(framework)
    return Value.of(base=canon, weights=weights, is_model=True, built_by="", framework=framework)


def _weights(r: Reader, keywords: dict[str, ast.expr]) -> str | None:
    """The weights a constructor's keywords ask for: "imagenet", "none", a path; None: unsaid."""
    if "pretrained" in keywords:
        pretrained = r.const(keywords["pretrained"])
        if isinstance(pretrained, bool):
            return "imagenet" if pretrained else "none"
        if isinstance(pretrained, str):
            return "imagenet"
    node = keywords.get("weights")
    if node is None:
        return None
    weights = r.const(node)
    if weights is None:
        return "none"
    if isinstance(weights, str):
        lowered = weights.lower()
        if lowered in ("imagenet", "default") or lowered.startswith("imagenet"):
            return "imagenet"
        return weights
    value = r.ev(node)
    if value.weights:
        return value.weights
    text = r.text(node)
    if "Weights" in text or "DEFAULT" in text or "IMAGENET" in text:
        return "imagenet"
    return None


def _notebook_defines(r: Reader, call: FunctionCall) -> bool:
    """The notebook defines a function of that name: not a library network."""
    return r.func(call.name) is not None


@recognisers.function(KERAS_APPLICATIONS)
def keras_application(r: Reader, call: FunctionCall) -> Value | None:
    if _notebook_defines(r, call):
        return None
    return base_value(r, call.name, _weights(r, call.keywords), "keras")


@recognisers.function(TORCHVISION_MODELS)
def torchvision_model(r: Reader, call: FunctionCall) -> Value | None:
    if _notebook_defines(r, call):
        return None
    prefix, keywords = call.prefix, call.keywords
    if (
        not prefix
        or "models" in prefix
        or "torchvision" in prefix
        or "pretrained" in keywords
        or "weights" in keywords
    ):
        weights = _weights(r, keywords)
        if weights is None and "pretrained" not in keywords and "weights" not in keywords:
            # torchvision builds random weights unless asked (``resnet18(True)`` in old code)
            first = r.const(call.node.args[0]) if call.node.args else None
            weights = "imagenet" if first is True else "none"
        return base_value(r, TORCHVISION_MODELS[call.name], weights, "pytorch")
    return None


@recognisers.function("create_model")
def timm_model(r: Reader, call: FunctionCall) -> Value | None:
    node = call.node
    if _notebook_defines(r, call) or not (
        (call.prefix.endswith("timm") or not call.prefix) and node.args
    ):
        return None
    name = r.str_const(node.args[0])
    found = canonical_base(name or "") if name else None
    if found or name:
        return base_value(r, found or name or "timm", _weights(r, call.keywords), "pytorch")
    return None


@recognisers.function("KerasLayer", "load")
def hub_model(r: Reader, call: FunctionCall) -> Value | None:
    """``hub.KerasLayer(url)``; also ``torch.hub.load(repo, name)``, read as a TF-Hub model."""
    node = call.node
    if _notebook_defines(r, call) or not ("hub" in call.prefix and node.args):
        return None
    url = r.str_const(node.args[0]) or ""
    out = base_value(r, canonical_base(url) or "TFHub", "imagenet", "keras")
    trainable = call.keywords.get("trainable")
    if trainable is not None:
        flag = r.const(trainable)
        target = r.targets[0] if len(r.targets) == 1 else None
        if isinstance(flag, bool):
            r.trainable_fact(r.text(target) if target is not None else None, flag, False)
    return out


@recognisers.function("from_preset")
def keras_preset(r: Reader, call: FunctionCall) -> Value | None:
    node = call.node
    if _notebook_defines(r, call) or not node.args:
        return None
    found = canonical_base(r.str_const(node.args[0]) or "")
    return base_value(r, found, "imagenet", "keras") if found else None


@recognisers.method("from_preset")
def keras_preset_method(r: Reader, call: MethodCall) -> Value | None:
    node = call.node
    found = canonical_base(r.str_const(node.args[0]) or "") if node.args else None
    return base_value(r, found, "imagenet", "keras") if found else None
