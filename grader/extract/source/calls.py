"""Calls: a notebook function, a model or layer applied, a library function, a method.

:func:`e_call` reads the arguments and sends the call where it belongs:

* a function or class the notebook defines -> :mod:`.functions`;
* a model or a layer object called on a tensor (``model(x)``, ``Dense(10)(x)``);
* a library function (``layers.Conv2D(...)``, ``confusion_matrix(...)``) or a
  method of a value (``model.fit(...)``) -> the recognisers registered for its
  name (:mod:`.recognisers`), and what none of them claims gets the default
  reading here: the arguments' values flow into the result.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.source import functions
from grader.extract.source.combining import combine
from grader.extract.source.recognisers import DISPATCH, guesses, plots
from grader.extract.source.recognisers.registry import FunctionCall, MethodCall
from grader.extract.source.values import Value, merge
from grader.extract.source.vocabulary import AVERAGING, COMBINE_LAYERS, RE_MODELISH

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["e_call"]


def e_call(r: Reader, node: ast.Call) -> Value:
    func = node.func
    saved_targets = r.targets
    if (
        not saved_targets
        and isinstance(func, ast.Attribute)
        and func.attr in ("append", "extend", "insert")
        and isinstance(func.value, ast.Name)
    ):
        # histories.append(model.fit(...)): the result is kept in ``histories``
        r.targets = [func.value]
    arg_values = [r.ev(a) for a in node.args]
    r.targets = saved_targets
    kw_values = {k.arg or f"**{i}": r.ev(k.value) for i, k in enumerate(node.keywords)}
    args_merged = merge([*arg_values, *kw_values.values()])
    if r.frame.torch_fit is not None and r.frame.pending is not None:
        _note_loop_data(r, node)

    if isinstance(func, ast.Name):
        name = r.frame.subst.get(func.id, func.id)
        fn = r.func(name)
        if fn is not None:
            r.calls.append(name)
            return functions.user_call(r, fn, node, arg_values, kw_values)
        known = r.lookup(func.id)
        pending = r.frame.pending
        if (
            pending is not None
            and (known is None or not known.is_model)
            and node.args
            and RE_MODELISH.search(name)
        ):
            pending.model_calls.append(name)
        if known is not None and known.is_model:
            return _apply_model(r, func.id, known, arg_values, kw_values)
        if known is not None and known.layer is not None:
            return _apply_layer(r, known, node, arg_values)
        full = r.nb.imports.get(name) if known is None else None
        if full and "." in full:
            # from tensorflow.keras.applications import ResNet50 as R; R(...)
            prefix, _, last = full.rpartition(".")
            call = FunctionCall(
                node, full, last, prefix, arg_values, kw_values, args_merged, _keywords(node)
            )
        else:
            call = FunctionCall(
                node, name, name, "", arg_values, kw_values, args_merged, _keywords(node)
            )
        return _library_call(r, call)

    if isinstance(func, ast.Attribute):
        root = r.root(func)
        dotted = r.dotted(func)
        if root is not None and dotted is not None and r.is_module(root):
            prefix, _, last = dotted.rpartition(".")
            call = FunctionCall(
                node, dotted, last, prefix, arg_values, kw_values, args_merged, _keywords(node)
            )
            return _library_call(r, call)
        receiver = r.ev(func.value)
        method = MethodCall(
            node, func, func.attr, receiver, arg_values, kw_values, args_merged, _keywords(node)
        )
        found = DISPATCH.method_call(r, method)
        if found is None:
            plots.history_method(r, method)
        return found if found is not None else _method_default(method)

    # A layer applied to a tensor: Conv2D(...)(x), or any other call result called.
    callee_value = r.ev(func)
    if callee_value.layer is not None:
        return _apply_layer(r, callee_value, node, arg_values)
    return merge([callee_value.flowing(), args_merged])


def _note_loop_data(r: Reader, node: ast.Call) -> None:
    """Held-out data a call inside a hand-written training loop uses: its validation data."""
    pending = r.frame.pending
    assert pending is not None
    for arg in [*node.args, *(k.value for k in node.keywords)]:
        if isinstance(arg, ast.Name):
            split = r.split_of_node(arg)
            if split in ("val", "test"):
                pending.splits.append(split)


def _keywords(node: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in node.keywords if k.arg}


def _apply_model(
    r: Reader, name: str, model: Value, arg_values: list[Value], kw: dict[str, Value]
) -> Value:
    pending = r.frame.pending
    if pending is not None:
        pending.model_calls.append(r.frame.subst.get(name, name))
    out = merge([model.flowing(), *arg_values, *kw.values()])
    return out.with_(models=out.models | {r.frame.subst.get(name, name)})


def _apply_layer(r: Reader, layer: Value, node: ast.Call, arg_values: list[Value]) -> Value:
    out = merge([layer, *arg_values])
    if layer.layer in COMBINE_LAYERS and node.args:
        out = combine(r, out, node, arg_values, layer.layer)
    return out


def _library_call(r: Reader, call: FunctionCall) -> Value:
    found = DISPATCH.function_call(r, call)
    if found is not None:
        return found
    out = call.merged
    if not call.prefix:
        guesses.unknown_function(r, call)
        if guesses.looks_built(r, call.name):
            out = out.with_(is_model=True, built_by=call.name)
    else:
        guesses.helper_module_function(r, call)
    if call.name in AVERAGING and len(call.merged.predictions) >= 2:
        r.ensemble_made = True
        out = out.with_(ensemble=True)
    if call.name[:1].isupper():
        out = out.with_(type_name=call.name)
    return out


def _method_default(call: MethodCall) -> Value:
    out = merge([call.receiver.flowing(), call.merged])
    if call.receiver.is_model and call.name in ("__call__", "call"):
        return out.with_(models=out.models | call.receiver.models)
    return out
