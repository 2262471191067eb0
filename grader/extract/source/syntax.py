"""Small readings of Python syntax trees that the source reader shares.

Text of a node (:func:`unparse`), constant comparison, the shape of an operand
of ``+``, and :func:`scan`: one cached walk over a function body that says
whether it builds layers, has facts of its own, runs a training step or a
``no_grad`` block, and which names it calls.
"""

from __future__ import annotations

import ast
import contextlib
import re
from dataclasses import dataclass

from grader.extract.kinds import KERAS_APPLICATIONS, TORCHVISION_MODELS, canonical_layer
from grader.extract.source.values import NO_VALUE
from grader.extract.source.vocabulary import (
    FACT_ATTRS,
    FACT_NAMES,
    MODEL_CTORS,
    PASSTHROUGH,
    RE_STRINGY,
)


def unparse(node: ast.AST) -> str:
    """The source text of ``node`` (at most 120 characters; "" when it has none)."""
    try:
        return ast.unparse(node)[:120]
    except Exception:  # noqa: BLE001 - odd nodes from a recovered parse
        return ""


def compare_constants(op: ast.cmpop, left: object, right: object) -> object:
    """``left <op> right`` of two known constants, or NO_VALUE."""
    if left is NO_VALUE or right is NO_VALUE:
        return NO_VALUE
    try:
        if isinstance(op, ast.Eq):
            return left == right
        if isinstance(op, ast.NotEq):
            return left != right
        if isinstance(op, ast.In) and isinstance(right, (tuple, str)):
            return left in right
        if isinstance(op, ast.NotIn) and isinstance(right, (tuple, str)):
            return left not in right
        if is_number(left) and is_number(right):
            assert isinstance(left, (int, float)) and isinstance(right, (int, float))
            if isinstance(op, ast.Lt):
                return left < right
            if isinstance(op, ast.LtE):
                return left <= right
            if isinstance(op, ast.Gt):
                return left > right
            if isinstance(op, ast.GtE):
                return left >= right
    except TypeError:
        return NO_VALUE
    return NO_VALUE


def is_stringy(node: ast.AST) -> bool:
    """Whether an operand of ``+`` is text (layer names built by concatenation)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return is_stringy(node.left) or is_stringy(node.right)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in ("str", "format", "join", "repr")
    if isinstance(node, ast.Name):
        return bool(RE_STRINGY.search(node.id))
    return False


def distinct_models(nodes: list[ast.expr]) -> bool:
    """``[m1(x), m2(x)]`` or ``[m1.output, m2.output]``: outputs of different named models."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.add(node.func.id)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ("output", "outputs")
            and isinstance(node.value, ast.Name)
        ):
            names.add(node.value.id)
        else:
            return False
    return len(names) >= 2


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def is_falsy(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def is_simple(node: ast.AST) -> bool:
    """A name, attribute or subscript: an argument whose text names the caller's variable."""
    return isinstance(node, (ast.Name, ast.Attribute, ast.Subscript))


def root_text(text: str) -> str:
    """The variable at the root of an expression's text: ``h`` for ``h.history['loss']``."""
    return re.split(r"[.\[(]", text, maxsplit=1)[0] or text


def call_root_name(node: ast.AST) -> str | None:
    """``model`` for ``return model.to(device)``."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr not in PASSTHROUGH:
            return None
        node = node.func.value
    return node.id if isinstance(node, ast.Name) else None


@dataclass(frozen=True)
class Scan:
    """What one walk over a function or class body found."""

    builds: bool  # constructs layers (so ``a + b`` of tensors is a skip connection)
    facts: bool  # trains, evaluates, compiles, plots, freezes...: must be read where called
    user_calls: frozenset[str]  # bare names called (possibly other notebook functions)
    steps: bool  # a training step: backward(), apply_gradients(), optimizer.step()
    no_grad: bool  # a ``with torch.no_grad():`` block


def scan(node: ast.AST) -> Scan:
    """One walk over a function or class body, cached on the node."""
    cached = getattr(node, "_grader_scan", None)
    if isinstance(cached, Scan):
        return cached
    builds = facts = steps = no_grad = False
    calls: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Attribute):
                name = func.attr
                root = func.value
                while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
                    root = root.func if isinstance(root, ast.Call) else root.value
                if isinstance(root, ast.Name) and root.id in ("plt", "sns", "ax", "axes", "fig"):
                    facts = True
                if name in ("backward", "apply_gradients") or (
                    name == "step"
                    and not (isinstance(root, ast.Name) and "sched" in root.id.lower())
                    and not (isinstance(func.value, ast.Attribute) and "sched" in func.value.attr)
                ):
                    steps = True
            elif isinstance(func, ast.Name):
                name = func.id
                calls.add(name)
            else:
                continue
            if name in FACT_ATTRS or name in FACT_NAMES:
                facts = True
            if not builds and name[:1].isupper() and canonical_layer(name, "layers") is not None:
                builds = True
        elif isinstance(sub, (ast.Assign, ast.AugAssign)):
            targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
            if any(
                isinstance(t, ast.Attribute) and t.attr in ("trainable", "requires_grad")
                for t in targets
            ):
                facts = True
        elif isinstance(sub, (ast.With, ast.AsyncWith)):
            facts = True
            for item in sub.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call):
                    callee = expr.func
                    name = callee.attr if isinstance(callee, ast.Attribute) else ""
                    name = callee.id if isinstance(callee, ast.Name) else name
                    no_grad = no_grad or name in ("no_grad", "inference_mode")
    found = Scan(
        builds=builds, facts=facts, user_calls=frozenset(calls), steps=steps, no_grad=no_grad
    )
    with contextlib.suppress(AttributeError):
        setattr(node, "_grader_scan", found)  # noqa: B010 - a cache slot on the AST node
    return found


def _callee(call: ast.Call) -> str:
    """The last name of what is called: ``fit`` for ``model.fit(...)``, ``print`` for
    ``print(...)``; empty for anything else (``f()(...)``, ``x[0](...)``)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def constructs_model(node: ast.AST) -> bool:
    """Whether ``node`` calls a model constructor or a pretrained network."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = _callee(sub)
            if name in MODEL_CTORS or name in KERAS_APPLICATIONS or name in TORCHVISION_MODELS:
                return True
    return False


_PLOT_CALLS = frozenset(
    {
        "plot",
        "legend",
        "show",
        "title",
        "xlabel",
        "ylabel",
        "grid",
        "tight_layout",
        "savefig",
        "axis",
        "imshow",
        "heatmap",
        "suptitle",
        "figure",
        "subplots",
        "xticks",
        "yticks",
        "ylim",
        "xlim",
    }
)


def ends_with_plot(node: ast.expr) -> bool:
    """Whether a cell's last expression draws or styles a plot (``ax.set_ylim(0, 1)``).

    Its displayed value (``(0.0, 1.0)``, ``Text(...)``) is then not a result.
    """
    if not isinstance(node, ast.Call):
        return False
    name = _callee(node)
    return name in _PLOT_CALLS or name.startswith("set_")
