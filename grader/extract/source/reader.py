"""The interpreter core: reads one cell's syntax tree into :class:`SourceFacts`.

:class:`Reader` holds the state of reading one cell (the notebook so far, the
current frame, the facts found) and the small services every part of the
reader shares: the text of a node, constants, name lookup, the data split a
node names, and reporting a fact. Statements and expressions are read by
handlers registered per syntax-node type (:mod:`.statements`,
:mod:`.expressions`); calls go through :mod:`.calls`, which hands library
and method calls to the recognisers (:mod:`.recognisers`).
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Sequence
from typing import Literal

from grader.extract.facts import (
    CompileCall,
    EvaluateCall,
    FitCall,
    SourceFacts,
    TrainableChange,
)
from grader.extract.source.expressions import EXPRESSIONS
from grader.extract.source.scope import Frame, Notebook, NotebookFunction
from grader.extract.source.statements import STATEMENTS
from grader.extract.source.syntax import (
    compare_constants,
    ends_with_plot,
    is_number,
    scan,
    unparse,
)
from grader.extract.source.values import (
    EMPTY,
    NO_VALUE,
    EvalKind,
    Framework,
    LayerSet,
    Split,
    Value,
    merge,
)
from grader.extract.source.vocabulary import MODULE_ROOTS, split_of

__all__ = ["Reader"]


class Reader:
    """Reads one cell, with what earlier cells of the notebook defined (``nb``)."""

    def __init__(self, nb: Notebook, cell: int, text: str) -> None:
        self.nb = nb
        self.facts = SourceFacts(cell=cell, parsed=True)
        # a training step may be written in this cell (else only in functions it calls)
        self.maybe_train = (
            "backward" in text
            or "apply_gradients" in text
            or ".step(" in text
            or any(name in text and scan(fn.node).steps for name, fn in nb.funcs.items())
        )
        self.frame = Frame(env=nb.env, globals_env=None, emit=True)
        self.targets: list[ast.expr] = []  # the targets of the assignment being read
        self.stmt_line = 0
        self.hist_plotted: list[str] = []
        self.calls: list[str] = []
        self.last_expr: Value | None = None  # the value of the cell's last expression statement
        self.ensemble_made = False  # the value being assigned averages several models' outputs
        self.seq = 0  # the last number given to a training or setup fact (see remember)

    def run(self, tree: ast.Module) -> SourceFacts:
        """Read the cell's statements and return its facts."""
        body = tree.body
        with contextlib.suppress(RecursionError):
            self.stmts(body)
        facts = self.facts
        if body and isinstance(body[-1], ast.Expr):
            facts.ends_with_plot = ends_with_plot(body[-1].value)
        if body and isinstance(body[-1], ast.Expr) and self.last_expr is not None:
            last = self.last_expr
            if last.confusion:
                facts.shows_confusion = True
            value = body[-1].value
            if isinstance(value, ast.Name) and "acc" in value.id.lower():
                facts.prints_accuracy = True
            if last.is_evaluate_result:
                facts.prints_accuracy = True
        facts.history_vars_plotted = list(dict.fromkeys(self.hist_plotted))
        facts.calls_functions = list(dict.fromkeys(self.calls))
        facts.confusion_model_vars = list(dict.fromkeys(facts.confusion_model_vars))
        return facts

    # ------------------------------------------------------------ dispatch

    def stmts(self, body: Sequence[ast.stmt]) -> None:
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:
        self.stmt_line = getattr(node, "lineno", self.stmt_line)
        handler = STATEMENTS.get(type(node))
        if handler is not None:
            handler(self, node)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self.stmt(child)
                elif isinstance(child, ast.expr):
                    self.note(self.ev(child))

    def ev(self, node: ast.AST) -> Value:
        """The value of an expression."""
        handler = EXPRESSIONS.get(type(node))
        if handler is not None:
            return handler(self, node)
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, (int, float, str, bool)):
                return Value.of(constant=node.value)
            return EMPTY
        parts = [
            self.ev(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)
        ]
        return merge(parts)

    def note(self, value: Value) -> None:
        """Keep ``value`` when summarising a function (all it computes flows into its model)."""
        if self.frame.acc is not None and value is not EMPTY:
            self.frame.acc.append(value)

    # ------------------------------------------------------------- names

    def line(self) -> int:
        """The line facts are reported at: the call site inside an inlined function."""
        return self.frame.line or self.stmt_line

    def lookup(self, name: str) -> Value | None:
        frame = self.frame
        found = frame.env.get(name)
        if found is None and frame.globals_env is not None:
            found = frame.globals_env.get(name)
        return found

    def func(self, name: str) -> NotebookFunction | None:
        found = self.frame.funcs.get(name)
        if found is None:
            found = self.nb.funcs.get(name)
        return found

    def bind_name(self, name: str, value: Value) -> None:
        self.frame.env[name] = value
        if self.frame.globals_env is None:
            self.nb.imports.pop(name, None)
            if value.type_name != "function":
                self.nb.funcs.pop(name, None)

    def text(self, node: ast.AST) -> str:
        """The source text of ``node``, with a function's parameters named by the caller."""
        if isinstance(node, ast.Name):
            return self.frame.subst.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            return f"{self.text(node.value)}.{node.attr}"
        if isinstance(node, ast.Subscript):
            index = node.slice
            if isinstance(index, ast.Constant):
                inner = repr(index.value)
            elif isinstance(index, ast.Name):
                inner = self.frame.subst.get(index.id, index.id)
            else:
                inner = unparse(index)
            return f"{self.text(node.value)}[{inner}]"
        if isinstance(node, ast.Call):
            return f"{self.text(node.func)}()"
        return unparse(node)

    def root(self, node: ast.AST) -> str | None:
        """The variable at the root of ``a.b[c](d)``."""
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Name):
            text = self.frame.subst.get(node.id, node.id)
            return re.split(r"[.\[(]", text, maxsplit=1)[0] or None
        return None

    def is_module(self, name: str) -> bool:
        if name in self.frame.env or (
            self.frame.globals_env is not None and name in self.frame.globals_env
        ):
            return False
        return name in self.nb.imports or name in MODULE_ROOTS

    def dotted(self, node: ast.AST) -> str | None:
        """``tensorflow.keras.layers.Dense`` for ``layers.Dense`` (imports resolved)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = node.id
        full = self.nb.imports.get(root)
        if full and self.is_module(root):
            root = full
        parts.append(root)
        return ".".join(reversed(parts))

    def split_of_node(self, node: ast.AST | None) -> Split:
        """Which data ``node`` uses: its names' words, or the test set a name was bound to."""
        if node is None:
            return "unknown"
        names = self.names_in(node)
        test_data = self.nb.test_data
        if test_data and any(n in test_data for n in names):
            return "test"
        return split_of(" ".join(names))

    def named_val(self, node: ast.AST | None) -> bool:
        """Whether ``node``'s names say validation (though the data may be the test set)."""
        return node is not None and split_of(" ".join(self.names_in(node))) == "val"

    def names_in(self, node: ast.AST) -> list[str]:
        """Names, attributes and strings in ``node`` (the first 25 or so)."""
        out: list[str] = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                out.append(self.frame.subst.get(sub.id, sub.id))
            elif isinstance(sub, ast.Attribute):
                out.append(sub.attr)
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                out.append(sub.value)
            if len(out) > 24:
                break
        return out

    # --------------------------------------------------------- constants

    def const(self, node: ast.AST | None) -> object:
        """The constant ``node`` evaluates to, or NO_VALUE."""
        if node is None:
            return NO_VALUE
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            found = self.lookup(node.id)
            return found.constant if found is not None else NO_VALUE
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.const(node.operand)
            if isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return -inner
            return NO_VALUE
        if isinstance(node, ast.BinOp):
            return self._const_binop(node)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return compare_constants(
                node.ops[0], self.const(node.left), self.const(node.comparators[0])
            )
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.const(node.operand)
            return NO_VALUE if inner is NO_VALUE else not inner
        if isinstance(node, ast.BoolOp):
            values = [self.const(v) for v in node.values]
            if any(v is NO_VALUE for v in values):
                return NO_VALUE
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) <= 64:
            items = [self.const(e) for e in node.elts]
            return NO_VALUE if any(v is NO_VALUE for v in items) else tuple(items)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
            inner = self.const(node.args[0])
            number = is_number(inner)
            if node.func.id in ("int", "round") and isinstance(inner, (int, float)) and number:
                return int(inner)
            if node.func.id == "float" and isinstance(inner, (int, float)) and number:
                return float(inner)
            if node.func.id == "len" and isinstance(node.args[0], (ast.List, ast.Tuple)):
                return len(node.args[0].elts)
        return NO_VALUE

    def _const_binop(self, node: ast.BinOp) -> object:
        left, right = self.const(node.left), self.const(node.right)
        if not (is_number(left) and is_number(right)):
            return NO_VALUE
        assert isinstance(left, (int, float)) and isinstance(right, (int, float))
        try:
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.FloorDiv):
                return left // right
            if isinstance(node.op, ast.Div):
                return left / right
            if isinstance(node.op, ast.Pow) and abs(right) < 64:
                return left**right
        except (ArithmeticError, ValueError):
            return NO_VALUE
        return NO_VALUE

    def int_const(self, node: ast.AST | None) -> int | None:
        value = self.const(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if isinstance(value, float):
            return int(value) if value.is_integer() else None
        return value

    def float_const(self, node: ast.AST | None) -> float | None:
        value = self.const(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)

    def str_const(self, node: ast.AST | None) -> str | None:
        value = self.const(node)
        return value if isinstance(value, str) else None

    # ------------------------------------------------------------ layers

    def new_layer(self, name: str) -> LayerSet:
        self.nb.serial += 1
        return frozenset({(self.nb.serial, name)})

    def fresh(self, layers: LayerSet) -> LayerSet:
        """The same layers built again (another call of a builder)."""
        out = []
        for _, name in sorted(layers):
            self.nb.serial += 1
            out.append((self.nb.serial, name))
        return frozenset(out)

    def add_layer(self, value: Value, name: str) -> LayerSet:
        return (value.layers or frozenset()) | self.new_layer(name)

    # ------------------------------------------------------------- facts

    def sink(self) -> SourceFacts:
        """Where cell-level flags go: the cell's facts, or nowhere while only summarising."""
        if self.frame.emit:
            return self.facts
        return SourceFacts(cell=self.facts.cell, parsed=True)

    def remember(self, fact: object) -> None:
        """Keep a reported fact so that an inlined call can name it after the caller's variables;
        training and setup facts are numbered in the order they are read."""
        self.frame.emitted.append(fact)
        if isinstance(fact, (FitCall, TrainableChange, CompileCall)):
            self.seq += 1
            fact.seq = self.seq

    def framework_hint(self, framework: Framework | None) -> None:
        if framework is not None:
            self.facts.framework_hints.add(framework)

    def in_loop(self) -> tuple[bool, list[str]]:
        """Whether the statement is inside a loop, and the models the loops iterate over."""
        loops = self.frame.outer_loops + self.frame.loops
        models: list[str] = []
        for loop in loops:
            models.extend(loop.models)
        return bool(loops), list(dict.fromkeys(models))

    def targets_text(self) -> str | None:
        """The names the value being read is assigned to, comma-joined."""
        if not self.targets:
            return None
        texts: list[str] = []
        for target in self.targets[:1]:
            if isinstance(target, (ast.Tuple, ast.List)):
                texts.extend(self.text(t) for t in target.elts)
            else:
                texts.append(self.text(target))
        return ",".join(texts) or None

    def fit_fact(
        self,
        *,
        model_var: str | None,
        history_var: str | None,
        epochs: int | None,
        validation: Literal["none", "val", "test", "split"],
        augmentation: bool,
        initial_epoch: int | None = None,
        callbacks: list[str] | None = None,
    ) -> FitCall:
        """Report a training call (or loop) at the current line."""
        in_loop, loop_models = self.in_loop()
        loops = self.frame.outer_loops + self.frame.loops
        fact = FitCall(
            order=len(self.facts.fits),
            model_var=model_var,
            history_var=history_var,
            epochs=epochs,
            initial_epoch=initial_epoch,
            validation=validation,
            callbacks=callbacks if callbacks is not None else [],
            augmentation=augmentation,
            in_loop=in_loop,
            loop_models=loop_models,
            line=self.line(),
            repeats=bool(loops) and all(loop.counted for loop in loops) and not loop_models,
        )
        self.facts.fits.append(fact)
        self.remember(fact)
        return fact

    def evaluate_fact(
        self, kind: EvalKind, model_var: str | None, on: Split, named_val: bool = False
    ) -> None:
        if not self.frame.emit:
            return
        in_loop, loop_models = self.in_loop()
        fact = EvaluateCall(
            order=len(self.facts.evaluates),
            kind=kind,
            model_var=model_var,
            result_var=self.targets_text(),
            on=on,
            in_loop=in_loop,
            loop_models=loop_models,
            line=self.line(),
            named_val=named_val and on == "test",
        )
        self.facts.evaluates.append(fact)
        self.remember(fact)

    def trainable_fact(self, target: str | None, value: bool, partial: bool) -> None:
        if not self.frame.emit:
            if self.frame.acc is not None:
                self.frame.trainables.append((value, partial))
            return
        fact = TrainableChange(target=target, value=value, partial=partial, line=self.line())
        self.facts.trainable_changes.append(fact)
        self.remember(fact)
