"""Binding values to names: assignments, loop targets, containers of models, model definitions.

``cnn = build_cnn()`` binds the model value to ``cnn`` and reports a
:class:`~grader.extract.facts.ModelDef`; ``models = [cnn, resnet]`` or
``models["cnn"] = cnn`` make a container whose members a loop iterates over;
``model.add(Dense(10))`` and ``model.fc = nn.Linear(...)`` grow a model that
was already reported.
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import TYPE_CHECKING

from grader.extract.facts import ModelDef
from grader.extract.kinds import AUGMENTATION_LAYERS
from grader.extract.source.syntax import root_text
from grader.extract.source.values import EMPTY, Framework, LayerSet, Value, merge
from grader.extract.source.vocabulary import PREPROCESSING, RE_HIST_NAME, RE_MODELISH

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = [
    "bind",
    "bind_loop_target",
    "bind_target_plain",
    "define_model",
    "grow",
    "is_model_name",
    "kept_value",
    "loop_members",
    "new_model_def",
]


def bind(r: Reader, target: ast.expr, value_node: ast.expr, value: Value) -> None:
    """Bind ``target = <value_node>`` (a name, a tuple, an attribute or an item)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        items = value.items
        if isinstance(value_node, (ast.Tuple, ast.List)) and len(value_node.elts) == len(
            target.elts
        ):
            for sub_t, sub_v in zip(target.elts, value_node.elts, strict=True):
                bind(r, sub_t, sub_v, r.ev(sub_v))
            return
        for i, sub in enumerate(target.elts):
            part = items[i] if items is not None and i < len(items) else value.flowing()
            if isinstance(sub, ast.Starred):
                sub = sub.value
            _bind_one(r, sub, value_node, part, from_tuple=True)
        return
    if isinstance(target, ast.Starred):
        target = target.value
    _bind_one(r, target, value_node, value, from_tuple=False)


def _bind_one(
    r: Reader, target: ast.expr, value_node: ast.expr, value: Value, from_tuple: bool
) -> None:
    """Bind one target; report the model or the alias the assignment makes."""
    frame = r.frame
    text = r.text(target)
    if isinstance(target, ast.Name):
        name = target.id
        if isinstance(value_node, (ast.Name, ast.Subscript, ast.Attribute)) and not from_tuple:
            source_text = r.text(value_node)
            if _aliasable(r, value_node, value) and source_text != text:
                r.facts.aliases[text] = source_text
        stored = kept_value(value, text)
        r.bind_name(name, stored)
        if value.built_by is not None and not isinstance(value_node, ast.Name):
            define_model(r, text, value)
        elif value.ensemble and r.ensemble_made and value.predictions and not value.layers:
            define_model(r, text, value)
            r.bind_name(name, stored.with_(predictions=frozenset({text})))
        return
    root = r.root(target)
    if root is None:
        return
    owner = r.lookup(root)
    if owner is not None and owner.is_model and root != "self":
        # model.fc = nn.Linear(...), model.classifier[6] = nn.Linear(...)
        grow(r, root, value_node)
        return
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        container = owner
        members = list(container.members or ()) if container is not None else []
        if value.built_by is not None:
            define_model(r, text, value)
            members.append(text)
        elif isinstance(value_node, ast.Name) and (
            value.is_model or RE_MODELISH.search(value_node.id)
        ):
            r.facts.aliases[text] = r.text(value_node)
            members.append(r.text(value_node))
        grown = merge([container or EMPTY, kept_value(value, root)])
        if members:
            grown = grown.with_(members=tuple(members))
        if frame.globals_env is None or root in frame.env or container is None:
            r.bind_name(root, grown)
        else:
            frame.env[root] = grown


