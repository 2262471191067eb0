"""Assembly: join per-cell source and output facts into one :class:`Evidence`.

The readers (``source.read_source`` and ``outputs.read_outputs``) look at one
cell at a time. This module walks the notebook in order and keeps the state a
reader of the notebook keeps in their head: which model each name holds, what
was frozen or recompiled since it was last trained, which user functions train,
evaluate or plot when they are called, and which results were printed where.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from grader.evidence import (
    Confusion,
    DataFacts,
    Evidence,
    Finding,
    Framework,
    Hygiene,
    Method,
    ModelKind,
    ModelRun,
    NotebookInfo,
    Provenance,
    Severity,
)
from grader.extract.discussion import MarkdownCell, heading_text, quoted_accuracies, read_discussion
from grader.extract.facts import (
    AccuracyCandidate,
    CompileCall,
    EvaluateCall,
    FitCall,
    ModelDef,
    OutputFacts,
    SourceFacts,
    TrainableChange,
    TrainingLog,
)
from grader.extract.outputs import read_outputs
from grader.extract.source import read_sources

__all__ = ["assemble"]

_PRETRAINED = (ModelKind.transfer_frozen, ModelKind.fine_tuned)
_MAGIC = re.compile(r"^\s*([%!?]|%%)")


# ------------------------------------------------------------ function table


@dataclass
class _CellCode:
    facts: SourceFacts  # what runs when the cell runs (calls of notebook functions expanded)
    loop_iters: list[tuple[int, int, list[str]]] = field(default_factory=list)
    # (first line, last line, names the for-loop iterates over)
    list_members: dict[str, list[str]] = field(default_factory=dict)  # name -> model names listed
    shown: list[str] = field(default_factory=list)  # names printed or shown as the last value


def _neutralise_magics(src: str) -> str:
    return "\n".join("" if _MAGIC.match(ln) else ln for ln in src.splitlines())


def _read_code(cell: int, src: str, facts: SourceFacts) -> _CellCode:
    """Loops and lists of models in a cell, next to what the source reader found in it."""
    clean = _neutralise_magics(src)
    try:
        tree = ast.parse(clean)
    except SyntaxError:
        return _CellCode(facts)
    loop_iters: list[tuple[int, int, list[str]]] = []
    list_members: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.For):
            loop_iters.append((node.lineno, node.end_lineno or node.lineno, _iter_names(node.iter)))
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.List | ast.Tuple)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            members = [e.id for e in node.value.elts if isinstance(e, ast.Name)]
            if members:
                list_members[node.targets[0].id] = members
    return _CellCode(facts, loop_iters, list_members, _shown_names(tree))


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Subscript | ast.Attribute | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _names_in(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Tuple | ast.List):
        return [n for e in node.elts for n in _names_in(e)]
    if isinstance(node, ast.JoinedStr):
        return [
            n for v in node.values if isinstance(v, ast.FormattedValue) for n in _names_in(v.value)
        ]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id
        in (
            "round",
            "float",
            "str",
        )
    ):
        return [n for a in node.args[:1] for n in _names_in(a)]
    if isinstance(node, ast.BinOp):
        return _names_in(node.left) + _names_in(node.right)
    root = _root(node)
    return [root] if root else []


def _shown_names(tree: ast.Module) -> list[str]:
    """Names whose values a cell prints (in order), then the value of its last expression."""
    out: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id
            in (
                "print",
                "display",
            )
        ):
            for a in node.args:
                out.extend(_names_in(a))
            for k in node.keywords:
                out.extend(_names_in(k.value))
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        out.extend(_names_in(tree.body[-1].value))
    return out


def _iter_names(node: ast.expr) -> list[str]:
    """Names a for-loop iterates over: `models.items()`, `zip(names, models)`, `enumerate(ms)`."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("items", "values", "keys"):
            return _iter_names(node.func.value)
        if isinstance(node.func, ast.Name) and node.func.id in (
            "zip",
            "enumerate",
            "list",
            "sorted",
            "reversed",
        ):
            return [n for a in node.args for n in _iter_names(a)]
    if isinstance(node, ast.List | ast.Tuple):
        out: list[str] = []
        for elt in node.elts:
            if isinstance(elt, ast.Name):
                out.append(elt.id)
            elif isinstance(elt, ast.Tuple | ast.List):
                out.extend(e.id for e in elt.elts if isinstance(e, ast.Name))
        return out
    return []


# --------------------------------------------------------------------- state


