"""Recognisers of hand-written PyTorch training and evaluation.

A PyTorch notebook trains in its own loop: a ``for`` loop that holds a training
step (``loss.backward()``, ``optimizer.step()``, here or in a notebook function
it calls) is a :class:`~grader.extract.facts.FitCall`, its model found while
the loop is read (``model.train()``, ``outputs = model(x)``); a loop under
``torch.no_grad()`` without a step evaluates, and ``(pred == y).sum()`` counts
correct predictions. The statement handlers call :func:`enter_loop` /
:func:`leave_loop` around every loop, and the comparison handler
:func:`compared_predictions`. Also ``model.to(device)`` / ``.train()`` /
``.eval()``, which return their receiver, and ``X.from_pretrained(name)``.
"""

from __future__ import annotations

import ast
import enum
from typing import TYPE_CHECKING

from grader.extract.kinds import canonical_base
from grader.extract.source.recognisers.pretrained import base_value
from grader.extract.source.recognisers.registry import FunctionCall, MethodCall, Recognisers
from grader.extract.source.scope import PendingLoop
from grader.extract.source.syntax import scan
from grader.extract.source.values import Value
from grader.extract.source.vocabulary import PASSTHROUGH

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["LoopRole", "compared_predictions", "enter_loop", "leave_loop", "recognisers"]

recognisers = Recognisers()


@recognisers.function("from_pretrained")
def from_pretrained(r: Reader, call: FunctionCall) -> Value | None:
    """``EfficientNet.from_pretrained("efficientnet-b0")`` with the class imported."""
    return _pretrained(r, call.node)


@recognisers.method("from_pretrained")
def from_pretrained_method(r: Reader, call: MethodCall) -> Value | None:
    return _pretrained(r, call.node)


def _pretrained(r: Reader, node: ast.Call) -> Value | None:
    if not node.args:
        return None
    found = canonical_base(r.str_const(node.args[0]) or "")
    return base_value(r, found, "imagenet", "pytorch") if found else None


@recognisers.method(PASSTHROUGH)
def passthrough(r: Reader, call: MethodCall) -> Value | None:
    """``model.to(device)``, ``net.train()``, ``net.eval()``: the receiver itself."""
    frame, node = r.frame, call.node
    pending = frame.pending
    if call.name == "train" and not node.args:
        frame.train_recv = r.text(call.receiver_node)
        if pending is not None:
            pending.train_recv.append(r.text(call.receiver_node))
    if call.name == "eval" and not node.args:
        frame.eval_recv = r.text(call.receiver_node)
        if pending is not None:
            pending.eval_recv.append(r.text(call.receiver_node))
    return call.receiver


# ------------------------------------------------------------------- loops


class LoopRole(enum.Enum):
    """What a loop is to the hand-written training being read."""

    OTHER = "other"
    TRAINING = "training"  # it starts a training loop (a FitCall)
    EVALUATION = "evaluation"  # it starts an evaluation loop


def enter_loop(
    r: Reader, node: ast.For | ast.AsyncFor | ast.While, iter_value: Value | None
) -> LoopRole:
    """Before a loop's body is read (``iter_value``: what a ``for`` loop iterates)."""
    frame = r.frame
    for_loop = node if isinstance(node, (ast.For, ast.AsyncFor)) else None
    if frame.emit and frame.torch_fit is None and _has_step(r, node):
        frame.torch_fit = r.fit_fact(
            model_var=None,
            history_var=None,
            epochs=_range_count(r, for_loop.iter) if for_loop is not None else None,
            validation="none",
            augmentation=iter_value.augmented if iter_value is not None else False,
        )
        frame.pending = PendingLoop()
        return LoopRole.TRAINING
    if for_loop is None or iter_value is None:
        return LoopRole.OTHER  # a while loop only ever starts a training loop
    if frame.torch_fit is not None:
        # a loop inside the training loop: the data it iterates
        assert frame.pending is not None
        frame.pending.splits.append(r.split_of_node(for_loop.iter))
        frame.pending.augmented |= iter_value.augmented
    elif (
        frame.emit
        and not frame.torch_eval
        and (frame.no_grad or scan(for_loop).no_grad)
        and not _has_step(r, for_loop)
    ):
        frame.torch_eval = True
        frame.pending = PendingLoop()
        return LoopRole.EVALUATION
    return LoopRole.OTHER