def kept_value(value: Value, name: str) -> Value:
    """What a name keeps of ``value`` after ``name = <expression with that value>``."""
    out = value
    changes: dict[str, object] = {}
    if value.built_by is not None:
        changes["built_by"] = None
    if value.is_model and value.built_by is not None:
        changes["models"] = frozenset({name})
        if value.base is not None and value.base_var is None:
            changes["base_var"] = name
    if value.is_fit_result:
        changes["histories"] = value.histories | {root_text(name)}
        changes["is_fit_result"] = False
    if value.layer is not None and value.layer in AUGMENTATION_LAYERS:
        changes["augmented"] = True
    if changes:
        out = value.with_(**changes)
    return out


def _aliasable(r: Reader, value_node: ast.expr, value: Value) -> bool:
    """Whether ``name = <value_node>`` makes ``name`` another name of a model."""
    if value.is_model:
        return True
    if isinstance(value_node, ast.Name):
        return r.lookup(value_node.id) is None and bool(RE_MODELISH.search(value_node.id))
    if isinstance(value_node, ast.Subscript):
        root = r.root(value_node)
        container = r.lookup(root) if root else None
        return container is not None and bool(container.members)
    return False


def bind_target_plain(r: Reader, target: ast.expr, value: Value) -> None:
    """Bind a loop or ``with`` target: values flow on, only models keep being models."""
    if isinstance(target, ast.Name):
        r.frame.env[target.id] = value.flowing() if not value.is_model else value
    elif isinstance(target, (ast.Tuple, ast.List)):
        for i, sub in enumerate(target.elts):
            part = value.items[i] if value.items and i < len(value.items) else value.flowing()
            bind_target_plain(r, sub, part)
    elif isinstance(target, ast.Starred):
        bind_target_plain(r, target.value, value)


def bind_loop_target(
    r: Reader, target: ast.expr, member_value: Value, index: int | None, iter_value: Value
) -> None:
    """Bind the target of a loop over models (``for name, m in models.items()``)."""
    if index is None or not isinstance(target, (ast.Tuple, ast.List)):
        bind_target_plain(r, target, member_value)
        return
    for i, sub in enumerate(target.elts):
        bind_target_plain(r, sub, member_value if i == index else EMPTY)
    if isinstance(target.elts[-1], (ast.Tuple, ast.List)) and index >= len(target.elts):
        bind_target_plain(r, target.elts[-1], iter_value)


def grow(r: Reader, root: str, value_node: ast.expr | None) -> None:
    """Layers added to an existing model: ``m.add(...)``, ``model.fc = nn.Linear(...)``."""
    current = r.lookup(root)
    if current is None:
        return
    extra = r.ev(value_node) if value_node is not None else EMPTY
    if not extra.flows():
        return
    grown = merge([current, extra])
    grown = grown.with_(
        is_model=current.is_model,
        models=current.models or grown.models,
        base_var=current.base_var or grown.base_var,
        members=current.members,
    )
    if root in r.frame.env or r.frame.globals_env is None:
        r.frame.env[root] = grown
    else:
        assert r.frame.globals_env is not None
        r.frame.globals_env[root] = grown
    known = r.frame.local_defs.get(root)
    if known is None and r.frame.globals_env is None:
        known = r.nb.model_defs.get(root)
    if known is None and r.frame.globals_env is not None:
        known = r.nb.model_defs.get(root) if root not in r.frame.env else None
    if known is not None:
        fill_model_def(known, grown)


def define_model(r: Reader, var: str, value: Value) -> None:
    """Report the model ``value`` bound to ``var`` (kept locally inside a function body)."""
    frame = r.frame
    framework: Framework = value.framework or "keras"
    base_var = value.base_var
    if value.base is not None and base_var is None and value.built_by == "":
        base_var = var
    if value.base is None and base_var is None:
        base_var = _sub_model(r, value, var)
    model_def = new_model_def(
        value,
        var,
        builder=value.built_by or None,
        base_var=base_var,
        framework=framework,
        line=r.line(),
    )
    if not frame.emit or frame.globals_env is not None:
        frame.local_defs[var] = model_def
        return
    r.facts.model_defs.append(model_def)
    r.nb.model_defs[var] = model_def
    r.framework_hint(framework)