@dataclass
class _Features:
    layers: Counter[str] = field(default_factory=Counter)
    residual: bool = False
    separable: bool = False
    bottleneck: bool = False
    base: str | None = None
    base_var: str | None = None
    weights: str | None = None
    ensemble: bool = False
    framework: str = "keras"
    frozen_in_builder: bool | None = None

    def merge(self, other: _Features) -> None:
        self.layers.update(other.layers)
        self.residual |= other.residual
        self.separable |= other.separable
        self.bottleneck |= other.bottleneck
        self.ensemble |= other.ensemble
        if other.base and not self.base:
            self.base, self.base_var, self.weights = other.base, other.base_var, other.weights
        if other.frozen_in_builder is not None and self.frozen_in_builder is None:
            self.frozen_in_builder = other.frozen_in_builder


_LAYER_RE = re.compile(
    r"\b(SeparableConv2D|DepthwiseConv2D|SeparableConvolution2D|Conv2D|Conv2d|Add|add|"
    r"Concatenate|Dense|Linear|BatchNormalization)\s*\("
)
_PLUS_RE = re.compile(
    r"\b\w+\s*\+=\s*\w+|=\s*\w+\s*\+\s*(shortcut|residual|identity|skip|x|inputs?)\b"
)


def _text_features(src: str) -> _Features:
    f = _Features()
    for m in _LAYER_RE.finditer(src):
        f.layers[m.group(1)] += 1
    f.separable = any(
        k in f.layers for k in ("SeparableConv2D", "DepthwiseConv2D", "SeparableConvolution2D")
    )
    f.residual = "Add" in f.layers or "add" in f.layers or bool(_PLUS_RE.search(src))
    return f


def _def_features(d: ModelDef) -> _Features:
    return _Features(
        layers=Counter(d.layers),
        residual=d.residual,
        separable=d.separable,
        bottleneck=d.bottleneck,
        base=d.base,
        base_var=d.base_var,
        weights=d.weights,
        ensemble=d.ensemble,
        framework=d.framework,
    )


@dataclass
class _Var:
    """What a model variable holds."""

    name: str
    features: _Features
    generation: int  # bumps when the name is bound to a new model
    cell: int


@dataclass
class _Setup:
    frozen: str  # "frozen", "partial", "trainable", "n/a"
    lr: float | None
    compiles: int
    augmentation: bool
    callbacks: tuple[str, ...]


@dataclass
class _Entry:
    run: ModelRun
    var: str
    generation: int
    setup: _Setup
    history_vars: set[str] = field(default_factory=set)
    last_cell: int = 0
    log_epochs: list[int] = field(default_factory=list)
    acc_priority: int = -1


@dataclass
class _State:
    builders: dict[str, _Features] = field(default_factory=dict)
    vars: dict[str, _Var] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    trainable: dict[str, TrainableChange] = field(default_factory=dict)
    trainable_order: dict[str, int] = field(default_factory=dict)
    tick: int = 0
    compiles: dict[str, tuple[int, float | None]] = field(default_factory=dict)
    entries: list[_Entry] = field(default_factory=list)
    by_var: dict[str, _Entry] = field(default_factory=dict)
    history_owner: dict[str, _Entry] = field(default_factory=dict)
    heading: str = ""
    generation: int = 0
    findings: list[Finding] = field(default_factory=list)
    summaries: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    list_members: dict[str, list[str]] = field(default_factory=dict)
    unfrozen_before: dict[str, bool] = field(default_factory=dict)
    result_vars: dict[str, _Entry] = field(default_factory=dict)  # evaluate results -> model


def _resolve(state: _State, var: str | None) -> str | None:
    seen = set()
    while var and var in state.aliases and var not in seen:
        seen.add(var)
        var = state.aliases[var]
    return var


# ------------------------------------------------------------------ kinds


def _kind(feats: _Features, frozen: str, previously_frozen: bool) -> tuple[ModelKind, list[str]]:
    reasons: list[str] = []
    if feats.base:
        if feats.weights == "none":
            reasons.append(f"{feats.base} architecture without pretrained weights")
            return ModelKind.other, reasons
        if frozen == "frozen":
            reasons.append(f"pretrained {feats.base} base kept frozen")
            return ModelKind.transfer_frozen, reasons
        if frozen == "partial":
            reasons.append(f"part of the pretrained {feats.base} base unfrozen")
        elif previously_frozen:
            reasons.append(f"pretrained {feats.base} base unfrozen after a frozen stage")
        else:
            reasons.append(f"pretrained {feats.base} base trained (never frozen)")
        return ModelKind.fine_tuned, reasons
    if feats.ensemble:
        return ModelKind.other, ["ensemble of several models"]
    if feats.separable:
        reasons.append("separable/depthwise convolutions")
        if feats.residual:
            reasons.append("with residual links")
        return ModelKind.custom_xception, reasons
    if feats.residual:
        reasons.append("skip connections (residual blocks)")
        if feats.bottleneck:
            reasons.append("bottleneck blocks")
        return ModelKind.custom_residual, reasons
    convs = sum(v for k, v in feats.layers.items() if "conv" in k.lower())
    if convs:
        return ModelKind.scratch_cnn, [f"plain convolution stack ({convs} conv layers)"]
    if feats.layers:
        return ModelKind.other, ["no convolutional layers found"]
    return ModelKind.scratch_cnn, ["architecture not readable from the code; assumed a CNN"]


