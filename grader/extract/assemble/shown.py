"""Curves and confusion matrices: which models a cell's plots and matrices show.

A cell that plots a training history and has an image output shows the
curves of the models whose histories it plots (else of the models it
trains, else of the latest ones without curves); a cell that computes a
confusion matrix and shows it (an image, a printed matrix) shows the matrix of
the models whose predictions it uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.evidence import Confusion, Method
from grader.extract.assemble.state import CodeCell, Entry, State, prov, resolve
from grader.i18n import _

__all__ = ["confusion_shown", "curves_shown"]


def curves_shown(state: State, cell: CodeCell) -> bool:
    """Whether the cell shows training curves; marks the models whose curves they are."""
    if not (cell.out.images and cell.facts.plots_history):
        return False
    targets = (
        _targets_for_vars(state, cell.facts.history_vars_plotted)
        or cell.trained_here
        or _recent_without(state, "curves")
    )
    for e in targets:
        if not e.run.curves_shown:
            e.run.curves_shown = True
            e.run.curves_provenance = prov(
                cell.idx,
                Method.output_image,
                0.8,
                _("image output of a cell that plots the training history"),
            )
    return True


def confusion_shown(state: State, cell: CodeCell) -> bool:
    """Whether the cell shows a confusion matrix; marks the models whose matrix it is."""
    out, computes = cell.out, cell.facts.computes_confusion
    shown = bool(out.images or out.matrices) or (computes and "confusion" in out.text.lower())
    if not (computes and shown):
        return False
    targets = (
        _targets_for_models(state, cell.facts.confusion_model_vars)
        or _targets_for_models(state, [e.model_var for e in cell.evaluates if e.on != "train"])
        or cell.trained_here
        or _recent_without(state, "confusion")
    )
    matrix = out.matrices[0] if out.matrices else None
    for e in targets:
        if not e.run.confusion_matrix_shown:
            e.run.confusion_matrix_shown = True
            e.run.confusion = Confusion(
                matrix=matrix.matrix if matrix and len(targets) == 1 else None,
                labels=matrix.labels if matrix and len(targets) == 1 else None,
                provenance=prov(
                    cell.idx,
                    Method.output_text if matrix else Method.output_image,
                    0.8,
                    _("confusion matrix computed and shown"),
                ),
            )
    return True


def _targets_for_vars(state: State, hist_vars: list[str]) -> list[Entry]:
    out: list[Entry] = []
    for h in hist_vars:
        for e in state.entries:
            if h in e.history_vars and e not in out:
                out.append(e)
        e2 = state.by_var.get(resolve(state, h) or "")
        if e2 is not None and e2 not in out:
            out.append(e2)
    return out


def _targets_for_models(state: State, names: Sequence[str | None]) -> list[Entry]:
    out: list[Entry] = []
    for n in names:
        if not n:
            continue
        e = state.by_var.get(resolve(state, n) or "")
        if e is not None and e not in out:
            out.append(e)
    return out


def _recent_without(state: State, what: str) -> list[Entry]:
    attr = "curves_shown" if what == "curves" else "confusion_matrix_shown"
    lacking: list[Entry] = []
    for e in reversed(state.entries):
        if getattr(e.run, attr):
            break
        lacking.append(e)
    lacking.reverse()
    if what == "confusion":
        return lacking[-1:]
    return lacking
