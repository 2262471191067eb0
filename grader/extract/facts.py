"""Per-cell facts: what the output parsers and the source analyser hand to assembly.

Two independent readers fill these:

* ``grader.extract.outputs.read_outputs(cell_index, outputs)`` reads a code
  cell's stored outputs (nbformat v4 output dicts) -> :class:`OutputFacts`;
* ``grader.extract.source.read_source(cell_index, source)`` reads a code
  cell's source (IPython magics allowed) -> :class:`SourceFacts`.

``grader.extract.assemble`` then joins them, cell by cell, into
:class:`grader.evidence.Evidence`; what it needs of a cell's code comes from
:class:`SourceFacts` (the cell is parsed once, by the source reader). Both
readers are pure functions: no disk, no notebook objects, never an exception
on odd input.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AccuracyCandidate",
    "CompileCall",
    "EvaluateCall",
    "FitCall",
    "LoopSpan",
    "ModelDef",
    "ModelSummary",
    "OutputFacts",
    "PrintedMatrix",
    "SourceFacts",
    "TableRow",
    "TrainableChange",
    "TrainingLog",
]


# --------------------------------------------------------------------- outputs


@dataclass
class TrainingLog:
    """The epochs of one ``fit`` (or one hand-written training loop) in one cell's output."""

    order: int  # position among the training logs of this cell, 0-based
    history: dict[str, list[float]]  # normalised names: loss, accuracy, val_loss, val_accuracy, ...
    epoch_numbers: list[int]  # epoch numbers as printed (1-based), e.g. [1, 2, 3] or [11, 12]
    epochs_declared: int | None  # N in "Epoch k/N"
    seconds: float | None  # training time summed from the per-epoch times, when printed
    style: Literal["keras3", "keras2", "keras-verbose2", "custom"]
    line: str  # one representative line, for provenance


@dataclass
class AccuracyCandidate:
    """A number that may be a test accuracy, with what surrounds it."""

    value: float  # fraction in [0, 1] (percentages converted)
    method: Literal[
        "evaluate_result",  # a `[loss, acc]` list / tuple / dict repr returned by evaluate
        "print",  # a printed line naming test + accuracy in any wording or language
        "classification_report",  # the accuracy row of sklearn's classification_report
        "accuracy_score",  # a bare float returned by accuracy_score (execute_result)
        "table",  # a cell of a pandas table (text/plain or text/html)
    ]
    label: str  # the text that names it, e.g. "CNN test accuracy" or a table row label
    line: str  # the whole line, for provenance
    order: int  # position within the cell's outputs
    mentions_test: bool  # the label says test/testovací/... explicitly
    mentions_val: bool  # the label says validation (then it is not a test accuracy)
    mentions_train: bool  # the label says training (never a test accuracy)
    confidence: float  # 0..1
    shown: bool = False  # the cell's displayed value (execute_result), not a printed line
    # one of 3+ lines that repeat a label with one word changed: per class (or per model)
    series: bool = False


@dataclass
class TableRow:
    """A row of a comparison table: a row label and its numeric columns."""

    label: str
    values: dict[str, float]  # column name -> value (as printed)
    order: int


@dataclass
class PrintedMatrix:
    """A square integer matrix printed as an array or a DataFrame."""

    matrix: list[list[int]]
    labels: list[str] | None
    order: int


@dataclass
class ModelSummary:
    """The tail of ``model.summary()`` (or torchinfo): name and parameter counts."""

    name: str | None
    total: int | None
    trainable: int | None
    non_trainable: int | None
    layer_types: list[str]  # layer class names in order, as printed
    order: int


@dataclass
class OutputFacts:
    cell: int
    text: str  # all text outputs, cleaned (ANSI removed, \r and \b applied)
    training_logs: list[TrainingLog] = field(default_factory=list)
    accuracy_candidates: list[AccuracyCandidate] = field(default_factory=list)
    table_rows: list[TableRow] = field(default_factory=list)
    matrices: list[PrintedMatrix] = field(default_factory=list)
    summaries: list[ModelSummary] = field(default_factory=list)
    images: int = 0  # image/png, image/jpeg, image/svg+xml outputs
    errors: list[tuple[str, str]] = field(default_factory=list)  # (ename, evalue)
    has_evaluate_bar: bool = False  # a Keras evaluate progress bar was seen
    printed: bool = False  # something on stdout or a displayed value (not only errors, stderr)
    error_line: int | None = None  # the cell's line an error output's traceback stops at


# ---------------------------------------------------------------------- source


@dataclass
class ModelDef:
    """A model built in this cell and bound to a name (or returned by a builder function)."""

    var: str  # variable it is bound to; for a builder function: the function's name
    is_builder: bool  # True when this describes a function that returns a model
    builder: str | None  # name of the builder function called to make it, if any
    layers: Counter[
        str
    ]  # layer/op names used to build it: Conv2D, SeparableConv2D, Add, Dense, ...
    residual: bool  # skip connections: Add/add/+ of tensors, torch `out += identity`
    separable: bool  # SeparableConv2D / DepthwiseConv2D / groups=channels
    bottleneck: bool  # 1x1 -> 3x3 -> 1x1 pattern
    base: str | None  # canonical pretrained base used inside, e.g. "MobileNetV2"
    base_var: str | None  # the variable holding that base
    weights: str | None  # "imagenet", "none", a path; None when not stated
    ensemble: bool  # averages / concatenates the outputs of several models
    framework: Literal["keras", "pytorch"]
    line: int  # line within the cell (1-based)
    iteration: str | None = (
        None  # built in the iteration for this value (its repr) of an unrolled loop
    )


