"""Training stages: which model each fit trains, in what setup, and with which log.

The cell's fits (``FitCall``) are matched with the training logs its output
shows (``TrainingLog``). A fit of a model already trained continues it when
nothing changed; a change of setup (layers unfrozen, recompiled with another
learning rate, augmentation or callbacks added) starts a new stage that
``continues`` the earlier one; a name bound to a new model starts a new model.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from grader.evidence import Finding, Framework, Method, ModelKind, ModelRun, Severity
from grader.extract.assemble.classify import CLAIMED_KIND, approach, claim, kind_of
from grader.extract.assemble.state import Entry, Features, ModelVar, Setup, State, prov, resolve
from grader.extract.facts import (
    CompileCall,
    EvaluateCall,
    FitCall,
    SourceFacts,
    TrainableChange,
    TrainingLog,
)
from grader.i18n import _

__all__ = [
    "ensemble_entry",
    "iteration_var",
    "record_defs",
    "record_setup",
    "summary_owner",
    "train",
    "with_iteration",
    "with_loop_models",
]


def summary_owner(sf: SourceFacts) -> str | None:
    """The model a cell's printed summary belongs to: its only model."""
    names = [d.var for d in sf.model_defs if not d.is_builder]
    return names[-1] if len(names) == 1 else None


def _builder_features(state: State, name: str) -> Features:
    feats = Features()
    if name in state.builders:
        feats.merge(state.builders[name])
    return feats


def record_defs(state: State, facts: SourceFacts) -> None:
    """Models, builders and aliases a cell defines."""
    state.list_members.update(facts.listed_names)
    for d in facts.model_defs:
        if d.is_builder:
            state.builders[d.var] = Features.of(d)
    for new, old in facts.aliases.items():
        if new != old:
            state.aliases[new] = old
    for d in facts.model_defs:
        if d.is_builder:
            continue
        feats = Features.of(d)
        if d.builder:
            feats.merge(_builder_features(state, d.builder))
        var = iteration_var(d.var, d.iteration)
        # a name bound again to a new model starts a new model
        state.aliases.pop(var, None)
        state.generation += 1
        state.vars[var] = ModelVar(feats, state.generation)


def iteration_var(var: str, iteration: str | None) -> str:
    """The name of the model an unrolled loop built in one iteration: ``model['VGG16']``."""
    return var if iteration is None else f"{var}[{iteration}]"


def with_iteration(state: State, call: _Looped) -> _Looped:
    """A fit or evaluation of an unrolled loop: the model of its iteration, when it built one."""
    if call.iteration is None or call.model_var is None:
        return call
    var = iteration_var(resolve(state, call.model_var) or call.model_var, call.iteration)
    return replace(call, model_var=var) if var in state.vars else call


def setup_facts(facts: SourceFacts) -> list[TrainableChange | CompileCall]:
    """Layers frozen or unfrozen and models compiled by a cell, in the order they are read."""
    found: list[TrainableChange | CompileCall] = [*facts.trainable_changes, *facts.compiles]
    return sorted(found, key=lambda f: f.seq)


def record_setup(state: State, changes: list[TrainableChange | CompileCall]) -> None:
    """Apply setup changes of a cell that ran (:func:`setup_facts`), in order."""
    for change in changes:
        if isinstance(change, TrainableChange):
            _apply_trainable(state, change)
        else:
            _apply_compile(state, change)


def _apply_trainable(state: State, tc: TrainableChange) -> None:
    tgt = resolve(state, tc.target) or tc.target or "?"
    state.tick += 1
    if tc.value is True:
        state.unfrozen_before[tgt] = True
    state.trainable[tgt] = tc
    state.trainable_order[tgt] = state.tick


def _apply_compile(state: State, cc: CompileCall) -> None:
    mv = resolve(state, cc.model_var) or cc.model_var or "?"
    n, _ = state.compiles.get(mv, (0, None))
    state.compiles[mv] = (n + 1, cc.learning_rate)
    if cc.head_only or mv in state.head_only:
        # an optimizer over the head's parameters only: the pretrained body stays as it
        # is; one over all of them afterwards trains the body too
        state.tick += 1
        state.trainable[mv] = TrainableChange(
            target=mv, value=not cc.head_only, partial=False, line=cc.line
        )
        state.trainable_order[mv] = state.tick
        if cc.head_only:
            state.head_only.add(mv)
        else:
            state.head_only.discard(mv)


def _setup_for(state: State, var: str, feats: Features, fit: FitCall) -> Setup:
    frozen = "n/a"
    if fit.frozen is not None:
        frozen = "frozen" if fit.frozen else "trainable"
    elif feats.base or feats.base_var:
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
    return Setup(frozen, lr, n, fit.augmentation, tuple(sorted(fit.callbacks)))


