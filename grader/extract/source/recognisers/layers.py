"""Recognisers of layers and model constructors, Keras and PyTorch alike.

``layers.Conv2D(32, 3)``, ``nn.Conv2d(3, 16, 3)``, ``F.relu(x)``,
``torch.cat([a, b])``, ``layers.add([x, shortcut])``: each gives a value
holding one new layer (Keras spelling, see :func:`~grader.extract.kinds.canonical_layer`),
marked separable, bottleneck or augmenting where the layer says so.
``Sequential(...)``, ``Model(inputs, outputs)``, ``clone_model`` and
``load_model`` build a model from what flows into them; ``model.add(layer)``
grows one.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.kinds import AUGMENTATION_LAYERS, CONV_LAYERS, canonical_layer
from grader.extract.source import binding
from grader.extract.source.combining import combine
from grader.extract.source.recognisers.registry import FunctionCall, MethodCall, Recognisers
from grader.extract.source.values import EMPTY, Value, merge
from grader.extract.source.vocabulary import (
    COMBINE_LAYERS,
    MODEL_CTORS,
    RE_MODELISH,
    TORCH_FUNCTIONAL,
)

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["recognisers"]

recognisers = Recognisers()

_TENSOR_MODULES = ("tf", "tensorflow", "math", "torch", "ops", "K", "backend")
_TRANSFORM_MODULES = ("transforms", "T", "v2", "A", "albumentations")


@recognisers.any_function
def layer(r: Reader, call: FunctionCall) -> Value | None:
    """A layer (or a layer-like tensor operation) of either framework."""
    found = _layer(r, call)
    if found is None:
        return None
    canon = found.layer or (next(iter(found.layers))[1] if found.layers else "")
    if call.name[:1].islower() and canon in COMBINE_LAYERS:
        # layers.add([x, y]), torch.cat([a, b]): applied at once
        return combine(r, merge([found, *call.args]), call.node, call.args, canon)
    return found


def _layer(r: Reader, call: FunctionCall) -> Value | None:
    name, prefix = call.name, call.prefix
    short_prefix = prefix.split(".")[-1] if prefix else ""
    if short_prefix in ("F", "functional") and name in TORCH_FUNCTIONAL:
        return Value.of(layers=r.new_layer(TORCH_FUNCTIONAL[name]), framework="pytorch")
    if name == "cat" and short_prefix == "torch":
        return Value.of(layers=r.new_layer("Concatenate"), framework="pytorch", layer="Concatenate")
    if name == "add" and short_prefix in _TENSOR_MODULES:
        framework = "pytorch" if short_prefix == "torch" else "keras"
        return Value.of(layers=r.new_layer("Add"), layer="Add", framework=framework)
    if short_prefix in _TRANSFORM_MODULES and name[:1].isupper():
        # torchvision / albumentations transforms: augmentation or nothing
        if name in AUGMENTATION_LAYERS or name.startswith("Random"):
            r.facts.augmentation_defined = True
            return Value.of(augmented=True)
        return None
    canon = canonical_layer(name, short_prefix if short_prefix else "")
    if canon is None:
        return None
    torch = (
        short_prefix == "nn"
        or prefix.endswith("torch.nn")
        or name != canon
        and name[-2:] in ("2d", "1d", "3d")
        or name in ("Linear", "LazyLinear")
    )
    out = Value.of(
        layers=r.new_layer(canon), layer=canon, framework="pytorch" if torch else "keras"
    )
    r.framework_hint(out.framework)
    if canon in ("SeparableConv2D", "SeparableConv1D", "DepthwiseConv2D"):
        out.separable = True
    if canon in AUGMENTATION_LAYERS:
        out.augmented = True
        r.facts.augmentation_defined = True
    if canon in CONV_LAYERS:
        _convolution(r, call, out, canon, torch)
    return out


def _convolution(r: Reader, call: FunctionCall, out: Value, canon: str, torch: bool) -> None:
    """A grouped convolution is depthwise; 1x1 after 1x1, 3x3 closes a bottleneck."""
    groups = call.keywords.get("groups")
    if groups is not None and r.int_const(groups) != 1:
        out.separable = True
        out.layers = r.new_layer("DepthwiseConv2D")
        canon = "DepthwiseConv2D"
    if canon != "Conv2D":
        return
    kernel_node = call.keywords.get("kernel_size")
    position = 2 if torch else 1
    if kernel_node is None and len(call.node.args) > position:
        kernel_node = call.node.args[position]
    kernel = _kernel(r, kernel_node)
    seq = r.frame.conv_seq
    if kernel == 1 and seq[-2:] == [1, 3]:
        out.bottleneck = True
    seq.append(kernel)
    if len(seq) > 8:
        del seq[:-4]


def _kernel(r: Reader, node: ast.AST | None) -> int:
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts:
        node = node.elts[0]
    size = r.int_const(node)
    return size if size is not None else 0


@recognisers.function(MODEL_CTORS)
def model_constructor(r: Reader, call: FunctionCall) -> Value | None:
    """``keras.Sequential`` / ``keras.Model`` / ``nn.Sequential``."""
    merged = call.merged
    if not call.prefix.endswith(("nn", "torch.nn")):
        r.framework_hint("keras")
        return merged.with_(is_model=True, built_by="", framework=merged.framework or "keras")
    if call.name == "Sequential":
        r.framework_hint("pytorch")
        return merged.with_(is_model=True, built_by="", framework="pytorch")
    return None


@recognisers.function("clone_model")
def clone_model(r: Reader, call: FunctionCall) -> Value | None:
    source = call.args[0] if call.args else call.merged
    return source.flowing().with_(is_model=True, built_by="", models=frozenset())


@recognisers.function("load_model")
def load_model(r: Reader, call: FunctionCall) -> Value | None:
    return call.merged.with_(is_model=True, built_by="load_model")


@recognisers.method("add")
def model_add(r: Reader, call: MethodCall) -> Value | None:
    """``model.add(layer)`` grows a model; ``s.add(x)`` of a set is left to the containers."""
    node, receiver, receiver_node = call.node, call.receiver, call.receiver_node
    if (node.args and isinstance(node.args[0], (ast.List, ast.Tuple))) or not (
        receiver.is_model or (receiver is EMPTY and RE_MODELISH.search(r.text(receiver_node)))
    ):
        return None
    root = r.root(receiver_node)
    if root is not None and node.args:
        if receiver is EMPTY and r.lookup(root) is None:
            return EMPTY
        binding.grow(r, root, node.args[0])
    return EMPTY


@recognisers.method(
    "parameters", "named_parameters", "get_layer", "output", "summary", "count_params"
)
def model_part(r: Reader, call: MethodCall) -> Value | None:
    """A part or a reading of a model: what flows into the model flows on."""
    return call.receiver.flowing()
