"""Matching printed numbers with models: by the label that names them, or the kind it names.

Shared by the attribution of test accuracies (:mod:`.accuracy`) and of the
"validation" numbers of models validated on the test set (:mod:`.validation`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from grader.evidence import Method, ModelKind
from grader.extract.assemble.state import Entry, prov
from grader.extract.facts import AccuracyCandidate

__all__ = ["ACC_PRIORITY", "best_entry", "distinct", "give", "label_score", "priority"]


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
    ModelKind.other: {"ensemble", "ens", "averaged", "voting", "stacked", "stacking", "combined"},
}


def label_score(label: str, entry: Entry) -> int:
    toks = _tokens(label)
    if not toks:
        return 0
    score = 0
    name_toks = _tokens(entry.var) | _tokens(entry.run.name)
    for history in entry.history_vars:  # ``history_25`` names the model in a row ``model_25``
        name_toks |= _tokens(history)
    score += 3 * len(toks & name_toks)
    score += 2 * len(toks & _KIND_WORDS.get(entry.run.kind, set()))
    if entry.run.base and entry.run.base.lower() in label.lower().replace(" ", ""):
        score += 3
    return score


def best_entry(label: str, entries: Iterable[Entry]) -> Entry | None:
    scored = sorted(
        ((label_score(label, e), i, e) for i, e in enumerate(entries)), key=lambda t: (-t[0], t[1])
    )
    if not scored or scored[0][0] == 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][2]


ACC_PRIORITY = {  # how much a kind of candidate is trusted
    "print": 4,
    "evaluate_result": 4,
    "classification_report": 3,
    "accuracy_score": 2,
    "table": 1,
}


def priority(c: AccuracyCandidate) -> int:
    return ACC_PRIORITY.get(c.method, 0) + (1 if c.mentions_test else 0)


def give(
    e: Entry,
    c: AccuracyCandidate,
    idx: int,
    confidence: float,
    method: Method = Method.output_text,
) -> None:
    pr = priority(c)
    if e.run.test_accuracy is not None and pr < e.acc_priority:
        return
    e.acc_priority = pr
    e.run.test_accuracy = round(c.value, 6)
    detail = c.line if c.method != "table" else f"{c.label}: {c.line}"
    e.run.test_accuracy_provenance = prov(idx, method, confidence, detail)


def distinct(cands: list[AccuracyCandidate]) -> list[AccuracyCandidate]:
    """Collapse candidates that repeat a value (an evaluate result and its print, a summary
    table or report that restates each model's result), in the order values first appear."""
    out: list[AccuracyCandidate] = []
    for c in sorted(cands, key=lambda c: c.order):
        same = next((k for k, o in enumerate(out) if abs(o.value - c.value) < 0.0051), None)
        if same is not None:
            if ACC_PRIORITY.get(c.method, 0) > ACC_PRIORITY.get(out[same].method, 0):
                out[same] = c
            continue
        out.append(c)
    return out