def _changes(old: Setup, new: Setup, framework: str = "keras") -> list[str]:
    out = []
    if old.frozen != new.frozen:
        unfrozen = new.frozen in ("trainable", "partial")
        out.append(_("layers unfrozen") if unfrozen else _("layers frozen"))
    if new.compiles != old.compiles:
        if new.lr is not None and new.lr != old.lr:
            out.append(_("recompiled with learning rate {rate}").format(rate=f"{new.lr:g}"))
        elif framework != "pytorch":
            # a PyTorch loop needs an optimizer object each time it runs: one made
            # again with the same learning rate changes nothing of the setup
            out.append(_("recompiled"))
    if new.augmentation and not old.augmentation:
        out.append(_("data augmentation added"))
    if set(new.callbacks) - set(old.callbacks):
        added = ", ".join(sorted(set(new.callbacks) - set(old.callbacks)))
        out.append(_("callbacks added: {callbacks}").format(callbacks=added))
    return out


_Looped = TypeVar("_Looped", FitCall, EvaluateCall)


def with_loop_models(state: State, facts: SourceFacts, call: _Looped) -> _Looped:
    """Fill in the models a loop iterates over when they were defined in another cell."""
    if not call.in_loop or call.loop_models:
        return call
    inner = [lp for lp in facts.loops if lp.first_line <= call.line <= lp.last_line]
    if not inner:
        return call
    names = min(inner, key=lambda lp: lp.last_line - lp.first_line).iterates
    found: list[str] = []
    for n in names:
        target = resolve(state, n) or n
        if target in state.vars:
            found.append(target)
            continue
        found.extend(v for v in state.vars if v.startswith(f"{n}[") and v not in found)
        for alias in state.aliases:
            target = resolve(state, alias) or alias
            if alias.startswith(f"{n}[") and target in state.vars and target not in found:
                found.append(target)
        found.extend(v for v in state.list_members.get(n, []) if v in state.vars and v not in found)
    return replace(call, loop_models=found) if found else call


def train(
    state: State,
    idx: int,
    fits: list[FitCall],
    logs: list[TrainingLog],
    rebuilt_vars: frozenset[str] = frozenset(),
    setup: list[TrainableChange | CompileCall] | None = None,
) -> list[Entry]:
    """The training stages of a cell that ran: its fits paired with its logs, in order.

    ``rebuilt_vars``: the models the cell builds (a loop that builds and trains anew).
    ``setup``: the cell's freezing and compiling (:func:`setup_facts`), applied in reading
    order between its fits: ``base.trainable = False; fit; base.trainable = True; fit`` in
    one cell is a frozen stage, then a fine-tuning one.
    """
    pending = list(setup or [])
    # expand loops over known models
    expanded: list[FitCall] = []
    for f in fits:
        if f.in_loop and f.loop_models:
            expanded.extend(replace(f, model_var=m, in_loop=False) for m in f.loop_models)
        else:
            expanded.append(f)
    pairs: list[tuple[FitCall | None, list[TrainingLog]]] = []
    if expanded:
        only = expanded[0]
        if len(logs) > 1 and len(expanded) == 1 and only.in_loop and only.repeats:
            # ``for i in range(n)``: one configuration trained n times over. A model built
            # anew each time (bagging, seeds): its last run stands for them; else the
            # same model trained on (an epoch per iteration): one log
            rebuilt = only.model_var in rebuilt_vars
            pairs.append((only, logs[-1:] if rebuilt else logs))
        elif len(logs) > len(expanded) and len(expanded) == 1 and expanded[0].in_loop:
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
    touched: list[Entry] = []
    for fit, its_logs in pairs:
        now = [c for c in pending if fit is None or c.seq < fit.seq]
        record_setup(state, now)
        pending = [c for c in pending if c not in now]
        entry = _stage(state, idx, fit, its_logs)
        if entry not in touched:
            touched.append(entry)
    record_setup(state, pending)
    return touched