_HEADING_CLAIMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"transfer|pre-?trained|p[rř]edtr[eé]novan|fine-?tun|dolad", re.I), "pretrained"),
    (re.compile(r"xception|separab|resnet-?like|residual|rezidu|custom|vlastn", re.I), "custom"),
    (re.compile(r"scratch|baseline|od nuly|bipyramid|simple cnn|jednoduch", re.I), "scratch"),
]


def _approach(kind: ModelKind) -> str:
    if kind in _PRETRAINED:
        return "pretrained"
    if kind in (ModelKind.custom_residual, ModelKind.custom_xception):
        return "custom"
    if kind == ModelKind.scratch_cnn:
        return "scratch"
    return "other"


def _claim(heading: str) -> str | None:
    found = [label for pat, label in _HEADING_CLAIMS if pat.search(heading)]
    return found[0] if len(found) == 1 else None


# ------------------------------------------------------------------- helpers


def _prov(
    cell: int | None, method: Method, confidence: float, detail: str | None = None
) -> Provenance:
    return Provenance(
        cell=cell, method=method, confidence=confidence, detail=(detail or "")[:160] or None
    )


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


def _label_score(label: str, entry: _Entry) -> int:
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


def _best_entry(label: str, entries: Iterable[_Entry]) -> _Entry | None:
    scored = sorted(
        ((_label_score(label, e), i, e) for i, e in enumerate(entries)), key=lambda t: (-t[0], t[1])
    )
    if not scored or scored[0][0] == 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][2]


_ACC_PRIORITY = {
    "print": 4,
    "evaluate_result": 4,
    "classification_report": 3,
    "accuracy_score": 2,
    "table": 1,
}


# ------------------------------------------------------------------ assembly


