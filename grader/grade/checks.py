"""The checks a rubric may name: functions over the evidence, registered in :data:`CHECKS`.

Each gives an :class:`Outcome`: met or not, why, where the evidence is, and what the
student should add. Every text is in the language in use (:func:`grader.i18n._`), and
advice that names calls names those of the notebook's framework (Keras or PyTorch; neither
when the framework is unknown). Adding a check is adding a function here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.evidence import Evidence, Framework, ModelKind, ModelRun
from grader.grade.result import Status
from grader.i18n import N_, _, ngettext

__all__ = ["APPROACHES", "CHECKS", "KIND_LABELS", "Outcome", "variant_list"]


@dataclass
class Outcome:
    status: Status
    reason: str
    cells: list[int] = field(default_factory=list)
    missing: str | None = None
    #: the cells the advice concerns (None: ``cells``): e.g. the models that lack a plot
    concerns: list[int] | None = None
    #: the advice is about the whole notebook (saved without outputs) and comes before the
    #: rubric's own feedback for the requirement
    whole_notebook: bool = False


CheckFn = Callable[[Evidence, dict[str, Any]], Outcome]


@dataclass
class _Check:
    fn: CheckFn
    doc: str  # what it checks, in English (marked; shown with ``_(doc)``)
    params: tuple[str, ...] = ()


CHECKS: dict[str, _Check] = {}


def _check(name: str, *params: str, doc: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS[name] = _Check(fn, doc, params)
        return fn

    return register


#: the three approaches the assignment asks for (keys: marked English names, shown with ``_``)
APPROACHES: dict[str, tuple[ModelKind, ...]] = {
    N_("bipyramidal CNN from scratch"): (ModelKind.scratch_cnn,),
    N_("custom CNN (Xception-like or residual)"): (
        ModelKind.custom_xception,
        ModelKind.custom_residual,
    ),
    N_("pretrained CNN (transfer learning)"): (ModelKind.transfer_frozen, ModelKind.fine_tuned),
}

#: what each kind of model is, in words (shown with ``_``)
KIND_LABELS: dict[ModelKind, str] = {
    ModelKind.scratch_cnn: N_("CNN from scratch"),
    ModelKind.custom_residual: N_("ResNet-like CNN"),
    ModelKind.custom_xception: N_("Xception-like CNN"),
    ModelKind.transfer_frozen: N_("transfer learning, frozen base"),
    ModelKind.fine_tuned: N_("fine-tuned pretrained CNN"),
    ModelKind.other: N_("other model"),
}


def _for(ev: Evidence, *, keras: str, pytorch: str, other: str) -> str:
    """The text for the notebook's framework (each already in the language in use)."""
    if ev.framework == Framework.keras:
        return keras
    if ev.framework == Framework.pytorch:
        return pytorch
    return other


def _by_approach(ev: Evidence) -> dict[str, list[ModelRun]]:
    return {a: [m for m in ev.models if m.kind in kinds] for a, kinds in APPROACHES.items()}


def _names(models: list[ModelRun]) -> str:
    """``cnn (CNN from scratch), tl (transfer learning, frozen base)``."""
    return ", ".join(f"{m.name} ({_(KIND_LABELS[m.kind])})" for m in models)


def _plain(models: list[ModelRun]) -> str:
    return ", ".join(m.name for m in models)


def _grouped(groups: dict[str, list[ModelRun]]) -> str:
    """``approach: model (kind); approach: ...`` for the approaches given."""
    return "; ".join(f"{_(a)}: {_names(ms)}" for a, ms in groups.items())


def _why_none(models: list[ModelRun]) -> str:
    """Why each model has no test accuracy, as the extraction says (empty when it says nothing)."""
    return "; ".join(
        f"{m.name}: {m.test_accuracy_missing.reason}"
        for m in models
        if m.test_accuracy_missing is not None
    )


def _cells(models: list[ModelRun]) -> list[int]:
    return sorted({c for m in models for c in m.fit_cells})


