"""Why a model has no test accuracy: what the notebook shows instead, and what to add.

A missed accuracy must not read as "test accuracy not reported" to a student
who reported it, and one that is really missing should say what to add. For
each model without a test accuracy the assembly records a
:class:`~grader.evidence.MissingAccuracy`: a stable code and a sentence,
chosen from what the walk saw of the model (its evaluations on held-out data
and what their cells showed, its training log, whether it was validated on
the test set).
"""

from __future__ import annotations

from grader.evidence import Framework, MissingAccuracy, MissingCode
from grader.extract.assemble.state import Entry
from grader.i18n import _

__all__ = ["explain", "EVALUATION_OUTCOMES"]

#: What a cell that evaluates a model on held-out data showed (``Entry.evaluations``).
EVALUATION_OUTCOMES = ("not-run", "error", "bar", "ambiguous", "not-printed")


def _evaluated(cell: int, what: str, framework: Framework) -> MissingAccuracy:
    if what == "not-run":
        return MissingAccuracy(
            code=MissingCode.cell_not_run,
            reason=_(
                "the cell that evaluates it on the test set (cell {cell}) never ran; run it and "
                "save the notebook with its outputs"
            ).format(cell=cell),
            cell=cell,
        )
    if what == "error":
        return MissingAccuracy(
            code=MissingCode.evaluation_error,
            reason=_(
                "the cell that evaluates it on the test set (cell {cell}) stopped with an error"
            ).format(cell=cell),
            cell=cell,
        )
    if what == "bar":
        if framework == Framework.pytorch:
            reason = _(
                "only a running average on the progress bar of its evaluation (cell {cell}); "
                "print the accuracy over the whole test set after the loop"
            )
        elif framework == Framework.keras:
            reason = _(
                "only a running average on the progress bar of its evaluation (cell {cell}); "
                "print the accuracy that evaluate() returns"
            )
        else:
            reason = _(
                "only a running average on the progress bar of its evaluation (cell {cell}); "
                "print the final test accuracy"
            )
        return MissingAccuracy(
            code=MissingCode.bar_only, reason=reason.format(cell=cell), cell=cell
        )
    if what == "ambiguous":
        return MissingAccuracy(
            code=MissingCode.ambiguous,
            reason=_(
                "cell {cell} prints accuracies but none can be told to be this model's; print "
                "each with the model's name"
            ).format(cell=cell),
            cell=cell,
        )
    return MissingAccuracy(
        code=MissingCode.not_printed,
        reason=_(
            "it is evaluated on the test set (cell {cell}) but no accuracy is shown; print the "
            "test accuracy"
        ).format(cell=cell),
        cell=cell,
    )


def _evaluate_it(framework: Framework) -> str:
    """How to evaluate a model on the test set, in its framework's calls."""
    if framework == Framework.keras:
        return _("evaluate it on the test set with model.evaluate and print the accuracy")
    if framework == Framework.pytorch:
        return _(
            "evaluate it on the test set (a loop over the test loader in model.eval() mode, "
            "under torch.no_grad()) and print the accuracy"
        )
    return _("evaluate it on the test set and print the accuracy")


def _from_history(e: Entry) -> MissingAccuracy:
    history = e.run.history
    cell = e.run.fit_cells[-1] if e.run.fit_cells else None
    if e.validated_on_test:
        reason = (
            _(
                "only the per-epoch validation accuracy of its training log (cell {cell}), on "
                "validation data that is the test set; print the final test accuracy after "
                "training"
            )
            if history.get("val_accuracy")
            else _(
                "nothing after training (cell {cell}), on validation data that is the test set; "
                "print the final test accuracy after training"
            )
        )
        return MissingAccuracy(
            code=MissingCode.validation_is_test, reason=reason.format(cell=cell), cell=cell
        )
    advice = _evaluate_it(e.run.framework)
    if history.get("val_accuracy"):
        return MissingAccuracy(
            code=MissingCode.validation_only,
            reason=_(
                "only per-epoch val_accuracy on a validation split (cell {cell}); {advice}"
            ).format(cell=cell, advice=advice),
            cell=cell,
        )
    if history.get("accuracy"):
        return MissingAccuracy(
            code=MissingCode.training_only,
            reason=_("only training accuracy (cell {cell}); {advice}").format(
                cell=cell, advice=advice
            ),
            cell=cell,
        )
    return MissingAccuracy(
        code=MissingCode.not_evaluated,
        reason=_("it is never evaluated on the test set; {advice}").format(advice=advice),
        cell=None,
    )


def explain(entries: list[Entry], has_outputs: bool) -> None:
    """Say why, for every entry left without a test accuracy."""
    for e in entries:
        if e.run.test_accuracy is not None:
            e.run.test_accuracy_missing = None
            continue
        if not has_outputs:
            e.run.test_accuracy_missing = MissingAccuracy(
                code=MissingCode.no_outputs,
                reason=_(
                    "the notebook was saved without outputs; run it and save it with its outputs"
                ),
            )
        elif e.evaluations:
            cell, what = e.evaluations[-1]
            e.run.test_accuracy_missing = _evaluated(cell, what, e.run.framework)
        else:
            e.run.test_accuracy_missing = _from_history(e)