def assemble(nb: Any, info: NotebookInfo) -> Evidence:
    """Build the evidence of a normalised (nbformat 4) notebook."""
    cells = list(nb.get("cells", []))
    state = _State()
    markdown: list[MarkdownCell] = []
    framework_votes: Counter[str] = Counter()
    has_outputs = any(c.get("cell_type") == "code" and c.get("outputs") for c in cells)
    any_counts = any(
        c.get("cell_type") == "code" and c.get("execution_count") is not None for c in cells
    )
    hygiene = Hygiene()
    data = DataFacts()
    curve_cells: list[int] = []
    confusion_cells: list[int] = []
    first_result: int | None = None
    last_count = 0
    table_candidates: list[tuple[int, AccuracyCandidate]] = []
    loose_candidates: list[tuple[int, AccuracyCandidate]] = []

    code_cells = [
        (i, c.get("source", "") or "") for i, c in enumerate(cells) if c.get("cell_type") == "code"
    ]
    runs = dict(zip((i for i, _ in code_cells), read_sources(code_cells), strict=True))

    for idx, cell in enumerate(cells):
        ctype = cell.get("cell_type")
        src = cell.get("source", "") or ""
        if ctype == "markdown":
            markdown.append(MarkdownCell(idx, src))
            heads = heading_text(src)
            if heads:
                state.heading = heads[-1]
            continue
        if ctype != "code":
            continue
        hygiene.code_cells += 1
        count = cell.get("execution_count")
        outputs = cell.get("outputs") or []
        if count is not None:
            hygiene.executed_cells += 1
            if count < last_count:
                hygiene.in_order = False
                hygiene.out_of_order_cells.append(idx)
            last_count = max(last_count, count)
        code = _read_code(idx, src, runs[idx])
        out = read_outputs(idx, outputs)
        if out.errors:
            hygiene.error_cells.append(idx)
        # without execution counts (stripped by some tools) a cell without output may have run
        ran = bool(outputs) or count is not None or not has_outputs or not any_counts

        for fh in code.facts.framework_hints:
            framework_votes[fh] += 1
        for d in code.facts.model_defs:
            framework_votes[d.framework] += 2
        _data_facts(data, code.facts, idx)
        if ran and code.facts.printed_shapes:
            _printed_sizes(data, code.facts.printed_shapes, out.text)

        state.list_members.update(code.list_members)
        _record_defs(state, code, idx)
        if not ran:
            continue
        for s in out.summaries:
            owner = _summary_owner(code.facts)
            if owner:
                state.summaries[owner] = (s.total, s.trainable)

        # the statements of this cell, then those of the user functions it calls, in line order
        fits, evaluates, plots, confusion, conf_vars, hist_vars, changes, compiles = _effective(
            code
        )
        for tc in changes:
            tgt = _resolve(state, tc.target) or tc.target or "?"
            state.tick += 1
            if tc.value is True:
                state.unfrozen_before[tgt] = True
            state.trainable[tgt] = tc
            state.trainable_order[tgt] = state.tick
        for cc in compiles:
            mv = _resolve(state, cc.model_var) or cc.model_var or "?"
            n, _ = state.compiles.get(mv, (0, None))
            state.compiles[mv] = (n + 1, cc.learning_rate)

        fits = [_with_loop_models(state, code, f) for f in fits]
        evaluates = [_with_loop_models(state, code, e) for e in evaluates]
        trained_here = _train(state, idx, fits, out.training_logs, ran)
        if trained_here and first_result is None:
            first_result = idx

        # test accuracy
        targets = _eval_targets(state, evaluates, trained_here)
        _remember_results(state, evaluates)
        named: list[_Entry] = []
        for shown_name in code.shown:
            shown_entry = state.result_vars.get(shown_name)
            if shown_entry is not None and shown_entry not in named:
                named.append(shown_entry)
        if named and not evaluates:
            # results computed earlier, printed here: `print(test1, test2, test3)`
            targets = named
        accepted = _accept_candidates(out, evaluates, code.facts, bool(named))
        table_here = [c for c in out.accuracy_candidates if c.method == "table"]
        if accepted:
            if first_result is None:
                first_result = idx
            _attribute_accuracy(state, idx, accepted, targets, loose_candidates)
        elif table_here and evaluates:
            _attribute_table(state, idx, table_here, targets)
        else:
            table_candidates.extend((idx, c) for c in table_here)

        # curves
        if out.images and plots:
            curve_cells.append(idx)
            targets = (
                _targets_for_vars(state, hist_vars)
                or trained_here
                or _recent_without(state, "curves")
            )
            for e in targets:
                if not e.run.curves_shown:
                    e.run.curves_shown = True
                    e.run.curves_provenance = _prov(
                        idx,
                        Method.output_image,
                        0.8,
                        "image output of a cell that plots the training history",
                    )

        # confusion matrix
        shown = bool(out.images or out.matrices) or (confusion and "confusion" in out.text.lower())
        if confusion and shown:
            confusion_cells.append(idx)
            targets = (
                _targets_for_models(state, conf_vars)
                or _targets_for_models(state, [e.model_var for e in evaluates if e.on != "train"])
                or trained_here
                or _recent_without(state, "confusion")
            )
            matrix = out.matrices[0] if out.matrices else None
            for e in targets:
                if not e.run.confusion_matrix_shown:
                    e.run.confusion_matrix_shown = True
                    e.run.confusion = Confusion(
                        matrix=matrix.matrix if matrix and len(targets) == 1 else None,
                        labels=matrix.labels if matrix and len(targets) == 1 else None,
                        provenance=_prov(
                            idx,
                            Method.output_text if matrix else Method.output_image,
                            0.8,
                            "confusion matrix computed and shown",
                        ),
                    )

    hygiene.has_outputs = has_outputs
    _apply_tables(state, table_candidates)
    for e in state.entries:
        per_epoch = e.run.history.get("test_accuracy")
        if e.run.test_accuracy is None and per_epoch:
            # a hand-written loop that evaluates on the test set after every epoch
            e.run.test_accuracy = round(per_epoch[-1], 6)
            e.run.test_accuracy_provenance = _prov(
                e.run.fit_cells[-1] if e.run.fit_cells else None,
                Method.output_log,
                0.6,
                "last per-epoch test accuracy of the training log",
            )
    for e in state.entries:
        if e.var in state.summaries:
            e.run.params_total, e.run.params_trainable = state.summaries[e.var]

    framework = _framework(framework_votes)
    models = [e.run for e in state.entries]
    _name_entries(state.entries)
    discussion = read_discussion(markdown, first_result)
    findings = state.findings
    findings.extend(_hygiene_findings(hygiene, framework, has_outputs))
    findings.extend(_number_findings(markdown, discussion.cells, models))
    return Evidence(
        notebook=info,
        framework=framework,
        models=models,
        has_curves=bool(curve_cells),
        has_confusion_matrix=bool(confusion_cells),
        has_written_summary=discussion.present,
        discussion=discussion,
        data=data,
        hygiene=hygiene,
        findings=findings,
    )


def _data_facts(data: DataFacts, sf: SourceFacts, idx: int) -> None:
    if sf.loads_cifar10 and data.dataset is None:
        data.dataset = "cifar10"
        data.provenance = _prov(idx, Method.source, 0.9, "loads CIFAR-10")
    if sf.class_names and not data.classes:
        data.classes = list(sf.class_names)
        data.n_classes = len(sf.class_names)
    for key, attr in (("train", "train_size"), ("val", "val_size"), ("test", "test_size")):
        if key in sf.subset_sizes and getattr(data, attr) is None:
            setattr(data, attr, sf.subset_sizes[key])