def _sub_model(r: Reader, value: Value, var: str) -> str | None:
    """A model of the notebook used whole inside another (``Sequential([model2, ...])``)."""
    found: list[str] = []
    for name in value.models:
        if name == var:
            continue
        known = r.lookup(name)
        if known is None or not known.is_model or not known.layers:
            continue
        if all(layer in AUGMENTATION_LAYERS or layer in PREPROCESSING for _, layer in known.layers):
            continue
        found.append(name)
    return found[0] if len(found) == 1 else None


def loop_members(r: Reader, node: ast.expr) -> tuple[list[str], int | None]:
    """The models a loop iterates over, and which item of the target holds them."""
    index: int | None = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name in ("enumerate", "tqdm", "list", "sorted", "reversed") and node.args:
            members, inner = loop_members(r, node.args[0])
            if name == "enumerate" and members:
                return members, 1 if inner is None else None
            return members, inner
        if name == "zip":
            for i, arg in enumerate(node.args):
                members, _ = loop_members(r, arg)
                if members:
                    return members, i
            return [], None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("items", "values")
    ):
        members, _ = loop_members(r, node.func.value)
        return members, 1 if node.func.attr == "items" else None
    if isinstance(node, ast.Name):
        found = r.lookup(node.id)
        if found is not None and found.members:
            return list(found.members), None
        return [], None
    if isinstance(node, (ast.List, ast.Tuple)):
        out: list[str] = []
        for element in node.elts:
            if isinstance(element, (ast.Tuple, ast.List)):
                for i, sub in enumerate(element.elts):
                    if is_model_name(r, sub):
                        out.append(r.text(sub))
                        index = i
            elif is_model_name(r, element):
                out.append(r.text(element))
        return out, index
    if isinstance(node, ast.Dict):
        return [r.text(v) for v in node.values if is_model_name(r, v)], None
    return [], None


def is_model_name(r: Reader, node: ast.expr) -> bool:
    """Whether ``node`` names a model (a known one, a builder, or a model-like name)."""
    if not isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)):
        return False
    if isinstance(node, ast.Name):
        found = r.lookup(node.id)
        if found is not None:
            return found.is_model
        if r.func(node.id) is not None:
            return True
        return bool(RE_MODELISH.search(node.id)) and not RE_HIST_NAME.search(node.id)
    value = r.ev(node)
    return value.is_model


# ------------------------------------------------------------ model defs


def count_layers(layers: LayerSet | None) -> Counter[str]:
    return Counter(name for _, name in sorted(layers)) if layers else Counter()


def new_model_def(
    value: Value,
    var: str,
    *,
    builder: str | None,
    base_var: str | None,
    framework: Framework,
    line: int,
    is_builder: bool = False,
) -> ModelDef:
    """The ModelDef of a model ``value`` bound to ``var`` (or returned by builder ``var``)."""
    return ModelDef(
        var=var,
        is_builder=is_builder,
        builder=builder,
        layers=count_layers(value.layers),
        residual=value.residual,
        separable=value.separable,
        bottleneck=value.bottleneck,
        base=value.base,
        base_var=base_var,
        weights=value.weights,
        ensemble=value.ensemble,
        framework=framework,
        line=line,
    )


def fill_model_def(model_def: ModelDef, value: Value) -> None:
    """Update a reported model after layers were added to it."""
    model_def.layers = count_layers(value.layers)
    model_def.residual = model_def.residual or value.residual
    model_def.separable = model_def.separable or value.separable
    model_def.bottleneck = model_def.bottleneck or value.bottleneck
    model_def.ensemble = model_def.ensemble or value.ensemble
    if model_def.base is None and value.base is not None:
        model_def.base = value.base
        model_def.base_var = value.base_var
        model_def.weights = value.weights
    if value.framework == "pytorch":
        model_def.framework = "pytorch"
