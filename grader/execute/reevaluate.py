"""Out-of-process verification of the test accuracies a run reports.

Everything the kernel says can be forged by the student's code in the same
process: the capture prelude can be monkeypatched, the capture files
rewritten, the printed numbers typed in. What the harness trusts instead:

1. the prelude saves each evaluated model (``.keras``) and the inputs it was
   evaluated on (``.npy``) into the capture folder;
2. after the run, the harness copies them out (no links followed, sizes
   capped) and a separate worker process, confined by the run's own sandbox
   backend, loads the model with ``safe_mode=True`` and predicts classes for
   those inputs; it never receives labels;
3. the harness matches every input row to the served test image it is (by
   signature, then exactly up to a shared rescaling, see
   :func:`grader.execute.served.match_test_rows`), takes the labels from
   the data it read itself before the run, and scores the predictions;
4. a reported accuracy further from the verified one than the tolerance
   (three binomial standard errors on the rows scored, plus one point, plus
   two rows) is a ``forged-accuracy`` finding (error); an accuracy that cannot
   be checked is ``unverified-accuracy`` (warning) with the reason.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.evidence import Evidence, ModelRun
from grader.execute.capture import CaptureRecord, EvaluateEvent, FitRecord, PredictEvent, VerifyRef
from grader.execute.sandbox.limits import THREAD_VARIABLES
from grader.settings import DEFAULT_TIMEOUT_VERIFY

if TYPE_CHECKING:
    import numpy as np

    from grader.execute.served import ServedData

__all__ = [
    "ModelCheck",
    "VerificationReport",
    "VerifyJob",
    "class_numbering",
    "prelude_config",
    "score_predictions",
    "tolerance",
    "verify_claims",
    "verify_run",
]

MAX_MODEL_BYTES = 4 * 1024**3
MAX_INPUT_BYTES = 1024**3
MIN_MATCHED = 0.9


class ModelCheck(BaseModel):
    """The check of one model's reported test accuracy."""

    model_config = ConfigDict(extra="forbid")

    model: str
    name: str
    status: Literal["verified", "forged", "unverified"]
    reason: str
    claimed: float | None = None
    verified: float | None = None
    rows: int | None = Field(default=None, description="rows the model was evaluated on")
    matched: int | None = Field(default=None, description="rows matched to served test images")
    tolerance: float | None = None
    label_mapping: str | None = Field(
        default=None, description="how predicted class numbers map to the dataset's, if not 1:1"
    )


class VerificationReport(BaseModel):
    """What the out-of-process verification did (recorded in the manifest)."""

    model_config = ConfigDict(extra="forbid")

    backend: str = ""
    seconds: float = 0.0
    worker_exit: int | None = None
    checks: list[ModelCheck] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


@dataclass
class VerifyJob:
    """What the runner hands to :func:`verify_run` after a run."""

    capture: CaptureRecord
    capture_dir: Path
    evidence: Evidence
    fit_models: dict[str, str]
    served: ServedData | None
    backend: Any  # the run's kernel backend (a sandbox backend confines the worker)
    python: str  # the kernel's interpreter (it has Keras)
    work: Path  # a folder of the harness's own, not visible to the kernel
    limits: Any = None
    timeout: float = DEFAULT_TIMEOUT_VERIFY
    max_rows: int = 2000
    log: Callable[[str], None] = field(default=lambda _m: None)
    threads: int | None = None  # TensorFlow/BLAS threads, as the run's kernel had


def prelude_config(enabled: bool) -> dict[str, Any] | None:
    """The ``verify`` entry of the prelude's configuration."""
    if not enabled:
        return None
    return {"max_input_bytes": MAX_INPUT_BYTES, "max_models": 40, "min_rows": 50}


def tolerance(accuracy: float, n: int) -> float:
    """How far a reported accuracy may be from the verified one on ``n`` rows.

    The same weights on the same rows should give the same accuracy; what
    differs is floating-point order (CPU against GPU, batch sizes), which flips
    a few borderline predictions, and a report computed on slightly different
    rows. Three binomial standard errors of the verified accuracy cover the
    latter, two rows and one percentage point the former.
    """
    p = min(max(accuracy, 0.0), 1.0)
    n = max(n, 1)
    return 3.0 * math.sqrt(max(p * (1.0 - p), 0.0025) / n) + 0.01 + 2.0 / n


# ------------------------------------------------------------------ planning