def _no_outputs(ev: Evidence) -> Outcome | None:
    if not ev.hygiene.has_outputs and ev.source == "static":
        return Outcome(
            Status.not_met,
            _("the notebook was saved without outputs: nothing can be verified without running it"),
            missing=_(
                "run the notebook and save it with its outputs "
                "(or grade it with `grader check --run`)"
            ),
            concerns=[],
            whole_notebook=True,
        )
    return None


def _curve_cells(models: list[ModelRun]) -> list[int]:
    return sorted(
        {
            m.curves_provenance.cell
            for m in models
            if m.curves_provenance and m.curves_provenance.cell is not None
        }
    )


@_check(
    "curves_shown",
    doc=N_("Training/validation curves are plotted (an image output) for each approach trained."),
)
def _curves_shown(ev: Evidence, params: dict[str, Any]) -> Outcome:
    if (o := _no_outputs(ev)) is not None:
        return o
    if not ev.has_curves:
        return Outcome(
            Status.not_met,
            _(
                "no training/validation curves found: no cell that plots a training history "
                "has an image output"
            ),
            missing=_for(
                ev,
                keras=_(
                    "plot the loss and accuracy curves (training and validation) of each model "
                    "from `history.history` ('loss', 'val_loss', 'accuracy', 'val_accuracy') "
                    "and keep the plots in the saved notebook"
                ),
                pytorch=_(
                    "record the training and validation loss and accuracy of every epoch in "
                    "lists, plot them for each model and keep the plots in the saved notebook"
                ),
                other=_(
                    "plot the loss and accuracy curves (training and validation) of each model"
                ),
            ),
            concerns=_cells(ev.models),
        )
    lacking = {
        a: ms for a, ms in _by_approach(ev).items() if ms and not any(m.curves_shown for m in ms)
    }
    shown = [m for m in ev.models if m.curves_shown]
    if lacking:
        concerned = [m for ms in lacking.values() for m in ms]
        models = _plain(concerned)
        if shown:
            reason = _("curves are shown for {shown}; none for {lacking}").format(
                shown=_names(shown), lacking=_grouped(lacking)
            )
        else:
            reason = _("no curves are shown for {lacking}").format(lacking=_grouped(lacking))
        return Outcome(
            Status.not_met,
            reason,
            cells=_curve_cells(shown),
            missing=_for(
                ev,
                keras=_(
                    "plot the curves of {models} from their `history.history` (loss and "
                    "accuracy, training and validation)"
                ),
                pytorch=_(
                    "record the training and validation loss and accuracy of every epoch of "
                    "{models} in lists and plot them"
                ),
                other=_("plot the training and validation curves of {models}"),
            ).format(models=models),
            concerns=_cells(concerned),
        )
    return Outcome(
        Status.met,
        _("curves shown for {models}").format(models=_names(shown))
        if shown
        else _("curves are shown"),
        cells=_curve_cells(shown),
    )


def _evaluate_advice(ev: Evidence, models: str | None) -> str:
    if models is None:
        return _for(
            ev,
            keras=_(
                "evaluate each model on the test set with `model.evaluate(x_test, y_test)` "
                "and print the accuracy"
            ),
            pytorch=_(
                "evaluate each model on the test loader (in `model.eval()` mode, under "
                "`torch.no_grad()`) and print the accuracy"
            ),
            other=_("evaluate each model on the test set and print the accuracy"),
        )
    return _for(
        ev,
        keras=_(
            "evaluate {models} on the test set with `model.evaluate(x_test, y_test)` and "
            "print the accuracy"
        ),
        pytorch=_(
            "evaluate {models} on the test loader (in `model.eval()` mode, under "
            "`torch.no_grad()`) and print the accuracy"
        ),
        other=_("evaluate {models} on the test set and print the accuracy"),
    ).format(models=models)


def _accuracy_cells(models: list[ModelRun]) -> list[int]:
    """Where each model's accuracy is missing: the cell the extraction points at, else its
    training cells."""
    cells: set[int] = set()
    for m in models:
        if m.test_accuracy_missing is not None and m.test_accuracy_missing.cell is not None:
            cells.add(m.test_accuracy_missing.cell)
        else:
            cells.update(m.fit_cells)
    return sorted(cells)


