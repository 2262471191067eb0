"""Model architectures read from the source: layer constructor calls and training settings.

Each code cell is parsed with :mod:`ast` and walked in source order. Every
call of a known layer (``Conv2D(32, 3, activation="relu")``, ``layers.Dense``,
``nn.Conv2d``) or pretrained base (``MobileNetV2(weights="imagenet", ...)``)
is one step of the model being built, with its arguments in a canonical form
(positional arguments named, ``(3, 3)`` read as ``3``, module-level constants
substituted, the layer's ``name=`` dropped). ``compile(...)`` closes the model
and adds the optimizer (``"adam"`` and ``Adam()`` read the same, with the
default learning rate made explicit) and the loss; the next ``fit(...)`` adds
epochs and batch size (Keras's defaults when not given). ``x.trainable = ...``
is a step too (a frozen base is part of the design).

Two notebooks with the same :attr:`ModelSignature.full_key` built the same
model and trained it the same way; the same :attr:`ModelSignature.layer_key`
means the same layers with other training settings. How much that says
depends on how rare the model is in the class and on :attr:`complexity`: a
pretrained base with the standard head is something many students write
independently.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelSignature", "extract_models"]

LAYERS: dict[str, tuple[str, ...]] = {
    # layer -> names of its leading positional parameters
    "Conv1D": ("filters", "kernel_size", "strides"),
    "Conv2D": ("filters", "kernel_size", "strides"),
    "Conv3D": ("filters", "kernel_size", "strides"),
    "SeparableConv2D": ("filters", "kernel_size", "strides"),
    "Conv2DTranspose": ("filters", "kernel_size", "strides"),
    "DepthwiseConv2D": ("kernel_size", "strides"),
    "Dense": ("units", "activation"),
    "Dropout": ("rate",),
    "SpatialDropout2D": ("rate",),
    "Flatten": (),
    "MaxPooling2D": ("pool_size", "strides"),
    "MaxPool2D": ("pool_size", "strides"),
    "AveragePooling2D": ("pool_size", "strides"),
    "AvgPool2D": ("pool_size", "strides"),
    "GlobalAveragePooling2D": (),
    "GlobalAvgPool2D": (),
    "GlobalMaxPooling2D": (),
    "BatchNormalization": (),
    "LayerNormalization": (),
    "Activation": ("activation",),
    "ReLU": (),
    "LeakyReLU": ("negative_slope",),
    "Add": (),
    "Concatenate": ("axis",),
    "Input": ("shape",),
    "InputLayer": ("shape",),
    "Rescaling": ("scale", "offset"),
    "Resizing": ("height", "width"),
    "Normalization": (),
    "RandomFlip": ("mode",),
    "RandomRotation": ("factor",),
    "RandomZoom": ("height_factor",),
    "RandomTranslation": ("height_factor", "width_factor"),
    "RandomContrast": ("factor",),
    "RandomCrop": ("height", "width"),
    "ZeroPadding2D": ("padding",),
    "Reshape": ("target_shape",),
    # PyTorch
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding"),
    "Linear": ("in_features", "out_features"),
    "MaxPool2d": ("kernel_size", "stride"),
    "AvgPool2d": ("kernel_size", "stride"),
    "AdaptiveAvgPool2d": ("output_size",),
    "BatchNorm2d": ("num_features",),
    "BatchNorm1d": ("num_features",),
}
BASES: frozenset[str] = frozenset(
    """
    Xception VGG16 VGG19 ResNet50 ResNet50V2 ResNet101 ResNet101V2 ResNet152 ResNet152V2
    InceptionV3 InceptionResNetV2 MobileNet MobileNetV2 MobileNetV3Small MobileNetV3Large
    DenseNet121 DenseNet169 DenseNet201 NASNetMobile NASNetLarge EfficientNetB0
    EfficientNetB1 EfficientNetB2 EfficientNetB3 EfficientNetB4 EfficientNetV2B0
    EfficientNetV2B1 EfficientNetV2S ConvNeXtTiny ConvNeXtSmall resnet18 resnet34 resnet50
    mobilenet_v2 vgg16 efficientnet_b0
    """.split()  # noqa: SIM905 - a list of names reads better as words
)
OPTIMIZERS: dict[str, tuple[str, float]] = {
    # lower-case name -> (canonical name, Keras default learning rate)
    "adam": ("Adam", 0.001),
    "adamw": ("AdamW", 0.001),
    "sgd": ("SGD", 0.01),
    "rmsprop": ("RMSprop", 0.001),
    "adagrad": ("Adagrad", 0.001),
    "adadelta": ("Adadelta", 0.001),
    "nadam": ("Nadam", 0.001),
    "adamax": ("Adamax", 0.001),
}
_TRIVIAL = frozenset({"Input", "InputLayer", "Flatten"})
_DROPPED_ARGS = frozenset({"name", "dtype", "trainable_name"})
_UNKNOWN = "?"
_RELEVANT = re.compile(
    r"\b(?:compile|fit|trainable|"
    + "|".join(sorted(set(LAYERS) | BASES, key=len, reverse=True))
    + r")\b"
)
_KERAS_FIT = frozenset(
    {"epochs", "batch_size", "validation_data", "validation_split", "callbacks", "verbose"}
)


@dataclass(frozen=True)
class ModelSignature:
    """One model as built in a notebook."""

    layers: tuple[str, ...]
    training: tuple[str, ...]
    cell: int  # where its first layer is
    layer_count: int

    @property
    def layer_key(self) -> str:
        return " -> ".join(self.layers)

    @property
    def full_key(self) -> str:
        return self.layer_key + " | " + "; ".join(self.training)

    @property
    def complexity(self) -> float:
        """How much design the model carries, from 0 (a standard pattern) to 1."""
        score = 0.0
        for step in self.layers:
            name = step.split("(", 1)[0]
            if name in _TRIVIAL or step.startswith("trainable"):
                continue
            score += 1.0 if "(" in step and not step.endswith("()") else 0.5
        return max(0.0, min(1.0, (score - 3.0) / 8.0))

    def description(self) -> str:
        text = " → ".join(self.layers)
        if self.training:
            text += "; " + ", ".join(self.training)
        return text


@dataclass
class _State:
    constants: dict[str, Any] = field(default_factory=dict)
    layers: list[str] = field(default_factory=list)
    start: int = 0
    models: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, ast.Call] = field(default_factory=dict)  # opt = Adam(1e-3)


def extract_models(cells: Sequence[tuple[int, str]]) -> list[ModelSignature]:
    """The models a notebook builds, from its code cells ``(index, python source)``."""
    state = _State()
    for index, source in cells:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        walker = _Walker(state, index)
        if _RELEVANT.search(source):
            try:
                walker.visit(tree)
            except RecursionError:  # absurdly nested code: this cell says nothing
                continue
        else:  # nothing that builds or trains a model: only its constants matter
            for stmt in tree.body:
                if isinstance(stmt, ast.Assign):
                    walker.constants(stmt)
    _close(state)
    out: list[ModelSignature] = []
    for m in state.models:
        training = list(m["training"])
        out.append(
            ModelSignature(
                layers=tuple(m["layers"]),
                training=tuple(training),
                cell=m["cell"],
                layer_count=sum(1 for s in m["layers"] if not s.startswith("trainable")),
            )
        )
    return [m for m in out if m.layer_count >= 2]


def _close(state: _State) -> dict[str, Any] | None:
    if not state.layers:
        return None
    model: dict[str, Any] = {
        "layers": list(state.layers),
        "training": [],
        "cell": state.start,
        "fits": 0,
        "compiled": False,
    }
    state.models.append(model)
    state.layers = []
    return model


class _Walker(ast.NodeVisitor):
    def __init__(self, state: _State, cell: int) -> None:
        self.state = state
        self.cell = cell

    def constants(self, node: ast.Assign) -> None:
        """Remember NUM_CLASSES = 10, LR = 1e-3, opt = Adam(1e-3)."""
        value = _literal(node.value, self.state.constants)
        if value is _UNKNOWN:
            return
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.state.constants[target.id] = value
                if isinstance(node.value, ast.Call):
                    self.state.calls[target.id] = node.value

    def visit_Assign(self, node: ast.Assign) -> None:
        value = _literal(node.value, self.state.constants)
        for target in node.targets:
            if isinstance(target, ast.Name) and value is not _UNKNOWN:
                self.state.constants[target.id] = value
                if isinstance(node.value, ast.Call):
                    self.state.calls[target.id] = node.value
            elif isinstance(target, ast.Attribute) and target.attr == "trainable":
                self._step(f"trainable={_show(value)}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _callee(node.func)
        if name in LAYERS or name in BASES:
            self._step(_layer(name, node, self.state.constants))
        elif name == "compile" and isinstance(node.func, ast.Attribute):
            self._compile(node)
        elif name == "fit" and isinstance(node.func, ast.Attribute):
            self._fit(node)
        self.generic_visit(node)

    def _step(self, text: str) -> None:
        if not self.state.layers:
            self.state.start = self.cell
        self.state.layers.append(text)

    def _compile(self, node: ast.Call) -> None:
        model = _close(self.state)
        if model is None:
            if not self.state.models:
                return
            model = self.state.models[-1]
            if model["compiled"]:
                model["training"].append("recompiled")
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if "optimizer" in kw:
            model["training"].append("optimizer " + _optimizer(kw["optimizer"], self.state))
        elif node.args:
            model["training"].append("optimizer " + _optimizer(node.args[0], self.state))
        if "loss" in kw:
            model["training"].append("loss " + _show(_literal(kw["loss"], self.state.constants)))
        model["compiled"] = True

    def _fit(self, node: ast.Call) -> None:
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if not _KERAS_FIT.intersection(kw):
            return  # an sklearn or ImageDataGenerator fit
        if self.state.layers:
            _close(self.state)
        if not self.state.models:
            return
        model = self.state.models[-1]
        epochs = _literal(kw["epochs"], self.state.constants) if "epochs" in kw else 1
        batch = _literal(kw["batch_size"], self.state.constants) if "batch_size" in kw else 32
        model["fits"] += 1
        tag = "" if model["fits"] == 1 else f" (fit {model['fits']})"
        model["training"].append(f"epochs {_show(epochs)}, batch size {_show(batch)}{tag}")


def _callee(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node: ast.expr, constants: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return constants.get(node.id, _UNKNOWN)
    if isinstance(node, ast.Attribute):
        return node.attr  # tf.nn.relu -> relu, keras.activations.relu -> relu
    if isinstance(node, ast.Call):
        name = _callee(node.func) or _UNKNOWN
        args = [_show(_literal(a, constants)) for a in node.args]
        args += [f"{k.arg}={_show(_literal(k.value, constants))}" for k in node.keywords if k.arg]
        return f"{name}({', '.join(args)})"
    if isinstance(node, ast.Tuple | ast.List):
        items = tuple(_literal(e, constants) for e in node.elts)
        return items
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal(node.operand, constants)
        return (
            -inner if isinstance(inner, int | float) and not isinstance(inner, bool) else _UNKNOWN
        )
    if isinstance(node, ast.BinOp):
        left = _literal(node.left, constants)
        right = _literal(node.right, constants)
        if _number(left) and _number(right):
            try:
                if isinstance(node.op, ast.Mult):
                    return left * right
                if isinstance(node.op, ast.Div):
                    return left / right
                if isinstance(node.op, ast.Add):
                    return left + right
                if isinstance(node.op, ast.Sub):
                    return left - right
                if isinstance(node.op, ast.Pow):
                    return left**right
            except (ArithmeticError, ValueError):
                return _UNKNOWN
        return _UNKNOWN
    if isinstance(node, ast.Constant):
        return node.value
    return _UNKNOWN


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _canonical(value: Any) -> Any:
    if (
        isinstance(value, tuple)
        and len(value) in (2, 3)
        and all(v == value[0] for v in value)
        and _number(value[0])
    ):
        return value[0]  # (3, 3) -> 3
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        return value
    if isinstance(value, str):
        return value.lower() if value.isidentifier() else value
    return value


def _show(value: Any) -> str:
    value = _canonical(value)
    if isinstance(value, str):
        if value == _UNKNOWN or "(" in value:
            return value
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return repr(value)


def _layer(name: str, node: ast.Call, constants: dict[str, Any]) -> str:
    params = LAYERS.get(name, ())
    named: dict[str, str] = {}
    for i, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            continue
        key = params[i] if i < len(params) else f"arg{i}"
        named[key] = _show(_literal(arg, constants))
    for kw in node.keywords:
        if kw.arg is None or kw.arg in _DROPPED_ARGS:
            continue
        named[kw.arg] = _show(_literal(kw.value, constants))
    if "activation" in named and named["activation"] in ("None", "'linear'"):
        del named["activation"]
    lead = [named.pop(p) for p in params if p in named and p not in ("activation",)]
    lead = lead[:2]
    rest = [f"{k}={v}" for k, v in sorted(named.items())]
    return f"{name}({', '.join(lead + rest)})"


def _optimizer(node: ast.expr, state: _State) -> str:
    value = state.calls.get(node.id, node) if isinstance(node, ast.Name) else node
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        canon = OPTIMIZERS.get(value.value.lower())
        if canon:
            return f"{canon[0]}(learning_rate={canon[1]:g})"
        return repr(value.value)
    if isinstance(value, ast.Call):
        name = _callee(value.func) or _UNKNOWN
        canon = OPTIMIZERS.get(name.lower())
        kw = {k.arg: _literal(k.value, state.constants) for k in value.keywords if k.arg}
        if "lr" in kw:
            kw["learning_rate"] = kw.pop("lr")
        if value.args:
            kw.setdefault("learning_rate", _literal(value.args[0], state.constants))
        if canon:
            kw.setdefault("learning_rate", canon[1])
            name = canon[0]
        args = ", ".join(f"{k}={_show(v)}" for k, v in sorted(kw.items()))
        return f"{name}({args})"
    return _show(_literal(value, state.constants))
