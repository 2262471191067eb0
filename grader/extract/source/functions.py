"""Notebook functions and classes: read where they are called, or summarised once.

A call of a function the notebook defines is read through its body
(:func:`run_function`), with the parameters bound to the caller's argument
values and named after the caller's variables, so ``hist = train(cnn)``
reports ``FitCall(model_var="cnn", history_var="hist")``. A helper that only
builds layers (``conv_block(x, 64)``) is summarised once (:func:`summarise`)
and its summary reused at every call; a class subclassing ``nn.Module`` or
``keras.Model`` is summarised from all its methods (:func:`instantiate`).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.facts import CompileCall, EvaluateCall, FitCall, TrainableChange
from grader.extract.source.binding import new_model_def
from grader.extract.source.recognisers.guesses import model_arg
from grader.extract.source.scope import MAX_DEPTH, Frame, NotebookFunction
from grader.extract.source.syntax import constructs_model, is_simple, scan, unparse
from grader.extract.source.values import EMPTY, Framework, Value, merge
from grader.extract.source.vocabulary import RE_CONFUSION_FN, RE_EVAL_FN

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["define_builder", "run_function", "summarise", "user_call"]


def define_builder(r: Reader, fn: NotebookFunction) -> None:
    """Report a function or class that builds a model as a builder ModelDef."""
    summary = summarise(r, fn)
    if not (summary.is_model or fn.module_class):
        return
    framework: Framework = fn.framework or summary.framework or "keras"
    model_def = new_model_def(
        summary,
        fn.name,
        builder=None,
        base_var=summary.base_var,
        framework=framework,
        line=getattr(fn.node, "lineno", 0),
        is_builder=True,
    )
    r.facts.model_defs.append(model_def)
    r.framework_hint(framework)


def summarise(r: Reader, fn: NotebookFunction) -> Value:
    """What a function or class contributes to the model it builds, read once."""
    if fn.summary is not None:
        return fn.summary
    if fn.summarising or len(r.frame.stack) >= MAX_DEPTH:
        return EMPTY
    fn.summarising = True
    try:
        if isinstance(fn.node, ast.ClassDef):
            summary = _summarise_class(r, fn, fn.node)
        else:
            summary = run_function(r, fn, fn.node, None, [], {}, emit=False)[0]
    finally:
        fn.summarising = False
    fn.summary = summary
    return summary


def _summarise_class(r: Reader, fn: NotebookFunction, node: ast.ClassDef) -> Value:
    """A class's summary: its parent classes' and all its methods' contributions."""
    parts: list[Value] = []
    for base in node.bases:
        parent = r.func(unparse(base).rsplit(".", 1)[-1])
        if parent is not None and parent.is_class and parent is not fn:
            parts.append(summarise(r, parent))
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            result, frame = run_function(r, fn, item, None, [], {}, emit=False, method=True)
            parts.append(result)
            fn.trainables.extend(frame.trainables)
    out = merge(parts)
    return out.with_(is_model=fn.module_class, framework=fn.framework or out.framework)


