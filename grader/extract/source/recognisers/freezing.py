"""Recognisers of frozen and unfrozen layers: ``trainable`` and ``requires_grad``.

``base.trainable = False`` freezes a whole base; ``for layer in
base.layers[:-20]: layer.trainable = True`` unfreezes part of it (a
:class:`~grader.extract.facts.TrainableChange` with ``partial``);
``for p in model.features.parameters(): p.requires_grad = False`` and
``model.requires_grad_(False)`` are the PyTorch spellings.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.source.recognisers.registry import MethodCall, Recognisers
from grader.extract.source.scope import Loop
from grader.extract.source.values import Value

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["note_layer_loop", "recognisers", "trainable_assign"]

recognisers = Recognisers()


def trainable_assign(r: Reader, target: ast.Attribute, value_node: ast.expr) -> None:
    """``base.trainable = False``, ``layer.trainable = True`` in a loop, ``p.requires_grad = ...``."""
    const = r.const(value_node)
    partial = False
    if isinstance(const, bool):
        flag = const
    else:
        flag, partial = True, True
    owner = target.value
    frame = r.frame
    for loop in reversed(frame.loops):
        if (
            loop.layer_var is not None
            and isinstance(owner, ast.Name)
            and owner.id == loop.layer_var
        ):
            partial = partial or loop.layer_partial or frame.if_depth > loop.if_depth
            r.trainable_fact(loop.layer_root, flag, partial)
            return
    if isinstance(owner, ast.Name) and owner.id == "self":
        return
    found = _owner(r, owner, partial)
    if found is None:
        return
    root, partial = found
    if (
        isinstance(owner, ast.Name)
        and frame.loops
        and r.lookup(owner.id) is None
        and target.attr == "requires_grad"
    ):
        partial = True
    r.trainable_fact(root, flag, partial)


def note_layer_loop(r: Reader, node: ast.For | ast.AsyncFor, loop: Loop) -> None:
    """``for layer in base.layers[:100]:``: the loop visits (some of) a model's layers."""
    iter_node = node.iter
    target = node.target
    if (
        isinstance(iter_node, ast.Call)
        and isinstance(iter_node.func, ast.Name)
        and iter_node.func.id in ("enumerate", "tqdm", "list", "reversed")
        and iter_node.args
    ):
        iter_node = iter_node.args[0]
        if isinstance(target, ast.Tuple) and len(target.elts) == 2:
            target = target.elts[1]
    partial = False
    owner: ast.expr | None = None
    if (
        isinstance(iter_node, ast.Subscript)
        and isinstance(iter_node.value, ast.Attribute)
        and iter_node.value.attr == "layers"
    ):
        owner = iter_node.value.value
        partial = True
    elif isinstance(iter_node, ast.Attribute) and iter_node.attr == "layers":
        owner = iter_node.value
    elif (
        isinstance(iter_node, ast.Call)
        and isinstance(iter_node.func, ast.Attribute)
        and iter_node.func.attr in ("parameters", "named_parameters", "children", "modules")
    ):
        owner = iter_node.func.value
        if (
            iter_node.func.attr == "named_parameters"
            and isinstance(target, ast.Tuple)
            and len(target.elts) == 2
        ):
            target = target.elts[1]
    found = _owner(r, owner, partial) if owner is not None else None
    if found is None:
        return
    root, partial = found
    if isinstance(target, ast.Name):
        loop.layer_var = target.id
        loop.layer_root = root
        loop.layer_partial = partial
        loop.if_depth = r.frame.if_depth


def _owner(r: Reader, owner: ast.expr, partial: bool) -> tuple[str, bool] | None:
    """The model whose layers change, and whether only some do (``base.layers[0]``)."""
    root = r.root(owner)
    if root is None:
        return None
    return root, partial or not isinstance(owner, ast.Name)


@recognisers.method("requires_grad_")
def requires_grad(r: Reader, call: MethodCall) -> Value | None:
    node, receiver_node = call.node, call.receiver_node
    flag = r.const(node.args[0]) if node.args else True
    root = r.root(receiver_node)
    if isinstance(flag, bool) and root is not None:
        r.trainable_fact(root, flag, not isinstance(receiver_node, ast.Name))
    return call.receiver