@dataclass
class _Plan:
    model: ModelRun
    ref: VerifyRef | None = None
    reason: str = ""
    params: int | None = None


def _roles(capture: CaptureRecord, fits: set[str]) -> tuple[set[str], set[str]]:
    """Fingerprints of the training data and of the validation data of these fits."""
    train: set[str] = set()
    val: set[str] = set()
    for fit in capture.fits:
        if fit.id in fits:
            if fit.train is not None and fit.train.fingerprint:
                train.add(fit.train.fingerprint)
            if fit.validation is not None and fit.validation.fingerprint:
                val.add(fit.validation.fingerprint)
    return train, val


def _plan(capture: CaptureRecord, evidence: Evidence, fit_models: dict[str, str]) -> list[_Plan]:
    plans: list[_Plan] = []
    fits_by_id: dict[str, FitRecord] = {f.id: f for f in capture.fits}
    for model in evidence.models:
        if model.test_accuracy is None:
            continue
        plan = _Plan(model=model)
        plans.append(plan)
        fits = {fid for fid, mid in fit_models.items() if mid == model.id}
        if not fits:
            plan.reason = (
                "no training of this model was captured at run time, so its accuracy "
                "comes only from printed output"
            )
            continue
        last_fit = max(fits, key=lambda f: int(f[1:]) if f[1:].isdigit() else 0)
        arch = fits_by_id[last_fit].architecture if last_fit in fits_by_id else None
        plan.params = arch.params_total if arch else None
        train_fps, val_fps = _roles(capture, fits)
        candidates: list[tuple[int, VerifyRef]] = []
        errors: list[str] = []
        events = [e for e in capture.events if isinstance(e, EvaluateEvent | PredictEvent)]
        for ev in events:
            if ev.fit not in fits:
                continue
            fid = ev.data.fingerprint if ev.data else None
            if fid is not None and fid in train_fps:
                continue  # an evaluation on training data
            if isinstance(ev, EvaluateEvent) and ev.accuracy() is None:
                continue
            ref = ev.verify
            if ref is None or not ref.model_file or not ref.inputs_file:
                if ref is not None and ref.error:
                    errors.append(ref.error)
                continue
            # an evaluation on the validation data counts only when there is no other:
            # a notebook that validates on its test set evaluates the test set there
            rank = 2 if isinstance(ev, EvaluateEvent) else 1
            if fid is not None and fid in val_fps:
                rank = 0
            candidates.append((rank * 10**9 + ev.seq, ref))
        if candidates:
            plan.ref = max(candidates, key=lambda c: c[0])[1]
        elif errors:
            plan.reason = f"its evaluation could not be saved for checking ({errors[-1]})"
        elif any(isinstance(e, EvaluateEvent) and e.fit in fits for e in events):
            plan.reason = "it was evaluated on data that is not an array of images"
        else:
            plan.reason = (
                "no evaluation of this model on test data was captured "
                "(evaluate/predict replaced or bypassed)"
            )
    return plans


def _sample(ref: VerifyRef, max_rows: int) -> list[int] | None:
    """Evenly spaced rows to re-evaluate (None: all of them)."""
    rows = ref.predicted_rows or ref.rows
    if not rows or rows <= max_rows or ref.predicted_rows:
        return None
    step = rows / max_rows
    return sorted({int(i * step) for i in range(max_rows)})


# ------------------------------------------------------------------ running


def _copy_in(capture_dir: Path, name: str, target: Path, limit: int) -> str | None:
    from grader.execute.sandbox.fs import open_no_follow

    try:
        fd = open_no_follow(capture_dir, f"verify/{name}")
    except OSError as exc:
        return f"{name}: {exc}"
    import os

    with os.fdopen(fd, "rb") as src, target.open("wb") as dst:
        copied = 0
        while block := src.read(1 << 22):
            copied += len(block)
            if copied > limit:
                return f"{name}: over {limit} bytes"
            dst.write(block)
    return None