_RE_SHAPE = re.compile(
    r"(?:\(|torch\.Size\(\[|TensorShape\(\[)(\d+)(?:,\s*(?:\d+|None))*,?\s*\]?\)"
)
_SIZE_ATTR = {"train": "train_size", "val": "val_size", "test": "test_size"}


def _printed_sizes(data: DataFacts, splits: list[str | None], text: str) -> None:
    """Subset sizes from printed array shapes: ``print(x_test.shape)`` -> ``(1000, 32, 32, 3)``.

    The shapes a cell's prints show are matched with the printed tuples in
    order, and only when their numbers agree (a print in a loop, or a tuple
    printed for another reason, leaves the sizes alone). A later printed shape
    replaces an earlier one: notebooks often print the full dataset before
    taking the subset.
    """
    found = [int(m.group(1)) for m in _RE_SHAPE.finditer(text)]
    if len(found) != len(splits):
        return
    seen: dict[str, int] = {}
    for split, n in zip(splits, found, strict=True):
        if split is None or n <= 0:
            continue
        if seen.get(split, n) != n:
            return  # x and y of one split disagree: not a reading to trust
        seen[split] = n
    for split, n in seen.items():
        setattr(data, _SIZE_ATTR[split], n)


def _summary_owner(sf: SourceFacts) -> str | None:
    names = [d.var for d in sf.model_defs if not d.is_builder]
    return names[-1] if len(names) == 1 else None


def _builder_features(state: _State, name: str) -> _Features:
    feats = _Features()
    if name in state.builders:
        feats.merge(state.builders[name])
    return feats


def _record_defs(state: _State, code: _CellCode, idx: int) -> None:
    for d in code.facts.model_defs:
        if d.is_builder:
            state.builders[d.var] = _def_features(d)
    for new, old in code.facts.aliases.items():
        if new != old:
            state.aliases[new] = old
    for d in code.facts.model_defs:
        if d.is_builder:
            continue
        feats = _def_features(d)
        if d.builder:
            feats.merge(_builder_features(state, d.builder))
        # a name bound again to a new model starts a new model
        state.aliases.pop(d.var, None)
        state.generation += 1
        state.vars[d.var] = _Var(d.var, feats, state.generation, idx)
        if feats.frozen_in_builder is not None and (feats.base_var or feats.base):
            state.tick += 1
            state.trainable[d.var] = TrainableChange(
                d.var, not feats.frozen_in_builder, False, d.line
            )
            state.trainable_order[d.var] = state.tick


def _effective(
    code: _CellCode,
) -> tuple[
    list[FitCall],
    list[EvaluateCall],
    bool,
    bool,
    list[str],
    list[str],
    list[TrainableChange],
    list[CompileCall],
]:
    f = code.facts
    fits = sorted(f.fits, key=lambda x: (x.line, x.order))
    evaluates = sorted(f.evaluates, key=lambda x: (x.line, x.order))
    return (
        fits,
        evaluates,
        f.plots_history,
        f.computes_confusion,
        list(f.confusion_model_vars),
        list(f.history_vars_plotted),
        list(f.trainable_changes),
        list(f.compiles),
    )


def _setup_for(state: _State, var: str, feats: _Features, fit: FitCall) -> _Setup:
    frozen = "n/a"
    if feats.base or feats.base_var:
        keys = [k for k in (feats.base_var, var) if k and k in state.trainable]
        if keys:
            latest = max(keys, key=lambda k: state.trainable_order.get(k, 0))
            tc = state.trainable[latest]
            if not tc.partial:
                frozen = "frozen" if tc.value is False else "trainable"
            elif tc.value is True or state.unfrozen_before.get(latest, False):
                # some layers unfrozen, or the top left trainable after unfreezing the base
                frozen = "partial"
            elif feats.framework == "pytorch":
                # `for p in self.backbone.parameters(): p.requires_grad = False`: the
                # pretrained part frozen, the new head trained
                frozen = "frozen"
            else:
                # `for layer in base.layers[:100]: layer.trainable = False`: the top of the
                # pretrained base is trained from the start
                frozen = "partial"
        else:
            frozen = "trainable"
    n, lr = state.compiles.get(var, (0, None))
    return _Setup(frozen, lr, n, fit.augmentation, tuple(sorted(fit.callbacks)))


