"""Read one code cell's stored outputs into :class:`~grader.extract.facts.OutputFacts`.

The outputs are nbformat v4 dicts as a notebook stores them. They are cleaned
into one :class:`~.cell.Cell` (text segments and their lines), then each
parser in :data:`PARSERS` reads the cleaned lines in turn. A parser marks the
lines it has explained (training epochs, a classification report, a model
summary...) so that later parsers do not read them again: the numbers on a
Keras progress bar never become a test accuracy, for instance.

* :mod:`.cell` - the cell's segments and lines, and what the parsers found;
* :mod:`.training` - training logs; :mod:`.summaries` - model summaries;
* :mod:`.reports` - classification reports; :mod:`.matrices` - printed arrays;
* :mod:`.tables` - pandas and other tables; :mod:`.results` - evaluate results;
* :mod:`.prints` - printed accuracies; :mod:`.tracebacks` - errors.

Everything here is stdlib and line based: a notebook with megabytes of
output parses in milliseconds, and image payloads are only counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from grader.extract.facts import AccuracyCandidate, OutputFacts
from grader.extract.outputs import (
    matrices,
    prints,
    reports,
    results,
    summaries,
    tables,
    tracebacks,
    training,
)
from grader.extract.outputs.cell import Cell, build_cell

__all__ = ["PARSERS", "read_outputs"]

_log = logging.getLogger(__name__)

PARSERS: tuple[tuple[str, Callable[[Cell], None]], ...] = (
    ("training", training.parse_training),
    ("summaries", summaries.parse_summaries),
    ("classification_reports", reports.parse_reports),
    ("array_matrices", matrices.parse_array_matrices),
    ("tables", tables.parse_tables),
    ("evaluate_results", results.parse_results),
    ("printed_accuracy", prints.parse_prints),
    ("tracebacks", tracebacks.parse_tracebacks),
)
"""Parsers in the order they run; earlier ones claim lines so later ones skip them."""


def _mark_shown(c: Cell) -> None:
    """Candidates read from the cell's displayed value (an execute_result)."""
    results = [(seg.start, seg.end) for seg in c.segments if seg.result]
    if not results:
        return
    for (line, _col), cand in c.candidates:
        if any(start <= line < end for start, end in results):
            cand.shown = True


def _template(label: str) -> tuple[list[str], int] | None:
    words = label.lower().split()
    return (words, len(words)) if len(words) >= 2 else None


def _same_but_one(a: list[str], b: list[str]) -> bool:
    """Two labels that differ in exactly one word: "acc of cat" / "acc of dog"."""
    if len(a) != len(b):
        return False
    return sum(1 for x, y in zip(a, b, strict=True) if x != y) == 1


def _mark_series(cands: list[AccuracyCandidate]) -> None:
    """Printed lines that repeat one label with one word changed (per class, per model)."""
    run: list[AccuracyCandidate] = []

    def close() -> None:
        if len(run) >= 3:
            for cand in run:
                cand.series = True

    previous: list[str] | None = None
    for cand in cands:
        shape = _template(cand.label) if cand.method == "print" else None
        words = shape[0] if shape is not None else None
        if words is not None and previous is not None and _same_but_one(previous, words):
            run.append(cand)
        else:
            close()
            run = [cand] if words is not None else []
        previous = words
    close()


def _ordered(items: list[tuple[tuple[int, int], Any]]) -> list[Any]:
    out = []
    for order, (_pos, item) in enumerate(sorted(items, key=lambda pair: pair[0])):
        item.order = order
        out.append(item)
    return out


def read_outputs(cell: int, outputs: list[dict[str, Any]]) -> OutputFacts:
    """Facts found in one code cell's stored outputs; never raises.

    ``outputs`` are the cell's nbformat v4 output dicts in order. Training
    logs, accuracy candidates, tables, matrices and summaries carry an
    ``order``: their position among the facts of the same kind in this cell.
    """
    try:
        c = build_cell(cell, outputs if isinstance(outputs, list) else [])
    except Exception:
        _log.debug("cell %s: outputs could not be read", cell, exc_info=True)
        return OutputFacts(cell=cell, text="")
    for name, parser in PARSERS:
        try:
            parser(c)
        except Exception:
            _log.debug("cell %s: output parser %s failed", cell, name, exc_info=True)
    facts = c.facts
    try:
        _mark_shown(c)
        facts.accuracy_candidates = _ordered(c.candidates)
        _mark_series(facts.accuracy_candidates)
        facts.table_rows = _ordered(c.rows)
        facts.matrices = _ordered(c.matrices)
        facts.summaries = _ordered(c.summaries)
    except Exception:
        _log.debug("cell %s: ordering failed", cell, exc_info=True)
    return facts