def _stage(state: State, idx: int, fit: FitCall | None, logs: list[TrainingLog]) -> Entry:
    """The entry a fit trains: the model's latest stage continued, or a new one."""
    raw_var = fit.model_var if fit else None
    var = resolve(state, raw_var) or raw_var or f"model in cell {idx}"
    known = state.vars.get(var)
    if known is None:
        known = ModelVar(Features(), -idx - 1)
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
        changed = _changes(prev.setup, setup, known.features.framework)
        if not changed:
            _extend(prev, idx, fit, logs)
            return prev
    else:
        changed = []
    kind, reasons, feats = _kind(known.features, setup, previously_frozen, fit)
    run = ModelRun(
        id=f"m{len(state.entries) + 1}",
        name=var,
        kind=kind,
        kind_reasons=reasons,
        # an architecture trained from random weights has no pretrained base
        base=feats.base if feats.weights != "none" else None,
        weights=feats.weights,
        continues=prev.run.id if prev is not None and prev.generation == known.generation else None,
        stage_change=changed,
        framework=Framework.pytorch if known.features.framework == "pytorch" else Framework.keras,
        learning_rate=setup.lr,
        provenance=prov(
            idx,
            Method.output_log if logs else Method.source,
            0.9 if logs else 0.6,
            logs[0].line if logs else f"{var}.fit(...)",
        ),
    )
    claimed = claim(state.heading) if state.heading else None
    if claimed and claimed != approach(kind) and approach(kind) != "other":
        run.claimed_kind = CLAIMED_KIND[claimed]
        state.findings.append(
            Finding(
                code="claim-code-mismatch",
                severity=Severity.warning,
                message=_claim_mismatch(claimed).format(
                    heading=repr(state.heading),
                    model=var,
                    kind=kind.value,
                    reasons="; ".join(reasons),
                ),
                cell=idx,
                model=run.id,
            )
        )
    if fit is not None and fit.validation == "test":
        state.findings.append(
            Finding(
                code="test-used-for-validation",
                severity=Severity.warning,
                message=_(
                    "{model} is validated on the test set during training; the test accuracy is "
                    "then not an unbiased estimate"
                ).format(model=var),
                cell=idx,
                model=run.id,
            )
        )
    entry = Entry(run=run, var=var, generation=known.generation, setup=setup)
    state.entries.append(entry)
    state.by_var[var] = entry
    _extend(entry, idx, fit, logs)
    return entry


def _claim_mismatch(claimed: str) -> str:
    """A heading's claim against the kind the code trains (to be formatted)."""
    if claimed == "pretrained":
        return _(
            "the heading {heading} suggests a pretrained model, but the code of {model} trains a "
            "{kind} ({reasons})"
        )
    if claimed == "custom":
        return _(
            "the heading {heading} suggests a custom model, but the code of {model} trains a "
            "{kind} ({reasons})"
        )
    return _(
        "the heading {heading} suggests a scratch model, but the code of {model} trains a {kind} "
        "({reasons})"
    )


def ensemble_entry(state: State, var: str, line: int) -> Entry | None:
    """An ensemble the notebook evaluates (the predictions of trained models averaged): a model
    of kind ``other`` that no fit trains."""
    known = state.vars.get(var)
    if known is None or not known.features.ensemble or not state.entries:
        return None
    run = ModelRun(
        id=f"m{len(state.entries) + 1}",
        name=var,
        kind=ModelKind.other,
        kind_reasons=[_("an ensemble: the predictions of several trained models combined")],
        framework=state.entries[-1].run.framework,
        provenance=prov(
            None,
            Method.source,
            0.6,
            _("{model}: predictions combined (line {line})").format(model=var, line=line),
        ),
    )
    setup = Setup("n/a", None, 0, False, ())
    entry = Entry(run=run, var=var, generation=known.generation, setup=setup)
    state.entries.append(entry)
    state.by_var[var] = entry
    return entry


def _kind(
    feats: Features, setup: Setup, previously_frozen: bool, fit: FitCall | None
) -> tuple[ModelKind, list[str], Features]:
    """The kind of a model trained in this setup, and the features it was judged by."""
    if fit is not None and fit.features_of and not feats.base:
        # a new head trained on what a pretrained base extracted: the base stays frozen
        with_base = replace(feats, base=fit.features_of, weights=feats.weights or "imagenet")
        return (
            ModelKind.transfer_frozen,
            [
                _("a new head trained on features the pretrained {base} extracted").format(
                    base=fit.features_of
                )
            ],
            with_base,
        )
    kind, reasons = kind_of(feats, setup.frozen, previously_frozen)
    if feats.framework == "pytorch" and kind == ModelKind.scratch_cnn and not feats.layers:
        reasons = [_("PyTorch model; architecture not readable from the code")]
    return kind, reasons, feats


def _extend(entry: Entry, idx: int, fit: FitCall | None, logs: list[TrainingLog]) -> None:
    run = entry.run
    if idx not in run.fit_cells:
        run.fit_cells.append(idx)
    entry.last_fit_logged = bool(logs)
    if fit is not None:
        if fit.validation == "test":
            entry.validated_on_test = True
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