def _changes(old: _Setup, new: _Setup) -> list[str]:
    out = []
    if old.frozen != new.frozen:
        out.append(f"layers {'unfrozen' if new.frozen in ('trainable', 'partial') else 'frozen'}")
    if new.compiles != old.compiles:
        if new.lr is not None and new.lr != old.lr:
            out.append(f"recompiled with learning rate {new.lr:g}")
        else:
            out.append("recompiled")
    if new.augmentation and not old.augmentation:
        out.append("data augmentation added")
    if set(new.callbacks) - set(old.callbacks):
        out.append("callbacks added: " + ", ".join(sorted(set(new.callbacks) - set(old.callbacks))))
    return out


_Looped = TypeVar("_Looped", FitCall, EvaluateCall)


def _with_loop_models(state: _State, code: _CellCode, call: _Looped) -> _Looped:
    """Fill in the models a loop iterates over when they were defined in another cell."""
    if not call.in_loop or call.loop_models:
        return call
    inner = [lp for lp in code.loop_iters if lp[0] <= call.line <= lp[1]]
    if not inner:
        return call
    names = min(inner, key=lambda lp: lp[1] - lp[0])[2]
    found: list[str] = []
    for n in names:
        target = _resolve(state, n) or n
        if target in state.vars:
            found.append(target)
            continue
        found.extend(v for v in state.vars if v.startswith(f"{n}[") and v not in found)
        for alias in state.aliases:
            target = _resolve(state, alias) or alias
            if alias.startswith(f"{n}[") and target in state.vars and target not in found:
                found.append(target)
        found.extend(v for v in state.list_members.get(n, []) if v in state.vars and v not in found)
    return replace(call, loop_models=found) if found else call


def _train(
    state: _State, idx: int, fits: list[FitCall], logs: list[TrainingLog], ran: bool
) -> list[_Entry]:
    # expand loops over known models
    expanded: list[FitCall] = []
    for f in fits:
        if f.in_loop and f.loop_models:
            expanded.extend(replace(f, model_var=m, in_loop=False) for m in f.loop_models)
        else:
            expanded.append(f)
    pairs: list[tuple[FitCall | None, list[TrainingLog]]] = []
    if expanded:
        if len(logs) > len(expanded) and len(expanded) == 1 and expanded[0].in_loop:
            for k, log in enumerate(logs):
                base = expanded[0]
                name = f"{base.model_var or 'model'} #{k + 1}"
                pairs.append((replace(base, model_var=name), [log]))
        else:
            for k, f in enumerate(expanded):
                mine = [logs[k]] if k < len(logs) else []
                if k == len(expanded) - 1 and len(logs) > len(expanded):
                    mine = logs[k:]
                pairs.append((f, mine))
    else:
        pairs.extend((None, [log]) for log in logs)
    touched: list[_Entry] = []
    for fit, its_logs in pairs:
        if not its_logs and not ran:
            continue
        entry = _stage(state, idx, fit, its_logs)
        if entry is not None and entry not in touched:
            touched.append(entry)
    return touched


def _stage(state: _State, idx: int, fit: FitCall | None, logs: list[TrainingLog]) -> _Entry | None:
    raw_var = fit.model_var if fit else None
    var = _resolve(state, raw_var) or raw_var or f"model in cell {idx}"
    known = state.vars.get(var)
    if known is None:
        feats = _Features()
        if fit is None and state.heading:
            pass
        known = _Var(var, feats, -idx - 1, idx)
        state.vars[var] = known
    setup = _setup_for(
        state,
        var,
        known.features,
        fit or FitCall(0, None, None, None, None, "none", [], False, False, [], 0),
    )
    prev = state.by_var.get(var)
    previously_frozen = prev is not None and prev.setup.frozen == "frozen"
    if prev is not None and prev.generation == known.generation:
        changed = _changes(prev.setup, setup)
        if not changed:
            _extend(prev, idx, fit, logs)
            return prev
    else:
        changed = []
    kind, reasons = _kind(known.features, setup.frozen, previously_frozen)
    if (
        known.features.framework == "pytorch"
        and kind == ModelKind.scratch_cnn
        and not known.features.layers
    ):
        reasons = ["PyTorch model; architecture not readable from the code"]
    run = ModelRun(
        id=f"m{len(state.entries) + 1}",
        name=var,
        kind=kind,
        kind_reasons=reasons,
        base=known.features.base,
        weights=known.features.weights,
        continues=prev.run.id if prev is not None and prev.generation == known.generation else None,
        stage_change=changed,
        framework=Framework.pytorch if known.features.framework == "pytorch" else Framework.keras,
        learning_rate=setup.lr,
        provenance=_prov(
            idx,
            Method.output_log if logs else Method.source,
            0.9 if logs else 0.6,
            logs[0].line if logs else f"{var}.fit(...)",
        ),
    )
    claim = _claim(state.heading) if state.heading else None
    if claim and claim != _approach(kind) and _approach(kind) != "other":
        claimed = {
            "pretrained": ModelKind.transfer_frozen,
            "custom": ModelKind.custom_residual,
            "scratch": ModelKind.scratch_cnn,
        }[claim]
        run.claimed_kind = claimed
        state.findings.append(
            Finding(
                code="claim-code-mismatch",
                severity=Severity.warning,
                message=f"the heading {state.heading!r} suggests a {claim} model, but the code of "
                f"{var} trains a {kind.value} ({'; '.join(reasons)})",
                cell=idx,
                model=run.id,
            )
        )
    if fit is not None and fit.validation == "test":
        state.findings.append(
            Finding(
                code="test-used-for-validation",
                severity=Severity.warning,
                message=f"{var} is validated on the test set during training; the test accuracy "
                "is then not an unbiased estimate",
                cell=idx,
                model=run.id,
            )
        )
    entry = _Entry(run=run, var=var, generation=known.generation, setup=setup)
    state.entries.append(entry)
    state.by_var[var] = entry
    _extend(entry, idx, fit, logs)
    return entry


