"""Recognisers of the data and its measures: datasets, subsets, augmentation, confusion, accuracy.

* CIFAR-10 loaded (``cifar10.load_data()``, ``torchvision.datasets.CIFAR10``,
  ``tfds.load("cifar10")``), the class names listed, the subset sizes written
  as literals (``n_train = 2000``, ``x[:1000]``, ``train_test_split(...,
  test_size=500)``);
* augmentation: ``ImageDataGenerator(rotation_range=...)``, ``gen.flow(x, y)``,
  ``tf.image.random_flip_left_right``;
* ``confusion_matrix(y, pred)``, ``ConfusionMatrixDisplay.from_predictions``,
  ``accuracy_score(y_test, pred)``: which models' predictions they measure.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.source.recognisers.registry import FunctionCall, MethodCall, Recognisers
from grader.extract.source.syntax import is_falsy
from grader.extract.source.values import Value, merge
from grader.extract.source.vocabulary import AUG_KWARGS, CIFAR_CLASSES, RE_SIZE_NAME, split_of

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["class_names", "note_assignment", "recognisers"]

recognisers = Recognisers()


# ------------------------------------------------------- confusion, accuracy


def _confusion(r: Reader, name: str, node: ast.Call, merged: Value) -> Value:
    if name == "crosstab" and not (
        merged.predictions or merged.models or "pred" in " ".join(r.names_in(node)).lower()
    ):
        return merged
    facts = r.sink()
    facts.computes_confusion = True
    if name == "plot_confusion_matrix" and r.func(name) is None:
        facts.shows_confusion = True
        facts.plots_anything = True
    models = set(merged.predictions or merged.models)
    if name == "from_estimator" and node.args:
        models.add(r.text(node.args[0]))
    facts.confusion_model_vars.extend(sorted(models))
    return merged.with_(confusion=True)


def _shown_confusion(r: Reader, name: str, node: ast.Call, merged: Value) -> Value:
    facts = r.sink()
    out = _confusion(r, name, node, merged)
    facts.shows_confusion = True
    facts.plots_anything = True
    return out


@recognisers.function(
    "confusion_matrix", "crosstab", "ConfusionMatrixDisplay", "plot_confusion_matrix"
)
def confusion_matrix(r: Reader, call: FunctionCall) -> Value | None:
    return _confusion(r, call.name, call.node, call.merged)


@recognisers.function("from_predictions", "from_estimator")
def confusion_display(r: Reader, call: FunctionCall) -> Value | None:
    """``ConfusionMatrixDisplay.from_predictions(y, pred)`` with the class imported."""
    if "Confusion" not in call.prefix:
        return None
    return _shown_confusion(r, call.name, call.node, call.merged)


@recognisers.method("from_predictions", "from_estimator")
def confusion_display_method(r: Reader, call: MethodCall) -> Value | None:
    if "Confusion" not in r.text(call.receiver_node):
        return None
    return _shown_confusion(r, call.name, call.node, call.merged)


@recognisers.method("plot_confusion_matrix")
def confusion_plot_method(r: Reader, call: MethodCall) -> Value | None:
    """``interp.plot_confusion_matrix()`` (fastai) draws the matrix of a model's predictions."""
    return _shown_confusion(r, call.name, call.node, call.merged)


@recognisers.function("accuracy_score", "balanced_accuracy_score")
def accuracy_score(r: Reader, call: FunctionCall) -> Value | None:
    node = call.node
    merged = merge(call.args)
    models = sorted(
        merged.predictions or frozenset(m for m in merged.models if m != merged.base_var)
    )
    first = node.args[0] if node.args else None
    split = r.split_of_node(first) if first is not None else "unknown"
    if split == "unknown" and merged.split:
        split = merged.split
    if split == "unknown":
        split = r.split_of_node(node)
    r.evaluate_fact("accuracy_score", models[0] if len(models) == 1 else None, split)
    return call.merged.with_(is_evaluate_result=True)


# -------------------------------------------------------------- augmentation


@recognisers.function("ImageDataGenerator")
def image_data_generator(r: Reader, call: FunctionCall) -> Value | None:
    augmented = any(k in AUG_KWARGS and not is_falsy(v) for k, v in call.keywords.items())
    if augmented:
        r.sink().augmentation_defined = True
    return call.merged.with_(is_generator=True, augmented=augmented)


@recognisers.any_function
def random_image_op(r: Reader, call: FunctionCall) -> Value | None:
    """``tf.image.random_flip_left_right(x)`` and the other random image ops."""
    if not (
        call.prefix.endswith("image") and call.name.startswith(("random_", "stateless_random_"))
    ):
        return None
    r.sink().augmentation_defined = True
    return call.merged.with_(augmented=True)


