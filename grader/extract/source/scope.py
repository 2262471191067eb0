"""What the source reader knows while it reads: the notebook so far, and the frame it is in.

* :class:`Notebook` holds what earlier cells defined (names and their values,
  notebook functions and classes, models, imports) for the cells after them;
* :class:`Frame` is one level of reading: the cell itself, or the body of a
  notebook function read at a call site (or summarised once);
* :class:`Loop` and :class:`PendingLoop` describe the ``for`` / ``while`` loops
  around the statement being read, and the hand-written training or evaluation
  loop whose model is still being looked for.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from grader.extract.facts import FitCall, ModelDef
from grader.extract.source.values import Framework, Split, Value

__all__ = ["MAX_DEPTH", "Frame", "Loop", "Notebook", "NotebookFunction", "PendingLoop"]

#: How deep calls of notebook functions are followed.
MAX_DEPTH = 6


@dataclass
class NotebookFunction:
    """A function or class defined in the notebook."""

    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    is_class: bool
    module_class: bool = False  # subclasses nn.Module / keras.Model (an instantiable model)
    framework: Framework | None = None
    summary: Value | None = None  # what it contributes to the model it builds, read once
    summarising: bool = False  # the summary is being read (a recursive definition)
    trainables: list[tuple[bool, bool]] = field(default_factory=list)  # (value, partial) it sets
    pure: bool | None = None  # calling it yields no fact beyond its value (None: not yet known)


@dataclass
class Notebook:
    """What earlier cells defined, visible to later cells."""

    env: dict[str, Value] = field(default_factory=dict)
    funcs: dict[str, NotebookFunction] = field(default_factory=dict)
    model_defs: dict[str, ModelDef] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)  # local name -> module or module.name
    serial: int = 0  # the last layer serial handed out (see values.LayerSet)
    # names bound to the whole test set whatever they are called (see .origin)
    test_data: set[str] = field(default_factory=set)
    # True: a call of a notebook function reports the facts of its body, named after
    # the caller's variables (read_sources). False: function bodies report their facts
    # where they are defined, named by their parameters (read_source).
    expand_calls: bool = False


@dataclass
class Loop:
    """A ``for`` / ``while`` loop around the statement being read."""

    models: list[str]  # the models it iterates over, when readable
    layer_var: str | None = None  # ``layer`` in ``for layer in base.layers[:100]:``
    layer_root: str | None = None  # ``base``: whose layers the loop visits
    layer_partial: bool = False  # only some of them (a slice, a nested attribute)
    if_depth: int = 0  # the ``if`` depth at the loop (a deeper ``if`` makes a change partial)
    split: Split = "unknown"  # which data the loop iterates, judged by its name
    counted: bool = False  # ``for i in range(n)``: the same statements n times over


@dataclass
class PendingLoop:
    """A hand-written training or evaluation loop whose model is found while reading it."""

    train_recv: list[str] = field(default_factory=list)  # ``m`` of ``m.train()`` inside
    model_calls: list[str] = field(default_factory=list)  # ``m`` of ``out = m(x)`` inside
    eval_recv: list[str] = field(default_factory=list)  # ``m`` of ``m.eval()`` inside
    splits: list[Split] = field(default_factory=list)  # the data inner loops and calls use
    augmented: bool = False  # the data it iterates is augmented


@dataclass
class Frame:
    """One level of reading: the cell, or a notebook function's body."""

    env: dict[str, Value]
    globals_env: dict[str, Value] | None  # None for the cell's own (notebook-level) frame
    emit: bool  # facts found here are reported (False while only summarising a function)
    line: int | None = None  # the call site's line: facts of an inlined body are reported there
    subst: dict[str, str] = field(default_factory=dict)  # parameter -> the caller's argument text
    funcs: dict[str, NotebookFunction] = field(default_factory=dict)  # defined in this body
    loops: list[Loop] = field(default_factory=list)
    if_depth: int = 0
    no_grad: bool = False  # inside ``with torch.no_grad():``
    torch_fit: FitCall | None = None  # the hand-written training loop being read
    torch_eval: bool = False  # inside a hand-written evaluation loop
    pending: PendingLoop | None = None
    in_forward: bool = False  # a ``forward`` / ``call`` method: ``a + b`` is a skip connection
    stack: tuple[str, ...] = ()  # the notebook functions being read, outermost first
    returns: list[Value] = field(default_factory=list)
    return_names: list[list[str | None]] = field(default_factory=list)  # names each return gives
    acc: list[Value] | None = None  # every value computed here, when summarising
    conv_seq: list[int] = field(default_factory=list)  # kernel sizes of recent Conv2D layers
    emitted: list[object] = field(default_factory=list)  # facts reported here, to rename
    local_defs: dict[str, ModelDef] = field(default_factory=dict)  # models built in this body
    outer_loops: list[Loop] = field(default_factory=list)  # the caller's loops
    eval_recv: str | None = None  # the last ``m.eval()`` receiver
    train_recv: str | None = None  # the last ``m.train()`` receiver
    prune: bool = True  # take only the branch a known test selects (not when summarising)
    trainables: list[tuple[bool, bool]] = field(default_factory=list)  # while summarising