def _extend(entry: _Entry, idx: int, fit: FitCall | None, logs: list[TrainingLog]) -> None:
    run = entry.run
    if idx not in run.fit_cells:
        run.fit_cells.append(idx)
    entry.last_cell = idx
    if fit is not None:
        if fit.history_var:
            entry.history_vars.add(fit.history_var)
        if fit.epochs is not None:
            run.epochs_planned = (
                (run.epochs_planned or 0) + fit.epochs if run.history else fit.epochs
            )
    for log in logs:
        for key, values in log.history.items():
            run.history.setdefault(key, []).extend(values)
        entry.log_epochs.extend(log.epoch_numbers)
        if log.seconds is not None:
            run.fit_seconds = round((run.fit_seconds or 0.0) + log.seconds, 3)
        if log.epochs_declared and fit is None:
            run.epochs_planned = log.epochs_declared
    if entry.log_epochs:
        run.epochs = len(entry.log_epochs)
    elif fit is not None and fit.epochs is not None and not logs:
        run.epochs = run.epochs or fit.epochs


def _remember_results(state: _State, evaluates: list[EvaluateCall]) -> None:
    for ev in evaluates:
        if not ev.result_var or ev.on in ("val", "train") or ev.in_loop:
            continue
        e = state.by_var.get(_resolve(state, ev.model_var) or "") if ev.model_var else None
        if e is None:
            continue
        for name in ev.result_var.split(","):
            if name.strip():
                state.result_vars[name.strip()] = e


def _accept_candidates(
    out: OutputFacts, evaluates: list[EvaluateCall], sf: SourceFacts, named: bool = False
) -> list[AccuracyCandidate]:
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


def _eval_targets(
    state: _State, evaluates: list[EvaluateCall], trained_here: list[_Entry]
) -> list[_Entry]:
    """The model entries a cell evaluates on held-out data, in order."""
    targets: list[_Entry] = []
    for ev in evaluates:
        if ev.on in ("val", "train"):
            continue
        names = ev.loop_models if ev.in_loop and ev.loop_models else [ev.model_var]
        for n in names:
            e = state.by_var.get(_resolve(state, n) or "") if n else None
            if e is None and ev.on == "test" and state.entries and not ev.in_loop:
                # evaluated through a name the reader could not follow: the latest model
                e = state.entries[-1]
            if e is not None and e not in targets:
                targets.append(e)
    if not targets and trained_here:
        targets = list(trained_here)
    return targets


def _give(
    e: _Entry,
    c: AccuracyCandidate,
    idx: int,
    confidence: float,
    method: Method = Method.output_text,
) -> None:
    pr = _ACC_PRIORITY.get(c.method, 0) + (1 if c.mentions_test else 0)
    if e.run.test_accuracy is not None and pr < e.acc_priority:
        return
    e.acc_priority = pr
    e.run.test_accuracy = round(c.value, 6)
    detail = c.line if c.method != "table" else f"{c.label}: {c.line}"
    e.run.test_accuracy_provenance = _prov(idx, method, confidence, detail)


