"""Data integrity findings: what the notebook trained, validated and tested on, against what was served.

The harness knows the data it served (the synthetic set or CIFAR-10 from its
store) and reads it itself, before the run, so a notebook cannot change what
the harness compares against. The capture records preprocessing-invariant
signatures of every array passed to ``fit``/``evaluate`` (computed in the
kernel, so untrusted, like everything from there; they can hide a leak only
by tampering on purpose, and the accuracies themselves are re-checked out of
process by :mod:`grader.execute.reevaluate`). From them, and from the data the
harness read itself (:mod:`grader.execute.served`):

* ``test-in-training``: test images among the training data (beyond the
  duplicates the dataset itself has between its splits);
* ``validation-on-test``: the validation data (and so early stopping or
  checkpoint selection) is the test set;
* ``test-not-from-test-split``: a "test" evaluation on training images;
* ``printed-accuracy-mismatch``: the executed notebook prints a test accuracy
  its own evaluation did not produce (a stale or hand-written number);
* ``data-store-modified``: the served files changed during the run (only
  possible where the sandbox could not make them read-only);
* ``base-input-range``: a pretrained base requested with ImageNet weights
  receives inputs on another scale than its weights were trained on (the
  capture runs the model's layers up to the base on a few training images),
  the "frozen base fed unpreprocessed inputs" that costs transfer learning
  most of its advantage.
"""

from __future__ import annotations

from collections.abc import Iterable

from grader.evidence import Evidence, Finding, Severity
from grader.execute.capture import CaptureRecord, EvaluateEvent
from grader.execute.served import ServedData
from grader.extract.kinds import input_contract
from grader.i18n import _, ngettext

__all__ = ["integrity_findings"]

_EARLY = ("EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau")


def _signatures(capture: CaptureRecord, fid: str | None) -> list[str]:
    fp = capture.fingerprints.get(fid or "")
    return list(fp.signatures) if fp else []


def _model_of(fit_models: dict[str, str], fit: str | None) -> str | None:
    return fit_models.get(fit or "")


def integrity_findings(
    capture: CaptureRecord,
    served: ServedData | None,
    fit_models: dict[str, str],
    evidence: Evidence | None = None,
    printed: Evidence | None = None,
    store_changed: Iterable[str] = (),
) -> list[Finding]:
    """Data integrity findings of one run (see the module docstring)."""
    out: list[Finding] = []
    changed = sorted(store_changed)
    if changed:
        out.append(
            Finding(
                code="data-store-modified",
                severity=Severity.error,
                message=_(
                    "the served dataset files changed during the run ({files}): the notebook "
                    "wrote into the grader's data store"
                ).format(files=", ".join(changed)),
            )
        )
    if served is not None:
        out += _leak_findings(capture, served, fit_models)
    if evidence is not None and printed is not None:
        out += _printed_findings(evidence, printed)
    out += _base_input_findings(capture, fit_models)
    return out


def _base_input_findings(capture: CaptureRecord, fit_models: dict[str, str]) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str | None, str]] = set()
    for fit in capture.fits:
        model = _model_of(fit_models, fit.id)
        for used in fit.base_inputs:
            contract = input_contract(used.application)
            if (
                contract is None
                or used.weights != "imagenet"
                or used.preprocessing is False
                or used.min is None
                or used.max is None
                or (model, used.application) in seen
            ):
                continue
            wrong = contract.mismatch(used.min, used.max)
            if wrong is None:
                continue
            seen.add((model, used.application))
            values = {
                "base": used.application,
                "model": fit.model_name,
                "wrong": wrong,
                "low": f"{used.min:.3g}",
                "high": f"{used.max:.3g}",
                "n": used.n,
                "expects": contract.expects,
            }
            said = _base_input_sentence(bool(fit.model_name), used.n).format(**values)
            then = _(
                "The frozen features are then computed on inputs the base never saw, which "
                "costs transfer learning much of its advantage."
            )
            out.append(
                Finding(
                    code="base-input-range",
                    severity=Severity.warning,
                    message=f"{said} {then}",
                    model=model,
                )
            )
    return out


def _base_input_sentence(named: bool, n: int | None) -> str:
    """What a pretrained base receives, against what its weights expect (to be formatted)."""
    if named and n:
        return ngettext(
            "the pretrained {base} base of model '{model}' receives {wrong}: values from {low} "
            "to {high} on {n} training image, but its ImageNet weights expect {expects}.",
            "the pretrained {base} base of model '{model}' receives {wrong}: values from {low} "
            "to {high} on {n} training images, but its ImageNet weights expect {expects}.",
            n,
        )
    if named:
        return _(
            "the pretrained {base} base of model '{model}' receives {wrong}: values from {low} "
            "to {high} on a few training images, but its ImageNet weights expect {expects}."
        )
    if n:
        return ngettext(
            "the pretrained {base} base of a model receives {wrong}: values from {low} to "
            "{high} on {n} training image, but its ImageNet weights expect {expects}.",
            "the pretrained {base} base of a model receives {wrong}: values from {low} to "
            "{high} on {n} training images, but its ImageNet weights expect {expects}.",
            n,
        )
    return _(
        "the pretrained {base} base of a model receives {wrong}: values from {low} to {high} "
        "on a few training images, but its ImageNet weights expect {expects}."
    )


