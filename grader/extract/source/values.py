"""The values of the abstract interpreter: what flows into one Python value of a cell.

The source reader never runs student code. It evaluates every expression to a
:class:`Value` that says which layers, pretrained bases, models, predictions and
training histories went into it. Two kinds of field:

* *flowing* fields (:data:`FLOWING_FIELDS`) follow the data: ``y = f(x)``
  carries the layers and models of ``x`` on to ``y``, and :func:`merge` joins the
  flowing fields of several values (``a + b``, the arguments of a call);
* *own* fields (:data:`OWN_FIELDS`) describe only the value itself (it *is* a
  model, a constant, a container of models...) and are dropped by
  :meth:`Value.flowing` when the value flows into another one.

:data:`EMPTY` is the value nothing flows into; :data:`NO_VALUE` marks a value
whose constant is not known.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

__all__ = [
    "EMPTY",
    "FLOWING_FIELDS",
    "NO_VALUE",
    "OWN_FIELDS",
    "Framework",
    "LayerSet",
    "EvalKind",
    "NoValue",
    "Split",
    "Value",
    "merge",
]

# literals shared with the facts (grader.extract.facts)
Split = Literal["test", "val", "train", "unknown"]
Framework = Literal["keras", "pytorch"]
EvalKind = Literal["evaluate", "predict", "accuracy_score", "torch_eval"]

#: Layers built into a value, each once, as ``(serial, canonical name)``: merging two
#: branches that share an ancestor does not count the ancestor's layers twice.
LayerSet = frozenset[tuple[int, str]]

_NO_NAMES: frozenset[str] = frozenset()


class NoValue:
    """The type of :data:`NO_VALUE`: a constant that is not known."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = NoValue()

#: Fields that follow the data into every value computed from this one.
FLOWING_FIELDS = (
    "layers",  # LayerSet | None: layers (and layer-like ops) the value was built from
    "residual",  # a skip connection (``Add``, ``x + shortcut``) is among them
    "separable",  # a separable / depthwise / grouped convolution is among them
    "bottleneck",  # a 1x1 -> 3x3 -> 1x1 convolution pattern is among them
    "ensemble",  # the outputs or predictions of several models are combined
    "base",  # canonical name of a pretrained base among them (``"MobileNetV2"``)
    "base_var",  # the variable holding that base (or a notebook model reused whole)
    "weights",  # the base's weights: "imagenet", "none", a path; None when not said
    "models",  # names of notebook models that went into the value
    "predictions",  # names of models whose predictions (or evaluate results) went in
    "histories",  # names of training-history variables that went in
    "augmented",  # data augmentation went in (augmentation layers, generators)
    "confusion",  # a confusion matrix went in
    "framework",  # "keras" / "pytorch" when the value says which
    "split",  # which data split a prediction was made on
    "features_of",  # a pretrained base whose outputs (extracted features) went in
)

#: Fields that describe the value itself and do not flow on.
OWN_FIELDS = (
    "is_model",  # the value is a model (a network, a container of models' entry)
    "built_by",  # a model built just now: "" by a library constructor, else the builder's name
    "is_generator",  # an ImageDataGenerator (its ``fit`` is not a training)
    "constant",  # the Python constant, or NO_VALUE
    "members",  # names of the models a list / dict holds
    "item_labels",  # per item of a list or tuple literal: its class or variable name
    "type_name",  # class of an object made by a capitalised call; "function" for a notebook def
    "learning_rate",  # an optimizer's literal learning rate
    "is_fit_result",  # the result of ``fit`` (a Keras History)
    "is_evaluate_result",  # the result of ``evaluate`` / ``accuracy_score``
    "items",  # the values of a tuple's items, when known
    "layer",  # canonical name of the layer this value is (``Conv2D(...)`` before it is applied)
)


