"""Test accuracies: which printed number is a model's test accuracy.

The output readers find candidates (an evaluate result, a printed line, a
classification report, a table row); a cell's candidates go to the models the
cell evaluates, matched by the label that names them (``"ResNet test acc"``),
else in order, else to the latest model when that is unambiguous. A table
printed where nothing is evaluated is matched by row labels at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from grader.evidence import Method, ModelKind
from grader.extract.assemble.state import CodeCell, Entry, State, prov, resolve
from grader.extract.facts import AccuracyCandidate, EvaluateCall, OutputFacts

__all__ = ["apply_tables", "eval_targets", "test_accuracy"]


def _tokens(text: str) -> set[str]:
    parts = re.split(r"[^a-z0-9]+", text.lower())
    return {
        p
        for p in parts
        if p
        and p
        not in {
            "model",
            "the",
            "test",
            "acc",
            "accuracy",
            "of",
            "on",
            "final",
            "history",
            "hist",
            "h",
        }
    }


_KIND_WORDS = {
    ModelKind.scratch_cnn: {
        "cnn",
        "scratch",
        "baseline",
        "simple",
        "bipyramidal",
        "base",
        "basic",
        "sequential",
        "m1",
        "model1",
    },
    ModelKind.custom_residual: {
        "resnet",
        "residual",
        "res",
        "custom",
        "resnetlike",
        "m2",
        "model2",
    },
    ModelKind.custom_xception: {
        "xception",
        "separable",
        "sep",
        "custom",
        "xceptionlike",
        "m2",
        "model2",
    },
    ModelKind.transfer_frozen: {
        "transfer",
        "pretrained",
        "frozen",
        "tl",
        "feature",
        "m3",
        "model3",
    },
    ModelKind.fine_tuned: {"fine", "tuned", "finetuned", "finetune", "ft", "unfrozen", "tuning"},
}


def _label_score(label: str, entry: Entry) -> int:
    toks = _tokens(label)
    if not toks:
        return 0
    score = 0
    name_toks = _tokens(entry.var) | _tokens(entry.run.name)
    score += 3 * len(toks & name_toks)
    score += 2 * len(toks & _KIND_WORDS.get(entry.run.kind, set()))
    if entry.run.base and entry.run.base.lower() in label.lower().replace(" ", ""):
        score += 3
    return score


def _best_entry(label: str, entries: Iterable[Entry]) -> Entry | None:
    scored = sorted(
        ((_label_score(label, e), i, e) for i, e in enumerate(entries)), key=lambda t: (-t[0], t[1])
    )
    if not scored or scored[0][0] == 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][2]


_ACC_PRIORITY = {  # how much a kind of candidate is trusted
    "print": 4,
    "evaluate_result": 4,
    "classification_report": 3,
    "accuracy_score": 2,
    "table": 1,
}


def _priority(c: AccuracyCandidate) -> int:
    return _ACC_PRIORITY.get(c.method, 0) + (1 if c.mentions_test else 0)


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


def _accept_candidates(
    out: OutputFacts, evaluates: list[EvaluateCall], named: bool
) -> list[AccuracyCandidate]:
    """The candidates that may be a test accuracy, given what the cell evaluates."""
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
        if c.method == "table" or c.mentions_val or c.mentions_train:
            continue
        if not 0.0 <= c.value <= 1.0:
            continue
        if c.method == "evaluate_result":
            if only_val or not (evaluates or c.mentions_test or named):
                continue
        elif c.method == "accuracy_score":
            if not computes_score or only_val:
                continue
        elif c.method == "classification_report":
            if only_val:
                continue
        elif c.method == "print":
            if not c.mentions_test and not (
                strict_test or named or (on_test and c.confidence >= 0.5)
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
            if e is None and ev.on == "test" and state.entries and not ev.in_loop:
                # evaluated through a name the reader could not follow: the latest model
                e = state.entries[-1]
            if e is not None and e not in targets:
                targets.append(e)
    if not targets and trained_here:
        targets = list(trained_here)
    return targets


def _give(
    e: Entry,
    c: AccuracyCandidate,
    idx: int,
    confidence: float,
    method: Method = Method.output_text,
) -> None:
    pr = _priority(c)
    if e.run.test_accuracy is not None and pr < e.acc_priority:
        return
    e.acc_priority = pr
    e.run.test_accuracy = round(c.value, 6)
    detail = c.line if c.method != "table" else f"{c.label}: {c.line}"
    e.run.test_accuracy_provenance = prov(idx, method, confidence, detail)


def _attribute_table(
    state: State, idx: int, table: list[AccuracyCandidate], targets: list[Entry]
) -> None:
    """A table printed by a cell that evaluates models: rows by name, else in order."""
    rows = [c for c in table if not (c.mentions_val or c.mentions_train) and 0 <= c.value <= 1]
    if not rows:
        return
    pool = targets or state.entries
    matched = {id(c): _best_entry(c.label, pool) for c in rows}
    if all(matched.values()) and len({id(e) for e in matched.values()}) == len(rows):
        for c in rows:
            e = matched[id(c)]
            if e is not None:
                _give(e, c, idx, 0.7, Method.output_table)
        return
    if targets and len(rows) == len(targets):
        for e, c in zip(targets, rows, strict=True):
            _give(e, c, idx, 0.6, Method.output_table)


def _attribute_accuracy(
    state: State, idx: int, accepted: list[AccuracyCandidate], targets: list[Entry]
) -> None:
    """Give the accepted candidates of a cell to the models it evaluates."""

    def give(e: Entry, c: AccuracyCandidate, confidence: float) -> None:
        _give(e, c, idx, confidence)

    # one model evaluated here: its best candidate
    if len(targets) == 1:
        best = max(
            accepted,
            key=lambda c: (_priority(c), c.order),
        )
        # a line that names another model and says nothing of the evaluated one
        labelled = [
            c
            for c in accepted
            if _best_entry(c.label, state.entries) not in (None, targets[0])
            and _label_score(c.label, targets[0]) == 0
        ]
        if labelled and len(labelled) == len(accepted):
            # every line names another model: a summary cell, match by label
            for c in accepted:
                e = _best_entry(c.label, state.entries)
                if e is not None:
                    give(e, c, 0.7)
            return
        give(targets[0], best, 0.9)
        return
    pool = targets or state.entries
    unmatched = []
    for c in accepted:
        e = _best_entry(c.label, pool)
        if e is not None:
            give(e, c, 0.8)
        else:
            unmatched.append(c)
    if not unmatched:
        return
    if targets:
        ordered = sorted(unmatched, key=lambda c: c.order)
        free = [e for e in targets if e.run.test_accuracy is None]
        groups = _distinct(unmatched)
        if len(ordered) == len(targets):
            # one result per model, in the order the cell names them
            for e, c in zip(targets, ordered, strict=True):
                give(e, c, 0.6)
        elif len(groups) == len(targets):
            for e, c in zip(targets, groups, strict=True):
                give(e, c, 0.6)
        elif len(groups) == len(free):
            for e, c in zip(free, groups, strict=True):
                give(e, c, 0.6)
        return
    # no evaluate call seen: the latest model without a test accuracy, if it is unambiguous
    recent = [e for e in state.entries if e.run.test_accuracy is None]
    groups = _distinct(unmatched)
    if recent and len(groups) == 1 and any(c.mentions_test for c in groups):
        give(recent[-1], groups[0], 0.5)


def _distinct(cands: list[AccuracyCandidate]) -> list[AccuracyCandidate]:
    """Collapse candidates that repeat the same value (an evaluate result and its print)."""
    out: list[AccuracyCandidate] = []
    for c in sorted(cands, key=lambda c: c.order):
        if out and abs(out[-1].value - c.value) < 0.0051:
            if _ACC_PRIORITY.get(c.method, 0) > _ACC_PRIORITY.get(out[-1].method, 0):
                out[-1] = c
            continue
        out.append(c)
    return out


def apply_tables(state: State, table: list[tuple[int, AccuracyCandidate]]) -> None:
    """Comparison tables printed away from any evaluation: rows matched to models by label."""
    for idx, c in table:
        if c.mentions_val or c.mentions_train:
            continue
        e = _best_entry(c.label, state.entries)
        if e is None or e.run.test_accuracy is not None:
            continue
        e.run.test_accuracy = round(c.value, 6)
        e.run.test_accuracy_provenance = prov(idx, Method.output_table, 0.6, f"{c.label}: {c.line}")


def test_accuracy(state: State, cell: CodeCell) -> tuple[bool, list[AccuracyCandidate]]:
    """Give a cell's test accuracies to its models.

    Returns whether a candidate was accepted, and the table rows left for
    :func:`apply_tables` (a table printed by a cell that evaluates nothing).
    """
    idx, out, evaluates = cell.idx, cell.out, cell.evaluates
    targets = eval_targets(state, evaluates, cell.trained_here)
    _remember_results(state, evaluates)
    named: list[Entry] = []
    for shown_name in cell.facts.shown_names:
        shown_entry = state.result_vars.get(shown_name)
        if shown_entry is not None and shown_entry not in named:
            named.append(shown_entry)
    if named and not evaluates:
        # results computed earlier, printed here: `print(test1, test2, test3)`
        targets = named
    accepted = _accept_candidates(out, evaluates, bool(named))
    table_here = [c for c in out.accuracy_candidates if c.method == "table"]
    if accepted:
        _attribute_accuracy(state, idx, accepted, targets)
        return True, []
    if table_here and evaluates:
        _attribute_table(state, idx, table_here, targets)
        return False, []
    return False, table_here