def _run_worker(
    job: VerifyJob, request: Path, in_dir: Path, out_dir: Path
) -> tuple[int | None, str]:
    worker = in_dir / "worker.py"
    shutil.copyfile(Path(__file__).with_name("_reevaluate_worker.py"), worker)
    argv = [job.python, "-I", str(worker), str(request)]
    run_confined = getattr(job.backend, "run_confined", None)
    log = job.work / "worker.log"
    if run_confined is None:
        local_env = dict(os.environ)
        if job.threads:
            local_env.update(dict.fromkeys(THREAD_VARIABLES, str(job.threads)))
        try:
            with log.open("ab") as fh:
                done = subprocess.run(  # noqa: S603 - trusted local backend
                    argv,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    timeout=job.timeout,
                    check=False,
                    cwd=str(out_dir),
                    env=local_env,
                )
            return done.returncode, "local (no sandbox)"
        except subprocess.TimeoutExpired:
            return None, "local (no sandbox)"
    from grader.execute.sandbox.launch import KernelLaunch

    env = {"TF_CPP_MIN_LOG_LEVEL": "2"}
    if job.threads:  # parallel runs share the cores: the worker keeps to the run's share
        env.update(dict.fromkeys(THREAD_VARIABLES, str(job.threads)))
    launch = KernelLaunch(
        python=job.python,
        env=env,
        spec_dir=job.work,
        log_path=log,
        workdir=out_dir,
        readable=[in_dir],
        writable=[],
        limits=job.limits,
    )
    code, report = run_confined(argv, launch, job.timeout)
    return code, report.backend


def _read_json(folder: Path, name: str, limit: int) -> Any:
    from grader.execute.sandbox.fs import read_no_follow

    try:
        return json.loads(read_no_follow(folder, name, limit))
    except (OSError, ValueError):
        return None


def _read_array(folder: Path, name: str, limit: int) -> np.ndarray | None:
    import numpy as np

    from grader.execute.sandbox.fs import read_no_follow

    try:
        return np.load(io.BytesIO(read_no_follow(folder, name, limit)), allow_pickle=False)
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------ scoring


def score_predictions(predicted: np.ndarray, labels: np.ndarray) -> tuple[float, float, str | None]:
    """(accuracy as predicted, accuracy under the best renaming of classes, the renaming).

    A notebook may train on a subset of classes renumbered 0..k-1; its
    predictions are then right under a renaming. The renaming is the one-to-one
    assignment of predicted to true classes with the most agreements; it cannot
    turn a weak model into a strong one.
    """
    import numpy as np

    direct = float(np.mean(predicted == labels)) if len(labels) else 0.0
    preds, p_idx = np.unique(predicted, return_inverse=True)
    trues, t_idx = np.unique(labels, return_inverse=True)
    table = np.zeros((len(preds), len(trues)), dtype=np.int64)
    np.add.at(table, (p_idx, t_idx), 1)
    try:
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(-table)
    except ImportError:
        rows = np.arange(min(table.shape))
        cols = table.argmax(axis=1)[: len(rows)]
    best = float(table[rows, cols].sum() / max(1, len(labels)))
    if best <= direct + 0.005:
        return direct, direct, None
    mapping = ", ".join(
        f"{int(preds[r])}->{int(trues[c])}" for r, c in zip(rows, cols, strict=False)
    )
    return direct, best, mapping


def class_numbering(true: np.ndarray, theirs: np.ndarray) -> dict[int, int] | None:
    """How the notebook numbers the dataset's classes, read from its own labels of the same rows.

    A notebook on a subset of classes renumbers them (``np.searchsorted``); its
    labels then are a function of the true class. They are the kernel's, so
    untrusted, and used only when they are such a function (98% of the rows, one
    number per class): a renaming of classes cannot make a weak model strong.
    """
    import numpy as np

    if len(true) == 0 or len(true) != len(theirs):
        return None
    mapping: dict[int, int] = {}
    agree = 0
    for c in np.unique(true):
        values, counts = np.unique(theirs[true == c], return_counts=True)
        k = int(counts.argmax())
        mapping[int(c)] = int(values[k])
        agree += int(counts[k])
    if agree < 0.98 * len(true) or len(set(mapping.values())) != len(mapping):
        return None
    return mapping