class Value:
    """What flows into one value: layers, bases, models, predictions, histories.

    Values are treated as immutable once built: :meth:`with_` returns a changed
    copy. See the module docstring for the two kinds of field.
    """

    __slots__ = FLOWING_FIELDS + OWN_FIELDS

    def __init__(self) -> None:
        self.layers: LayerSet | None = None
        self.residual = False
        self.separable = False
        self.bottleneck = False
        self.ensemble = False
        self.base: str | None = None
        self.base_var: str | None = None
        self.weights: str | None = None
        self.models: frozenset[str] = _NO_NAMES
        self.predictions: frozenset[str] = _NO_NAMES
        self.histories: frozenset[str] = _NO_NAMES
        self.augmented = False
        self.confusion = False
        self.framework: Framework | None = None
        self.split: Split | None = None
        self.features_of: str | None = None
        self.is_model = False
        self.built_by: str | None = None
        self.is_generator = False
        self.constant: object = NO_VALUE
        self.members: tuple[str, ...] | None = None
        self.item_labels: tuple[str, ...] | None = None
        self.type_name: str | None = None
        self.learning_rate: float | None = None
        self.is_fit_result = False
        self.is_evaluate_result = False
        self.items: tuple[Value, ...] | None = None
        self.layer: str | None = None

    @classmethod
    def of(cls, **fields: object) -> Value:
        """A new value with ``fields`` set and every other field at its default."""
        new = cls()
        for name, field_value in fields.items():
            setattr(new, name, field_value)
        return new

    def flows(self) -> bool:
        """Whether anything flows from this value (a base variable alone does not)."""
        return bool(
            self.layers
            or self.residual
            or self.separable
            or self.bottleneck
            or self.ensemble
            or self.base
            or self.models
            or self.predictions
            or self.histories
            or self.augmented
            or self.confusion
            or self.framework
            or self.split
            or self.weights
            or self.features_of
        )

    def has_own_fields(self) -> bool:
        """Whether any field describing the value itself is set."""
        return (
            self.is_model
            or self.built_by is not None
            or self.is_generator
            or self.constant is not NO_VALUE
            or self.members is not None
            or self.item_labels is not None
            or self.type_name is not None
            or self.learning_rate is not None
            or self.is_fit_result
            or self.is_evaluate_result
            or self.items is not None
            or self.layer is not None
        )

    def with_(self, **changes: object) -> Value:
        """A copy of this value with ``changes`` applied."""
        new = Value()
        for name in Value.__slots__:
            setattr(new, name, getattr(self, name))
        for name, field_value in changes.items():
            setattr(new, name, field_value)
        return new

    def flowing(self) -> Value:
        """This value without the fields that describe only the value itself."""
        if not self.has_own_fields():
            return self
        new = Value()
        for name in FLOWING_FIELDS:
            setattr(new, name, getattr(self, name))
        return new


#: The value nothing flows into (compared by identity).
EMPTY = Value()


def merge(values: Iterable[Value]) -> Value:
    """The flowing fields of ``values`` joined: what flows out of combining them."""
    picked = [v for v in values if v is not EMPTY and v.flows()]
    if not picked:
        return EMPTY
    if len(picked) == 1:
        return picked[0].flowing()
    out = Value()
    for v in picked:
        if v.layers:
            out.layers = v.layers if out.layers is None else out.layers | v.layers
        out.residual |= v.residual
        out.separable |= v.separable
        out.bottleneck |= v.bottleneck
        out.ensemble |= v.ensemble
        out.augmented |= v.augmented
        out.confusion |= v.confusion
        if out.base is None and v.base is not None:
            out.base, out.base_var, out.weights = v.base, v.base_var, v.weights
        if out.weights is None:
            out.weights = v.weights
        if v.models:
            out.models = out.models | v.models
        if v.predictions:
            out.predictions = out.predictions | v.predictions
        if v.histories:
            out.histories = out.histories | v.histories
        if out.framework is None or v.framework == "pytorch":
            out.framework = v.framework or out.framework
        if out.split is None:
            out.split = v.split
        if out.features_of is None:
            out.features_of = v.features_of
    return out