@recognisers.method("flow", "flow_from_directory", "flow_from_dataframe")
def generator_flow(r: Reader, call: MethodCall) -> Value | None:
    receiver = call.receiver
    augmented = receiver.augmented if receiver.is_generator else True
    return call.merged.with_(augmented=augmented or call.merged.augmented)


# ------------------------------------------------------------------ datasets


def _loads_cifar(r: Reader, callee: str, name: str, node: ast.Call) -> bool:
    if name == "load_data" and "cifar10" in callee.lower():
        return True
    if name in ("CIFAR10",):
        return True
    if name in ("load", "load_dataset", "builder") and node.args:
        dataset = r.str_const(node.args[0])
        return bool(dataset and dataset.lower().replace("-", "").startswith("cifar10"))
    return False


@recognisers.function("load_data", "CIFAR10", "load", "load_dataset", "builder")
def cifar10(r: Reader, call: FunctionCall) -> Value | None:
    """Notes that CIFAR-10 is loaded; the call is read on (returns None)."""
    if _loads_cifar(r, call.callee, call.name, call.node):
        r.sink().loads_cifar10 = True
    return None


@recognisers.method("map")
def cifar10_map(r: Reader, call: MethodCall) -> Value | None:
    """``ds.map(...)`` with a CIFAR-10 name in its first argument (read on: returns None)."""
    if _loads_cifar(r, "", "", call.node):
        r.sink().loads_cifar10 = True
    return None


def class_names(r: Reader, names: list[str]) -> None:
    """A literal list of strings that are mostly CIFAR-10 class names names the classes."""
    if r.facts.class_names is not None or len(names) < 2:
        return
    known = sum(1 for n in names if n.strip().lower() in CIFAR_CLASSES)
    if known >= 2 and known * 2 >= len(names):
        r.facts.class_names = list(names)


# ------------------------------------------------------------- subset sizes


def note_assignment(r: Reader, targets: list[ast.expr], value: ast.expr) -> None:
    """Subset sizes an assignment states: ``n_test = 1000``, ``x_val = x[:500]``."""
    if len(targets) != 1:
        return
    target = targets[0]
    if isinstance(target, ast.Name):
        _sizes_of_name(r, target.id, value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        _sizes_of_tuple(r, target, value)


def _sizes_of_name(r: Reader, name: str, value: ast.expr) -> None:
    facts = r.facts
    if RE_SIZE_NAME.match(name):
        size = r.int_const(value)
        split = split_of(name)
        if size is not None and size >= 10 and split != "unknown":
            facts.subset_sizes[split] = size
    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice):
        _slice_size(r, name, value)
    elif (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "take"
        and value.args
    ):
        size = r.int_const(value.args[0])
        split = split_of(name)
        if size is not None and split != "unknown":
            facts.subset_sizes[split] = size


def _sizes_of_tuple(r: Reader, target: ast.Tuple | ast.List, value: ast.expr) -> None:
    names = [r.text(e) for e in target.elts]
    for name_node, sub in zip(
        target.elts,
        value.elts if isinstance(value, (ast.Tuple, ast.List)) else [],
        strict=False,
    ):
        if (
            isinstance(name_node, ast.Name)
            and isinstance(sub, ast.Subscript)
            and isinstance(sub.slice, ast.Slice)
        ):
            _slice_size(r, name_node.id, sub)
    if not isinstance(value, ast.Call):
        return
    callee = r.dotted(value.func) or ""
    if not callee.endswith("train_test_split"):
        return
    keywords = {k.arg: k.value for k in value.keywords if k.arg}
    test_size = r.int_const(keywords.get("test_size"))
    train_size = r.int_const(keywords.get("train_size"))
    if len(names) >= 2:
        held_out = split_of(names[1])
        if test_size is not None and held_out in ("val", "test"):
            r.facts.subset_sizes[held_out] = test_size
        if train_size is not None and split_of(names[0]) == "train":
            r.facts.subset_sizes["train"] = train_size


def _slice_size(r: Reader, name: str, node: ast.Subscript) -> None:
    split = split_of(name)
    if split == "unknown":
        split = split_of(r.text(node.value))
    if split == "unknown":
        return
    index = node.slice
    assert isinstance(index, ast.Slice)
    if index.step is not None:
        return
    start = r.int_const(index.lower) if index.lower is not None else 0
    stop = r.int_const(index.upper) if index.upper is not None else None
    if start is None:
        return
    if stop is None:
        if index.upper is None and start < 0:
            r.facts.subset_sizes[split] = -start
        return
    if stop > start >= 0:
        r.facts.subset_sizes[split] = stop - start