def _attribute_table(
    state: _State, idx: int, table: list[AccuracyCandidate], targets: list[_Entry]
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
    state: _State,
    idx: int,
    accepted: list[AccuracyCandidate],
    targets: list[_Entry],
    loose: list[tuple[int, AccuracyCandidate]],
) -> None:
    def give(e: _Entry, c: AccuracyCandidate, confidence: float) -> None:
        _give(e, c, idx, confidence)

    # one model evaluated here: its best candidate
    if len(targets) == 1:
        best = max(
            accepted,
            key=lambda c: (_ACC_PRIORITY.get(c.method, 0) + (1 if c.mentions_test else 0), c.order),
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
    else:
        loose.extend((idx, c) for c in unmatched)


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


def _apply_tables(state: _State, table: list[tuple[int, AccuracyCandidate]]) -> None:
    for idx, c in table:
        if c.mentions_val or c.mentions_train:
            continue
        e = _best_entry(c.label, state.entries)
        if e is None or e.run.test_accuracy is not None:
            continue
        e.run.test_accuracy = round(c.value, 6)
        e.run.test_accuracy_provenance = _prov(
            idx, Method.output_table, 0.6, f"{c.label}: {c.line}"
        )


def _targets_for_vars(state: _State, hist_vars: list[str]) -> list[_Entry]:
    out: list[_Entry] = []
    for h in hist_vars:
        for e in state.entries:
            if h in e.history_vars and e not in out:
                out.append(e)
        e2 = state.by_var.get(_resolve(state, h) or "")
        if e2 is not None and e2 not in out:
            out.append(e2)
    return out


def _targets_for_models(state: _State, names: Sequence[str | None]) -> list[_Entry]:
    out: list[_Entry] = []
    for n in names:
        if not n:
            continue
        e = state.by_var.get(_resolve(state, n) or "")
        if e is not None and e not in out:
            out.append(e)
    return out


def _recent_without(state: _State, what: str) -> list[_Entry]:
    attr = "curves_shown" if what == "curves" else "confusion_matrix_shown"
    lacking: list[_Entry] = []
    for e in reversed(state.entries):
        if getattr(e.run, attr):
            break
        lacking.append(e)
    lacking.reverse()
    if what == "confusion":
        return lacking[-1:]
    return lacking


def _framework(votes: Counter[str]) -> Framework:
    if not votes:
        return Framework.unknown
    if votes["pytorch"] > votes["keras"]:
        return Framework.pytorch
    if votes["keras"]:
        return Framework.keras
    return Framework.unknown


def _name_entries(entries: list[_Entry]) -> None:
    """Readable names: the variable, `(cell N)` when a name is reused for another model,
    `(stage N)` for a training stage that continues an earlier entry."""
    models: dict[str, set[int]] = {}
    for e in entries:
        models.setdefault(e.var, set()).add(e.generation)
    stage: dict[tuple[str, int], int] = {}
    for e in entries:
        key = (e.var, e.generation)
        stage[key] = stage.get(key, 0) + 1
        name = e.var
        m = re.fullmatch(r"\w+\[['\"](.+)['\"]\]", name)
        if m:
            name = m.group(1)
        if len(models[e.var]) > 1:
            name += f" (cell {e.run.fit_cells[0] if e.run.fit_cells else '?'})"
        if stage[key] > 1:
            name += f" (stage {stage[key]})"
        e.run.name = name


def _hygiene_findings(h: Hygiene, framework: Framework, has_outputs: bool) -> list[Finding]:
    out = []
    if not has_outputs:
        out.append(
            Finding(
                code="no-outputs",
                severity=Severity.error,
                message="the notebook was saved without outputs: nothing can be verified "
                "without running it (grader check --run)",
            )
        )
    if framework == Framework.pytorch:
        out.append(
            Finding(
                code="framework-not-keras",
                severity=Severity.warning,
                message="the notebook uses PyTorch; the assignment asks for Keras",
            )
        )
    if not h.in_order:
        out.append(
            Finding(
                code="out-of-order",
                severity=Severity.warning,
                message="cells were executed out of order (execution counts go back at cells "
                + ", ".join(map(str, h.out_of_order_cells[:10]))
                + "); the outputs may not match the code as it reads",
                cell=h.out_of_order_cells[0],
            )
        )
    if has_outputs and h.executed_cells < h.code_cells:
        missing = h.code_cells - h.executed_cells
        out.append(
            Finding(
                code="cells-not-run",
                severity=Severity.info,
                message=f"{missing} code cell(s) were not run before saving",
            )
        )
    for c in h.error_cells:
        out.append(
            Finding(
                code="error-output",
                severity=Severity.warning,
                message="a cell's output shows an error; later results may be stale",
                cell=c,
            )
        )
    return out


def _number_findings(
    md: list[MarkdownCell], cells: list[int], models: list[ModelRun]
) -> list[Finding]:
    measured = [m.test_accuracy for m in models if m.test_accuracy is not None]
    for m in models:
        for key in ("val_accuracy", "accuracy"):
            if m.history.get(key):
                measured.append(m.history[key][-1])
                measured.append(max(m.history[key]))
    if not measured:
        return []
    out = []
    for q in quoted_accuracies(md, cells):
        if not any(abs(q.value - v) <= 0.011 for v in measured):
            out.append(
                Finding(
                    code="summary-number-mismatch",
                    severity=Severity.warning,
                    message=f"the summary quotes {q.value:.1%} ({q.sentence!r}), which matches no "
                    "accuracy in the outputs",
                    cell=q.cell,
                )
            )
    return out
