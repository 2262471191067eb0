"""Recognisers of the Keras training API: compile, fit, evaluate, predict, optimizers.

``model.compile(optimizer=Adam(1e-4), ...)`` gives a
:class:`~grader.extract.facts.CompileCall`, ``h = model.fit(x, y, epochs=10,
validation_data=(x_val, y_val), callbacks=[...])`` a
:class:`~grader.extract.facts.FitCall`, ``model.evaluate(x_test, y_test)`` and
``model.predict(x_test)`` an :class:`~grader.extract.facts.EvaluateCall` and a
value carrying the model's predictions. Optimizer constructors are read for
both frameworks: ``optim.Adam(net.parameters(), lr=1e-3)`` is PyTorch's
counterpart of ``compile``.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Literal

from grader.extract.facts import CompileCall
from grader.extract.source.recognisers.registry import FunctionCall, MethodCall, Recognisers
from grader.extract.source.syntax import is_falsy, is_none, unparse
from grader.extract.source.values import EMPTY, EvalKind, Value, merge
from grader.extract.source.vocabulary import (
    EVAL_METHODS,
    FIT_METHODS,
    OPTIMIZER_STRINGS,
    OPTIMIZERS,
    PREDICT_METHODS,
    RE_MODELISH,
    RE_NOT_MODEL_RECEIVER,
)

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["recognisers"]

recognisers = Recognisers()

# keywords only a training call takes: the receiver is then a model whatever its name
_FIT_KEYWORDS = (
    "epochs",
    "validation_data",
    "validation_split",
    "callbacks",
    "steps_per_epoch",
    "initial_epoch",
)


@recognisers.function(OPTIMIZERS)
def optimizer(r: Reader, call: FunctionCall) -> Value | None:
    """``Adam(learning_rate=1e-4)``; with ``net.parameters()`` also a PyTorch CompileCall."""
    node, keywords = call.node, call.keywords
    lr_node = keywords.get("learning_rate") or keywords.get("lr")
    params_owner = _parameters_owner(r, node)
    if lr_node is None and node.args:
        candidate = (
            node.args[1] if params_owner is not None and len(node.args) > 1 else node.args[0]
        )
        if params_owner is None or len(node.args) > 1:
            lr_node = candidate
    lr = r.float_const(lr_node)
    if params_owner is not None and r.frame.emit:
        fact = CompileCall(
            model_var=params_owner,
            optimizer=call.name,
            learning_rate=lr,
            line=r.line(),
            head_only=_head_only(node),
        )
        r.facts.compiles.append(fact)
        r.remember(fact)
        r.framework_hint("pytorch")
    return Value.of(type_name=call.name, learning_rate=lr)


#: Sub-modules that hold the new classification head of a pretrained network.
_HEADS = frozenset(
    {"fc", "classifier", "head", "heads", "last_linear", "top", "out", "output", "linear", "dense"}
)


def _head_only(node: ast.Call) -> bool:
    """``optim.Adam(model.fc.parameters())``: only the head is optimised, the body stays fixed."""
    owners = [
        sub.func.value
        for sub in ast.walk(node)
        if isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Attribute)
        and sub.func.attr in ("parameters", "named_parameters")
    ]
    return bool(owners) and all(
        isinstance(o, ast.Attribute) and o.attr.lower() in _HEADS for o in owners
    )


def _parameters_owner(r: Reader, node: ast.Call) -> str | None:
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in ("parameters", "named_parameters")
        ):
            return r.root(sub.func.value)
    return None


@recognisers.method(FIT_METHODS)
def fit(r: Reader, call: MethodCall) -> Value | None:
    if _fit(r, call):
        return Value.of(is_fit_result=True, histories=frozenset())
    return merge([call.receiver.flowing(), call.merged])


def _fit(r: Reader, call: MethodCall) -> bool:
    """Whether ``call`` trains a model; reports its FitCall."""
    node, receiver, keywords = call.node, call.receiver, call.keywords
    receiver_text = r.text(call.receiver_node)
    strong = any(k in keywords for k in _FIT_KEYWORDS)
    if receiver.is_generator and not strong:
        return False
    if not strong and not receiver.is_model:
        last = receiver_text.rsplit(".", 1)[-1]
        if RE_NOT_MODEL_RECEIVER.search(last) or not RE_MODELISH.search(receiver_text):
            return False
    if not r.frame.emit:
        return True
    epochs_node = keywords.get("epochs") or keywords.get("nb_epoch")
    if epochs_node is None and len(node.args) > 3:
        epochs_node = node.args[3]
    validation: Literal["none", "val", "test", "split"] = "none"
    if "validation_data" in keywords and not is_none(keywords["validation_data"]):
        split = r.split_of_node(keywords["validation_data"])
        validation = "test" if split == "test" else "val"
    elif "validation_split" in keywords and not is_falsy(keywords["validation_split"]):
        validation = "split"
    callbacks = _callback_names(r, keywords.get("callbacks"))
    kw = call.kwargs
    data = call.args[0] if call.args else (kw.get("x") or kw.get("generator") or EMPTY)
    fit = r.fit_fact(
        model_var=receiver_text,
        history_var=r.targets_text(),
        epochs=r.int_const(epochs_node),
        initial_epoch=r.int_const(keywords.get("initial_epoch")),
        validation=validation,
        callbacks=callbacks,
        augmentation=data.augmented or receiver.augmented,
    )
    fit.features_of = data.features_of
    r.framework_hint("keras")
    return True


def _callback_names(r: Reader, node: ast.expr | None) -> list[str]:
    if node is None:
        return []
    out: list[str] = []
    elements: list[ast.expr]
    if isinstance(node, (ast.List, ast.Tuple)):
        elements = list(node.elts)
    elif isinstance(node, ast.Name):
        found = r.lookup(node.id)
        if found is not None and found.item_labels is not None:
            return [label for label in found.item_labels if label]
        if found is not None and found.type_name is not None:
            return [found.type_name]
        return [r.text(node)]
    else:
        elements = [node]
    for element in elements:
        if isinstance(element, ast.Call):
            callee = r.dotted(element.func) or unparse(element.func)
            out.append(callee.rsplit(".", 1)[-1])
        elif isinstance(element, ast.Name):
            found = r.lookup(element.id)
            out.append(
                found.type_name if found is not None and found.type_name else r.text(element)
            )
        elif isinstance(element, ast.Starred):
            out.extend(_callback_names(r, element.value))
    return out


@recognisers.method(EVAL_METHODS | PREDICT_METHODS)
def evaluate(r: Reader, call: MethodCall) -> Value | None:
    """``model.evaluate(x_test, y_test)`` / ``model.predict(x)``: the model's predictions."""
    node, receiver = call.node, call.receiver
    receiver_text = r.text(call.receiver_node)
    first = node.args[0] if node.args else None
    if first is None:
        for keyword in node.keywords:
            if keyword.arg in ("x", "generator", "X"):
                first = keyword.value
    split = r.split_of_node(first) if first is not None else "unknown"
    kind: EvalKind = "evaluate" if call.name in EVAL_METHODS else "predict"
    if receiver.is_generator or RE_NOT_MODEL_RECEIVER.search(receiver_text.rsplit(".", 1)[-1]):
        return call.merged
    if kind == "predict" and receiver.base and not receiver.layers:
        # ``conv_base.predict(images)``: a bare pretrained base extracts features
        return call.merged.flowing().with_(features_of=receiver.base)
    r.evaluate_fact(kind, receiver_text, split, r.named_val(first))
    return Value.of(
        predictions=frozenset(m for m in receiver.models if m != receiver.base_var)
        or frozenset({receiver_text}),
        split=split if split != "unknown" else None,
        is_evaluate_result=kind == "evaluate",
    )


@recognisers.method("compile")
def compile_model(r: Reader, call: MethodCall) -> Value | None:
    if not r.frame.emit:
        return EMPTY
    node = call.node
    opt_node = call.keywords.get("optimizer") or (node.args[0] if node.args else None)
    name: str | None = None
    lr: float | None = None
    if isinstance(opt_node, ast.Constant) and isinstance(opt_node.value, str):
        name = OPTIMIZER_STRINGS.get(opt_node.value.lower(), opt_node.value)
    elif isinstance(opt_node, ast.Call):
        callee = r.dotted(opt_node.func) or unparse(opt_node.func)
        name = callee.rsplit(".", 1)[-1]
        lr = r.ev(opt_node).learning_rate
    elif opt_node is not None:
        value = r.ev(opt_node)
        if value.type_name is not None:
            name, lr = value.type_name, value.learning_rate
        elif isinstance(value.constant, str):
            name = OPTIMIZER_STRINGS.get(value.constant.lower(), value.constant)
    fact = CompileCall(
        model_var=r.text(call.receiver_node), optimizer=name, learning_rate=lr, line=r.line()
    )
    r.facts.compiles.append(fact)
    r.remember(fact)
    return EMPTY
