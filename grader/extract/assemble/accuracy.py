"""Test accuracies: which printed number is a model's test accuracy.

The output readers find candidates (an evaluate result, a printed line, a
classification report, a table row); a cell's candidates go to the models the
cell evaluates, matched by the label that names them (``"ResNet test acc"``),
else in order, else to the latest model when that is unambiguous. A table
printed where nothing is evaluated is matched by row labels at the end.

Also read as results: a value shown for a name that holds an evaluation's
result (``accuracy`` after ``_, accuracy = model.evaluate(...)``, ``print(fp,
fn, acc)``), a "validation" number of data that is the test set, and, in a cell
that evaluates nothing, an accuracy printed right after the test evaluation of
one model (``correct`` counted in one cell, ``Accuracy: 71.08%`` printed in the
next). Never read as results: a per-class listing, a number typed into the
printed text, the value of a plot call, a number of the training log printed
again. :func:`_note_evaluations` keeps what each evaluation showed, for
:mod:`.missing`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.evidence import Method
from grader.extract.assemble import training, validation
from grader.extract.assemble.matching import (
    best_entry,
    distinct,
    give,
    label_score,
    priority,
)
from grader.extract.assemble.state import CodeCell, Entry, State, prov, resolve
from grader.extract.facts import AccuracyCandidate, EvaluateCall, OutputFacts
from grader.extract.text import mentions, parse_fraction

__all__ = ["apply_tables", "eval_targets", "note_not_run", "test_accuracy"]


def _remember_results(state: State, evaluates: list[EvaluateCall]) -> None:
    for ev in evaluates:
        if not ev.result_var or ev.on in ("val", "train") or ev.in_loop:
            continue
        e = state.by_var.get(resolve(state, ev.model_var) or "") if ev.model_var else None
        if e is None:
            continue
        for name in ev.result_var.split(","):
            if name.strip():
                state.result_vars[name.strip()] = e


@dataclass
class _Context:
    """What a cell's candidates are read against."""

    evaluates: list[EvaluateCall]
    named: bool  # it shows results computed earlier (``print(test_acc)``)
    named_accuracy: bool  # one of them is an accuracy (``acc``, ``test_accuracy``)
    follow_up: bool  # it evaluates nothing and follows a test evaluation of one model
    ends_with_plot: bool  # its displayed value is a plot's, not a result


def _val_on_test(c: AccuracyCandidate, evaluates: list[EvaluateCall]) -> bool:
    """A "validation" number measured on the test set: data named val that is the test set,
    or the dict an evaluation function returns (``{'val_acc': ...}``) shown for test data."""
    if c.mentions_train or not evaluates or any(e.on != "test" for e in evaluates):
        return False
    if any(e.named_val for e in evaluates):
        return True
    return c.method == "evaluate_result" and c.shown and len(evaluates) == 1


def _accept_candidates(out: OutputFacts, ctx: _Context) -> list[AccuracyCandidate]:
    """The candidates that may be a test accuracy, given what the cell evaluates."""
    evaluates = ctx.evaluates
    on_test = any(e.on in ("test", "unknown") for e in evaluates)
    strict_test = any(e.on == "test" for e in evaluates)
    only_val = bool(evaluates) and all(e.on in ("val", "train") for e in evaluates)
    computes_score = any(e.kind == "accuracy_score" for e in evaluates)
    last_vals = {
        round(v, 4)
        for log in out.training_logs
        for k, vs in log.history.items()
        if k.startswith("val_")
        for v in vs[-1:]
    }
    accepted = []
    for c in out.accuracy_candidates:
        if c.method == "table" or c.mentions_train:
            continue
        if c.mentions_val and not _val_on_test(c, evaluates):
            continue
        if not 0.0 <= c.value <= 1.0:
            continue
        if c.method == "evaluate_result":
            if only_val or not (evaluates or c.mentions_test or ctx.named):
                continue
            if c.shown and ctx.ends_with_plot and not ctx.named:
                continue  # ``(0.0, 1.0)`` returned by ``ax.set_ylim``
        elif c.method == "accuracy_score":
            if not (computes_score or ctx.named_accuracy) or only_val:
                continue
        elif c.method == "classification_report":
            if only_val:
                continue
        elif c.method == "print":
            if not c.mentions_test and not (
                strict_test
                or ctx.named
                or (on_test and c.confidence >= 0.5)
                or (ctx.follow_up and not (c.mentions_val or c.shown))
            ):
                continue
            if not c.mentions_test and round(c.value, 4) in last_vals:
                continue
        accepted.append(c)
    return accepted


