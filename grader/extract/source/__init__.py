"""Read what a notebook's code cells build, train, evaluate and plot.

Two entry points, one reader:

* :func:`read_source` reads one code cell on its own and reports what its
  code contains. Facts inside a function body are reported where the
  function is defined, named by its parameters (``def run(model): model.fit``
  gives ``FitCall(model_var="model")``); the caller maps parameters to
  arguments at the call sites. Calls to functions are not expanded.
* :func:`read_sources` reads a notebook's code cells in order and reports
  what runs: what earlier cells defined (functions, classes, models, bases,
  constants such as ``EPOCHS``, containers of models, history variables) is
  known to later cells, and a call of a notebook function reports the facts
  of its body at the call, named after the caller's variables
  (``hist = run(cnn)`` gives ``FitCall(model_var="cnn", history_var="hist")``).

The reader is a small abstract interpreter over Python's ``ast``: every
expression gets a :class:`~.values.Value` saying which layers, pretrained
bases, models, predictions and training histories flow into it; statements
bind values to names. It never imports the student's libraries, never raises
on odd input, and strips IPython syntax (``%magic``, ``!shell``, ``obj?``)
first. Each cell is parsed once; the same tree gives the cell's outline for
the assembly (:mod:`.outline`).

The package:

* :mod:`.parsing` - IPython syntax neutralised, syntax errors survived;
* :mod:`.values`, :mod:`.scope` - what the interpreter computes and knows;
* :mod:`.reader` (the core), :mod:`.statements`, :mod:`.expressions`,
  :mod:`.binding`, :mod:`.combining`, :mod:`.functions`, :mod:`.calls` -
  the interpreter;
* :mod:`.recognisers` - what library and method calls mean, registered by name;
* :mod:`.origin` - names that hold the whole test set whatever they are called;
* :mod:`.unrolling` - loops over a few constants that train, read once per value;
* :mod:`.vocabulary` - the words and patterns recognised;
* :mod:`.outline` - loops, lists and shown names, for the assembly.

Conventions of the facts it fills in:

* layer names use the Keras spelling for both frameworks (``nn.Conv2d`` ->
  ``Conv2D``, ``nn.Linear`` -> ``Dense``, ``nn.BatchNorm2d`` ->
  ``BatchNormalization``); a grouped torch convolution counts as
  ``DepthwiseConv2D``; a skip connection written ``a + b`` counts as ``Add``;
* names are the source text of the expression: ``models['cnn']``,
  ``histories[name]``; a dict or list of models records
  ``aliases["models['cnn']"] = "cnn"``; history variables plotted are root
  names (``histories`` for ``histories[name].history``);
* ``ModelDef.base_var`` names the variable holding the pretrained base, or a
  notebook model reused whole inside another one (``base`` is then None);
  ``weights`` is None when the code does not say (Keras defaults to imagenet);
* averaged predictions (``(p1 + p2) / 2``, ``np.mean([...])``) give a
  ``ModelDef`` with ``ensemble=True`` named after the prediction variable;
* ``FitCall.augmentation`` is also true when the fitted model itself holds
  augmentation layers; ``EvaluateCall.result_var`` joins names with ``,``.
"""

from __future__ import annotations

from collections.abc import Iterable

from grader.extract.facts import SourceFacts
from grader.extract.kinds import canonical_base
from grader.extract.source.outline import read_outline
from grader.extract.source.parsing import ParsedCell, parse_cell, strip_magics, uncommented
from grader.extract.source.reader import Reader
from grader.extract.source.scope import Notebook

__all__ = ["canonical_base", "read_source", "read_sources", "strip_magics", "uncommented"]


def _read_facts(nb: Notebook, cell: int, text: str) -> tuple[ParsedCell | None, SourceFacts]:
    """The cell's parse and its facts; a reader never fails a notebook."""
    parsed: ParsedCell | None = None
    try:
        if not text.strip():
            return None, SourceFacts(cell=cell, parsed=True)
        parsed = parse_cell(text)
        if parsed.tree is None:
            return parsed, SourceFacts(cell=cell, parsed=False)
        return parsed, Reader(nb, cell, text).run(parsed.tree)
    except Exception:  # noqa: BLE001 - a reader never fails a notebook
        return parsed, SourceFacts(cell=cell, parsed=False)


def _read(nb: Notebook, cell: int, source: str, strict: bool = False) -> SourceFacts:
    source = source if isinstance(source, str) else ""
    text = strip_magics(source)
    parsed, facts = _read_facts(nb, cell, text)
    try:
        read_outline(facts, source, text, parsed)
    except Exception:
        if strict:
            raise
        facts.loops, facts.listed_names, facts.shown_names = [], {}, []
    return facts


def read_source(cell: int, source: str) -> SourceFacts:
    """Facts about one code cell's source, read on its own.

    Function bodies report their facts where they are defined, named by their
    parameters; calls of notebook functions are not expanded (see the module
    docstring). Never raises; ``parsed`` is False only when no statement of
    the cell is Python.
    """
    return _read(Notebook(), cell, source)


def read_sources(cells: Iterable[tuple[int, str]], *, strict: bool = False) -> list[SourceFacts]:
    """Facts about a notebook's code cells, read in order with what earlier cells defined.

    ``cells`` are ``(cell_index, source)`` pairs in notebook order. Functions,
    classes, models, bases, constants and containers bound in one cell are
    known to the cells after it: a call to a function defined earlier is
    read through its body (so a ``train(model)`` helper yields a
    :class:`FitCall` and ``plot_history(h)`` sets ``plots_history``), and
    ``m.add(...)`` in a later cell updates the :class:`ModelDef` of ``m``
    reported for the earlier cell.

    Never raises unless ``strict``: then an error other than a syntax error
    that Python's own parser raises on a cell (a ``RecursionError`` on an
    expression nested too deeply) propagates, as the assembly has always let
    it (see :mod:`.outline`).
    """
    nb = Notebook(expand_calls=True)
    return [_read(nb, cell, source, strict) for cell, source in cells]
