""" "Validation" numbers that are test accuracies: models validated on the test set.

When a model's validation data *is* the test set (``validation_data=(x_test,
y_test)``, a validation loader built from ``CIFAR10(train=False)`` or from the
test folder), what the notebook prints after training as its "validation
accuracy" is its accuracy on the test set: a summary line per model
(``MobileNetV2 : 86.17% Validation Accuracy``), the ``valid`` row of a table of
best results. Such a number is taken only when it stands on its own: one value
per model in a cell (a per-epoch series is a training log, not a result), and
never over a test accuracy the notebook states as such.
"""

from __future__ import annotations

from grader.evidence import Method
from grader.extract.assemble.matching import best_entry, distinct
from grader.extract.assemble.state import CodeCell, Entry, State, prov
from grader.extract.facts import AccuracyCandidate, TableRow
from grader.extract.text import mentions, names_accuracy
from grader.i18n import _

__all__ = ["last_epoch_on_test", "validation_as_test"]


def _take(e: Entry, c: AccuracyCandidate, idx: int) -> None:
    e.run.test_accuracy = round(c.value, 6)
    e.acc_priority = 0
    detail = c.line if c.method != "table" else f"{c.label}: {c.line}"
    e.run.test_accuracy_provenance = prov(
        idx, Method.output_table if c.method == "table" else Method.output_text, 0.6, detail
    )


def _repeated(state: State, c: AccuracyCandidate) -> bool:
    """The very number another model already got (a stale copy of its output), to 4+ decimals."""
    value = round(c.value, 6)
    if round(value, 3) == value:
        return False
    return any(e.run.test_accuracy == value for e in state.entries)


def _val_column(row: TableRow) -> AccuracyCandidate | None:
    """The validation accuracy of a table row named like a model (``model_25 ... 0.8519``)."""
    label = row.label.strip()
    if not label or label.lstrip("-").isdigit():
        return None  # rows numbered by epoch: a training log
    keys = [
        k
        for k in row.values
        if names_accuracy(k) and mentions(k)[1] and not (mentions(k)[0] or mentions(k)[2])
    ]
    if len(keys) != 1:
        return None
    value = row.values[keys[0]]
    value = value / 100.0 if 1.0 < value <= 100.0 else value
    if not 0.0 <= value <= 1.0:
        return None
    line = " | ".join(f"{k} {v:g}" for k, v in row.values.items())
    return AccuracyCandidate(
        value=round(value, 6),
        method="table",
        label=label,
        line=line,
        order=row.order,
        mentions_test=False,
        mentions_val=True,
        mentions_train=False,
        confidence=0.4,
    )


def validation_as_test(state: State, cell: CodeCell) -> bool:
    """Give "validation" numbers of a cell that evaluates nothing to models validated on test."""
    if not any(e.validated_on_test for e in state.entries):
        return False
    from_rows = [] if cell.trained_here else [_val_column(row) for row in cell.out.table_rows]
    cands = [
        c
        for c in [*cell.out.accuracy_candidates, *(c for c in from_rows if c is not None)]
        if c.mentions_val
        and not c.mentions_train
        and 0.0 <= c.value <= 1.0
        and not _repeated(state, c)
        and not (c.method == "table" and cell.trained_here)
    ]
    if not cands:
        return False
    matched: dict[int, tuple[Entry, list[AccuracyCandidate]]] = {}
    unmatched: list[AccuracyCandidate] = []
    for c in cands:
        e = best_entry(c.label, state.entries)
        if e is None:
            unmatched.append(c)
        else:
            matched.setdefault(id(e), (e, []))[1].append(c)
    taken = False
    for e, found in matched.values():
        values = distinct(found)
        if e.validated_on_test and e.run.test_accuracy is None and len(values) == 1:
            _take(e, values[0], cell.idx)
            taken = True
    if matched or not unmatched:
        return taken
    latest = state.entries[-1]
    values = distinct(unmatched)
    if (
        latest.validated_on_test
        and latest.run.test_accuracy is None
        and len(values) == 1
        and all(e is latest for e in cell.trained_here)
        and not any(c.series for c in unmatched)
    ):
        _take(latest, values[0], cell.idx)
        return True
    return False


def last_epoch_on_test(entries: list[Entry]) -> None:
    """A model validated on the test set and never evaluated apart: its last epoch's accuracy.

    The validation accuracy of the last epoch is the final model's accuracy on the
    test set when nothing changed the model after it: the log of its latest
    training is complete (no error), no callback may have restored other
    weights, and no later evaluation on the test set exists whose result the
    notebook should have printed instead.
    """
    for e in entries:
        values = e.run.history.get("val_accuracy")
        if (
            e.run.test_accuracy is not None
            or not values
            or not e.validated_on_test
            or not e.last_fit_logged
            or e.interrupted
            or e.evaluations
            or any("EarlyStopping" in c for c in e.setup.callbacks)
        ):
            continue
        e.run.test_accuracy = round(values[-1], 6)
        e.acc_priority = 0
        cell = e.run.fit_cells[-1] if e.run.fit_cells else None
        e.run.test_accuracy_provenance = prov(
            cell,
            Method.output_log,
            0.5,
            _("last epoch's val_accuracy {value}; the validation data is the test set").format(
                value=f"{values[-1]:g}"
            ),
        )