@_check(
    "test_accuracy_reported",
    doc=N_("A final test accuracy is shown for each approach trained (and survives verification)."),
)
def _test_accuracy(ev: Evidence, params: dict[str, Any]) -> Outcome:
    forged = [f for f in ev.findings if f.code == "forged-accuracy"]
    if forged:
        # the harness re-evaluated the saved model out of process and got another number
        return Outcome(
            Status.not_met,
            _(
                "a reported test accuracy does not match the harness's own evaluation of the "
                "saved model: {findings}"
            ).format(findings="; ".join(f.message for f in forged)),
            missing=_("report the accuracy the model really reaches on the test set"),
            concerns=sorted({f.cell for f in forged if f.cell is not None}),
        )
    if (o := _no_outputs(ev)) is not None:
        return o
    if not ev.models:
        return Outcome(
            Status.not_met,
            _("no trained model found in the notebook"),
            missing=_("train the models and keep their outputs"),
        )
    groups = _by_approach(ev)
    lacking = {
        a: ms for a, ms in groups.items() if ms and not any(m.test_accuracy is not None for m in ms)
    }
    without = [m for ms in groups.values() for m in ms if m.test_accuracy is None]
    why = _why_none(without)
    with_acc = [m for m in ev.models if m.test_accuracy is not None]
    cells = sorted(
        {
            m.test_accuracy_provenance.cell
            for m in with_acc
            if m.test_accuracy_provenance and m.test_accuracy_provenance.cell is not None
        }
    )
    if not with_acc:
        reason = (
            _("no test accuracy found for any model ({why})").format(why=why)
            if why
            else _("no test accuracy found for any model")
        )
        return Outcome(
            Status.not_met,
            reason,
            missing=_evaluate_advice(ev, None),
            concerns=_accuracy_cells(without or ev.models),
        )
    shown = "; ".join(
        f"{m.name}: {m.test_accuracy:.4f}" for m in with_acc if m.test_accuracy is not None
    )
    if lacking:
        concerned = [m for ms in lacking.values() for m in ms]
        reason = (
            _("test accuracy shown for {shown}; missing for {lacking} ({why})")
            if why
            else _("test accuracy shown for {shown}; missing for {lacking}")
        )
        return Outcome(
            Status.not_met,
            reason.format(shown=shown, lacking=_grouped(lacking), why=why),
            cells=cells,
            missing=_evaluate_advice(ev, _plain(concerned)),
            concerns=_accuracy_cells(concerned),
        )
    return Outcome(Status.met, _("test accuracy shown: {shown}").format(shown=shown), cells=cells)


@_check(
    "confusion_matrix_shown",
    doc=N_("A confusion matrix on test predictions is computed and shown."),
)
def _confusion(ev: Evidence, params: dict[str, Any]) -> Outcome:
    if (o := _no_outputs(ev)) is not None:
        return o
    if not ev.has_confusion_matrix:
        return Outcome(
            Status.not_met,
            _("no confusion matrix shown (computed and printed or drawn in a cell with output)"),
            missing=_for(
                ev,
                keras=_(
                    "compute `confusion_matrix(y_test, y_pred)` (from `sklearn.metrics`) for "
                    "each model, with `y_pred = model.predict(x_test).argmax(axis=1)`, and show "
                    "it (`ConfusionMatrixDisplay` or a heatmap)"
                ),
                pytorch=_(
                    "collect the predictions of each model over the test loader, compute "
                    "`sklearn.metrics.confusion_matrix(y_true, y_pred)` from them and show it "
                    "(`ConfusionMatrixDisplay` or a heatmap)"
                ),
                other=_("compute confusion_matrix(y_test, y_pred) for each model and show it"),
            ),
            concerns=_cells(ev.models),
        )
    with_cm = [m for m in ev.models if m.confusion_matrix_shown]
    lacking = {
        a: ms
        for a, ms in _by_approach(ev).items()
        if ms and not any(m.confusion_matrix_shown for m in ms)
    }
    cells = sorted(
        {
            m.confusion.provenance.cell
            for m in with_cm
            if m.confusion and m.confusion.provenance.cell is not None
        }
    )
    if lacking and with_cm:
        # the assignment asks for "a confusion matrix"; one per model is the instructor's call
        approaches = ", ".join(_(a) for a in lacking)
        return Outcome(
            Status.needs_review,
            _("a confusion matrix is shown for {models}; none for {approaches}").format(
                models=_names(with_cm), approaches=approaches
            ),
            cells=cells,
            missing=_for(
                ev,
                keras=_(
                    "show a confusion matrix of the test predictions (`model.predict(x_test)`) "
                    "for: {approaches}"
                ),
                pytorch=_(
                    "show a confusion matrix of the predictions collected over the test loader "
                    "for: {approaches}"
                ),
                other=_("show a confusion matrix for: {approaches}"),
            ).format(approaches=approaches),
            concerns=_cells([m for ms in lacking.values() for m in ms]),
        )
    if not with_cm:
        return Outcome(
            Status.needs_review,
            _("a confusion matrix is shown, but the harness cannot tell which model it belongs to"),
        )
    return Outcome(
        Status.met,
        _("confusion matrix shown for {models}").format(models=_names(with_cm)),
        cells=cells,
    )


