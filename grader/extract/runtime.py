"""Runtime capture + static evidence -> merged evidence, and what the run found.

Pure functions: the runner hands in the validated capture, the static
evidence of the executed notebook (and of the submitted file, for the claimed
vs. reproduced comparison) and a map from kernel execution counts to cell
indices; they return :class:`grader.evidence.Evidence` with ``source="merged"``.

Runtime facts win over facts read from outputs: the architecture (kind, base,
parameters), the per-epoch history, epochs, fit time, learning rate, test
accuracy from ``evaluate`` on held-out data, and confusion matrices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from grader.evidence import (
    Confusion,
    DataFacts,
    Evidence,
    Finding,
    Framework,
    Method,
    ModelKind,
    ModelRun,
    NotebookInfo,
    Provenance,
    Severity,
)
from grader.execute.capture import (
    AccuracyEvent,
    ApplicationEvent,
    Architecture,
    CaptureRecord,
    ConfusionEvent,
    DataLoadEvent,
    EvaluateEvent,
    FigureEvent,
    FitRecord,
    NetworkEvent,
    PredictEvent,
)
from grader.execute.records import RunRecord
from grader.extract.architecture import classify_architecture
from grader.i18n import _, ngettext

__all__ = [
    "MergeContext",
    "Stage",
    "classify_architecture",
    "RunExtraction",
    "RunResult",
    "extract_run",
    "merge_evidence",
    "runtime_stages",
]

_HISTORY_NAMES = {"acc": "accuracy", "val_acc": "val_accuracy"}


class MergeContext(BaseModel):
    """What the runner knows about the run that the capture does not say."""

    model_config = ConfigDict(extra="forbid")

    profile: str
    data_kind: str | None = None  # cifar10 / synthetic / None (nothing served)
    repro_tolerance: float = 0.05
    failed: bool = False
    failure_message: str | None = None
    failure_cell: int | None = None


@dataclass
class Stage:
    """Consecutive fits of one model object with one setup: one evidence entry."""

    model_key: str
    fits: list[FitRecord]
    cells: list[int] = field(default_factory=list)
    continues: int | None = None  # index of the stage this one continues
    changes: list[str] = field(default_factory=list)
    id: str = ""  # the merged evidence id, assigned during the merge

    @property
    def last(self) -> FitRecord:
        return self.fits[-1]

    def architecture(self) -> Architecture | None:
        for fit in reversed(self.fits):
            if fit.architecture is not None:
                return fit.architecture
        return None

    def history(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for fit in self.fits:
            run = max((len(v) for v in fit.history.values()), default=0)
            names = _history_names(list(fit.history))
            for key, values in fit.history.items():
                name = names[key]
                series = out.setdefault(name, [])
                padded = list(values) + [None] * (run - len(values))
                series.extend(float("nan") if v is None else float(v) for v in padded)
        return out

    def epochs_run(self) -> int:
        return sum(f.epochs_run for f in self.fits)


def _history_names(keys: list[str]) -> dict[str, str]:
    """Keras log names -> the evidence's names (loss, accuracy, val_loss, val_accuracy).

    ``acc``/``val_acc`` (Keras 2) and a single ``*_accuracy`` metric such as
    ``sparse_categorical_accuracy`` become ``accuracy``; other names are kept.
    """
    out = {k: _HISTORY_NAMES.get(k, k) for k in keys}
    for prefix in ("", "val_"):
        if f"{prefix}accuracy" in out.values():
            continue
        candidates = [
            k
            for k in keys
            if k.startswith(prefix)
            and (prefix or not k.startswith("val_"))
            and k.endswith("accuracy")
            and "top_k" not in k
        ]
        if len(candidates) == 1:
            out[candidates[0]] = f"{prefix}accuracy"
    return out


def _signature(fit: FitRecord) -> tuple[object, ...]:
    opt = fit.optimizer
    arch = fit.architecture
    return (
        opt.id if opt else None,
        round(opt.learning_rate, 12) if opt and opt.learning_rate is not None else None,
        arch.params_trainable if arch else None,
        tuple(sorted(fit.callbacks)),
    )


def _describe_change(old: FitRecord, new: FitRecord) -> list[str]:
    changes = []
    o_arch, n_arch = old.architecture, new.architecture
    if o_arch and n_arch and o_arch.params_trainable != n_arch.params_trainable:
        changes.append(
            _("trainable parameters {old} -> {new}").format(
                old=f"{o_arch.params_trainable:,}", new=f"{n_arch.params_trainable:,}"
            )
        )
    o_lr = old.optimizer.learning_rate if old.optimizer else None
    n_lr = new.optimizer.learning_rate if new.optimizer else None
    if o_lr is not None and n_lr is not None and abs(o_lr - n_lr) > 1e-12:
        changes.append(_("learning rate {old} -> {new}").format(old=f"{o_lr:g}", new=f"{n_lr:g}"))
    if (old.optimizer and new.optimizer and old.optimizer.id != new.optimizer.id) and not changes:
        changes.append(_("recompiled"))
    if sorted(old.callbacks) != sorted(new.callbacks):
        changes.append(
            _("callbacks {old} -> {new}").format(
                old=old.callbacks or "[]", new=new.callbacks or "[]"
            )
        )
    return changes


def runtime_stages(
    fits: Iterable[FitRecord], cell_of: Callable[[int | None], int | None]
) -> list[Stage]:
    """Group fit records into training stages, the way the static extractor does."""
    stages: list[Stage] = []
    latest: dict[str, int] = {}
    for fit in fits:
        cell = cell_of(fit.cell)
        prev_index = latest.get(fit.model_key)
        prev = stages[prev_index] if prev_index is not None else None
        if prev is not None and _signature(prev.last) == _signature(fit):
            prev.fits.append(fit)
            if cell is not None and cell not in prev.cells:
                prev.cells.append(cell)
            continue
        stage = Stage(model_key=fit.model_key, fits=[fit], cells=[cell] if cell is not None else [])
        if prev is not None:
            stage.continues = prev_index
            stage.changes = _describe_change(prev.last, fit)
        latest[fit.model_key] = len(stages)
        stages.append(stage)
    return stages


# ------------------------------------------------------------------ linking


def _finding(
    code: str, severity: Severity, message: str, cell: int | None = None, model: str | None = None
) -> Finding:
    return Finding(code=code, severity=severity, message=message, cell=cell, model=model)


def _prov(cell: int | None, detail: str, confidence: float = 0.95) -> Provenance:
    return Provenance(cell=cell, method=Method.runtime, confidence=confidence, detail=detail[:160])


def _hashes(capture: CaptureRecord, fid: str | None) -> set[str]:
    if fid is None:
        return set()
    fp = capture.fingerprints.get(fid)
    return set(fp.hashes) if fp else set()


@dataclass
class _StageFacts:
    stage: Stage
    train_fps: set[str] = field(default_factory=set)
    val_fps: set[str] = field(default_factory=set)
    evaluates: list[tuple[EvaluateEvent, str]] = field(default_factory=list)  # (event, role)
    scores: list[AccuracyEvent] = field(default_factory=list)
    confusions: list[ConfusionEvent] = field(default_factory=list)
    curves_cell: int | None = None
    cm_shown_cell: int | None = None


def _role(capture: CaptureRecord, ev: EvaluateEvent, facts: _StageFacts) -> str:
    fid = ev.data.fingerprint if ev.data else None
    if fid is None:
        return "unknown"
    if fid in facts.train_fps:
        return "train"
    if fid in facts.val_fps:
        return "validation"
    hashes = _hashes(capture, fid)
    if hashes:
        train = (
            set().union(*(_hashes(capture, f) for f in facts.train_fps))
            if facts.train_fps
            else set()
        )
        if len(hashes & train) > 0.5 * len(hashes):
            return "train"
        val = set().union(*(_hashes(capture, f) for f in facts.val_fps)) if facts.val_fps else set()
        if len(hashes & val) > 0.5 * len(hashes):
            return "validation"
    return "test"


def _link_stages(
    capture: CaptureRecord, stages: list[Stage], cell_of: Callable[[int | None], int | None]
) -> list[_StageFacts]:
    facts = [_StageFacts(stage=s) for s in stages]
    by_fit: dict[str, _StageFacts] = {}
    by_model: dict[str, list[_StageFacts]] = {}
    for f in facts:
        for fit in f.stage.fits:
            by_fit[fit.id] = f
        by_model.setdefault(f.stage.model_key, []).append(f)
    # training data seen by a model up to each stage
    for model_facts in by_model.values():
        seen_train: set[str] = set()
        seen_val: set[str] = set()
        for f in model_facts:
            for fit in f.stage.fits:
                if fit.train and fit.train.fingerprint:
                    seen_train.add(fit.train.fingerprint)
                if fit.validation and fit.validation.fingerprint:
                    seen_val.add(fit.validation.fingerprint)
            f.train_fps = set(seen_train)
            f.val_fps = set(seen_val)

    pred_owner: dict[str, _StageFacts] = {}
    last_predict: _StageFacts | None = None
    last_cm: tuple[ConfusionEvent, _StageFacts] | None = None
    for ev in capture.events:
        if isinstance(ev, EvaluateEvent) and ev.fit in by_fit:
            owner = by_fit[ev.fit]
            owner.evaluates.append((ev, _role(capture, ev, owner)))
        elif isinstance(ev, PredictEvent) and ev.fit in by_fit:
            owner = by_fit[ev.fit]
            for h in ev.label_hashes:
                pred_owner[h] = owner
            last_predict = owner
        elif isinstance(ev, AccuracyEvent):
            owner_or_none = pred_owner.get(ev.pred_hash or "")
            if owner_or_none is not None:
                owner_or_none.scores.append(ev)
        elif isinstance(ev, ConfusionEvent):
            owner_or_none = pred_owner.get(ev.pred_hash or "") if ev.pred_hash else None
            if (
                owner_or_none is None
                and ev.source == "sklearn-display"
                and last_cm is not None
                and last_cm[0].matrix == ev.matrix
            ):
                owner_or_none = last_cm[1]
            if owner_or_none is None:
                owner_or_none = last_predict
            if owner_or_none is None:
                continue
            if ev.source == "sklearn-display":
                owner_or_none.cm_shown_cell = cell_of(ev.cell)
                same = [c for c in owner_or_none.confusions if c.matrix == ev.matrix]
                if same:
                    if ev.labels and not same[-1].labels:
                        same[-1].labels = ev.labels
                    continue
            owner_or_none.confusions.append(ev)
            last_cm = (ev, owner_or_none)
        elif isinstance(ev, FigureEvent):
            _link_figure(ev, facts, cell_of)
    return facts


def _close(a: list[float | None], b: list[float]) -> bool:
    if not a or len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x is None or y != y:
            return False
        if abs(x - y) > 1e-6 * max(1.0, abs(y)):
            return False
    return True


def _link_figure(
    ev: FigureEvent, facts: list[_StageFacts], cell_of: Callable[[int | None], int | None]
) -> None:
    cell = cell_of(ev.cell)
    for ax in ev.figure.axes:
        for line in ax.lines:
            if len(line.y) < 1:
                continue
            for f in facts:
                for fit in f.stage.fits:
                    if any(
                        _close(line.y, [v if v is not None else float("nan") for v in vs])
                        for vs in fit.history.values()
                    ):
                        f.curves_cell = cell if f.curves_cell is None else f.curves_cell
        for arr in list(ax.images) + list(ax.meshes):
            if not arr.values:
                continue
            for f in facts:
                for cm in f.confusions:
                    if cm.matrix and _same_matrix(cm.matrix, arr.values):
                        f.cm_shown_cell = cell if f.cm_shown_cell is None else f.cm_shown_cell


def _same_matrix(a: list[list[float]], b: list[list[float | None]]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb, strict=True):
            if y is None or abs(x - y) > 1e-6 * max(1.0, abs(x)):
                return False
    return True


# -------------------------------------------------------------------- merge


def _match_static(static: list[ModelRun], stages: list[Stage]) -> dict[int, ModelRun]:
    """stage index -> the static entry it corresponds to (by fit cells, in order)."""
    taken: set[str] = set()
    out: dict[int, ModelRun] = {}
    for i, stage in enumerate(stages):
        for run in static:
            if run.id in taken or run.framework != Framework.keras:
                continue
            if set(run.fit_cells) & set(stage.cells):
                out[i] = run
                taken.add(run.id)
                break
    return out


def _stage_name(stage: Stage, stages: list[Stage], models: list[ModelRun]) -> str | None:
    """``<name> (stage N)`` for a stage that continues an entry, as the static reader names it."""
    depth, parent = 1, stage
    while parent.continues is not None and depth < 100:
        parent = stages[parent.continues]
        depth += 1
    if parent is stage or not parent.id:
        return None
    root = next((m for m in models if m.id == parent.id), None)
    if root is None:
        return None
    return f"{root.name.split(' (stage ')[0]} (stage {depth})"


def merge_evidence(
    static: Evidence | None,
    capture: CaptureRecord,
    info: NotebookInfo,
    cell_of: Callable[[int | None], int | None],
    context: MergeContext,
    fit_models: dict[str, str] | None = None,
) -> Evidence:
    """The executed notebook's static evidence with the runtime capture merged in.

    ``fit_models``, when given, is filled with fit record id -> model entry id.
    """
    base = (
        static.model_copy(deep=True)
        if static is not None
        else Evidence(
            notebook=info, framework=Framework.keras if capture.fits else Framework.unknown
        )
    )
    stages = runtime_stages(capture.fits, cell_of)
    facts = _link_stages(capture, stages, cell_of)
    matched = _match_static(base.models, stages)
    models = list(base.models)
    next_id = 1 + max((int(m.id[1:]) for m in models if m.id[1:].isdigit()), default=0)
    frozen_before: dict[str, bool] = {}
    findings: list[Finding] = list(base.findings)

    for i, f in enumerate(facts):
        stage = f.stage
        arch = stage.architecture()
        prev_frozen = frozen_before.get(stage.model_key, False)
        kind, reasons, app_base, weights = classify_architecture(arch, prev_frozen)
        if kind == ModelKind.transfer_frozen:
            frozen_before[stage.model_key] = True
        run = matched.get(i)
        first_cell = stage.cells[0] if stage.cells else None
        if run is None:
            run = ModelRun(
                id=f"m{next_id}",
                name=_stage_name(stage, stages, models)
                or stage.fits[0].model_name
                or f"model in cell {first_cell}",
                kind=kind or ModelKind.other,
                claimed_kind=None,
                base=None,
                weights=None,
                continues=None,
                epochs=None,
                fit_seconds=None,
                test_accuracy=None,
                provenance=_prov(
                    first_cell,
                    _("{model}.fit(...) at run time").format(model=stage.fits[0].model_name),
                ),
            )
            next_id += 1
            models.append(run)
        stage.id = run.id
        _apply_stage(run, f, stages, kind, reasons, app_base, weights, cell_of)
    if fit_models is not None:
        fit_models.update({fit.id: f.stage.id for f in facts for fit in f.stage.fits})
    for f in facts:
        if f.stage.continues is not None:
            parent = stages[f.stage.continues]
            run = next(m for m in models if m.id == f.stage.id)
            run.continues = parent.id
            if not run.stage_change:
                run.stage_change = list(f.stage.changes)

    for m in models:  # an accuracy the run measured answers "why none"
        m.test_accuracy_missing = None if m.test_accuracy is not None else m.test_accuracy_missing
    base.models = models
    base.source = "merged" if static is not None else "runtime"
    if capture.fits and base.framework == Framework.unknown:
        base.framework = Framework.keras
    base.has_curves = base.has_curves or any(m.curves_shown for m in models)
    base.has_confusion_matrix = base.has_confusion_matrix or any(
        m.confusion_matrix_shown for m in models
    )
    base.data = _data_facts(base.data, capture, facts, context)
    findings.extend(_runtime_findings(capture, facts, context, cell_of))
    base.findings = findings
    return base


def _apply_stage(
    run: ModelRun,
    f: _StageFacts,
    stages: list[Stage],
    kind: ModelKind | None,
    reasons: list[str],
    app_base: str | None,
    weights: str | None,
    cell_of: Callable[[int | None], int | None],
) -> None:
    stage = f.stage
    arch = stage.architecture()
    first_cell = stage.cells[0] if stage.cells else None
    if kind is not None:
        if run.kind != kind:
            reasons = reasons + [_("static reading said {kind}").format(kind=run.kind.value)]
        run.kind = kind
        run.kind_reasons = reasons
    if app_base:
        run.base = app_base
        run.weights = weights
    history = stage.history()
    if history:
        run.history = history
    run.epochs = stage.epochs_run() or run.epochs
    planned = [fit.epochs_requested for fit in stage.fits if fit.epochs_requested is not None]
    if planned:
        run.epochs_planned = sum(planned)
    for cell in stage.cells:
        if cell not in run.fit_cells:
            run.fit_cells.append(cell)
    seconds = [fit.seconds for fit in stage.fits if fit.seconds is not None]
    if seconds:
        run.fit_seconds = round(sum(seconds), 3)
    last_opt = stage.last.optimizer
    if last_opt and last_opt.learning_rate is not None:
        run.learning_rate = last_opt.learning_rate
    if arch is not None:
        run.params_total = arch.params_total
        run.params_trainable = arch.params_trainable
    fitted = _("{model}.fit(...) captured at run time")
    run.provenance = _prov(first_cell, fitted.format(model=stage.fits[0].model_name))

    tests = [
        (ev, role)
        for ev, role in f.evaluates
        if role in ("test", "unknown") and ev.accuracy() is not None
    ]
    if tests:
        ev, role = tests[-1]
        run.test_accuracy = ev.accuracy()
        run.test_loss = ev.loss()
        run.test_accuracy_provenance = _prov(
            cell_of(ev.cell),
            _("{model}.evaluate(...) on {n} held-out samples").format(
                model=ev.model_name, n=ev.data.n if ev.data else "?"
            ),
            0.95 if role == "test" else 0.8,
        )
    elif f.scores and f.scores[-1].value is not None:
        score = f.scores[-1]
        run.test_accuracy = score.value
        run.test_accuracy_provenance = _prov(
            cell_of(score.cell), _("accuracy_score on the model's predictions"), 0.85
        )
    if f.confusions:
        cm = f.confusions[-1]
        matrix = cm.int_matrix()
        run.confusion = Confusion(
            matrix=matrix,
            labels=[str(x) for x in cm.labels]
            if cm.labels
            else (run.confusion.labels if run.confusion else None),
            provenance=_prov(
                cell_of(cm.cell), _("confusion matrix from {source}").format(source=cm.source)
            ),
        )
        if f.cm_shown_cell is not None or any(c.source == "sklearn-display" for c in f.confusions):
            run.confusion_matrix_shown = True
    if f.curves_cell is not None and not run.curves_shown:
        run.curves_shown = True
        run.curves_provenance = _prov(
            f.curves_cell, _("a figure plots this model's per-epoch history")
        )


def _data_facts(
    data: DataFacts, capture: CaptureRecord, facts: list[_StageFacts], context: MergeContext
) -> DataFacts:
    out = data.model_copy(deep=True)
    loads = [e for e in capture.of_type(DataLoadEvent) if e.served]
    if loads:
        out.dataset = loads[0].served
    fits = [f.stage.fits[0] for f in facts]
    if fits and fits[0].train:
        first = fits[0]
        train = first.train
        if train is not None and train.n is not None:
            out.train_size = train.n
        if train is not None and train.label_counts:
            out.n_classes = len(train.label_counts)
        if first.validation is not None and first.validation.n is not None:
            out.val_size = first.validation.n
        out.provenance = _prov(None, _("data passed to the first fit at run time"))
    for f in facts:
        tests = [ev for ev, role in f.evaluates if role == "test" and ev.data and ev.data.n]
        if tests and tests[0].data is not None:
            out.test_size = tests[0].data.n
            break
    return out


_WEIGHTS_ABSENT = re.compile(
    r"weights file (?P<name>\S+) is not in the weights folder \((?P<folder>.*)\); "
    r"grading runs offline"
)
_WEIGHTS_MISMATCH = re.compile(
    r"weights file (?P<name>\S+) is in the weights folder but its checksum does not match; "
    r"grading runs offline"
)


def _fallback_reason(text: str) -> str:
    """Why the kernel fell back to random weights (it reports in English), for a reader."""
    if m := _WEIGHTS_ABSENT.fullmatch(text):
        if m["folder"] == "none given; use --weights DIR":
            return _(
                "weights file {name} is not in the weights folder (none given; use --weights "
                "DIR); grading runs offline"
            ).format(name=m["name"])
        return _(
            "weights file {name} is not in the weights folder ({folder}); grading runs offline"
        ).format(name=m["name"], folder=m["folder"])
    if m := _WEIGHTS_MISMATCH.fullmatch(text):
        return _(
            "weights file {name} is in the weights folder but its checksum does not match; "
            "grading runs offline"
        ).format(name=m["name"])
    return text


def _runtime_findings(
    capture: CaptureRecord,
    facts: list[_StageFacts],
    context: MergeContext,
    cell_of: Callable[[int | None], int | None],
) -> list[Finding]:
    out: list[Finding] = []
    if context.failed:
        out.append(
            _finding(
                code="run-failed",
                severity=Severity.error,
                message=context.failure_message or _("the notebook did not run to the end"),
                cell=context.failure_cell,
            )
        )
    if context.profile == "smoke" and capture.fits:
        out.append(
            _finding(
                code="smoke-profile",
                severity=Severity.info,
                message=_(
                    "smoke run: epochs and samples were capped (and BatchNormalization momentum "
                    "lowered where the code leaves the default), so its accuracies show that the "
                    "notebook runs, what it reports and that its models start to learn, not how "
                    "well they learn"
                ),
            )
        )
    if context.data_kind == "synthetic" and any(e.served for e in capture.of_type(DataLoadEvent)):
        out.append(
            _finding(
                code="synthetic-data",
                severity=Severity.warning,
                message=_(
                    "this run served the synthetic CIFAR-like dataset to cifar10.load_data(), not "
                    "CIFAR-10: its accuracies cannot be compared with the notebook's"
                ),
            )
        )
    for app in capture.of_type(ApplicationEvent):
        if app.fallback:
            out.append(
                _finding(
                    code="weights-fallback",
                    severity=Severity.warning,
                    message=_(
                        "PRETRAINED WEIGHTS MISSING: {call} ran with random initialisation "
                        "because {why}. Its results say nothing about transfer learning."
                    ).format(
                        call=f"{app.application}(weights={app.weights!r})",
                        why=_fallback_reason(app.fallback),
                    ),
                    cell=cell_of(app.cell),
                )
            )
    urls = sorted({e.url for e in capture.of_type(NetworkEvent)})
    if urls:
        out.append(
            _finding(
                code="network-blocked",
                severity=Severity.warning,
                message=(
                    ngettext(
                        "downloads refused (grading runs offline): {urls} and {n} more",
                        "downloads refused (grading runs offline): {urls} and {n} more",
                        len(urls) - 5,
                    )
                    if len(urls) > 5
                    else _("downloads refused (grading runs offline): {urls}")
                ).format(urls=", ".join(urls[:5]), n=len(urls) - 5),
            )
        )
    for f in facts:
        train = (
            set().union(*(_hashes(capture, fid) for fid in f.train_fps)) if f.train_fps else set()
        )
        if not train:
            continue
        for ev, role in f.evaluates:
            if role != "test" or not ev.data or not ev.data.fingerprint:
                continue
            test = _hashes(capture, ev.data.fingerprint)
            common = len(test & train)
            if common:
                out.append(
                    _finding(
                        code="train-test-overlap",
                        severity=Severity.warning,
                        message=_(
                            "{common} of the {n} samples {model} is evaluated on were also in its "
                            "training data"
                        ).format(common=common, n=len(test), model=ev.model_name),
                        cell=cell_of(ev.cell),
                        model=f.stage.id or None,
                    )
                )
                break
    if capture.rejected:
        out.append(
            _finding(
                code="capture-rejected",
                severity=Severity.info,
                message=ngettext(
                    "{n} capture record was invalid and ignored (first: {first})",
                    "{n} capture records were invalid and ignored (first: {first})",
                    len(capture.rejected),
                ).format(n=len(capture.rejected), first=capture.rejected[0]),
            )
        )
    return out


class RunResult(RunRecord):
    """What ran and the evidence read from it: what ``grader run --json`` prints."""

    evidence: Evidence | None = None


@dataclass
class RunExtraction:
    """The evidence of a run, and what the checks of a run need besides it."""

    evidence: Evidence | None  # None: neither the executed notebook nor the capture could be read
    fit_models: dict[str, str]  # fit record id -> model entry id
    printed: Evidence | None  # what the executed notebook's outputs show (static reading)
    merged: bool  # the capture was merged in (False: static reading only, the merge failed)


def extract_run(
    executed: Any,
    capture: CaptureRecord,
    info: NotebookInfo,
    cell_of: Callable[[int | None], int | None],
    context: MergeContext,
    log: Callable[[str], None] = lambda _m: None,
) -> RunExtraction:
    """Evidence of a run: the executed notebook read statically, the capture merged in.

    Never raises: a notebook the static reader cannot read is merged from the
    capture alone, and a merge that fails falls back to the static reading
    (both said in ``log``).
    """
    from grader.extract import extract_evidence

    try:
        printed: Evidence | None = extract_evidence(executed, info)
    except Exception as exc:  # static extraction must not lose the run
        log(f"static extraction failed: {type(exc).__name__}: {exc}")
        printed = None
    fit_models: dict[str, str] = {}
    try:
        merged = merge_evidence(printed, capture, info, cell_of, context, fit_models=fit_models)
    except Exception as exc:  # a merge bug must not lose a finished run
        log(f"merging the capture failed: {type(exc).__name__}: {exc}")
        return RunExtraction(printed, {}, printed, merged=False)
    return RunExtraction(merged, fit_models, printed, merged=True)
