"""Expression handlers of the interpreter, registered by syntax-node type (:data:`EXPRESSIONS`).

Each handler returns the :class:`~grader.extract.source.values.Value` of an
expression: names look up what earlier statements bound, ``a + b`` merges
(and may be a skip connection or an averaged ensemble), ``h.history["loss"]``
refers to a training history, list and dict literals become containers of
models. Calls are read by :func:`grader.extract.source.calls.e_call`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grader.extract.source import binding
from grader.extract.source.calls import e_call
from grader.extract.source.combining import is_ensemble, is_skip
from grader.extract.source.recognisers import data, pytorch
from grader.extract.source.syntax import root_text, unparse
from grader.extract.source.values import EMPTY, NO_VALUE, Value, merge
from grader.extract.source.vocabulary import METRIC_KEY, RE_HIST_NAME, RE_MODELISH

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["EXPRESSIONS"]


def e_name(r: Reader, node: ast.Name) -> Value:
    found = r.lookup(node.id)
    if found is None:
        fn = r.func(node.id)
        if fn is not None:
            return Value.of(type_name="function")
        return EMPTY
    return found


def e_attribute(r: Reader, node: ast.Attribute) -> Value:
    inner = r.ev(node.value)
    attr = node.attr
    if attr == "history":
        refs = inner.histories or frozenset({root_text(r.text(node.value))})
        return inner.flowing().with_(histories=refs)
    owner = node.value
    owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
    if attr.startswith(("DEFAULT", "IMAGENET1K")) or (
        isinstance(owner_name, str) and owner_name.endswith("_Weights")
    ):
        return Value.of(weights="imagenet")
    if inner.is_model and attr in ("output", "input", "outputs", "inputs", "layers"):
        return inner.flowing().with_(models=inner.models)
    return inner.flowing()


def e_subscript(r: Reader, node: ast.Subscript) -> Value:
    inner = r.ev(node.value)
    index = node.slice
    r.ev(index)
    if (
        isinstance(index, ast.Constant)
        and isinstance(index.value, str)
        and METRIC_KEY.search(index.value)
        and (inner.histories or RE_HIST_NAME.search(r.text(node.value).split(".")[-1]))
    ):
        root = r.root(node.value)
        refs = inner.histories or (frozenset({root}) if root else frozenset())
        return inner.flowing().with_(histories=refs)
    if (
        inner.items is not None and isinstance(index, ast.Constant) and isinstance(index.value, int)
    ) and -len(inner.items) <= index.value < len(inner.items):
        return inner.items[index.value]
    if inner.members is not None and inner.is_model is False and inner.flows():
        return inner.flowing().with_(is_model=True) if inner.members else inner.flowing()
    return inner.flowing()


def e_binop(r: Reader, node: ast.BinOp) -> Value:
    left, right = r.ev(node.left), r.ev(node.right)
    out = merge([left, right])
    const = (
        r.const(node)
        if (left.constant is not NO_VALUE or right.constant is not NO_VALUE)
        else NO_VALUE
    )
    if const is not NO_VALUE:
        out = out.with_(constant=const)
    if isinstance(node.op, ast.Add):
        if is_ensemble([left, right]):
            r.ensemble_made = True
            out = out.with_(ensemble=True)
        elif is_skip(r, node.left, node.right, left, right):
            out = out.with_(residual=True, layers=r.add_layer(out, "Add"))
    return out


def e_compare(r: Reader, node: ast.Compare) -> Value:
    parts = [r.ev(node.left), *(r.ev(c) for c in node.comparators)]
    out = merge(parts)
    pytorch.compared_predictions(r, node, parts)
    return out


def e_boolop(r: Reader, node: ast.BoolOp) -> Value:
    return merge(r.ev(v) for v in node.values)


def e_collection(r: Reader, node: ast.List | ast.Tuple | ast.Set) -> Value:
    parts = [r.ev(e) for e in node.elts]
    if parts and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        data.class_names(
            r,
            [
                e.value
                for e in node.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ],
        )
    out = merge(parts)
    members = [
        r.text(e)
        for e, v in zip(node.elts, parts, strict=True)
        if v.is_model
        or (
            isinstance(e, ast.Name)
            and r.lookup(e.id) is None
            and RE_MODELISH.search(e.id)
            and not RE_HIST_NAME.search(e.id)
        )
    ]
    labels = tuple(
        v.type_name or (r.text(e) if isinstance(e, ast.Name) else "")
        for e, v in zip(node.elts, parts, strict=True)
    )
    out = out.with_(item_labels=labels, items=tuple(parts) if isinstance(node, ast.Tuple) else None)
    if not isinstance(node, ast.Set) and all(v.constant is not NO_VALUE for v in parts):
        out.constant = tuple(v.constant for v in parts)
    if members:
        out.members = tuple(members)
    return out


def e_dict(r: Reader, node: ast.Dict) -> Value:
    parts: list[Value] = []
    members: list[str] = []
    values = [v for v in node.values]
    strings = [v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if len(strings) >= 2 and len(strings) == len(values):
        data.class_names(r, strings)
    target = r.targets[0] if len(r.targets) == 1 else None
    target_text = r.text(target) if isinstance(target, ast.Name) else None
    for key, value_node in zip(node.keys, values, strict=True):
        value = r.ev(value_node)
        if key is not None:
            r.ev(key)
        parts.append(value)
        if target_text is not None and key is not None:
            entry = f"{target_text}[{unparse(key)}]"
            if value.built_by is not None:
                binding.define_model(r, entry, value)
                members.append(entry)
            elif isinstance(value_node, ast.Name) and (
                value.is_model or RE_MODELISH.search(value_node.id)
            ):
                r.facts.aliases[entry] = r.text(value_node)
                members.append(r.text(value_node))
    out = merge(parts)
    if members:
        out = out.with_(members=tuple(members))
    return out


def e_comprehension(
    r: Reader, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
) -> Value:
    expanded = expand_comprehension(r, node)
    if expanded is not None:
        return expanded
    env = r.frame.env
    saved: dict[str, Value | None] = {}
    multi = False
    for gen in node.generators:
        iter_value = r.ev(gen.iter)
        members, index = binding.loop_members(r, gen.iter)
        names = [n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)]
        for name in names:
            saved.setdefault(name, env.get(name))
        if members:
            multi = multi or len(members) >= 2
            member_value = merge(r.lookup(m) or EMPTY for m in members).with_(
                is_model=True,
                models=frozenset(members),
            )
            binding.bind_loop_target(r, gen.target, member_value, index, iter_value)
        else:
            binding.bind_target_plain(r, gen.target, iter_value)
        for cond in gen.ifs:
            r.ev(cond)
    if isinstance(node, ast.DictComp):
        out = merge([r.ev(node.key), r.ev(node.value)])
    else:
        out = r.ev(node.elt)
    _restore(env, saved)
    if multi and (out.predictions or out.models):
        out = out.with_(predictions=out.predictions | out.models)
    return out


def expand_comprehension(
    r: Reader, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
) -> Value | None:
    """``{n: build(n) for n in ["a", "b"]}``: one model per literal item."""
    if len(node.generators) != 1 or len(r.targets) != 1:
        return None
    target = r.targets[0]
    gen = node.generators[0]
    value_node = node.value if isinstance(node, ast.DictComp) else node.elt
    if not (
        isinstance(target, ast.Name)
        and isinstance(gen.target, ast.Name)
        and not gen.ifs
        and isinstance(value_node, ast.Call)
        and isinstance(value_node.func, ast.Name)
        and r.func(value_node.func.id) is not None
    ):
        return None
    items = r.const(gen.iter)
    if not isinstance(items, tuple) or not 0 < len(items) <= 12:
        return None
    var = gen.target.id
    env = r.frame.env
    saved = env.get(var)
    members: list[str] = []
    parts: list[Value] = []
    try:
        for i, item in enumerate(items):
            env[var] = Value.of(constant=item)
            entry: str | None = f"{target.id}[{i}]"
            if isinstance(node, ast.DictComp):
                key = node.key
                keyed = isinstance(key, ast.Name) and key.id == var
                entry = f"{target.id}[{item!r}]" if keyed else None
            r.targets = [ast.Name(id=entry or target.id, ctx=ast.Store())]
            value = r.ev(value_node)
            parts.append(value)
            if value.built_by is not None and entry is not None:
                binding.define_model(r, entry, value)
                members.append(entry)
    finally:
        r.targets = [target]
        _restore(env, {var: saved})
    out = merge(parts)
    if members:
        out = out.with_(members=tuple(members))
    return out


def _restore(env: dict[str, Value], saved: dict[str, Value | None]) -> None:
    """Put back the names a comprehension or lambda bound for itself (None: unbound)."""
    for name, old in saved.items():
        if old is None:
            env.pop(name, None)
        else:
            env[name] = old


def e_lambda(r: Reader, node: ast.Lambda) -> Value:
    env = r.frame.env
    names = [a.arg for a in node.args.args]
    saved = {n: env.get(n) for n in names}
    for n in names:
        env[n] = EMPTY
    out = r.ev(node.body)
    _restore(env, saved)
    return out.flowing()


def e_namedexpr(r: Reader, node: ast.NamedExpr) -> Value:
    value = r.ev(node.value)
    if isinstance(node.target, ast.Name):
        r.frame.env[node.target.id] = binding.kept_value(value, node.target.id)
    return value


def e_joinedstr(r: Reader, node: ast.JoinedStr) -> Value:
    return merge(r.ev(v) for v in node.values)


def e_formatted(r: Reader, node: ast.FormattedValue) -> Value:
    return r.ev(node.value)


def e_yield(r: Reader, node: ast.Yield | ast.YieldFrom) -> Value:
    value = r.ev(node.value) if node.value is not None else EMPTY
    r.frame.returns.append(value)
    r.frame.return_names.append([None])
    return EMPTY


def e_starred(r: Reader, node: ast.Starred) -> Value:
    return r.ev(node.value)


def e_ifexp(r: Reader, node: ast.IfExp) -> Value:
    r.ev(node.test)
    return merge([r.ev(node.body), r.ev(node.orelse)])


EXPRESSIONS: dict[type[ast.AST], Callable[[Reader, Any], Value]] = {
    ast.Name: e_name,
    ast.Attribute: e_attribute,
    ast.Subscript: e_subscript,
    ast.BinOp: e_binop,
    ast.Compare: e_compare,
    ast.BoolOp: e_boolop,
    ast.List: e_collection,
    ast.Tuple: e_collection,
    ast.Set: e_collection,
    ast.Dict: e_dict,
    ast.ListComp: e_comprehension,
    ast.SetComp: e_comprehension,
    ast.GeneratorExp: e_comprehension,
    ast.DictComp: e_comprehension,
    ast.Lambda: e_lambda,
    ast.NamedExpr: e_namedexpr,
    ast.JoinedStr: e_joinedstr,
    ast.FormattedValue: e_formatted,
    ast.Starred: e_starred,
    ast.Yield: e_yield,
    ast.YieldFrom: e_yield,
    ast.IfExp: e_ifexp,
    ast.Call: e_call,
}
"""The handler of each kind of expression; others merge the values of their children."""
