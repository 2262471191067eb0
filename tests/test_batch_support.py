"""Shared builders for the batch and report tests (no tests of its own).

* :func:`make_evidence` / :func:`make_report`: evidence of a typical submission
  built directly as data and graded by the real rubric, so the report and
  batch tests do not depend on what the extractors find in a notebook.
* :func:`write_notebook`: a small real notebook whose metadata tells
  :func:`fake_grade` what to do (which evidence to return, or how to fail).
* :func:`realistic_notebook`: a three-model Keras notebook with stored outputs
  for the real static pipeline.
* :func:`fake_grade`: a grading function for the batch runner; it records
  every call in ``<out>/executions.log`` so tests can count executions.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

from grader.batch.jobs import InfrastructureError, Job
from grader.evidence import (
    Confusion,
    DataFacts,
    Discussion,
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
from grader.grade.result import CheckReport
from grader.grade.rubric import load_rubric
from grader.intake.notebook import load_notebook
from grader.intake.submission import StudentContext
from grader.pipeline import Graded
from grader.report.results import RunInfo
from tests.nbfactory import (
    CM3,
    NB,
    curve,
    image,
    keras3_evaluate,
    keras3_fit,
    stream,
)

CLASSES = ["airplane", "automobile", "bird"]


def _prov(cell: int, method: Method = Method.output_log) -> Provenance:
    return Provenance(cell=cell, method=method, confidence=0.9, detail=None)


def _history(n: int, lo: float, hi: float) -> dict[str, list[float]]:
    step = (hi - lo) / max(n - 1, 1)
    acc = [round(lo + i * step, 4) for i in range(n)]
    return {
        "loss": [round(2.0 - i * step * 2.2, 4) for i in range(n)],
        "accuracy": acc,
        "val_loss": [round(2.1 - i * step * 1.7, 4) for i in range(n)],
        "val_accuracy": [round(a * 0.93, 4) for a in acc],
    }


def _model(
    i: int,
    name: str,
    kind: ModelKind,
    acc: float | None,
    *,
    base: str | None = None,
    params: int = 120_000,
    seconds: float = 40.0,
    continues: str | None = None,
) -> ModelRun:
    cell = 3 + 4 * i
    cm = [[250, 40, 43], [31, 270, 32], [45, 38, 251]]
    return ModelRun(
        id=f"m{i + 1}",
        name=name,
        kind=kind,
        kind_reasons=[f"{kind.value} judged from the layers of cell {cell}"],
        claimed_kind=None,
        base=base,
        weights="imagenet" if base else None,
        continues=continues,
        stage_change=["layers unfrozen", "learning rate 1e-05"] if continues else [],
        epochs=6,
        history=_history(6, 0.4, (acc or 0.5) + 0.05),
        fit_cells=[cell],
        fit_seconds=seconds,
        params_total=params,
        params_trainable=params if base is None else params // 10,
        test_accuracy=acc,
        test_accuracy_provenance=_prov(cell + 2, Method.output_text) if acc is not None else None,
        curves_shown=True,
        curves_provenance=_prov(cell + 1, Method.output_image),
        confusion_matrix_shown=True,
        confusion=Confusion(
            matrix=cm, labels=CLASSES, provenance=_prov(cell + 3, Method.output_text)
        ),
        provenance=_prov(cell),
    )


def make_evidence(
    accs: tuple[float | None, float | None, float | None] = (0.62, 0.71, 0.84),
    *,
    variants: bool = True,
    summary: bool = True,
    path: str = "hw5.ipynb",
    findings: list[Finding] | None = None,
) -> Evidence:
    models = [
        _model(0, "cnn", ModelKind.scratch_cnn, accs[0], params=95_000, seconds=31.0),
        _model(1, "resnet_like", ModelKind.custom_residual, accs[1], params=180_000, seconds=64.0),
        _model(
            2,
            "transfer",
            ModelKind.transfer_frozen,
            accs[2],
            base="MobileNetV2",
            params=2_261_827,
            seconds=210.0,
        ),
    ]
    if variants:
        tuned = _model(
            3,
            "transfer",
            ModelKind.fine_tuned,
            (accs[2] or 0.8) + 0.03,
            base="MobileNetV2",
            params=2_261_827,
            seconds=260.0,
            continues="m3",
        )
        tuned.confusion = None
        tuned.confusion_matrix_shown = True
        models.append(tuned)
    return Evidence(
        notebook=NotebookInfo(
            path=path, sha256=hashlib.sha256(path.encode()).hexdigest(), nbformat="4.5", cells=30
        ),
        framework=Framework.keras,
        models=models,
        has_curves=True,
        has_confusion_matrix=True,
        has_written_summary=summary,
        discussion=Discussion(
            present=summary,
            cells=[29],
            language="en",
            words=180 if summary else 0,
            compares_models=summary,
            discusses_generalisation=summary,
            discusses_training_time=summary,
            names_best_model=summary,
            mentions_variants=summary,
        ),
        data=DataFacts(
            dataset="cifar10",
            classes=CLASSES,
            n_classes=3,
            train_size=2000,
            val_size=1000,
            test_size=1000,
        ),
        hygiene=Hygiene(code_cells=24, executed_cells=24, has_outputs=True),
        findings=findings
        if findings is not None
        else [
            Finding(
                code="claim-code-mismatch",
                severity=Severity.warning,
                message="the heading says 'Xception' but the code trains a residual CNN",
                cell=7,
                model="m2",
            ),
        ],
    )


def make_report(
    accs: tuple[float | None, float | None, float | None] = (0.62, 0.71, 0.84),
    *,
    variants: bool = True,
    summary: bool = True,
    context: StudentContext | None = None,
    path: str = "hw5.ipynb",
) -> CheckReport:
    ev = make_evidence(accs, variants=variants, summary=summary, path=path)
    grade = load_rubric().grade(
        ev, context or StudentContext(submitted_hw4=True, consultation_done=True)
    )
    return CheckReport(**ev.model_dump(), grade=grade)


def realistic_notebook(
    accs: tuple[float, float, float] = (0.62, 0.71, 0.84), *, variants: bool = True
) -> NB:
    """A three-model Keras notebook with stored outputs, as the static check reads them."""
    nb = NB()
    nb.md("# Homework 5\nCIFAR-10 subset, 3 classes")
    nb.code(
        "import tensorflow as tf\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()\nclass_names=['airplane','automobile','bird']"
    )
    nb.md("## Model 1: simple CNN from scratch")
    nb.code(
        "cnn = keras.Sequential([layers.Conv2D(32,3,activation='relu'), layers.MaxPooling2D(), layers.Conv2D(64,3,activation='relu'), layers.MaxPooling2D(), layers.Flatten(), layers.Dense(3, activation='softmax')])\ncnn.compile('adam','sparse_categorical_crossentropy',metrics=['accuracy'])\nhist_cnn = cnn.fit(x_train, y_train, epochs=6, validation_split=0.2)",
        stream(keras3_fit(curve(6, 0.4, accs[0]))),
    )
    nb.code(
        "import matplotlib.pyplot as plt\nplt.plot(hist_cnn.history['loss']); plt.plot(hist_cnn.history['val_loss']); plt.plot(hist_cnn.history['accuracy']); plt.plot(hist_cnn.history['val_accuracy']); plt.show()",
        image(),
    )
    nb.code(
        "loss, acc = cnn.evaluate(x_test, y_test)\nprint(f'CNN test accuracy: {acc:.4f}')",
        stream(keras3_evaluate(accs[0], 0.9)),
        stream(f"CNN test accuracy: {accs[0]:.4f}\n"),
    )
    nb.code(
        "from sklearn.metrics import confusion_matrix\nimport numpy as np\ny_pred = np.argmax(cnn.predict(x_test), axis=1)\nprint(confusion_matrix(y_test, y_pred))",
        stream(CM3 + "\n"),
    )
    nb.md("## Model 2: residual CNN")
    nb.code(
        "inp = keras.Input((32,32,3))\nx = layers.Conv2D(32,3,padding='same')(inp)\ny = layers.Conv2D(32,3,padding='same')(x)\nx = layers.Add()([x, y])\nx = layers.GlobalAveragePooling2D()(x)\nout = layers.Dense(3, activation='softmax')(x)\nres = keras.Model(inp, out)\nres.compile('adam','sparse_categorical_crossentropy',metrics=['accuracy'])\nhist_res = res.fit(x_train, y_train, epochs=6, validation_split=0.2)",
        stream(keras3_fit(curve(6, 0.45, accs[1]))),
    )
    nb.code(
        "plt.plot(hist_res.history['loss']); plt.plot(hist_res.history['val_loss']); plt.plot(hist_res.history['accuracy']); plt.plot(hist_res.history['val_accuracy']); plt.show()",
        image(),
    )
    nb.code(
        "loss, acc = res.evaluate(x_test, y_test)\nprint(f'ResNet-like test accuracy: {acc:.4f}')",
        stream(keras3_evaluate(accs[1], 0.8)),
        stream(f"ResNet-like test accuracy: {accs[1]:.4f}\n"),
    )
    nb.code(
        "y_pred = np.argmax(res.predict(x_test), axis=1)\nprint(confusion_matrix(y_test, y_pred))",
        stream(CM3 + "\n"),
    )
    nb.md("## Model 3: transfer learning with MobileNetV2")
    nb.code(
        "base = keras.applications.MobileNetV2(include_top=False, weights='imagenet', input_shape=(96,96,3))\nbase.trainable = False\ntl = keras.Sequential([layers.Resizing(96,96), base, layers.GlobalAveragePooling2D(), layers.Dense(3, activation='softmax')])\ntl.compile('adam','sparse_categorical_crossentropy',metrics=['accuracy'])\nhist_tl = tl.fit(x_train, y_train, epochs=5, validation_split=0.2)",
        stream(keras3_fit(curve(5, 0.6, accs[2]))),
    )
    nb.code(
        "plt.plot(hist_tl.history['loss']); plt.plot(hist_tl.history['val_loss']); plt.plot(hist_tl.history['accuracy']); plt.plot(hist_tl.history['val_accuracy']); plt.show()",
        image(),
    )
    nb.code(
        "loss, acc = tl.evaluate(x_test, y_test)\nprint(f'Transfer test accuracy: {acc:.4f}')",
        stream(keras3_evaluate(accs[2], 0.5)),
        stream(f"Transfer test accuracy: {accs[2]:.4f}\n"),
    )
    nb.code(
        "y_pred = np.argmax(tl.predict(x_test), axis=1)\nprint(confusion_matrix(y_test, y_pred))",
        stream(CM3 + "\n"),
    )
    if variants:
        nb.md("## Fine-tuning")
        nb.code(
            "base.trainable = True\nfor l in base.layers[:-20]: l.trainable = False\ntl.compile(keras.optimizers.Adam(1e-5),'sparse_categorical_crossentropy',metrics=['accuracy'])\nhist_ft = tl.fit(x_train, y_train, epochs=4, validation_split=0.2)",
            stream(keras3_fit(curve(4, accs[2], min(accs[2] + 0.05, 0.99)))),
        )
        nb.code(
            "plt.plot(hist_ft.history['loss']); plt.plot(hist_ft.history['val_loss']); plt.plot(hist_ft.history['accuracy']); plt.plot(hist_ft.history['val_accuracy']); plt.show()",
            image(),
        )
        nb.code(
            "loss, acc = tl.evaluate(x_test, y_test)\nprint(f'Fine-tuned test accuracy: {acc:.4f}')",
            stream(keras3_evaluate(accs[2] + 0.03, 0.45)),
            stream(f"Fine-tuned test accuracy: {accs[2] + 0.03:.4f}\n"),
        )
        nb.code(
            "y_pred = np.argmax(tl.predict(x_test), axis=1)\nprint(confusion_matrix(y_test, y_pred))",
            stream(CM3 + "\n"),
        )
    nb.md(
        "## Summary\nThe transfer learning model generalises best: its validation accuracy follows the training accuracy, while the CNN from scratch overfits. Compared with the residual CNN, the pretrained MobileNetV2 reaches the highest test accuracy. Training time differs: the scratch CNN trains fastest (5 s per epoch), the transfer model is slowest. Fine-tuning the top layers improved the accuracy by 3 points."
    )
    return nb


def write_notebook(path: Path, **fake: Any) -> Path:
    """A small notebook; ``fake`` goes into its metadata for :func:`fake_grade`."""
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["fake"] = fake
    nb.cells.append(v4.new_markdown_cell("# Homework 5"))
    nb.cells.append(v4.new_code_cell("print('hello')"))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def executions(out: Path) -> list[str]:
    """The submissions :func:`fake_grade` was called for, in order (one line per call)."""
    log = out / "executions.log"
    return log.read_text().split() if log.exists() else []


def fake_grade(job: Job) -> Graded:
    """A grading function driven by the notebook's ``fake`` metadata."""
    assert job.submission.notebook is not None
    path = Path(job.submission.notebook.path)
    loaded = load_notebook(path)  # raises NotANotebookError for broken files
    fake: dict[str, Any] = dict(loaded.nb.metadata.get("fake", {}))
    fd = os.open(Path(job.out) / "executions.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (job.submission.id + "\n").encode())
    finally:
        os.close(fd)
    calls = executions(Path(job.out)).count(job.submission.id)
    if fake.get("sleep"):
        time.sleep(float(fake["sleep"]))
    fail = fake.get("fail")
    if fail == "kernel" and calls <= int(fake.get("times", 1)):
        raise InfrastructureError("the kernel could not start")
    if fail == "exit" and calls <= int(fake.get("times", 1)):
        os._exit(3)
    if fail == "bug":
        raise RuntimeError("an unexpected bug")
    a, b, c = fake.get("accs", (0.62, 0.71, 0.84))
    accs = (a, b, c)
    ev = make_evidence(
        accs,
        variants=bool(fake.get("variants", True)),
        summary=bool(fake.get("summary", True)),
        path=str(path),
    )
    ev.notebook.sha256 = loaded.sha256
    grade = load_rubric(Path(job.rubric) if job.rubric else None).grade(ev, job.submission.context)
    report = CheckReport(**ev.model_dump(), grade=grade)
    if fail == "student":
        run = RunInfo(
            profile=job.run.profile if job.run is not None else "static",
            status="failed",
            failure_kind="exception",
            failure="NameError: name 'x_tset' is not defined",
            failure_cell=14,
        )
        return Graded(report=report, run=run, status="run-failed", reason=run.failure)
    return Graded(report=report)


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, default=str)