def eval_targets(
    state: State, evaluates: list[EvaluateCall], trained_here: list[Entry]
) -> list[Entry]:
    """The model entries a cell evaluates on held-out data, in order."""
    targets: list[Entry] = []
    for ev in evaluates:
        if ev.on in ("val", "train"):
            continue
        names = ev.loop_models if ev.in_loop and ev.loop_models else [ev.model_var]
        for n in names:
            e = state.by_var.get(resolve(state, n) or "") if n else None
            if e is None and n and ev.on != "unknown":
                e = training.ensemble_entry(state, resolve(state, n) or n, ev.line)
            if e is None and ev.on == "test" and state.entries and not ev.in_loop:
                # evaluated through a name the reader could not follow: the latest model
                e = state.entries[-1]
            if e is not None and e not in targets:
                targets.append(e)
    if not targets and trained_here:
        targets = list(trained_here)
    return targets


def _attribute_table(
    state: State, idx: int, table: list[AccuracyCandidate], targets: list[Entry]
) -> None:
    """A table printed by a cell that evaluates models: rows by name, else in order."""
    rows = [c for c in table if not (c.mentions_val or c.mentions_train) and 0 <= c.value <= 1]
    if not rows:
        return
    pool = targets or state.entries
    matched = {id(c): best_entry(c.label, pool) for c in rows}
    if all(matched.values()) and len({id(e) for e in matched.values()}) == len(rows):
        for c in rows:
            e = matched[id(c)]
            if e is not None:
                give(e, c, idx, 0.7, Method.output_table)
        return
    if targets and len(rows) == len(targets):
        for e, c in zip(targets, rows, strict=True):
            give(e, c, idx, 0.6, Method.output_table)


def _attribute_accuracy(
    state: State, idx: int, accepted: list[AccuracyCandidate], targets: list[Entry]
) -> None:
    """Give the accepted candidates of a cell to the models it evaluates."""

    def give_(e: Entry, c: AccuracyCandidate, confidence: float) -> None:
        give(e, c, idx, confidence)

    # one model evaluated here: its best candidate
    if len(targets) == 1:
        best = max(
            accepted,
            key=lambda c: (priority(c), c.order),
        )
        # a line that names another model and says nothing of the evaluated one
        labelled = [
            c
            for c in accepted
            if best_entry(c.label, state.entries) not in (None, targets[0])
            and label_score(c.label, targets[0]) == 0
        ]
        if labelled and len(labelled) == len(accepted):
            # every line names another model: a summary cell, match by label
            for c in accepted:
                e = best_entry(c.label, state.entries)
                if e is not None:
                    give_(e, c, 0.7)
            return
        give_(targets[0], best, 0.9)
        return
    pool = targets or state.entries
    unmatched = []
    for c in accepted:
        e = best_entry(c.label, pool)
        if e is not None:
            give_(e, c, 0.8)
        else:
            unmatched.append(c)
    if not unmatched:
        return
    if targets:
        ordered = sorted(unmatched, key=lambda c: c.order)
        free = [e for e in targets if e.run.test_accuracy is None]
        groups = distinct(unmatched)
        if len(ordered) == len(targets):
            # one result per model, in the order the cell names them
            for e, c in zip(targets, ordered, strict=True):
                give_(e, c, 0.6)
        elif len(groups) == len(targets):
            for e, c in zip(targets, groups, strict=True):
                give_(e, c, 0.6)
        elif len(groups) == len(free):
            for e, c in zip(free, groups, strict=True):
                give_(e, c, 0.6)
        return
    # no evaluate call seen: the latest model without a test accuracy, if it is unambiguous
    recent = [e for e in state.entries if e.run.test_accuracy is None]
    groups = distinct(unmatched)
    if recent and len(groups) == 1 and any(c.mentions_test for c in groups):
        give_(recent[-1], groups[0], 0.5)


def apply_tables(state: State, table: list[tuple[int, AccuracyCandidate]]) -> None:
    """Comparison tables printed away from any evaluation: rows matched to models by label."""
    for idx, c in table:
        if c.mentions_val or c.mentions_train:
            continue
        e = best_entry(c.label, state.entries)
        if e is None or e.run.test_accuracy is not None:
            continue
        e.run.test_accuracy = round(c.value, 6)
        e.run.test_accuracy_provenance = prov(idx, Method.output_table, 0.6, f"{c.label}: {c.line}")


def _named(state: State, cell: CodeCell) -> tuple[list[Entry], bool]:
    """Models whose earlier results the cell shows, and whether one shown is an accuracy."""
    named: list[Entry] = []
    accuracy = False
    for shown_name in cell.facts.shown_names:
        shown_entry = state.result_vars.get(shown_name)
        if shown_entry is None:
            continue
        if shown_entry not in named:
            named.append(shown_entry)
        accuracy = accuracy or _accuracy_name(shown_name)
    return named, accuracy


def _accuracy_name(name: str) -> bool:
    low = name.lower()
    return ("acc" in low or "score" in low) and "loss" not in low


