"""Statement handlers of the interpreter, registered by syntax-node type (:data:`STATEMENTS`).

Each handler reads one statement for its effects: assignments bind values to
names (:mod:`.binding`), loops and ``with`` blocks open the context a
recogniser needs (the models a loop iterates, a hand-written PyTorch training
loop, ``torch.no_grad()``), ``def`` and ``class`` register notebook functions
(:mod:`.functions`), imports record module names and the framework.
A statement without a handler has its children read in turn.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grader.extract.facts import FitCall
from grader.extract.source import binding, functions, origin, unrolling
from grader.extract.source.combining import is_skip
from grader.extract.source.recognisers import data, freezing, pytorch
from grader.extract.source.scope import Loop, NotebookFunction
from grader.extract.source.syntax import call_root_name, unparse
from grader.extract.source.values import EMPTY, NO_VALUE, Value, merge
from grader.extract.source.vocabulary import FRAMEWORK_OF_MODULE

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["STATEMENTS"]


def s_expr(r: Reader, node: ast.Expr) -> None:
    r.targets = []
    value = r.ev(node.value)
    r.note(value)
    if r.frame.globals_env is None:
        r.last_expr = value


def s_assign(r: Reader, node: ast.Assign | ast.AnnAssign) -> None:
    value_node = node.value
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if value_node is None:
        return
    for target in targets:
        if isinstance(target, ast.Attribute) and target.attr in ("trainable", "requires_grad"):
            freezing.trainable_assign(r, target, value_node)
    r.targets = list(targets)
    r.ensemble_made = False
    value = r.ev(value_node)
    r.targets = []
    r.note(value)
    data.note_assignment(r, list(targets), value_node)
    origin.note_origin(r, list(targets), value_node)
    for target in targets:
        binding.bind(r, target, value_node, value)
    r.last_expr = None


def s_augassign(r: Reader, node: ast.AugAssign) -> None:
    r.targets = []
    value = r.ev(node.value)
    current = r.ev(node.target)
    combined = merge([current, value])
    if isinstance(node.op, ast.Add) and is_skip(r, node.target, node.value, current, value):
        combined = combined.with_(residual=True, layers=r.add_layer(combined, "Add"))
    if value.is_fit_result and isinstance(node.target, ast.Name):
        combined = combined.with_(histories=combined.histories | {node.target.id})
    r.note(combined)
    if isinstance(node.target, ast.Name):
        keep = r.lookup(node.target.id)
        if keep is not None and keep.constant is not NO_VALUE:
            new_const = r.const(ast.BinOp(left=node.target, op=node.op, right=node.value))
            combined = combined.with_(constant=new_const)
        r.bind_name(node.target.id, combined)
    elif isinstance(node.target, (ast.Subscript, ast.Attribute)):
        root = r.root(node.target)
        if root is not None:
            binding.grow(r, root, node.value)


def s_for(r: Reader, node: ast.For | ast.AsyncFor) -> None:
    r.targets = []
    iter_value = r.ev(node.iter)
    items = unrolling.unrolled_items(r, node, iter_value)
    if items is not None:
        unrolling.unroll(r, node, items)
        return
    members, index = binding.loop_members(r, node.iter)
    loop = Loop(models=members, split=r.split_of_node(node.iter), counted=_counted(node.iter))
    freezing.note_layer_loop(r, node, loop)
    if members:
        member = merge(r.lookup(m) or EMPTY for m in members)
        member = member.with_(is_model=True, models=frozenset(members))
        binding.bind_loop_target(r, node.target, member, index, iter_value)
    else:
        binding.bind_target_plain(r, node.target, iter_value)
    _loop_body(r, node, loop, iter_value)


def _counted(node: ast.expr) -> bool:
    """``range(n)``, ``tqdm(range(n))``, ``enumerate(range(n))``: a loop that only counts."""
    while isinstance(node, ast.Call) and node.args:
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else ""
        )
        if name in ("range", "trange"):
            return True
        if name not in ("tqdm", "enumerate", "notebook_tqdm"):
            return False
        node = node.args[0]
    return False


def s_while(r: Reader, node: ast.While) -> None:
    r.note(r.ev(node.test))
    _loop_body(r, node, Loop(models=[]), None)


def _loop_body(
    r: Reader, node: ast.For | ast.AsyncFor | ast.While, loop: Loop, iter_value: Value | None
) -> None:
    """Read a loop's body (and ``else``) inside ``loop``, a hand-written training loop perhaps."""
    frame = r.frame
    role = pytorch.enter_loop(r, node, iter_value)
    frame.loops.append(loop)
    fits_before = len(r.facts.fits)
    try:
        r.stmts(node.body)
        r.stmts(node.orelse)
    finally:
        frame.loops.pop()
    pytorch.leave_loop(r, node, role)
    if loop.counted and role is not pytorch.LoopRole.TRAINING and len(r.facts.fits) > fits_before:
        _validation_in_loop(r, node, r.facts.fits[fits_before:])


