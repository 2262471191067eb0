"""Recognisers of what a cell shows: plots, printed values, displayed objects.

A call into matplotlib or seaborn (``plt.plot(h.history["loss"])``,
``sns.heatmap(cm)``, ``ax.plot(train_losses)``) sets ``plots_anything`` and,
when training histories flow into it, ``plots_history``; drawing a confusion
matrix sets ``shows_confusion``. ``print(...)`` / ``display(...)`` note the
data splits of the array shapes they print and whether they print an accuracy.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from grader.extract.source.recognisers.registry import FunctionCall, MethodCall, Recognisers
from grader.extract.source.values import EMPTY, Value
from grader.extract.source.vocabulary import (
    CM_DRAW,
    PLOT_METHODS,
    PLOT_OBJECT_METHODS,
    RE_HIST_LIST,
    RE_PLOT_HISTORY_FN,
    split_of,
)

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["history_method", "recognisers"]

recognisers = Recognisers()

_PLOTTING_MODULES = ("plt", "matplotlib", "pyplot", "sns", "seaborn")
_SETUP = ("figure", "subplots", "subplot", "title", "legend")  # not drawing, but a plot's
_CURVES = (
    "plot",
    "lineplot",
    "semilogy",
    "step",
    "scatter",
    "errorbar",
    "fill_between",
    "relplot",
    "line",
    "bar",
)  # calls that draw a history as a curve
_NOT_HISTORY = re.compile(
    r"top|confusion|sample|batch|predict|image|example|misclass|wrong|^show_results?$", re.I
)
_LINES = ("plot", "lineplot", "semilogy", "step", "errorbar", "relplot", "line")  # a curve
_ACCURACY_WORDS = ("acc", "přesnost", "presnost", "úspěšnost", "classification_report")


@recognisers.any_function
def plotting_module(r: Reader, call: FunctionCall) -> Value | None:
    """Any call into matplotlib or seaborn (and ``plot_model``)."""
    if not (
        call.callee.split(".", 1)[0] in _PLOTTING_MODULES
        or call.callee.startswith(("matplotlib.", "seaborn."))
        or call.name == "plot_model"
    ):
        return None
    _plot(r, call.name, call.node, [*call.args, *call.kwargs.values()], None)
    return EMPTY


@recognisers.function("print", "display")
def print_(r: Reader, call: FunctionCall) -> Value | None:
    node, args = call.node, call.args
    facts = r.sink()
    shapes = [
        sub for sub in ast.walk(node) if isinstance(sub, ast.Attribute) and sub.attr == "shape"
    ]
    shapes.sort(key=lambda a: (a.lineno, a.col_offset))
    for attr in shapes:
        split = split_of(r.text(attr.value))
        facts.printed_shapes.append(split if split != "unknown" else None)
    if (
        call.name == "print"
        and node.args
        and not node.keywords
        and all(isinstance(a, (ast.Name, ast.Attribute, ast.Subscript)) for a in node.args)
        and r.frame.emit
    ):
        facts.print_args.append([r.text(a) for a in node.args])
    if r.frame.emit:
        facts.typed_accuracies.extend(_typed_accuracies(node))
    if any(v.confusion for v in args):
        facts.shows_confusion = True
    if any(v.is_evaluate_result for v in args):
        facts.prints_accuracy = True
        return EMPTY
    for word in r.names_in(node):
        lowered = word.lower()
        if any(w in lowered for w in _ACCURACY_WORDS):
            facts.prints_accuracy = True
            break
    return EMPTY


_TYPED = re.compile(r"(?<![\w.{])(\d+(?:\.\d+)?)\s*%|(?<![\w.{])(0\.\d+)(?![\w.])")


def _literal_strings(node: ast.AST) -> list[str]:
    """The string constants of a call, format specs (``:.2f``) left out."""
    out: list[str] = []
    stack: list[ast.AST] = [node]
    while stack:
        sub = stack.pop()
        if isinstance(sub, ast.FormattedValue):
            stack.append(sub.value)
            continue
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            out.append(sub.value)
            continue
        stack.extend(ast.iter_child_nodes(sub))
    return out


def _typed_accuracies(node: ast.Call) -> list[float]:
    """Accuracies written into a print's own text: ``"it was 61% now"``, ``"baseline 0.71"``."""
    found: list[float] = []
    for text in _literal_strings(node):
        for m in _TYPED.finditer(text):
            percent, fraction = m.group(1), m.group(2)
            value = float(percent) / 100.0 if percent else float(fraction)
            if 0.0 < value <= 1.0:
                found.append(round(value, 6))
    return found


@recognisers.method(PLOT_OBJECT_METHODS, "show")
def plot_method(r: Reader, call: MethodCall) -> Value | None:
    """``ax.plot(...)``, ``df.plot()``, and ``disp.show()`` of a confusion matrix."""
    receiver = call.receiver
    if call.name not in PLOT_OBJECT_METHODS and not receiver.confusion:
        return None
    _plot(r, call.name, call.node, [*call.args, *call.kwargs.values(), receiver], receiver)
    if call.name == "plot" and receiver.confusion:
        r.sink().shows_confusion = True
    return EMPTY


def _metric_keys(r: Reader, arg: ast.expr) -> list[str]:
    """``results["train"]["accuracy"]``, ``secondary_y=['train_acc', 'val_acc']``: metrics plotted
    by the names they are kept under; the root of the subscript (or the names) is returned."""
    out: list[str] = []
    for sub in ast.walk(arg):
        if (
            isinstance(sub, ast.Constant)
            and isinstance(sub.value, str)
            and RE_HIST_LIST.fullmatch(sub.value.strip())
        ):
            out.append(r.root(arg) or sub.value)
    return out[:1]


def history_method(r: Reader, call: MethodCall) -> None:
    """``stats.plot_by_epoch()``, ``tracker.plot_history()``: a method whose name says it draws
    the training history."""
    if (
        not RE_PLOT_HISTORY_FN.search(call.name)
        or _NOT_HISTORY.search(call.name)
        or call.receiver.is_model
    ):
        return
    facts = r.sink()
    facts.plots_anything = True
    facts.plots_history = True
    if r.frame.emit:
        r.hist_plotted.append(r.text(call.receiver_node))


def _plot(
    r: Reader, name: str, node: ast.Call, sources: list[Value], receiver: Value | None
) -> None:
    facts = r.sink()
    drawing = name in PLOT_METHODS or name in ("show", "savefig") or receiver is not None
    if not drawing and name not in _SETUP:
        return
    if name in PLOT_METHODS or name == "show":
        facts.plots_anything = True
    if name in CM_DRAW and any(v.confusion for v in sources):
        facts.shows_confusion = True
    if name not in _CURVES:
        return
    refs: list[str] = []
    for v in sources:
        refs.extend(sorted(v.histories))
    if name != "bar":
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(arg, ast.Name) and RE_HIST_LIST.search(arg.id):
                known = r.lookup(arg.id)
                if known is None or not known.histories:
                    refs.append(r.text(arg))
            elif not refs and name in _LINES:
                refs.extend(_metric_keys(r, arg))
    if refs:
        facts.plots_history = True
        if r.frame.emit:
            r.hist_plotted.extend(refs)
