"""Accuracy of ``grader check`` on the hand-labelled corpus of real notebooks.

    python bench/corpus_eval.py [--split dev|holdout|all] [--only ID ...] [--show-misses]
                                [--json bench/results/corpus.json] [--jobs 1]
                                [--labels tests/corpus/labels.yaml]
                                [--notebooks /work/corpus/notebooks] [--tolerance 0.006]

Every notebook is checked the way a user would check it: one cold CLI process per notebook,
``python -m grader check --json --no-bands NB`` with the interpreter this script runs in, timed
with ``time.perf_counter`` around ``subprocess.run``. Its JSON is scored against the hand-made
labels in ``tests/corpus/labels.yaml`` (format: ``tests/corpus/README.md``). Keep ``--jobs 1``
when the times matter: parallel runs share the cores.

Where the notebooks come from
-----------------------------
They are not in the repository. Each label names the notebook's ``source`` (GitHub ``repo``,
``path`` and ``commit``) and the ``sha256`` of the file, so anyone can fetch them
(``git show <commit>:<path> > <id>.ipynb``) into one folder as ``<id>.ipynb``. The folder is
``--notebooks``, else ``$GRADER_CORPUS``, else ``/work/corpus/notebooks``. A missing notebook is
skipped (listed, not scored); a sha256 mismatch is warned about and the notebook still scored.

What is measured (rules fixed before the grader was first run on the corpus)
-----------------------------------------------------------------------------
Scope. A labelled model is *out of scope* when its kind is ``other`` and its notebook carries
the tag ``non-image-models`` or ``non-image-model``: scikit-learn baselines and 1-D / dense
networks on time series, which the grader (an image-CNN homework checker) is not meant to see.
Every other labelled model is scored, including MLPs on images, ensembles and library
architectures trained from scratch (their label kind is ``other``). Out-of-scope models count
nowhere except in their own "out of scope" line. A labelled accuracy shown only as a Keras
progress bar (``shown_as: bar-only``) is never taken by the grader by design; it is left out
of recall and reported on its own line.

Test accuracy. Reported accuracies are the non-null ``models[].test_accuracy`` of the grader's
JSON; labelled accuracies the non-null ``models[].test_accuracy`` of the label (all scopes).
A reported value r and a labelled value l *match* when ``|r - l| <= tol(r, l)``, where
``tol = clamp(max(h(r), h(l)), 0.0005, 0.005)`` and ``h(x)`` is half a unit of the last
decimal of the shortest ``repr`` of x (0.62, read from "62 %", gives 0.005, i.e. half a
percentage point; 0.829 gives 0.0005). ``--tolerance T`` replaces this with a fixed T.
Matching is one-to-one per notebook and greedy: all matching pairs sorted by ``|r - l|``
(ties: scored labels before bar-only before out-of-scope, then label order, then report
order), each pair taken when both sides are still free.

* recall = scored labelled accuracies that are matched / scored labelled accuracies (scored =
  in scope and not bar-only);
* precision = reported accuracies matched to any labelled accuracy of the notebook (any scope)
  / all reported accuracies;
* "other model": matched pairs where the reported model is not the labelled one. The two are
  the same model when their names' leading identifiers (the text before the first space or
  "(", case-insensitive) are equal and each is unique in its list (the notebook's in-scope
  labelled models, the grader's models), or else when they have the same position in those
  lists (0-based). This is a heuristic column; it does not change precision or recall.

Model kinds. Per notebook, the multiset of kinds of in-scope labelled models (with or without
an accuracy) against the multiset of kinds of the reported models, where a reported model whose
accuracy was matched to an out-of-scope label is dropped. TP = size of the multiset
intersection. Micro precision = sum TP / sum reported, recall = sum TP / sum labelled,
F1 their harmonic mean; also the mean over notebooks of the per-notebook F1 (1.0 when both
multisets are empty, 0.0 when exactly one is).

Bases. Same multiset rule on the non-null ``base`` of the same models, compared
case-insensitively with everything but letters and digits removed (``ResNet-50`` =
``resnet50``); micro precision, recall and F1. Notebooks without any base add nothing.

Flags. ``has_curves``, ``has_confusion_matrix``, ``has_written_summary``: share of notebooks
where each equals the label; "all three" = share where all three do; "flags" in the summary
line = the mean of the three shares.

Framework. Share of notebooks whose ``framework`` equals the label (``unknown`` included).

Crashes. A notebook whose CLI exited with code 2 or any code other than 0 / 1 (0: every
requirement met, 1: some not met), whose stdout is not a JSON object, or whose object is a
refusal (has an ``error`` key). A crashed notebook reports nothing: its labelled accuracies,
kinds and bases are misses, its flags and framework wrong.

Time. Wall seconds per notebook, cold CLI start included: median (p50), nearest-rank p90, max,
and the notebooks over 1 s.

Per tag. Test-accuracy recall per label tag, the label's framework counting as a tag too
(``pytorch``, ``keras``), and per ``shown_as``.

Output: tables on stdout (dev, holdout and all when ``--split all``), ``--show-misses`` for the
list of every miss, ``--json OUT`` for per-notebook details and the summaries. The last line is
the one-line summary for the README's benchmark table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LABELS = ROOT / "tests" / "corpus" / "labels.yaml"
DEFAULT_NOTEBOOKS = Path("/work/corpus/notebooks")
FLAGS = ("has_curves", "has_confusion_matrix", "has_written_summary")
NON_IMAGE_TAGS = frozenset({"non-image-models", "non-image-model"})
TOL_MIN, TOL_MAX = 0.0005, 0.005
SLOW_S = 1.0
SCORED, BAR_ONLY, OUT_OF_SCOPE = "scored", "bar-only", "out-of-scope"
SCOPE_ORDER = {SCORED: 0, BAR_ONLY: 1, OUT_OF_SCOPE: 2}

Label = dict[str, Any]


# ---------------------------------------------------------------- running the grader


@dataclass
class Run:
    """One cold CLI run of ``grader check --json``."""

    seconds: float
    rc: int
    doc: dict[str, Any] | None
    crash: str | None
    stderr_tail: str = ""


def run_grader(notebook: Path) -> Run:
    cmd = [sys.executable, "-m", "grader", "check", "--json", "--no-bands", str(notebook)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    seconds = time.perf_counter() - t0
    tail = proc.stderr.strip()[-600:]
    doc: dict[str, Any] | None = None
    crash: str | None = None
    try:
        parsed = json.loads(proc.stdout)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("notebooks"), list):
        items = parsed["notebooks"]
        parsed = items[0] if items else None
    if proc.returncode not in (0, 1):
        crash = f"exit code {proc.returncode}"
    elif not isinstance(parsed, dict):
        crash = "no JSON object on stdout"
    elif "error" in parsed:
        crash = f"refused: {parsed.get('error')}: {parsed.get('reason')}"
    else:
        doc = parsed
    return Run(seconds=seconds, rc=proc.returncode, doc=doc, crash=crash, stderr_tail=tail)


# ---------------------------------------------------------------- matching rules


def half_unit(x: float) -> float:
    """Half a unit of the last decimal of the shortest repr of ``x``."""
    exponent = Decimal(repr(float(x))).normalize().as_tuple().exponent
    if not isinstance(exponent, int):
        return 0.0
    return 0.5 * 10.0 ** min(exponent, 0)


def tolerance(reported: float, labelled: float, fixed: float | None) -> float:
    if fixed is not None:
        return fixed
    return min(max(half_unit(reported), half_unit(labelled), TOL_MIN), TOL_MAX)


def canon_base(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def leading_identifier(name: str | None) -> str:
    return re.split(r"[\s(]", (name or "").strip().lower(), maxsplit=1)[0]


def model_scope(entry: Label, model: Label) -> str:
    if model.get("kind") == "other" and NON_IMAGE_TAGS & set(entry.get("tags") or []):
        return OUT_OF_SCOPE
    if model.get("shown_as") == BAR_ONLY:
        return BAR_ONLY
    return SCORED


def multiset_tp(a: Iterable[str], b: Iterable[str]) -> int:
    return sum((Counter(a) & Counter(b)).values())


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def micro_f1(p: float | None, r: float | None) -> float | None:
    """F1 of micro precision and recall; None when nothing was labelled or reported."""
    if p is None and r is None:
        return None
    return f1(p or 0.0, r or 0.0)


def ratio(num: int, den: int) -> float | None:
    return num / den if den else None


# ---------------------------------------------------------------- scoring one notebook


@dataclass
class LabelledAcc:
    model_index: int
    name: str
    value: float
    shown_as: str
    scope: str
    cell: int | None
    note: str
    matched: int | None = None
    same_model: bool | None = None


@dataclass
class ReportedModel:
    index: int
    name: str
    kind: str
    base: str | None
    value: float | None
    provenance: dict[str, Any] | None
    matched: int | None = None
    matched_scope: str | None = None


@dataclass
class NotebookScore:
    id: str
    split: str
    tags: list[str]
    seconds: float
    rc: int | None
    crash: str | None
    sha_ok: bool
    labelled: list[LabelledAcc] = field(default_factory=list)
    reported: list[ReportedModel] = field(default_factory=list)
    kinds_label: list[str] = field(default_factory=list)
    kinds_reported: list[str] = field(default_factory=list)
    kinds_tp: int = 0
    bases_label: list[str] = field(default_factory=list)
    bases_reported: list[str] = field(default_factory=list)
    bases_tp: int = 0
    flags: dict[str, tuple[bool, bool | None]] = field(default_factory=dict)
    framework: tuple[str, str | None] = ("unknown", None)
    stderr_tail: str = ""

    @property
    def kinds_f1(self) -> float:
        nl, nr = len(self.kinds_label), len(self.kinds_reported)
        if nl == 0 and nr == 0:
            return 1.0
        return f1(self.kinds_tp / nr if nr else 0.0, self.kinds_tp / nl if nl else 0.0)


def score_notebook(entry: Label, run: Run, sha_ok: bool, fixed_tol: float | None) -> NotebookScore:
    tags = list(entry.get("tags") or [])
    score = NotebookScore(
        id=entry["id"],
        split=entry["split"],
        tags=tags,
        seconds=run.seconds,
        rc=run.rc,
        crash=run.crash,
        sha_ok=sha_ok,
        stderr_tail=run.stderr_tail if run.crash else "",
    )
    models: list[Label] = list(entry.get("models") or [])
    scopes = [model_scope(entry, m) for m in models]
    in_scope = [m for m, s in zip(models, scopes, strict=True) if s != OUT_OF_SCOPE]
    for i, (m, s) in enumerate(zip(models, scopes, strict=True)):
        if m.get("test_accuracy") is not None:
            score.labelled.append(
                LabelledAcc(
                    model_index=i,
                    name=str(m.get("name")),
                    value=float(m["test_accuracy"]),
                    shown_as=str(m.get("shown_as")),
                    scope=s,
                    cell=m.get("cell"),
                    note=str(m.get("note") or ""),
                )
            )
    doc = run.doc or {}
    for j, rm in enumerate(doc.get("models") or []):
        value = rm.get("test_accuracy")
        score.reported.append(
            ReportedModel(
                index=j,
                name=str(rm.get("name")),
                kind=str(rm.get("kind")),
                base=rm.get("base"),
                value=float(value) if value is not None else None,
                provenance=rm.get("test_accuracy_provenance"),
            )
        )

    # test accuracy: greedy one-to-one matching by closeness
    pairs: list[tuple[float, int, int, int]] = []
    for li, la in enumerate(score.labelled):
        for ri, rep in enumerate(score.reported):
            if rep.value is None:
                continue
            diff = abs(rep.value - la.value)
            if diff <= tolerance(rep.value, la.value, fixed_tol) + 1e-12:
                pairs.append((diff, SCOPE_ORDER[la.scope], li, ri))
    pairs.sort()
    for _, _, li, ri in pairs:
        la, rep = score.labelled[li], score.reported[ri]
        if la.matched is None and rep.matched is None:
            la.matched, rep.matched, rep.matched_scope = ri, li, la.scope

    # "other model" heuristic
    label_ids = [leading_identifier(m.get("name")) for m in in_scope]
    report_ids = [leading_identifier(r.name) for r in score.reported]
    in_scope_pos = {id(m): k for k, m in enumerate(in_scope)}
    for la in score.labelled:
        if la.matched is None or la.scope == OUT_OF_SCOPE:
            continue
        rep = score.reported[la.matched]
        lid, rid = leading_identifier(la.name), report_ids[rep.index]
        by_name = lid == rid and label_ids.count(lid) == 1 and report_ids.count(rid) == 1
        by_pos = in_scope_pos[id(models[la.model_index])] == rep.index
        la.same_model = by_name or by_pos

    # kinds and bases: in-scope labelled models vs reported minus those matched out of scope
    kept = [r for r in score.reported if r.matched_scope != OUT_OF_SCOPE]
    score.kinds_label = sorted(str(m.get("kind")) for m in in_scope)
    score.kinds_reported = sorted(r.kind for r in kept)
    score.kinds_tp = multiset_tp(score.kinds_label, score.kinds_reported)
    score.bases_label = sorted(canon_base(str(m["base"])) for m in in_scope if m.get("base"))
    score.bases_reported = sorted(canon_base(r.base) for r in kept if r.base)
    score.bases_tp = multiset_tp(score.bases_label, score.bases_reported)

    for flag in FLAGS:
        got = doc.get(flag)
        score.flags[flag] = (bool(entry.get(flag)), bool(got) if got is not None else None)
    score.framework = (str(entry.get("framework")), doc.get("framework"))
    return score


# ---------------------------------------------------------------- aggregation


def nearest_rank(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def acc_recall(scores: Iterable[NotebookScore]) -> tuple[int, int]:
    found = total = 0
    for s in scores:
        for la in s.labelled:
            if la.scope == SCORED:
                total += 1
                found += la.matched is not None
    return found, total


def summarize(scores: list[NotebookScore]) -> dict[str, Any]:
    n = len(scores)
    found, total = acc_recall(scores)
    reported = [r for s in scores for r in s.reported if r.value is not None]
    correct = [r for r in reported if r.matched is not None]
    other_model = sum(
        1 for s in scores for la in s.labelled if la.matched is not None and la.same_model is False
    )
    bar = [la for s in scores for la in s.labelled if la.scope == BAR_ONLY]
    oos = [la for s in scores for la in s.labelled if la.scope == OUT_OF_SCOPE]
    k_tp = sum(s.kinds_tp for s in scores)
    k_lab = sum(len(s.kinds_label) for s in scores)
    k_rep = sum(len(s.kinds_reported) for s in scores)
    b_tp = sum(s.bases_tp for s in scores)
    b_lab = sum(len(s.bases_label) for s in scores)
    b_rep = sum(len(s.bases_reported) for s in scores)
    kp, kr = ratio(k_tp, k_rep), ratio(k_tp, k_lab)
    bp, br = ratio(b_tp, b_rep), ratio(b_tp, b_lab)
    flag_share = {
        f: ratio(sum(1 for s in scores if s.flags[f][0] == s.flags[f][1]), n) for f in FLAGS
    }
    all_three = ratio(sum(1 for s in scores if all(a == b for a, b in s.flags.values())), n)
    shares = [v for v in flag_share.values() if v is not None]
    seconds = [s.seconds for s in scores]
    return {
        "notebooks": n,
        "test_accuracy": {
            "labelled": total,
            "found": found,
            "recall": ratio(found, total),
            "reported": len(reported),
            "correct": len(correct),
            "precision": ratio(len(correct), len(reported)),
            "attached_to_other_model": other_model,
            "bar_only": {"labelled": len(bar), "found": sum(la.matched is not None for la in bar)},
            "out_of_scope": {
                "labelled": len(oos),
                "found": sum(la.matched is not None for la in oos),
            },
        },
        "kinds": {
            "tp": k_tp,
            "labelled": k_lab,
            "reported": k_rep,
            "precision": kp,
            "recall": kr,
            "f1": micro_f1(kp, kr),
            "mean_notebook_f1": statistics.fmean(s.kinds_f1 for s in scores) if scores else None,
        },
        "bases": {
            "tp": b_tp,
            "labelled": b_lab,
            "reported": b_rep,
            "precision": bp,
            "recall": br,
            "f1": micro_f1(bp, br),
        },
        "flags": {
            **flag_share,
            "all_three": all_three,
            "mean": statistics.fmean(shares) if shares else None,
        },
        "framework": ratio(sum(1 for s in scores if s.framework[0] == s.framework[1]), n),
        "crashes": [s.id for s in scores if s.crash],
        "time": {
            "p50": statistics.median(seconds) if seconds else None,
            "p90": nearest_rank(seconds, 0.9) if seconds else None,
            "max": max(seconds) if seconds else None,
            "over_1s": [s.id for s in scores if s.seconds > SLOW_S],
        },
    }


def per_group_recall(scores: list[NotebookScore], key: str) -> list[dict[str, Any]]:
    groups: dict[str, list[LabelledAcc]] = {}
    notebooks: dict[str, set[str]] = {}
    for s in scores:
        names: list[str] = []
        if key == "tag":
            names = [*s.tags, f"{s.framework[0]}"]
        for la in s.labelled:
            if la.scope != SCORED:
                continue
            for g in names if key == "tag" else [la.shown_as]:
                groups.setdefault(g, []).append(la)
                notebooks.setdefault(g, set()).add(s.id)
    rows: list[dict[str, Any]] = []
    for g, items in groups.items():
        found = sum(la.matched is not None for la in items)
        rows.append(
            {
                key: g,
                "notebooks": len(notebooks[g]),
                "labelled": len(items),
                "found": found,
                "recall": found / len(items),
            }
        )
    rows.sort(key=lambda r: (r["recall"], -r["labelled"], r[key]))
    return rows


def summary_line(name: str, s: dict[str, Any]) -> str:
    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    ta, t = s["test_accuracy"], s["time"]
    return (
        f"{name} ({s['notebooks']} notebooks): test accuracy recall {f(ta['recall'])}, "
        f"precision {f(ta['precision'])}; kinds F1 {f(s['kinds']['f1'])}; "
        f"bases {f(s['bases']['f1'])}; flags {f(s['flags']['mean'])}; "
        f"framework {f(s['framework'])}; {len(s['crashes'])} crashes; "
        f"p50 {f(t['p50'])} s, max {f(t['max'])} s"
    )


# ---------------------------------------------------------------- output


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def summary_table(summaries: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="grader check vs hand labels")
    table.add_column("metric")
    for name in summaries:
        table.add_column(name, justify="right")

    def row(label: str, get: Any) -> None:
        table.add_row(label, *[get(s) for s in summaries.values()])

    row("notebooks", lambda s: str(s["notebooks"]))
    row(
        "test acc recall",
        lambda s: (
            f"{fmt(s['test_accuracy']['recall'])} "
            f"({s['test_accuracy']['found']}/{s['test_accuracy']['labelled']})"
        ),
    )
    row(
        "test acc precision",
        lambda s: (
            f"{fmt(s['test_accuracy']['precision'])} "
            f"({s['test_accuracy']['correct']}/{s['test_accuracy']['reported']})"
        ),
    )
    row("  on another model", lambda s: str(s["test_accuracy"]["attached_to_other_model"]))
    row(
        "  bar-only taken",
        lambda s: (
            f"{s['test_accuracy']['bar_only']['found']}"
            f"/{s['test_accuracy']['bar_only']['labelled']}"
        ),
    )
    row(
        "  out-of-scope taken",
        lambda s: (
            f"{s['test_accuracy']['out_of_scope']['found']}"
            f"/{s['test_accuracy']['out_of_scope']['labelled']}"
        ),
    )
    for key, label in (("kinds", "kinds"), ("bases", "bases")):
        row(
            f"{label} P / R / F1",
            lambda s, k=key: (
                f"{fmt(s[k]['precision'])} / {fmt(s[k]['recall'])} / {fmt(s[k]['f1'])}"
            ),
        )
        row(
            f"  {label} tp/lab/rep",
            lambda s, k=key: f"{s[k]['tp']}/{s[k]['labelled']}/{s[k]['reported']}",
        )
    row("kinds mean notebook F1", lambda s: fmt(s["kinds"]["mean_notebook_f1"]))
    for flag in FLAGS:
        row(flag, lambda s, f=flag: fmt(s["flags"][f]))
    row("flags all three", lambda s: fmt(s["flags"]["all_three"]))
    row("flags mean", lambda s: fmt(s["flags"]["mean"]))
    row("framework", lambda s: fmt(s["framework"]))
    row("crashes", lambda s: str(len(s["crashes"])))
    row(
        "time p50 / p90 / max s",
        lambda s: f"{fmt(s['time']['p50'])} / {fmt(s['time']['p90'])} / {fmt(s['time']['max'])}",
    )
    row("over 1 s", lambda s: str(len(s["time"]["over_1s"])))
    return table


def group_table(title: str, key: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    table.add_column(key)
    for col in ("notebooks", "labelled", "found", "recall"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r[key]), str(r["notebooks"]), str(r["labelled"]), str(r["found"]), fmt(r["recall"])
        )
    return table


def describe_reported(s: NotebookScore) -> str:
    if s.crash:
        return f"CRASH ({s.crash})"
    if not s.reported:
        return "no models"
    parts = []
    for r in s.reported:
        prov = r.provenance or {}
        where = (
            f" @cell {prov.get('cell')} {prov.get('method')}: {str(prov.get('detail') or '')[:70]!r}"
            if r.value is not None
            else ""
        )
        parts.append(f"[{r.index}] {r.name} {r.kind} {r.base or '-'} acc={fmt(r.value, 4)}{where}")
    return "\n        ".join(parts)


def print_misses(scores: list[NotebookScore]) -> None:
    print("\n=== missed test accuracies (scored labels not found)")
    for s in scores:
        for la in s.labelled:
            if la.scope == SCORED and la.matched is None:
                print(f"- {s.id}: {la.name} = {la.value} ({la.shown_as}, cell {la.cell})")
                print(f"    label note: {la.note[:240]}")
                print(f"    grader: {describe_reported(s)}")
    print("\n=== wrong test accuracies (reported, matching no label)")
    for s in scores:
        for r in s.reported:
            if r.value is not None and r.matched is None:
                labelled = ", ".join(f"{la.value}" for la in s.labelled) or "none"
                print(f"- {s.id}: [{r.index}] {r.name} ({r.kind}) acc={r.value:.4f}")
                prov = r.provenance or {}
                print(
                    f"    provenance: cell {prov.get('cell')} {prov.get('method')}: "
                    f"{str(prov.get('detail') or '')[:160]!r}"
                )
                print(f"    labelled accuracies: {labelled}")
    print("\n=== accuracies attached to another model than the label's")
    for s in scores:
        for la in s.labelled:
            if la.matched is not None and la.same_model is False:
                r = s.reported[la.matched]
                print(f"- {s.id}: label {la.name!r} = {la.value} -> grader [{r.index}] {r.name}")
    print("\n=== bar-only / out-of-scope accuracies the grader took")
    for s in scores:
        for la in s.labelled:
            if la.scope != SCORED and la.matched is not None:
                r = s.reported[la.matched]
                print(
                    f"- {s.id}: {la.scope} {la.name!r} = {la.value} -> grader [{r.index}] {r.name}"
                )
    print("\n=== kind confusions (labelled multiset vs reported multiset)")
    for s in scores:
        if Counter(s.kinds_label) != Counter(s.kinds_reported):
            print(f"- {s.id}: labelled {s.kinds_label} / reported {s.kinds_reported}")
            names = "; ".join(f"{r.name}={r.kind}" for r in s.reported)
            print(f"    grader models: {names or 'none'}")
    print("\n=== base mismatches")
    for s in scores:
        if Counter(s.bases_label) != Counter(s.bases_reported):
            print(f"- {s.id}: labelled {s.bases_label} / reported {s.bases_reported}")
    print("\n=== flag errors")
    for s in scores:
        for flag, (want, got) in s.flags.items():
            if want != got:
                print(f"- {s.id}: {flag} label {want}, grader {got}")
    print("\n=== framework errors")
    for s in scores:
        if s.framework[0] != s.framework[1]:
            print(f"- {s.id}: label {s.framework[0]}, grader {s.framework[1]}")
    print("\n=== crashes")
    for s in scores:
        if s.crash:
            print(f"- {s.id}: {s.crash}\n    {s.stderr_tail[-400:]}")


# ---------------------------------------------------------------- main


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument(
        "--notebooks",
        type=Path,
        default=Path(os.environ.get("GRADER_CORPUS") or DEFAULT_NOTEBOOKS),
    )
    ap.add_argument("--split", choices=("dev", "holdout", "all"), default="all")
    ap.add_argument("--only", action="append", default=[], metavar="ID")
    ap.add_argument("--json", type=Path, default=None, metavar="OUT")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument(
        "--tolerance", type=float, default=None, help="fixed match tolerance (default: rounding)"
    )
    ns = ap.parse_args(argv)

    entries: list[Label] = yaml.safe_load(ns.labels.read_text(encoding="utf-8"))
    if ns.split != "all":
        entries = [e for e in entries if e["split"] == ns.split]
    if ns.only:
        unknown = set(ns.only) - {e["id"] for e in entries}
        if unknown:
            print(f"unknown ids (or not in split {ns.split}): {sorted(unknown)}", file=sys.stderr)
            return 2
        entries = [e for e in entries if e["id"] in set(ns.only)]

    present: list[tuple[Label, Path, bool]] = []
    missing: list[str] = []
    for e in entries:
        path = ns.notebooks / f"{e['id']}.ipynb"
        if not path.is_file():
            missing.append(e["id"])
            continue
        sha_ok = sha256_of(path) == e.get("sha256")
        if not sha_ok:
            print(f"warning: sha256 of {path} differs from the label", file=sys.stderr)
        present.append((e, path, sha_ok))
    if missing:
        print(f"warning: {len(missing)} notebooks missing, not scored: {missing}", file=sys.stderr)
    if not present:
        print(f"no notebooks to check in {ns.notebooks}", file=sys.stderr)
        return 2

    def work(item: tuple[Label, Path, bool]) -> NotebookScore:
        entry, path, sha_ok = item
        run = run_grader(path)
        print(
            f"  {entry['id']:<50} {run.seconds:5.2f} s"
            f"{'  CRASH ' + run.crash if run.crash else ''}",
            file=sys.stderr,
            flush=True,
        )
        return score_notebook(entry, run, sha_ok, ns.tolerance)

    with ThreadPoolExecutor(max_workers=max(1, ns.jobs)) as pool:
        scores = list(pool.map(work, present))

    groups: dict[str, list[NotebookScore]] = {}
    if ns.split == "all" and not ns.only:
        groups["dev"] = [s for s in scores if s.split == "dev"]
        groups["holdout"] = [s for s in scores if s.split == "holdout"]
    groups[ns.split if not ns.only else "selected"] = scores
    summaries = {name: summarize(group) for name, group in groups.items() if group}
    by_tag = per_group_recall(scores, "tag")
    by_shown = per_group_recall(scores, "shown_as")

    console = Console(width=max(120, Console().width), highlight=False)
    console.print(summary_table(summaries))
    console.print(group_table("test-accuracy recall per tag", "tag", by_tag))
    console.print(group_table("test-accuracy recall per shown_as", "shown_as", by_shown))
    main_summary = summaries[next(reversed(summaries))]
    crashes, slow = main_summary["crashes"], main_summary["time"]["over_1s"]
    console.print(f"crashes: {', '.join(crashes) or 'none'}", markup=False)
    console.print(f"over {SLOW_S:g} s: {', '.join(slow) or 'none'}", markup=False)
    if missing:
        console.print(f"missing (not scored): {', '.join(missing)}", markup=False)
    if ns.show_misses:
        sys.stdout.flush()
        print_misses(scores)

    if ns.json:
        ns.json.parent.mkdir(parents=True, exist_ok=True)
        out = {
            "labels": str(ns.labels),
            "notebooks_dir": str(ns.notebooks),
            "tolerance": ns.tolerance if ns.tolerance is not None else "rounding",
            "python": sys.executable,
            "summaries": summaries,
            "recall_per_tag": by_tag,
            "recall_per_shown_as": by_shown,
            "missing": missing,
            "notebooks": [asdict(s) | {"kinds_f1": s.kinds_f1} for s in scores],
        }
        ns.json.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")

    name = "corpus" if ns.split == "all" else f"corpus {ns.split}"
    if ns.only:
        name = "corpus subset"
    print(summary_line(name, main_summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