def run_function(
    r: Reader,
    fn: NotebookFunction,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    call: ast.Call | None,
    arg_values: list[Value],
    kw_values: dict[str, Value],
    emit: bool,
    method: bool = False,
    body: bool = False,
) -> tuple[Value, Frame]:
    """Read a function body in a new frame; its value and the frame it was read in.

    ``call``: the call site (arguments bound to the parameters), None when
    summarising. ``emit``: report the facts of the body. ``method``: a method
    (``self`` not a parameter). ``body``: read where it is defined (read_source).
    """
    caller = r.frame
    frame = Frame(
        env={},
        globals_env=caller.globals_env if caller.globals_env is not None else caller.env,
        emit=emit and caller.emit,
        line=None if body else caller.line or r.stmt_line,
        stack=caller.stack + (fn.name,),
        acc=[] if not emit else None,
        in_forward=method and node.name in ("forward", "call", "__call__"),
        torch_fit=caller.torch_fit,
        torch_eval=caller.torch_eval,
        pending=caller.pending,
        no_grad=caller.no_grad,
        outer_loops=caller.outer_loops + caller.loops,
        prune=call is not None,
    )
    params = node.args.posonlyargs + node.args.args
    if method and params and params[0].arg in ("self", "cls"):
        params = params[1:]
    defaults = node.args.defaults
    first_default = len(params) - len(defaults)
    for i, param in enumerate(params):
        frame.env[param.arg] = EMPTY
        if i >= first_default:
            frame.env[param.arg] = r.ev(defaults[i - first_default])
    for kwarg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=False):
        frame.env[kwarg.arg] = r.ev(default) if default is not None else EMPTY
    if call is not None:
        for i, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred) or i >= len(params):
                break
            name = params[i].arg
            frame.env[name] = arg_values[i] if i < len(arg_values) else EMPTY
            if is_simple(arg):
                frame.subst[name] = r.text(arg)
        for keyword in call.keywords:
            if keyword.arg is None:
                continue
            frame.env[keyword.arg] = kw_values.get(keyword.arg, EMPTY)
            if is_simple(keyword.value):
                frame.subst[keyword.arg] = r.text(keyword.value)
    saved = r.frame, r.targets, r.stmt_line
    r.frame = frame
    try:
        r.stmts(node.body)
    except RecursionError:
        pass
    finally:
        r.frame, r.targets, r.stmt_line = saved
    result = _function_result(frame)
    if not emit and frame.acc is not None:
        whole = merge(frame.acc)
        if result.is_model or whole.layers or whole.base:
            merged = merge([whole, result])
            result = merged.with_(
                is_model=result.is_model or (bool(frame.returns) and constructs_model(node)),
                items=result.items,
            )
    return result, frame


def _function_result(frame: Frame) -> Value:
    """The value a function returns: its returns merged (a tuple item by item)."""
    if not frame.returns:
        return EMPTY
    if len(frame.returns) == 1:
        return frame.returns[0]
    sizes = {len(v.items) if v.items is not None else -1 for v in frame.returns}
    merged = merge(frame.returns)
    is_model = any(v.is_model for v in frame.returns)
    if len(sizes) == 1 and -1 not in sizes:
        size = sizes.pop()
        items = tuple(
            merge(v.items[i] for v in frame.returns if v.items is not None).with_(
                is_model=any(v.items is not None and v.items[i].is_model for v in frame.returns)
            )
            for i in range(size)
        )
        return merged.with_(items=items, is_model=is_model)
    return merged.with_(is_model=is_model)


def _is_pure(r: Reader, fn: NotebookFunction, seen: frozenset[str] = frozenset()) -> bool:
    """Whether calling ``fn`` can produce no fact beyond the value it returns."""
    if fn.pure is not None:
        return fn.pure
    found = scan(fn.node)
    pure = not found.facts
    if pure:
        for name in found.user_calls - seen - {fn.name}:
            other = r.func(name)
            if other is not None and not _is_pure(r, other, seen | {fn.name}):
                pure = False
                break
    fn.pure = pure
    return pure


def _instantiate(
    r: Reader, fn: NotebookFunction, node: ast.Call, arg_values: list[Value], kw: dict[str, Value]
) -> Value:
    """``Net(...)``: a class defined in the notebook, with helper classes passed in."""
    summary = summarise(r, fn)
    out = merge([summary, *arg_values, *kw.values()])
    for arg in node.args:
        if isinstance(arg, ast.Name):
            helper = r.func(arg.id)
            if helper is not None and helper is not fn:
                out = merge([out, summarise(r, helper)])
    if fn.module_class or summary.layers:
        out = out.with_(is_model=True, built_by=fn.name, framework=fn.framework or out.framework)
    if fn.trainables:
        target = r.targets[0] if len(r.targets) == 1 else None
        text = r.text(target) if isinstance(target, (ast.Name, ast.Subscript)) else None
        for flag, partial in fn.trainables:
            r.trainable_fact(text, flag, partial)
    return out


