"""Loops over a few constants that train a model: read once per value.

``for name in ['VGG16', 'ResNet50']: model = build(name); model.fit(...)``
trains one model per value, each built differently (the builder branches on
the name). Read as a loop, the body is one model with every branch merged.
Read once per value, with the loop variable bound to it, each iteration
reports its own :class:`~grader.extract.facts.ModelDef`, fits and
evaluations, marked with ``iteration`` (the value's repr) so that the
assembly keeps the models of the iterations apart. Only short literal collections of
constants are unrolled, and only when the body trains something.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.source.syntax import scan
from grader.extract.source.values import Value
from grader.extract.source.vocabulary import FIT_METHODS

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["MAX_ITERATIONS", "unroll", "unrolled_items"]

#: Longer loops over constants are hyperparameter grids: read as one loop.
MAX_ITERATIONS = 8


def _constants(r: Reader, node: ast.expr, value: Value) -> tuple[object, ...] | None:
    items: object = value.constant
    if isinstance(node, (ast.List, ast.Tuple)):
        items = tuple(e.value for e in node.elts if isinstance(e, ast.Constant))
        if len(items) != len(node.elts):
            return None
    if not isinstance(items, tuple) or not 2 <= len(items) <= MAX_ITERATIONS:
        return None
    if not all(isinstance(i, (str, int, float)) and not isinstance(i, bool) for i in items):
        return None
    return items


def _calls_fit(node: ast.AST) -> bool:
    return any(
        isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Attribute)
        and sub.func.attr in FIT_METHODS
        for sub in ast.walk(node)
    )


def _steps_outside_loops(body: list[ast.stmt]) -> bool:
    """A training step right in the loop's body: the loop is itself a training loop."""
    for stmt in body:
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if scan(stmt).steps:
            return True
    return False


def _trains(r: Reader, node: ast.For | ast.AsyncFor) -> bool:
    if _steps_outside_loops(node.body):
        return False
    body = ast.Module(body=node.body, type_ignores=[])
    if _calls_fit(body) or any(
        isinstance(s, (ast.For, ast.AsyncFor, ast.While)) and scan(s).steps for s in node.body
    ):
        return True
    for name in scan(body).user_calls:
        fn = r.func(name)
        if fn is not None and not fn.is_class and (_calls_fit(fn.node) or scan(fn.node).steps):
            return True
    return False


def unrolled_items(
    r: Reader, node: ast.For | ast.AsyncFor, value: Value
) -> tuple[object, ...] | None:
    """The constants to read the loop's body with, one by one; None: read it as a loop."""
    frame = r.frame
    if not frame.emit or frame.globals_env is not None or frame.loops or frame.torch_fit:
        return None
    if not isinstance(node.target, ast.Name) or node.orelse:
        return None
    items = _constants(r, node.iter, value)
    if items is None or not _trains(r, node):
        return None
    return items


def unroll(r: Reader, node: ast.For | ast.AsyncFor, items: tuple[object, ...]) -> None:
    """Read the body once per item, marking the facts each iteration reports."""
    assert isinstance(node.target, ast.Name)
    facts = r.facts
    for item in items:
        before = (len(facts.model_defs), len(facts.fits), len(facts.evaluates))
        r.bind_name(node.target.id, Value.of(constant=item))
        r.stmts(node.body)
        label = repr(item)
        for model_def in facts.model_defs[before[0] :]:
            model_def.iteration = model_def.iteration or label
        for fit in facts.fits[before[1] :]:
            fit.iteration = fit.iteration or label
        for evaluate in facts.evaluates[before[2] :]:
            evaluate.iteration = evaluate.iteration or label