@_check(
    "three_approaches",
    doc=N_("All three approaches are trained: scratch CNN, custom CNN, pretrained CNN."),
)
def _three(ev: Evidence, params: dict[str, Any]) -> Outcome:
    groups = _by_approach(ev)
    missing = ", ".join(_(a) for a, ms in groups.items() if not ms)
    found = _grouped({a: ms for a, ms in groups.items() if ms})
    cells = _cells(ev.models)
    if missing:
        return Outcome(
            Status.not_met,
            _("found {found}; missing: {missing}").format(found=found, missing=missing)
            if found
            else _("missing: {missing}").format(missing=missing),
            cells=cells,
            missing=_("train and evaluate: {missing}").format(missing=missing),
            concerns=[],  # what is missing has no cell yet
        )
    return Outcome(
        Status.met, _("all three approaches trained: {found}").format(found=found), cells=cells
    )


#: what a written summary may lack (shown with ``_``)
_GAPS = {
    "compares_models": N_("a comparison of the models"),
    "generalisation": N_("which model generalises best and why"),
    "training_time": N_("how training time differs"),
}


@_check(
    "written_summary",
    "generalisation",
    "training_time",
    doc=N_("A written summary compares the models (optionally: generalisation, training time)."),
)
def _summary(ev: Evidence, params: dict[str, Any]) -> Outcome:
    d = ev.discussion
    if not d.present:
        return Outcome(
            Status.not_met,
            _("no written summary or discussion of the results found in markdown cells"),
            missing=_(
                "add a markdown summary: which model generalises best and why, "
                "and how training times differ"
            ),
        )
    gaps = []
    if not d.compares_models:
        gaps.append(_(_GAPS["compares_models"]))
    if params.get("generalisation") and not d.discusses_generalisation:
        gaps.append(_(_GAPS["generalisation"]))
    if params.get("training_time") and not d.discusses_training_time:
        gaps.append(_(_GAPS["training_time"]))
    if gaps:
        # keyword reading of prose is not reliable enough to take a point away
        return Outcome(
            Status.needs_review,
            ngettext(
                "a written discussion is there ({n} word) but the harness did not find {gaps}",
                "a written discussion is there ({n} words) but the harness did not find {gaps}",
                d.words,
            ).format(n=d.words, gaps=", ".join(gaps)),
            cells=d.cells,
            missing=_("make sure the summary covers {gaps}").format(gaps=", ".join(gaps)),
        )
    if d.discusses_training_time:
        reason = ngettext(
            "written summary ({n} word) compares the models, discusses generalisation and "
            "training time",
            "written summary ({n} words) compares the models, discusses generalisation and "
            "training time",
            d.words,
        )
    else:
        reason = ngettext(
            "written summary ({n} word) compares the models, discusses generalisation",
            "written summary ({n} words) compares the models, discusses generalisation",
            d.words,
        )
    return Outcome(Status.met, reason.format(n=d.words), cells=d.cells)