def _validation_in_loop(
    r: Reader, node: ast.For | ast.AsyncFor | ast.While, fits: list[FitCall]
) -> None:
    """``for ep in range(n): train(net, train_loader); validate(net, test_loader)``: in a loop
    over epochs, the other calls say which data validates the training calls it holds."""
    pending = [f for f in fits if f.validation == "none"]
    if not pending:
        return
    lines = {f.line for f in fits}
    splits: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and sub.lineno not in lines:
            for arg in [*sub.args, *(k.value for k in sub.keywords)]:
                if isinstance(arg, ast.Name):
                    splits.add(r.split_of_node(arg))
    if "test" in splits or "val" in splits:
        for fit in pending:
            fit.validation = "test" if "test" in splits else "val"


def s_if(r: Reader, node: ast.If) -> None:
    r.targets = []
    r.note(r.ev(node.test))
    # A test on values known here (``if name == "resnet18":`` in a builder called
    # with that name) takes one branch; inside loops values change, so both.
    decided = r.const(node.test) if r.frame.prune and not r.frame.loops else NO_VALUE
    r.frame.if_depth += 1
    try:
        if decided is NO_VALUE or not isinstance(decided, (bool, int, str, float)):
            r.stmts(node.body)
            r.stmts(node.orelse)
        elif decided:
            r.stmts(node.body)
        else:
            r.stmts(node.orelse)
    finally:
        r.frame.if_depth -= 1


def s_with(r: Reader, node: ast.With | ast.AsyncWith) -> None:
    frame = r.frame
    saved = frame.no_grad
    for item in node.items:
        expr = item.context_expr
        callee = r.dotted(expr.func) if isinstance(expr, ast.Call) else None
        if callee and callee.endswith(("no_grad", "inference_mode")):
            frame.no_grad = True
        else:
            value = r.ev(expr)
            if item.optional_vars is not None:
                binding.bind_target_plain(r, item.optional_vars, value)
    try:
        r.stmts(node.body)
    finally:
        frame.no_grad = saved


def s_try(r: Reader, node: ast.Try | ast.TryStar) -> None:
    r.stmts(node.body)
    for handler in node.handlers:
        r.stmts(handler.body)
    r.stmts(node.orelse)
    r.stmts(node.finalbody)


def s_return(r: Reader, node: ast.Return) -> None:
    if node.value is None:
        return
    r.targets = []
    value = r.ev(node.value)
    r.note(value)
    r.frame.returns.append(value)
    returned = node.value
    if isinstance(returned, ast.Tuple):
        names = [e.id if isinstance(e, ast.Name) else None for e in returned.elts]
    else:
        names = [returned.id if isinstance(returned, ast.Name) else call_root_name(returned)]
    r.frame.return_names.append(names)


def s_import(r: Reader, node: ast.Import | ast.ImportFrom) -> None:
    facts = r.facts
    if isinstance(node, ast.Import):
        for alias in node.names:
            top = alias.name.split(".", 1)[0]
            facts.imports.add(top)
            local = alias.asname or top
            r.nb.imports[local] = alias.name if alias.asname else top
            r.frame.env.pop(local, None)
    else:
        if node.level or not node.module:
            return
        top = node.module.split(".", 1)[0]
        facts.imports.add(top)
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            r.nb.imports[local] = f"{node.module}.{alias.name}"
            r.frame.env.pop(local, None)
    for name in facts.imports:
        hint = FRAMEWORK_OF_MODULE.get(name)
        if hint:
            facts.framework_hints.add(hint)


def s_def(r: Reader, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
    fn = NotebookFunction(name=node.name, node=node, is_class=isinstance(node, ast.ClassDef))
    if isinstance(node, ast.ClassDef):
        for base in node.bases:
            text = unparse(base)
            last = text.rsplit(".", 1)[-1]
            parent = r.func(last)
            if last in ("Module",) or text.startswith(("nn.", "torch.")):
                fn.module_class, fn.framework = True, "pytorch"
            elif last in ("Model", "Sequential"):
                fn.module_class, fn.framework = True, "keras"
            elif last == "Layer":
                fn.framework = "keras"
            elif parent is not None and parent.is_class:
                fn.module_class, fn.framework = parent.module_class, parent.framework
    frame = r.frame
    if frame.globals_env is None:
        r.nb.funcs[node.name] = fn
        r.nb.env.pop(node.name, None)
        r.facts.defines_functions.append(node.name)
        if frame.emit:
            functions.define_builder(r, fn)
            if not r.nb.expand_calls and not isinstance(node, ast.ClassDef):
                # Read on its own, a cell reports what its function bodies do, named
                # by their parameters; the caller maps them at the call sites.
                functions.run_function(r, fn, node, None, [], {}, emit=True, body=True)
    else:
        frame.funcs[node.name] = fn


STATEMENTS: dict[type[ast.stmt], Callable[[Reader, Any], None]] = {
    ast.Expr: s_expr,
    ast.Assign: s_assign,
    ast.AnnAssign: s_assign,
    ast.AugAssign: s_augassign,
    ast.For: s_for,
    ast.AsyncFor: s_for,
    ast.While: s_while,
    ast.If: s_if,
    ast.With: s_with,
    ast.AsyncWith: s_with,
    ast.Try: s_try,
    ast.TryStar: s_try,
    ast.Return: s_return,
    ast.Import: s_import,
    ast.ImportFrom: s_import,
    ast.FunctionDef: s_def,
    ast.AsyncFunctionDef: s_def,
    ast.ClassDef: s_def,
}
"""The handler of each kind of statement; others have their children read."""
