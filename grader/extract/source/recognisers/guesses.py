"""Guesses from the names of functions the notebook calls but does not define.

A student's helper module, or a cell that was deleted, can hide
``train_model(cnn, x_train, y_train, epochs=10)``, ``plot_history(h)`` or
``show_confusion(model)``: the name says what the call does. Each guess is a
name pattern and what it reports (:data:`_GUESSES`, the first that matches
wins). :func:`looks_built` says when such a call returns a model.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from grader.extract.source.recognisers.registry import FunctionCall
from grader.extract.source.values import Value
from grader.extract.source.vocabulary import (
    BUILTINS,
    FRAMEWORK_OF_MODULE,
    KNOWN_LIBRARIES,
    LIBRARY_FUNCS,
    MODULE_ROOTS,
    RE_BUILDER_FN,
    RE_CONFUSION_FN,
    RE_EVAL_FN,
    RE_HIST_NAME,
    RE_MODELISH,
    RE_NOT_BUILDER,
    RE_PLOT_HISTORY_FN,
    RE_TRAIN_FN,
    split_of,
)

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["helper_module_function", "looks_built", "model_arg", "unknown_function"]


def unknown_function(r: Reader, call: FunctionCall) -> None:
    """Facts a call of a bare name the notebook does not define suggests."""
    name = call.name
    if (
        name in BUILTINS
        or name in LIBRARY_FUNCS
        or name in r.nb.imports
        or r.lookup(name) is not None
    ):
        return
    r.calls.append(name)
    _guess(r, call)


def helper_module_function(r: Reader, call: FunctionCall) -> None:
    """A function of the student's own module: ``ans.train_pytorch(net, ...)``,
    ``from helpers import train_model``; its name says what it does."""
    root = call.callee.split(".", 1)[0]
    if (
        not call.prefix
        or root in KNOWN_LIBRARIES
        or root in MODULE_ROOTS
        or root in FRAMEWORK_OF_MODULE
    ):
        return
    node = call.node
    given_model = any(v.is_model for v in call.args) or any(
        isinstance(a, ast.Name) and RE_MODELISH.search(a.id) for a in node.args
    )
    if given_model or RE_PLOT_HISTORY_FN.search(call.name) or RE_CONFUSION_FN.search(call.name):
        _guess(r, call)


def _guess(r: Reader, call: FunctionCall) -> None:
    for pattern, guess in _GUESSES:
        if pattern.search(call.name) and guess(r, call):
            return


def _plots_history(r: Reader, call: FunctionCall) -> bool:
    facts = r.sink()
    facts.plots_anything = True
    refs = sorted(call.merged.histories)
    if not refs:
        refs = [r.text(a) for a in call.node.args if isinstance(a, (ast.Name, ast.Subscript))]
    if refs:
        facts.plots_history = True
        if r.frame.emit:
            r.hist_plotted.extend(refs)
    return True


def _shows_confusion(r: Reader, call: FunctionCall) -> bool:
    facts = r.sink()
    facts.computes_confusion = True
    facts.shows_confusion = True
    models = call.merged.predictions or call.merged.models
    facts.confusion_model_vars.extend(sorted(models))
    if not models:
        for arg in call.node.args:
            value = r.ev(arg)
            if value.is_model or (isinstance(arg, ast.Name) and RE_MODELISH.search(arg.id)):
                facts.confusion_model_vars.append(r.text(arg))
    return True


def _trains(r: Reader, call: FunctionCall) -> bool:
    name, node = call.name, call.node
    if name.lower() == "train_test_split":
        return False
    _guessed_fit(r, call)
    if "eval" in name.lower() or "test" in name.lower():
        split = r.split_of_node(node) if "test" in " ".join(r.names_in(node)).lower() else "test"
        r.evaluate_fact("evaluate", model_arg(r, node, call.args), split)
    return True


def _evaluates(r: Reader, call: FunctionCall) -> bool:
    r.evaluate_fact("evaluate", model_arg(r, call.node, call.args), r.split_of_node(call.node))
    return True


_GUESSES: tuple[tuple[re.Pattern[str], Callable[[Reader, FunctionCall], bool]], ...] = (
    (RE_PLOT_HISTORY_FN, _plots_history),
    (RE_CONFUSION_FN, _shows_confusion),
    (RE_TRAIN_FN, _trains),
    (RE_EVAL_FN, _evaluates),
)
"""Name pattern -> what a call of such a function reports (False: guess on)."""


def model_arg(r: Reader, node: ast.Call, args: list[Value]) -> str | None:
    """The argument that is the model: a model value, a ``model=`` keyword, a model-like name."""
    for arg, value in zip(node.args, args, strict=False):
        if value.is_model:
            return r.text(arg)
    for keyword in node.keywords:
        if keyword.arg in ("model", "net", "m", "network"):
            return r.text(keyword.value)
    for arg in node.args:
        if isinstance(arg, (ast.Name, ast.Subscript)) and RE_MODELISH.search(r.text(arg)):
            return r.text(arg)
    if node.args and isinstance(node.args[0], (ast.Name, ast.Subscript, ast.Attribute)):
        return r.text(node.args[0])
    return None


def _guessed_fit(r: Reader, call: FunctionCall) -> None:
    if not r.frame.emit:
        return
    node, keywords = call.node, call.keywords
    epochs = None
    for key in ("epochs", "n_epochs", "num_epochs", "nb_epoch", "epoch"):
        if key in keywords:
            epochs = r.int_const(keywords[key])
            break
    split_texts = [t for a in node.args[1:] for t in r.names_in(a)]
    split_texts += [t for k in node.keywords for t in r.names_in(k.value)]
    validation: Literal["none", "val", "test", "split"] = "none"
    splits = {split_of(t) for t in split_texts}
    if "validation_split" in keywords:
        validation = "split"
    elif "test" in splits and "val" not in splits:
        validation = "test"
    elif "val" in splits:
        validation = "val"
    r.fit_fact(
        model_var=model_arg(r, node, call.args),
        history_var=r.targets_text(),
        epochs=epochs,
        validation=validation,
        augmentation=any(v.augmented for v in call.args)
        or any(v.augmented for v in call.kwargs.values()),
    )


def looks_built(r: Reader, name: str) -> bool:
    """``model = get_resnet()`` or ``net = ResNetCIFAR()`` with the definition elsewhere."""
    if (
        not r.targets
        or name in BUILTINS
        or name in LIBRARY_FUNCS
        or r.lookup(name) is not None
        or RE_NOT_BUILDER.search(name)
    ):
        return False
    if RE_BUILDER_FN.search(name):
        return True
    target = r.targets[0]
    return (
        name[:1].isupper()
        and isinstance(target, ast.Name)
        and bool(RE_MODELISH.search(target.id))
        and not RE_HIST_NAME.search(target.id)
    )