def _check(
    plan: _Plan,
    result: dict[str, Any] | None,
    preds: Any,
    inputs: Any,
    job: VerifyJob,
    theirs: Any = None,
) -> ModelCheck:
    import numpy as np

    from grader.execute.served import match_test_rows

    m = plan.model
    base: dict[str, Any] = {"model": m.id, "name": m.name, "claimed": m.test_accuracy}
    if plan.ref is None:
        return ModelCheck(status="unverified", reason=plan.reason, **base)
    if result is None or not result.get("ok"):
        why = (result or {}).get("error") or "the verification worker gave no result"
        return ModelCheck(
            status="unverified", reason=f"the saved model could not be re-evaluated: {why}", **base
        )
    if job.served is None:
        return ModelCheck(status="unverified", reason="no served dataset to check against", **base)
    if inputs is None or preds is None:
        return ModelCheck(status="unverified", reason="the saved inputs could not be read", **base)
    index = match_test_rows(inputs, job.served)
    if index is None:
        return ModelCheck(
            status="unverified",
            reason=f"its test inputs (shape {list(inputs.shape)}) are not images of the served "
            "size (resized or reshaped outside the model?), so they cannot be matched",
            rows=int(len(inputs)),
            **base,
        )
    predicted_rows = plan.ref.predicted_rows
    preds = np.asarray(preds).reshape(-1).astype(np.int64)
    take = _sample(plan.ref, job.max_rows)
    if take is not None and len(take) == len(preds):
        rows_taken = np.asarray(take, dtype=np.int64)
        if rows_taken.min() < 0 or rows_taken.max() >= len(inputs):
            return ModelCheck(status="unverified", reason="bad rows from the worker", **base)
        inputs, index = inputs[rows_taken], index[rows_taken]
        if theirs is not None and len(theirs) > int(rows_taken.max()):
            theirs = theirs[rows_taken]
    elif predicted_rows:
        preds = preds[np.arange(len(inputs)) % max(1, len(preds))]
    if len(preds) != len(inputs):
        return ModelCheck(
            status="unverified", reason="the worker's predictions do not cover the inputs", **base
        )
    matched = index >= 0
    n_matched = int(matched.sum())
    if n_matched < MIN_MATCHED * len(inputs) or n_matched == 0:
        return ModelCheck(
            status="unverified",
            reason=f"only {n_matched} of its {len(inputs)} test inputs are served test images "
            "up to rescaling (transformed or not from the test split)",
            rows=int(len(inputs)),
            matched=n_matched,
            **base,
        )
    labels = job.served.y_test[index[matched]]
    independent = min(n_matched, predicted_rows) if predicted_rows else n_matched
    numbering = None
    if theirs is not None and len(theirs) == len(inputs):
        numbering = class_numbering(labels, np.asarray(theirs).reshape(-1)[matched])
    mapping: str | None
    if numbering is not None:
        # the notebook's own numbering of the classes: score exactly as it did
        renumbered = np.array([numbering[int(c)] for c in labels])
        verified = float(np.mean(preds[matched] == renumbered))
        tol = tolerance(verified, independent)
        claimed = m.test_accuracy if m.test_accuracy is not None else verified
        ok = abs(claimed - verified) <= tol
        renamed = any(k != v for k, v in numbering.items())
        mapping = ", ".join(f"{k}->{v}" for k, v in sorted(numbering.items())) if renamed else None
    else:
        direct, best, found = score_predictions(preds[matched], labels)
        claimed = m.test_accuracy if m.test_accuracy is not None else direct
        # the report is honest if it lies between the accuracy as predicted and the accuracy
        # under the best renaming of classes (a notebook that renumbered a class subset)
        low, high = direct - tolerance(direct, independent), best + tolerance(best, independent)
        ok = low <= claimed <= high
        renamed = found is not None and abs(claimed - best) < abs(claimed - direct)
        verified = best if renamed else direct
        tol = tolerance(verified, independent)
        mapping = found if renamed else None
    params = result.get("params")
    extra = {
        "verified": round(verified, 6),
        "rows": int(len(inputs)),
        "matched": n_matched,
        "tolerance": round(tol, 6),
        "label_mapping": mapping,
    }
    if plan.params and isinstance(params, int) and abs(params - plan.params) > 0.005 * plan.params:
        return ModelCheck(
            status="forged",
            reason=f"the evaluated model has {params:,} parameters, but its training record "
            f"says {plan.params:,}: the record does not describe the model that was evaluated",
            **base,
            **extra,
        )
    if ok:
        return ModelCheck(
            status="verified",
            reason=f"re-evaluated out of process on {n_matched} test images: {verified:.4f} "
            f"(reported {claimed:.4f}, tolerance ±{tol:.3f})",
            **base,
            **extra,
        )
    return ModelCheck(
        status="forged",
        reason=f"reported test accuracy {claimed:.4f}, but the grader's own re-evaluation of the "
        f"saved model on the same {n_matched} test images gives {verified:.4f} "
        f"(tolerance ±{tol:.3f})",
        **base,
        **extra,
    )