def leave_loop(r: Reader, node: ast.For | ast.AsyncFor | ast.While, role: LoopRole) -> None:
    """After a loop's body is read: name the model of the loop it started."""
    if role is LoopRole.TRAINING:
        _finish_training(r)
    elif role is LoopRole.EVALUATION and isinstance(node, (ast.For, ast.AsyncFor)):
        _finish_evaluation(r, node)


def _has_step(r: Reader, node: ast.AST) -> bool:
    """Whether a loop holds a training step (here or in a notebook function it calls)."""
    if not (r.maybe_train or r.frame.stack):
        return False
    found = scan(node)
    if found.steps:
        return True
    for name in found.user_calls:
        fn = r.func(r.frame.subst.get(name, name))
        if fn is not None and scan(fn.node).steps:
            return True
    return False


def _range_count(r: Reader, node: ast.expr) -> int | None:
    """How many times ``range(...)`` / ``trange(...)`` / ``tqdm(range(...))`` iterates."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    if node.func.id == "tqdm" and node.args:
        return _range_count(r, node.args[0])
    if node.func.id not in ("range", "trange"):
        return None
    args = node.args
    if len(args) == 1:
        return r.int_const(args[0])
    if len(args) >= 2:
        start, stop = r.int_const(args[0]), r.int_const(args[1])
        if start is not None and stop is not None:
            return max(stop - start, 0)
    return None


def _finish_training(r: Reader) -> None:
    frame = r.frame
    fit, pending = frame.torch_fit, frame.pending
    frame.torch_fit, frame.pending = None, None
    if fit is None or pending is None:
        return
    candidates = pending.train_recv or pending.model_calls
    if not candidates and frame.train_recv:
        candidates = [frame.train_recv]
    if candidates:
        fit.model_var = candidates[0]
    splits = set(pending.splits)
    if "test" in splits:
        fit.validation = "test"
    elif "val" in splits:
        fit.validation = "val"
    fit.augmentation = fit.augmentation or pending.augmented
    r.framework_hint("pytorch")


def _finish_evaluation(r: Reader, node: ast.For | ast.AsyncFor) -> None:
    frame = r.frame
    pending = frame.pending
    frame.torch_eval, frame.pending = False, None
    if pending is None:
        return
    candidates = (
        pending.model_calls or pending.eval_recv or ([frame.eval_recv] if frame.eval_recv else [])
    )
    if not candidates:
        return
    split = r.split_of_node(node.iter)
    saved = r.targets
    r.targets = []
    r.evaluate_fact("torch_eval", candidates[0], split, r.named_val(node.iter))
    r.targets = saved


# ---------------------------------------------------------------- accuracy


def compared_predictions(r: Reader, node: ast.Compare, parts: list[Value]) -> None:
    """``(pred == y_test).mean()``, ``correct += (out.argmax(1) == y).sum()``: an accuracy."""
    frame = r.frame
    if not (
        len(node.ops) == 1
        and isinstance(node.ops[0], ast.Eq)
        and frame.emit
        and frame.torch_fit is None
        and not frame.torch_eval
    ):
        return
    sides = [node.left, node.comparators[0]]
    pred_side = None
    for side, value in zip(sides, parts, strict=True):
        if (
            value.predictions
            or (value.models and not value.is_model)
            or (isinstance(side, ast.Name) and "pred" in side.id.lower())
        ):
            pred_side = (side, value)
    if pred_side is None or all(isinstance(s, ast.Constant) for s in sides):
        return
    value = pred_side[1]
    models = sorted(value.predictions or value.models)
    if len(models) > 1 and value.base_var in models:
        models.remove(value.base_var)
    split = r.split_of_node(node)
    if split == "unknown" and value.split:
        split = value.split
    for loop in reversed(frame.outer_loops + frame.loops):
        if split == "unknown":
            split = loop.split
    batches = bool(frame.loops) and not value.predictions
    r.evaluate_fact(
        "torch_eval" if frame.no_grad or batches else "accuracy_score",
        models[0] if len(models) == 1 else None,
        split,
    )
