"""How values combine: skip connections and ensembles.

``x + shortcut`` in a network is a skip connection; ``(p1 + p2) / 2`` or
``layers.average([m1(x), m2(x)])`` of different models' outputs is an ensemble;
``a + b`` of counters or strings is neither.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.source.syntax import distinct_models, is_stringy
from grader.extract.source.values import NO_VALUE, Value
from grader.extract.source.vocabulary import RE_COUNTERISH

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["combine", "is_ensemble", "is_skip"]


def is_skip(r: Reader, left: ast.expr, right: ast.expr, lt: Value, rt: Value) -> bool:
    """Whether ``left + right`` adds two tensors of a network (a skip connection)."""
    for side, value in ((left, lt), (right, rt)):
        if (
            value.constant is not NO_VALUE
            or value.predictions
            or value.histories
            or value.confusion
            or is_stringy(side)
        ):
            return False
        if isinstance(side, (ast.Name, ast.Attribute)):
            name = side.id if isinstance(side, ast.Name) else side.attr
            if RE_COUNTERISH.match(name):
                return False
        elif not isinstance(side, (ast.Call, ast.Subscript, ast.BinOp)):
            return False
    if r.frame.in_forward:
        return True
    return bool(lt.layers or rt.layers)


def is_ensemble(values: list[Value]) -> bool:
    """Whether the values hold the outputs of different models (averaged: an ensemble)."""
    sets: list[frozenset[str]] = []
    for v in values:
        own = v.predictions or frozenset(m for m in v.models if m != v.base_var)
        if own:
            sets.append(own)
    return (
        len(sets) >= 2
        and len(set(sets)) >= 2
        and not any(a <= b or b <= a for i, a in enumerate(sets) for b in sets[i + 1 :])
    )


def combine(r: Reader, out: Value, node: ast.Call, arg_values: list[Value], kind: str) -> Value:
    """``Add()([x, y])``, ``layers.average([m1(x), m2(x)])``, ``torch.add(a, b)``."""
    first = node.args[0] if node.args else None
    if isinstance(first, (ast.List, ast.Tuple)):
        nodes: list[ast.expr] = list(first.elts)
        elements = [r.ev(e) for e in nodes]
    else:
        nodes, elements = list(node.args), arg_values
    if len(elements) < 2:
        return out
    if is_ensemble(elements) or (kind == "Average" and distinct_models(nodes)):
        r.ensemble_made = True
        return out.with_(ensemble=True)
    if kind == "Add":
        return out.with_(residual=True)
    return out