@dataclass
class FitCall:
    """A training call: ``m.fit(...)`` or a hand-written PyTorch training loop."""

    order: int  # position among the fits of this cell
    model_var: str | None  # receiver of .fit / model passed to train(...)
    history_var: str | None  # name the result is bound to
    epochs: int | None  # literal epochs (or a constant resolved in this cell)
    initial_epoch: int | None
    validation: Literal["none", "val", "test", "split"]  # which data validates
    callbacks: list[str]  # callback classes/names passed
    augmentation: bool  # data passed through an augmenting generator/layer at fit
    in_loop: bool  # inside a for-loop
    loop_models: list[str]  # model names iterated by that loop, when readable
    line: int
    iteration: str | None = None  # in the iteration for this value (its repr) of an unrolled loop
    # in a loop that counts (``for i in range(5)``) and builds the model it trains anew
    repeats: bool = False
    features_of: str | None = None  # trained on features a pretrained base extracted
    frozen: bool | None = None  # the call itself says the base is frozen (True) or trained
    seq: int = 0  # reading order among the cell's training and setup facts


@dataclass
class EvaluateCall:
    """``m.evaluate(...)``, ``m.predict(...)`` or ``accuracy_score(...)`` on held-out data."""

    order: int
    kind: Literal["evaluate", "predict", "accuracy_score", "torch_eval"]
    model_var: str | None
    result_var: str | None  # name(s) the result is bound to, comma-joined
    on: Literal["test", "val", "train", "unknown"]  # which data: its names, or its origin
    in_loop: bool
    loop_models: list[str]
    line: int
    named_val: bool = False  # on the test set, through data named "validation"
    iteration: str | None = None  # in the iteration for this value (its repr) of an unrolled loop


@dataclass
class CompileCall:
    model_var: str | None
    optimizer: str | None  # Adam, SGD, RMSprop, ...
    learning_rate: float | None
    line: int
    head_only: bool = False  # a PyTorch optimizer given only the new head's parameters
    seq: int = 0  # reading order among the cell's training and setup facts


@dataclass
class TrainableChange:
    """``base.trainable = False``, ``for l in base.layers[:-20]: l.trainable = False``, ``p.requires_grad = False``."""

    target: str | None  # variable whose layers change
    value: bool
    partial: bool  # only some layers (slice, loop with condition)
    line: int
    seq: int = 0  # reading order among the cell's training and setup facts


@dataclass
class LoopSpan:
    """A ``for`` loop of a cell: where it stands and the names it iterates over."""

    first_line: int
    last_line: int
    iterates: list[str]  # `models.items()`, `zip(names, models)`, `[m1, m2]` -> their names


@dataclass
class SourceFacts:
    cell: int
    parsed: bool  # False when the cell is not valid Python even after removing magics
    imports: set[str] = field(default_factory=set)  # top-level module names imported
    framework_hints: set[Literal["keras", "pytorch"]] = field(default_factory=set)
    model_defs: list[ModelDef] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # new name -> existing model name
    fits: list[FitCall] = field(default_factory=list)
    evaluates: list[EvaluateCall] = field(default_factory=list)
    compiles: list[CompileCall] = field(default_factory=list)
    trainable_changes: list[TrainableChange] = field(default_factory=list)
    plots_history: bool = False  # plots history.history[...] / lists of losses / accuracies
    history_vars_plotted: list[str] = field(default_factory=list)
    plots_anything: bool = False  # calls plt./ax./sns. drawing functions
    computes_confusion: bool = (
        False  # confusion_matrix(...), ConfusionMatrixDisplay, tf.math.confusion_matrix
    )
    shows_confusion: bool = (
        False  # draws or prints it (heatmap, imshow, ConfusionMatrixDisplay.plot, print)
    )
    confusion_model_vars: list[str] = field(
        default_factory=list
    )  # models whose predictions feed it
    prints_accuracy: bool = False  # prints/returns something named like accuracy
    defines_functions: list[str] = field(default_factory=list)
    calls_functions: list[str] = field(default_factory=list)
    augmentation_defined: bool = False  # RandomFlip/RandomRotation/ImageDataGenerator(...)
    loads_cifar10: bool = False
    class_names: list[str] | None = None  # a literal list of class names
    subset_sizes: dict[str, int] = field(default_factory=dict)  # train/val/test -> n, when literal
    # the split of every ``<array>.shape`` a print shows, in order (None: not a data split)
    printed_shapes: list[str | None] = field(default_factory=list)
    # The cell's outline, as the assembly reads it (see grader.extract.source.outline):
    loops: list[LoopSpan] = field(default_factory=list)  # every for-loop, breadth first
    listed_names: dict[str, list[str]] = field(default_factory=dict)  # `ms = [a, b]`: ms -> a, b
    shown_names: list[str] = field(default_factory=list)  # printed / displayed, then the last value
    # ``print(a, b, ...)`` of plain names only: the names, in order (one printed token each)
    print_args: list[list[str]] = field(default_factory=list)
    # the cell ends with a plotting call (``ax.set_ylim(0, 1)``): its shown value is no result
    ends_with_plot: bool = False
    # accuracies typed into the text a print shows (``f"it was 61% now {acc}%"``): no results
    typed_accuracies: list[float] = field(default_factory=list)