_NUMBER_TOKEN = re.compile(r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?%?$")


def _positional(state: State, cell: CodeCell) -> list[AccuracyCandidate]:
    """``print(fp, fn, acc)`` -> ``3 0 0.9``: the number printed for an accuracy result."""
    if not cell.facts.print_args:
        return []
    lines = [ln.split() for ln in cell.out.text.split("\n")]
    numeric = [ln for ln in lines if len(ln) >= 2 and all(_NUMBER_TOKEN.match(t) for t in ln)]
    found: list[AccuracyCandidate] = []
    for args in cell.facts.print_args:
        if len(args) < 2:
            continue
        matching = [ln for ln in numeric if len(ln) == len(args)]
        if len(matching) != 1:
            continue
        for name, token in zip(args, matching[0], strict=True):
            if name not in state.result_vars or not _accuracy_name(name):
                continue
            value = parse_fraction(token)
            if value is None:
                continue
            test, val, train = mentions(name)
            found.append(
                AccuracyCandidate(
                    value=value,
                    method="print",
                    label=name,
                    line=" ".join(matching[0]),
                    order=len(cell.out.accuracy_candidates) + len(found),
                    mentions_test=test,
                    mentions_val=val,
                    mentions_train=train,
                    confidence=0.6,
                )
            )
    return found


def test_accuracy(state: State, cell: CodeCell) -> tuple[bool, list[AccuracyCandidate]]:
    """Give a cell's test accuracies to its models.

    Returns whether a candidate was accepted, and the table rows left for
    :func:`apply_tables` (a table printed by a cell that evaluates nothing).
    """
    idx, out, evaluates = cell.idx, cell.out, cell.evaluates
    targets = eval_targets(state, evaluates, cell.trained_here)
    _remember_results(state, evaluates)
    named, named_accuracy = _named(state, cell)
    if named and not evaluates:
        # results computed earlier, printed here: `print(test1, test2, test3)`
        targets = named
    follow = state.last_test_eval
    follow_up = (
        follow is not None
        and follow.run.test_accuracy is None
        and not (evaluates or cell.trained_here or named)
    )
    ctx = _Context(evaluates, bool(named), named_accuracy, follow_up, cell.facts.ends_with_plot)
    accepted = _accept_candidates(out, ctx) + _positional(state, cell)
    # a per-class listing ("Test accuracy of cat: 61%") says nothing of a model, and a
    # number typed into the printed text ("it was 61% now ...") is not a result
    typed = cell.facts.typed_accuracies
    accepted = [
        c
        for c in accepted
        if (not c.series or best_entry(c.label, state.entries))
        and not any(abs(c.value - v) < 1e-6 for v in typed)
    ]
    if follow_up and follow is not None and not targets:
        targets = [follow]
        # a number of its training log printed again (``history['accuracy'][-1]``) is no test
        logged = {round(v, 4) for vs in follow.run.history.values() for v in vs}
        accepted = [c for c in accepted if round(c.value, 4) not in logged]
    table_here = [c for c in out.accuracy_candidates if c.method == "table"]
    left: list[AccuracyCandidate] = []
    if accepted:
        _attribute_accuracy(state, idx, accepted, targets)
    elif table_here and evaluates:
        _attribute_table(state, idx, table_here, targets)
    else:
        left = table_here
    taken = validation.validation_as_test(state, cell) if not evaluates else False
    _note_evaluations(state, cell, targets, bool(accepted))
    return bool(accepted) or taken, left


def _note_evaluations(state: State, cell: CodeCell, targets: list[Entry], accepted: bool) -> None:
    """What each model evaluated here got, and which model later prints follow."""
    idx, out = cell.idx, cell.out
    on_test = [e for e in cell.evaluates if e.on in ("test", "unknown")]
    if cell.trained_here:
        state.last_test_eval = None
    elif cell.evaluates:
        tested = targets if on_test else []
        state.last_test_eval = (
            tested[0] if len(tested) == 1 and all(e.on == "test" for e in cell.evaluates) else None
        )
    if not on_test:
        return
    in_training = all(_inside_training(cell, ev.line) for ev in on_test)
    for e in targets:
        if in_training and e in cell.trained_here:
            continue  # validation inside its own training loop, not a test evaluation
        prov_ = e.run.test_accuracy_provenance
        if prov_ is not None and prov_.cell == idx:
            continue
        if out.errors:
            what = "error"
        elif accepted:
            what = "ambiguous"
        elif out.has_evaluate_bar:
            what = "bar"
        elif any(not c.mentions_train for c in out.accuracy_candidates):
            what = "ambiguous"
        else:
            what = "not-printed"
        e.evaluations.append((idx, what))


def _inside_training(cell: CodeCell, line: int) -> bool:
    """Whether a line is part of the cell's training: a fit call, or a training loop's body."""
    for fit in cell.facts.fits:
        last = max(
            (lp.last_line for lp in cell.facts.loops if lp.first_line == fit.line),
            default=fit.line,
        )
        if fit.line <= line <= last:
            return True
    return False


def note_not_run(state: State, idx: int, evaluates: list[EvaluateCall]) -> None:
    """A cell that evaluates models on the test set but never ran."""
    tested = [e for e in evaluates if e.on in ("test", "unknown")]
    for e in eval_targets(state, tested, []):
        e.evaluations.append((idx, "not-run"))