def verify_run(job: VerifyJob) -> VerificationReport:
    """Check every reported test accuracy of the run (see the module docstring)."""
    t0 = time.monotonic()
    report = VerificationReport()
    plans = _plan(job.capture, job.evidence, job.fit_models)
    if not plans:
        return report
    in_dir, out_dir = job.work / "in", job.work / "out"
    for folder in (in_dir, out_dir):
        folder.mkdir(parents=True, exist_ok=True)
    items: list[dict[str, Any]] = []
    keys: dict[tuple[str, str, int | None], str] = {}
    item_of: dict[int, str] = {}
    for i, plan in enumerate(plans):
        ref = plan.ref
        if ref is None or ref.model_file is None or ref.inputs_file is None:
            continue
        key = (ref.model_file, ref.inputs_file, ref.predicted_rows)
        if key not in keys:
            problem = None
            files = [(ref.model_file, MAX_MODEL_BYTES), (ref.inputs_file, MAX_INPUT_BYTES)]
            if ref.labels_file:
                files.append((ref.labels_file, MAX_INPUT_BYTES))
            for name, limit in files:
                if not (in_dir / name).exists():
                    problem = problem or _copy_in(job.capture_dir, name, in_dir / name, limit)
            if problem:
                plan.reason = f"its saved files could not be read safely ({problem})"
                plan.ref = None
                continue
            keys[key] = str(len(items))
            items.append(
                {
                    "id": str(len(items)),
                    "model": str(in_dir / ref.model_file),
                    "inputs": str(in_dir / ref.inputs_file),
                    "predict_rows": ref.predicted_rows,
                    "take": _sample(ref, job.max_rows),
                }
            )
        item_of[i] = keys[key]
    results: dict[str, dict[str, Any]] = {}
    if items:
        request = in_dir / "request.json"
        request.write_text(json.dumps({"out": str(out_dir), "items": items}), encoding="utf-8")
        code, where = _run_worker(job, request, in_dir, out_dir)
        report.worker_exit, report.backend = code, where
        data = _read_json(out_dir, "result.json", 1 << 20)
        for entry in (data or {}).get("results", []) if isinstance(data, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                results[entry["id"]] = entry
        if code != 0:
            report.notes.append(f"the verification worker exited with {code}")
    for i, plan in enumerate(plans):
        item = item_of.get(i)
        result = results.get(item) if item is not None else None
        preds = inputs = theirs = None
        if result is not None and result.get("ok") and plan.ref is not None:
            preds = _read_array(out_dir, f"p-{item}.npy", MAX_INPUT_BYTES)
            inputs = _read_array(in_dir, plan.ref.inputs_file or "", MAX_INPUT_BYTES)
            if plan.ref.labels_file:
                theirs = _read_array(in_dir, plan.ref.labels_file, MAX_INPUT_BYTES)
        check = _check(plan, result, preds, inputs, job, theirs)
        report.checks.append(check)
        job.log(f"verification {check.model} ({check.name}): {check.status}: {check.reason}")
    report.seconds = round(time.monotonic() - t0, 3)
    return report


def verify_claims(
    *,
    capture: CaptureRecord,
    capture_dir: Path,
    evidence: Evidence,
    fit_models: dict[str, str],
    served: ServedData | None,
    backend: Any,
    python: str,
    work: Path,
    limits: Any,
    log: Callable[[str], None],
    profile: str = "full",
    threads: int | None = None,
) -> VerificationReport:
    """Re-check every test accuracy ``evidence`` claims (see the module docstring).

    Never raises: a verification that fails is a report that says so.
    """
    rows = int(getattr(limits, "verify_rows", 2000) or 2000)
    job = VerifyJob(
        capture=capture,
        capture_dir=capture_dir,
        evidence=evidence,
        fit_models=fit_models,
        served=served,
        backend=backend,
        python=python,
        work=work,
        limits=limits,
        timeout=float(
            getattr(limits, "verify_seconds", DEFAULT_TIMEOUT_VERIFY) or DEFAULT_TIMEOUT_VERIFY
        ),
        max_rows=min(300, rows) if profile == "smoke" else rows,
        log=log,
        threads=threads,
    )
    try:
        return verify_run(job)
    except Exception as exc:  # a check must never lose the run
        log(f"verification failed: {type(exc).__name__}: {exc}")
        return VerificationReport(notes=[f"verification failed: {type(exc).__name__}"])
