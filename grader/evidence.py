"""The evidence model: what a notebook shows it trained and measured.

Every stage of the pipeline exchanges these plain, typed, serialisable
objects. Each fact carries its :class:`Provenance`: the cell it came from,
how it was found and how sure the extractor is.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA_VERSION",
    "Confusion",
    "DataFacts",
    "Discussion",
    "Evidence",
    "ExecutedBy",
    "Finding",
    "Framework",
    "Hygiene",
    "Method",
    "ModelKind",
    "ModelRun",
    "MissingAccuracy",
    "MissingCode",
    "NotebookInfo",
    "Provenance",
    "Severity",
]

SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, ser_json_inf_nan="strings")


class Method(StrEnum):
    """How a fact was found."""

    source = "source"  # read from the code of a cell (AST)
    output_log = "output:training-log"  # a Keras/PyTorch training log in a cell's output
    output_text = "output:text"  # a printed value (print, evaluate result, report)
    output_table = "output:table"  # a pandas table (text/plain or text/html)
    output_image = "output:image"  # an image output of a cell whose code draws it
    markdown = "markdown"  # a markdown cell
    runtime = "runtime"  # recorded by the capture prelude during a real run


class Provenance(_Model):
    cell: int | None = Field(None, description="0-based index of the notebook cell")
    method: Method
    confidence: float = Field(ge=0.0, le=1.0)
    detail: str | None = Field(None, description="the line or code that was read, shortened")


class Framework(StrEnum):
    keras = "keras"
    pytorch = "pytorch"
    unknown = "unknown"


class ModelKind(StrEnum):
    """What kind of model a training stage trained, judged by its code."""

    scratch_cnn = "scratch_cnn"
    custom_residual = "custom_residual"
    custom_xception = "custom_xception"
    transfer_frozen = "transfer_frozen"
    fine_tuned = "fine_tuned"
    other = "other"


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    error = "error"


class Finding(_Model):
    """Something worth telling the student or the instructor."""

    code: str = Field(description="stable identifier, e.g. 'claim-code-mismatch'")
    severity: Severity
    message: str
    cell: int | None = None
    model: str | None = Field(None, description="id of the model entry concerned")


class Confusion(_Model):
    matrix: list[list[int]] | None = Field(None, description="the matrix when it was printed")
    labels: list[str] | None = None
    provenance: Provenance


class MissingCode(StrEnum):
    """Why no test accuracy was taken for a model (stable codes; the sentence says what to add)."""

    no_outputs = "no-outputs"  # the notebook was saved without outputs
    cell_not_run = "cell-not-run"  # the cell that evaluates it never ran
    evaluation_error = "evaluation-error"  # the evaluating cell stopped with an error
    bar_only = "bar-only"  # only the running average on an evaluate progress bar / log line
    not_printed = "not-printed"  # evaluated on the test set, but no accuracy is shown
    ambiguous = "ambiguous"  # accuracies are shown, but not which one is this model's
    validation_is_test = "validation-is-test"  # only per-epoch val_accuracy, validated on test
    validation_only = "validation-only"  # only per-epoch val_accuracy on a validation split
    training_only = "training-only"  # only training accuracy is shown
    not_evaluated = "not-evaluated"  # never evaluated on the test set


class MissingAccuracy(_Model):
    """Why a model has no test accuracy, in words a student can act on."""

    code: MissingCode
    reason: str = Field(description="what the notebook shows instead, and what to add")
    cell: int | None = Field(None, description="the cell the reason points at, when one does")


class ModelRun(_Model):
    """One training stage that produced a result.

    Continued training with the same setup extends ``history``; a stage with
    a changed setup (unfrozen layers, new learning rate, augmentation or
    callbacks added) is its own entry whose ``continues`` names the entry it
    builds on.
    """

    id: str = Field(description="stable id within the notebook: m1, m2, ...")
    name: str = Field(description="the model's variable name or the best label found")
    kind: ModelKind
    kind_reasons: list[str] = Field(default_factory=list)
    claimed_kind: ModelKind | None = Field(
        None, description="kind suggested by headings/markdown, when it differs from the code"
    )
    base: str | None = Field(None, description="canonical pretrained base, e.g. MobileNetV2")
    weights: str | None = Field(None, description="weights of the base: imagenet, none, a file")
    continues: str | None = Field(None, description="id of the entry this stage continues")
    stage_change: list[str] = Field(
        default_factory=list, description="what changed against the entry it continues"
    )
    framework: Framework = Framework.keras
    epochs: int | None = Field(None, description="epochs run (last epoch number seen)")
    epochs_planned: int | None = None
    history: dict[str, list[float]] = Field(
        default_factory=dict,
        description="per-epoch metrics; names normalised: loss, accuracy, val_loss, val_accuracy",
    )
    fit_cells: list[int] = Field(default_factory=list)
    fit_seconds: float | None = Field(None, description="training wall time read from the log")
    learning_rate: float | None = None
    params_total: int | None = None
    params_trainable: int | None = None
    test_accuracy: float | None = Field(None, description="fraction in [0, 1]")
    test_accuracy_provenance: Provenance | None = Field(
        None, description="where the test accuracy was read: the cell and the text"
    )
    test_accuracy_missing: MissingAccuracy | None = Field(
        None, description="why no test accuracy was taken (only when test_accuracy is null)"
    )
    test_loss: float | None = None
    curves_shown: bool = False
    curves_provenance: Provenance | None = None
    confusion_matrix_shown: bool = False
    confusion: Confusion | None = None
    provenance: Provenance


class Discussion(_Model):
    present: bool = False
    cells: list[int] = Field(default_factory=list)
    language: str | None = Field(None, description="en, cs, ... of the written text")
    words: int = 0
    compares_models: bool = False
    discusses_generalisation: bool = False
    discusses_training_time: bool = False
    names_best_model: bool = False
    mentions_variants: bool = False


class DataFacts(_Model):
    dataset: str | None = Field(None, description="cifar10, synthetic, ...")
    classes: list[str] | None = None
    n_classes: int | None = None
    train_size: int | None = None
    val_size: int | None = None
    test_size: int | None = None
    provenance: Provenance | None = None


class Hygiene(_Model):
    code_cells: int = 0
    executed_cells: int = 0
    has_outputs: bool = False
    in_order: bool = True
    out_of_order_cells: list[int] = Field(default_factory=list)
    error_cells: list[int] = Field(default_factory=list)


class ExecutedBy(_Model):
    """The grader run that produced a notebook's stored outputs (from its ``grader`` metadata).

    Written by the harness into every notebook it executes, so a notebook saved
    from a smoke run on synthetic data (an example submission, a reference
    notebook) is compared with the bands of that data and profile. A student
    can edit metadata, so this only chooses the band; it never changes points.
    """

    profile: str = Field(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    data: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")


class NotebookInfo(_Model):
    path: str
    sha256: str
    nbformat: str = Field(description="version as read, e.g. 4.5 or 3.0")
    cells: int
    normalised: list[str] = Field(
        default_factory=list, description="metadata the intake had to fill in"
    )
    executed_by: ExecutedBy | None = Field(
        None, description="the grader run whose outputs the notebook holds, when it says so"
    )


class Evidence(_Model):
    """All that one notebook shows; input to the checks and the rubric."""

    schema_version: str = SCHEMA_VERSION
    notebook: NotebookInfo
    source: Literal["static", "runtime", "merged"] = "static"
    framework: Framework
    models: list[ModelRun] = Field(default_factory=list)
    has_curves: bool = False
    has_confusion_matrix: bool = False
    has_written_summary: bool = False
    discussion: Discussion = Field(default_factory=Discussion)
    data: DataFacts = Field(default_factory=DataFacts)
    hygiene: Hygiene = Field(default_factory=Hygiene)
    findings: list[Finding] = Field(default_factory=list)
