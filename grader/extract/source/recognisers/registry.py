"""How recognisers register by the call they recognise, and how a call finds them.

A recogniser is a plain function ``handler(reader, call) -> Value | None`` that
knows one kind of call: ``model.fit(...)``, ``confusion_matrix(...)``,
``tf.keras.applications.ResNet50(...)``. Each recogniser module keeps a
:class:`Recognisers` and registers its functions with a decorator naming the
calls::

    recognisers = Recognisers()

    @recognisers.method("fit", "fit_generator")
    def fit(r: Reader, call: MethodCall) -> Value | None: ...

``function`` registers library functions (``tf.keras.layers.Conv2D``, bare
``accuracy_score``) by their last name, ``method`` registers methods called on
a value, and ``any_function`` a recogniser that looks at every library call
(the layer vocabulary, the plotting modules) and decides itself.

:class:`Dispatch` joins the modules' recognisers in a fixed order: a call is
offered to the recognisers of its name, in that order, until one returns a
value; ``None`` means "not mine", and a recogniser may note a fact and still
pass. The order only matters where two recognisers accept the same call.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from grader.extract.source.values import Value

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["Dispatch", "FunctionCall", "MethodCall", "Recognisers"]


@dataclass(slots=True)
class FunctionCall:
    """A call of a library function: ``layers.Conv2D(32, 3)``, ``accuracy_score(y, p)``."""

    node: ast.Call
    callee: str  # dotted, imports resolved: "tensorflow.keras.layers.Conv2D"
    name: str  # the last part: "Conv2D"
    prefix: str  # the rest: "tensorflow.keras.layers" ("" for a bare name)
    args: list[Value]  # values of the positional arguments
    kwargs: dict[str, Value]  # values of the keyword arguments
    merged: Value  # all arguments' values merged
    keywords: dict[str, ast.expr]  # keyword argument nodes by name


@dataclass(slots=True)
class MethodCall:
    """A method called on a value of the notebook: ``model.fit(x, y)``, ``ax.plot(h)``."""

    node: ast.Call
    func: ast.Attribute  # ``model.fit``
    name: str  # "fit"
    receiver: Value  # the value of ``model``
    args: list[Value]
    kwargs: dict[str, Value]
    merged: Value
    keywords: dict[str, ast.expr]

    @property
    def receiver_node(self) -> ast.expr:
        return self.func.value


CallT = TypeVar("CallT", FunctionCall, MethodCall)
Handler = Callable[["Reader", CallT], Value | None]
F = TypeVar("F", bound=Callable[..., Value | None])


@dataclass
class Recognisers:
    """The recognisers of one module, in the order they are defined."""

    functions: list[tuple[frozenset[str] | None, Handler[FunctionCall]]] = field(
        default_factory=list
    )
    methods: list[tuple[frozenset[str], Handler[MethodCall]]] = field(default_factory=list)

    def function(self, *names: str | Iterable[str]) -> Callable[[F], F]:
        """Register a recogniser of the library functions called ``names``."""

        def register(handler: F) -> F:
            self.functions.append((_flatten(names), handler))
            return handler

        return register

    def any_function(self, handler: F) -> F:
        """Register a recogniser offered every library call (it checks the name itself)."""
        self.functions.append((None, handler))
        return handler

    def method(self, *names: str | Iterable[str]) -> Callable[[F], F]:
        """Register a recogniser of the methods called ``names``."""

        def register(handler: F) -> F:
            self.methods.append((_flatten(names), handler))
            return handler

        return register


def _flatten(names: Sequence[str | Iterable[str]]) -> frozenset[str]:
    out: set[str] = set()
    for name in names:
        if isinstance(name, str):
            out.add(name)
        else:
            out.update(name)
    return frozenset(out)


class _Table(Generic[CallT]):
    """Name -> the recognisers to offer a call of that name, in registration order."""

    def __init__(self, entries: Sequence[tuple[frozenset[str] | None, Handler[CallT]]]) -> None:
        self._named: dict[str, list[tuple[int, Handler[CallT]]]] = {}
        self._any: list[tuple[int, Handler[CallT]]] = []
        for rank, (names, handler) in enumerate(entries):
            if names is None:
                self._any.append((rank, handler))
            else:
                for name in names:
                    self._named.setdefault(name, []).append((rank, handler))
        self._cache: dict[str, tuple[Handler[CallT], ...]] = {}

    def handlers(self, name: str) -> tuple[Handler[CallT], ...]:
        found = self._cache.get(name)
        if found is None:
            ranked = sorted(self._named.get(name, []) + self._any, key=lambda pair: pair[0])
            found = self._cache[name] = tuple(handler for _rank, handler in ranked)
        return found


class Dispatch:
    """The recognisers of several modules joined, in the order the modules are given.

    The tables are built on first use, not when the modules are imported.
    """

    def __init__(self, modules: Sequence[Recognisers]) -> None:
        self._modules = tuple(modules)
        self._functions: _Table[FunctionCall] | None = None
        self._methods: _Table[MethodCall] | None = None

    def function_call(self, r: Reader, call: FunctionCall) -> Value | None:
        """The value the first recogniser of ``call`` gives, or None when none does."""
        if self._functions is None:
            self._functions = _Table([entry for m in self._modules for entry in m.functions])
        for handler in self._functions.handlers(call.name):
            out = handler(r, call)
            if out is not None:
                return out
        return None

    def method_call(self, r: Reader, call: MethodCall) -> Value | None:
        """The value the first recogniser of ``call`` gives, or None when none does."""
        if self._methods is None:
            self._methods = _Table([(names, h) for m in self._modules for names, h in m.methods])
        for handler in self._methods.handlers(call.name):
            out = handler(r, call)
            if out is not None:
                return out
        return None