def _leak_findings(
    capture: CaptureRecord, served: ServedData, fit_models: dict[str, str]
) -> list[Finding]:
    out: list[Finding] = []
    seen_train: set[str] = set()
    seen_val: set[str] = set()
    train_fps: dict[str, set[str]] = {}
    for fit in capture.fits:
        model = _model_of(fit_models, fit.id)
        fid = fit.train.fingerprint if fit.train else None
        if fid:
            train_fps.setdefault(fit.model_key, set()).add(fid)
        if fid and fid not in seen_train:
            seen_train.add(fid)
            sigs = _signatures(capture, fid)
            if sigs:
                hits = sum(1 for s in sigs if s in served.test_index)
                expected = served.inherent_overlap * len(sigs)
                if hits - expected > max(10, 0.01 * len(sigs)):
                    out.append(
                        Finding(
                            code="test-in-training",
                            severity=Severity.error,
                            message=(
                                _(
                                    "{hits} of the {n} training images of {model} are images "
                                    "of the {data} test split: the test accuracy does not "
                                    "measure generalisation"
                                )
                                if fit.model_name
                                else _(
                                    "{hits} of the {n} training images of a model are images "
                                    "of the {data} test split: the test accuracy does not "
                                    "measure generalisation"
                                )
                            ).format(
                                hits=hits, n=len(sigs), model=fit.model_name, data=served.kind
                            ),
                            model=model,
                        )
                    )
        vid = fit.validation.fingerprint if fit.validation else None
        if vid and vid not in seen_val:
            seen_val.add(vid)
            sigs = _signatures(capture, vid)
            hits = sum(1 for s in sigs if s in served.test_index)
            if sigs and hits > 0.5 * len(sigs):
                early = [c for c in fit.callbacks if c in _EARLY]
                message = (
                    _(
                        "{model} is validated on the test set ({hits} of {n} validation images "
                        "are test images)"
                    )
                    if fit.model_name
                    else _(
                        "a model is validated on the test set ({hits} of {n} validation images "
                        "are test images)"
                    )
                ).format(model=fit.model_name, hits=hits, n=len(sigs))
                if early:
                    message += "; " + _(
                        "{callbacks} chose the model on it, so its test accuracy is optimistic"
                    ).format(callbacks=", ".join(early))
                out.append(
                    Finding(
                        code="validation-on-test",
                        severity=Severity.error if early else Severity.warning,
                        message=message,
                        model=model,
                    )
                )
    val_fps = {fit.validation.fingerprint for fit in capture.fits if fit.validation}
    reported: set[str] = set()
    for ev in capture.of_type(EvaluateEvent):
        fid = ev.data.fingerprint if ev.data else None
        if not fid or fid in reported or fid in val_fps:
            continue
        if fid in train_fps.get(ev.model_key, set()):
            continue
        sigs = _signatures(capture, fid)
        if len(sigs) < 50:
            continue
        in_test = sum(1 for s in sigs if s in served.test_index)
        in_train = sum(1 for s in sigs if s in served.train_signatures)
        if in_test < 0.5 * len(sigs) and in_train > 0.5 * len(sigs):
            reported.add(fid)
            out.append(
                Finding(
                    code="test-not-from-test-split",
                    severity=Severity.warning,
                    message=(
                        _(
                            "{model} is evaluated (as on test data) on {in_train} images of the "
                            "{data} training split and only {in_test} of its test split"
                        )
                        if ev.model_name
                        else _(
                            "a model is evaluated (as on test data) on {in_train} images of the "
                            "{data} training split and only {in_test} of its test split"
                        )
                    ).format(
                        model=ev.model_name, in_train=in_train, in_test=in_test, data=served.kind
                    ),
                    model=_model_of(fit_models, ev.fit),
                )
            )
    return out


def _printed_findings(evidence: Evidence, printed: Evidence) -> list[Finding]:
    """The executed notebook prints accuracies its own evaluations did not produce."""
    out: list[Finding] = []
    for model in evidence.models:
        prov = model.test_accuracy_provenance
        if model.test_accuracy is None or prov is None or prov.method.value != "runtime":
            continue
        for shown in printed.models:
            if shown.test_accuracy is None or not set(shown.fit_cells) & set(model.fit_cells):
                continue
            diff = shown.test_accuracy - model.test_accuracy
            if abs(diff) > 0.01:
                out.append(
                    Finding(
                        code="printed-accuracy-mismatch",
                        severity=Severity.warning,
                        message=_(
                            "{model}: the executed notebook shows test accuracy {shown}, but its "
                            "evaluation in this run returned {returned} (a hand-written or stale "
                            "number)"
                        ).format(
                            model=model.name,
                            shown=f"{shown.test_accuracy:.4f}",
                            returned=f"{model.test_accuracy:.4f}",
                        ),
                        model=model.id,
                        cell=shown.test_accuracy_provenance.cell
                        if shown.test_accuracy_provenance
                        else None,
                    )
                )
            break
    return out