def _rename_inline(r: Reader, inner: Frame, targets: list[ast.expr]) -> dict[str, str]:
    """Name the facts of an inlined call after the caller's variables."""
    mapping: dict[str, str] = {}
    target_texts: list[str | None] = []
    if len(targets) == 1 and isinstance(targets[0], (ast.Tuple, ast.List)):
        target_texts = [r.text(t) for t in targets[0].elts]
    elif len(targets) == 1:
        target_texts = [r.text(targets[0])]
    for names in inner.return_names:
        if len(names) == len(target_texts):
            for name, text in zip(names, target_texts, strict=True):
                if name and text and name not in inner.subst:
                    mapping[name] = text
    for fact in inner.emitted:
        if isinstance(fact, FitCall):
            if fact.model_var in mapping:
                fact.model_var = mapping[fact.model_var]
            if fact.history_var in mapping:
                fact.history_var = mapping[fact.history_var]
        elif isinstance(fact, EvaluateCall):
            if fact.model_var in mapping:
                fact.model_var = mapping[fact.model_var]
            if fact.result_var in mapping:
                fact.result_var = mapping[fact.result_var]
        elif isinstance(fact, CompileCall):
            if fact.model_var in mapping:
                fact.model_var = mapping[fact.model_var]
        elif isinstance(fact, TrainableChange) and fact.target in mapping:
            fact.target = mapping[fact.target]
    if inner.emit:
        for var, model_def in inner.local_defs.items():
            if var in mapping:
                continue
            r.facts.model_defs.append(model_def)
            r.framework_hint(model_def.framework)
    return mapping


def user_call(
    r: Reader, fn: NotebookFunction, node: ast.Call, arg_values: list[Value], kw: dict[str, Value]
) -> Value:
    """A call of a notebook function or class: read through its body, or its summary reused."""
    frame = r.frame
    if fn.name in frame.stack or len(frame.stack) >= MAX_DEPTH:
        return merge([*arg_values, *kw.values()])
    if isinstance(fn.node, ast.ClassDef):
        return _instantiate(r, fn, node, arg_values, kw)
    expand = r.nb.expand_calls and frame.emit
    nested = frame.globals_env is not None
    if (nested or not frame.emit) and (_is_pure(r, fn) or not expand):
        # Nested helpers that only build layers are read once and reused.
        summary = summarise(r, fn)
        if summary.layers:
            # Each call builds its own layers.
            summary = summary.with_(layers=r.fresh(summary.layers))
        out = merge([summary, *arg_values, *kw.values()])
        if summary.is_model:
            out = out.with_(is_model=True, built_by=fn.name, items=summary.items)
        return out
    targets = r.targets
    plotted = len(r.hist_plotted)
    result, inner = run_function(r, fn, fn.node, node, arg_values, kw, emit=expand)
    r.targets = targets
    if (
        expand
        and RE_EVAL_FN.search(fn.name)
        and not any(isinstance(f, (FitCall, EvaluateCall)) for f in inner.emitted)
    ):
        # ``evaluate(model, test_loader)`` whose body the reader cannot follow
        # (a comprehension over the batches): an evaluation all the same
        model = model_arg(r, node, arg_values)
        if model is not None:
            r.evaluate_fact("evaluate", model, r.split_of_node(node), r.named_val(node))
    if expand and RE_CONFUSION_FN.search(fn.name):
        # ``plot_confusion_matrix(cm, classes)`` of the notebook's own: it draws the matrix
        # it is given, however the notebook computed it
        facts = r.sink()
        facts.computes_confusion = facts.shows_confusion = True
    mapping = _rename_inline(r, inner, targets)
    r.hist_plotted[plotted:] = [mapping.get(h, h) for h in r.hist_plotted[plotted:]]
    frame.emitted.extend(inner.emitted)
    if result.base_var in mapping:
        result = result.with_(base_var=mapping[result.base_var])
    if result.is_model:
        result = result.with_(built_by=fn.name)
    elif result.items is not None and any(e.is_model for e in result.items):
        result = result.with_(
            items=tuple(e.with_(built_by=fn.name) if e.is_model else e for e in result.items),
        )
    return result