@_check("has_kind", "kinds", doc=N_("A model of one of the given kinds is trained."))
def _has_kind(ev: Evidence, params: dict[str, Any]) -> Outcome:
    raw = params.get("kinds") or []
    kinds = sorted({ModelKind(k) for k in raw}, key=lambda k: k.value)
    ms = [m for m in ev.models if m.kind in kinds]
    if ms:
        return Outcome(
            Status.met, _("trained {models}").format(models=_names(ms)), cells=_cells(ms)
        )
    labels = ", ".join(_(KIND_LABELS[k]) for k in kinds)
    return Outcome(
        Status.not_met,
        ngettext(
            "no model of this kind: {kinds}", "no model of these kinds: {kinds}", len(kinds)
        ).format(kinds=labels),
        missing=ngettext(
            "train a model of this kind: {kinds}",
            "train a model of one of these kinds: {kinds}",
            len(kinds),
        ).format(kinds=labels),
    )


def variant_list(ev: Evidence) -> list[str]:
    """The additional variants a notebook trained, in words."""
    variants = []
    tuned = [m for m in ev.models if m.kind == ModelKind.fine_tuned]
    frozen = [m for m in ev.models if m.kind == ModelKind.transfer_frozen]
    if tuned and frozen:
        variants.append(
            _("fine-tuning after transfer learning ({models})").format(models=_plain(tuned))
        )
    elif tuned:
        variants.append(_("fine-tuned pretrained model ({models})").format(models=_plain(tuned)))
    bases = sorted({m.base for m in ev.models if m.base})
    if len(bases) >= 2:
        variants.append(_("several pretrained bases ({bases})").format(bases=", ".join(bases)))
    kinds = {m.kind for m in ev.models}
    if ModelKind.custom_residual in kinds and ModelKind.custom_xception in kinds:
        variants.append(_("both Xception-like and ResNet-like custom models"))
    return variants


def _variant_models(ev: Evidence) -> list[ModelRun]:
    """The models that make the variants (for the cells the advice concerns)."""
    kinds = {m.kind for m in ev.models}
    both_customs = {ModelKind.custom_residual, ModelKind.custom_xception} <= kinds
    bases = {m.base for m in ev.models if m.base}
    return [
        m
        for m in ev.models
        if m.kind == ModelKind.fine_tuned
        or (both_customs and m.kind in (ModelKind.custom_residual, ModelKind.custom_xception))
        or (len(bases) >= 2 and m.base)
    ]


@_check(
    "variants_discussed",
    doc=N_(
        "Additional variants are trained and discussed (fine-tuning, several bases, both customs)."
    ),
)
def _variants(ev: Evidence, params: dict[str, Any]) -> Outcome:
    variants = variant_list(ev)
    if not variants:
        return Outcome(
            Status.not_met,
            _(
                "no additional variant found (fine-tuning, a second pretrained base, or both "
                "Xception- and ResNet-like custom models)"
            ),
            missing=_for(
                ev,
                keras=_(
                    "add a variant and discuss it, e.g. unfreeze the top blocks of the "
                    "pretrained base (`base_model.trainable = True`), compile again with a "
                    "lower learning rate and fine-tune"
                ),
                pytorch=_(
                    "add a variant and discuss it, e.g. unfreeze the top blocks of the "
                    "pretrained base (`requires_grad = True` on their parameters) and "
                    "fine-tune them with a lower learning rate"
                ),
                other=_(
                    "add a variant, e.g. fine-tune the top blocks of the pretrained base, "
                    "and discuss it"
                ),
            ),
            concerns=_cells([m for m in ev.models if m.kind == ModelKind.transfer_frozen]),
        )
    found = "; ".join(variants)
    d = ev.discussion
    if d.present and d.mentions_variants:
        return Outcome(
            Status.met, _("variants: {variants}; discussed").format(variants=found), cells=d.cells
        )
    if d.present:
        return Outcome(
            Status.needs_review,
            _(
                "variants: {variants}; the harness could not tell whether the discussion "
                "covers them"
            ).format(variants=found),
            cells=d.cells,
            missing=_("discuss what the variants changed"),
        )
    return Outcome(
        Status.not_met,
        _("variants: {variants}; but they are not discussed").format(variants=found),
        missing=_("discuss the variants in the written summary"),
        concerns=_cells(_variant_models(ev)),
    )
