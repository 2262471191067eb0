"""Read what a notebook's code cells build, train, evaluate and plot.

Two entry points, one reader:

* :func:`read_source` reads one code cell on its own and reports what its
  code contains. Facts inside a function body are reported where the
  function is defined, named by its parameters (``def run(model): model.fit``
  gives ``FitCall(model_var="model")``); the caller maps parameters to
  arguments at the call sites. Calls to functions are not expanded.
* :func:`read_sources` reads a notebook's code cells in order and reports
  what runs: what earlier cells defined (functions, classes, models, bases,
  constants such as ``EPOCHS``, containers of models, history variables) is
  known to later cells, and a call of a notebook function reports the facts
  of its body at the call, named after the caller's variables
  (``hist = run(cnn)`` gives ``FitCall(model_var="cnn", history_var="hist")``).

The reader is a small abstract interpreter over Python's ``ast``: every
expression gets a *taint* saying which layers, pretrained bases, models,
predictions and training histories flow into it; statements bind taints to
names. It never imports the student's libraries, never raises on odd input,
and strips IPython syntax (``%magic``, ``!shell``, ``obj?``) first.

Conventions of the facts it fills in:

* layer names use the Keras spelling for both frameworks (``nn.Conv2d`` ->
  ``Conv2D``, ``nn.Linear`` -> ``Dense``, ``nn.BatchNorm2d`` ->
  ``BatchNormalization``); a grouped torch convolution counts as
  ``DepthwiseConv2D``; a skip connection written ``a + b`` counts as ``Add``;
* names are the source text of the expression: ``models['cnn']``,
  ``histories[name]``; a dict or list of models records
  ``aliases["models['cnn']"] = "cnn"``; history variables plotted are root
  names (``histories`` for ``histories[name].history``);
* ``ModelDef.base_var`` names the variable holding the pretrained base, or a
  notebook model reused whole inside another one (``base`` is then None);
  ``weights`` is None when the code does not say (Keras defaults to imagenet);
* averaged predictions (``(p1 + p2) / 2``, ``np.mean([...])``) give a
  ``ModelDef`` with ``ensemble=True`` named after the prediction variable;
* ``FitCall.augmentation`` is also true when the fitted model itself holds
  augmentation layers; ``EvaluateCall.result_var`` joins names with ``,``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import re
import textwrap
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.extract.facts import (
    CompileCall,
    EvaluateCall,
    FitCall,
    ModelDef,
    SourceFacts,
    TrainableChange,
)
from grader.extract.kinds import (
    AUGMENTATION_LAYERS,
    CONV_LAYERS,
    KERAS_APPLICATIONS,
    TORCHVISION_MODELS,
    canonical_base,
    canonical_layer,
)

__all__ = ["canonical_base", "read_source", "read_sources", "strip_magics"]

Split = Literal["test", "val", "train", "unknown"]
Framework = Literal["keras", "pytorch"]
EvalKind = Literal["evaluate", "predict", "accuracy_score", "torch_eval"]

# ------------------------------------------------------------------ IPython


_CELL_MAGICS_PYTHON = frozenset(
    {"time", "timeit", "capture", "prun", "debug", "memit", "tensorflow_version", "skip", "python"}
)
_LINE_MAGICS_WITH_CODE = re.compile(
    r"^%(?:time|timeit|prun|memit)\s+((?:-\w+\s+(?:\d+\s+)?)*)(.*)$"
)
_MAGIC_ASSIGN = re.compile(r"^([\w.,\s\[\]()'\"]+?)\s*=\s*[!%].*$")
_HELP_SUFFIX = re.compile(r"^[\w.\[\]()'\"]+\?{1,2}$")


def strip_magics(source: str) -> str:
    """``source`` with IPython-only lines neutralised, line numbers unchanged.

    ``%time stmt`` keeps ``stmt``; other line magics, shell escapes and help
    queries become ``pass``; ``x = !cmd`` becomes ``x = None``. A cell magic
    that runs other languages (``%%bash``, ``%%html``...) empties the cell.
    """
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first_code = True
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped:
            continue
        indent = line[: len(line) - len(stripped)]
        head = stripped[0]
        if head == "#":
            continue
        if stripped.startswith("%%"):
            name = stripped[2:].split(None, 1)[0] if len(stripped) > 2 else ""
            if first_code and name and name not in _CELL_MAGICS_PYTHON:
                return "\n" * (len(lines) - 1)
            lines[i] = ""
            first_code = False
            continue
        first_code = False
        if head == "%" and len(stripped) > 1 and (stripped[1].isalpha() or stripped[1] == "%"):
            found = _LINE_MAGICS_WITH_CODE.match(stripped)
            lines[i] = indent + (found.group(2) if found and found.group(2) else "pass")
        elif (
            head == "!"
            and not stripped.startswith("!=")
            or head == "?"
            or stripped.endswith("?")
            and _HELP_SUFFIX.match(stripped)
        ):
            lines[i] = indent + "pass"
        elif ("=!" in stripped or "= !" in stripped or "= %" in stripped or "=%" in stripped) and (
            found := _MAGIC_ASSIGN.match(stripped)
        ):
            lines[i] = indent + found.group(1) + " = None"
    return "\n".join(lines)


def _compile(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = compile(
            text,
            "<cell>",
            "exec",
            flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
            dont_inherit=True,
        )
    assert isinstance(tree, ast.Module)
    return tree


_CONTINUATION = ("else", "elif", "except", "finally", ")", "]", "}", "#", "@", "case")


def _dedent_code(text: str) -> str:
    """Remove the indentation every code line shares (comments may be indented less)."""
    lines = text.split("\n")
    code = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not code:
        return text
    cut = min(len(ln) - len(ln.lstrip()) for ln in code)
    if cut == 0:
        return textwrap.dedent(text)
    out = []
    for ln in lines:
        lead = len(ln) - len(ln.lstrip())
        out.append(ln[min(cut, lead) :])
    return "\n".join(out)


def _parse(text: str) -> ast.Module | None:
    """Parse ``text``; on a syntax error blank the top-level statement holding it and retry."""
    try:
        return _compile(text)
    except (SyntaxError, ValueError):
        pass
    dedented = _dedent_code(text)
    if dedented != text:
        # a whole cell indented by accident (pasted from a function body)
        with contextlib.suppress(SyntaxError, ValueError):
            return _compile(dedented)
        text = dedented
    lines = text.split("\n")
    starts = [
        i
        for i, line in enumerate(lines)
        if line.strip() and not line[0].isspace() and not line.startswith(_CONTINUATION)
    ]
    for _ in range(40):
        try:
            tree = _compile("\n".join(lines))
            return tree if tree.body else None
        except SyntaxError as err:
            at = (err.lineno or 1) - 1
            at = min(max(at, 0), len(lines) - 1)
            begin = max((i for i in starts if i <= at), default=0)
            end = min((i for i in starts if i > begin), default=len(lines))
            if end <= at:
                end = at + 1
            if not any(lines[k].strip() for k in range(begin, end)):
                return None
            for k in range(begin, end):
                lines[k] = ""
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------- vocabulary

_MODULE_ROOTS = frozenset(
    {
        "tf",
        "tensorflow",
        "keras",
        "np",
        "numpy",
        "plt",
        "pyplot",
        "matplotlib",
        "sns",
        "seaborn",
        "torch",
        "nn",
        "F",
        "pd",
        "pandas",
        "layers",
        "optim",
        "transforms",
        "T",
        "torchvision",
        "timm",
        "hub",
        "tfds",
        "L",
        "K",
        "kl",
        "sklearn",
        "metrics",
        "math",
        "os",
        "time",
        "random",
        "applications",
        "callbacks",
        "optimizers",
        "datasets",
        "scipy",
        "cv2",
        "itertools",
        "json",
        "pickle",
        "tqdm",
        "keras_cv",
        "keras_hub",
        "ops",
        "A",
        "gc",
        "sys",
        "shutil",
        "warnings",
        "collections",
        "functools",
        "datetime",
        "pathlib",
        "IPython",
        "utils",
        "image",
        "preprocessing",
        "regularizers",
        "losses",
        "initializers",
        "mixed_precision",
        "models",
    }
)

_FIT_METHODS = frozenset({"fit", "fit_generator"})
_EVAL_METHODS = frozenset({"evaluate", "evaluate_generator"})
_PREDICT_METHODS = frozenset(
    {"predict", "predict_generator", "predict_on_batch", "predict_classes", "predict_proba"}
)
_PASSTHROUGH = frozenset(
    {"to", "cuda", "cpu", "float", "double", "half", "train", "eval", "build", "requires_grad_"}
)
_MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault"})
_PLOT_METHODS = frozenset(
    {
        "plot",
        "scatter",
        "bar",
        "barh",
        "hist",
        "imshow",
        "matshow",
        "heatmap",
        "lineplot",
        "barplot",
        "scatterplot",
        "histplot",
        "relplot",
        "pointplot",
        "catplot",
        "countplot",
        "boxplot",
        "violinplot",
        "pcolormesh",
        "pcolor",
        "errorbar",
        "fill_between",
        "step",
        "semilogy",
        "loglog",
        "pie",
        "stem",
        "line",
        "area",
        "contourf",
        "plot_model",
    }
)
_PREPROCESSING = frozenset({"Rescaling", "Normalization", "Resizing", "CenterCrop", "Input"})
_PLOT_OBJECT_METHODS = _PLOT_METHODS - {"step", "line", "area", "stem", "table", "plot_model"}
_CM_DRAW = frozenset({"heatmap", "imshow", "matshow", "pcolormesh", "pcolor", "plot", "table"})
_OPTIMIZERS = frozenset(
    {
        "Adam",
        "AdamW",
        "SGD",
        "RMSprop",
        "Adagrad",
        "Adadelta",
        "Adamax",
        "Nadam",
        "Ftrl",
        "Lion",
        "LAMB",
        "Lamb",
        "Adafactor",
        "RAdam",
        "NAdam",
        "LBFGS",
    }
)
_OPTIMIZER_STRINGS = {name.lower(): name for name in _OPTIMIZERS}
_MODEL_CTORS = frozenset({"Sequential", "Model", "Functional"})
_AUG_KWARGS = frozenset(
    {
        "rotation_range",
        "width_shift_range",
        "height_shift_range",
        "horizontal_flip",
        "vertical_flip",
        "zoom_range",
        "shear_range",
        "brightness_range",
        "channel_shift_range",
    }
)
_TORCH_FUNCTIONAL = {
    "relu": "ReLU",
    "max_pool2d": "MaxPooling2D",
    "avg_pool2d": "AveragePooling2D",
    "adaptive_avg_pool2d": "GlobalAveragePooling2D",
    "adaptive_max_pool2d": "GlobalMaxPooling2D",
    "dropout": "Dropout",
    "gelu": "GELU",
}
_AVERAGING = frozenset({"mean", "average", "sum", "stack", "vstack", "add", "median"})
_COMBINE_LAYERS = frozenset({"Add", "Average", "Concatenate", "Maximum", "Multiply", "Subtract"})
_LIBRARY_FUNCS = frozenset(
    {
        "train_test_split",
        "to_categorical",
        "accuracy_score",
        "confusion_matrix",
        "classification_report",
        "precision_score",
        "recall_score",
        "f1_score",
        "plot_model",
        "load_model",
        "clone_model",
        "preprocess_input",
        "decode_predictions",
        "set_seed",
        "plot_confusion_matrix",
        "image_dataset_from_directory",
        "tqdm",
        "trange",
        "display",
        "Markdown",
        "HTML",
    }
)
_BUILTINS = frozenset(dir(builtins))

_CIFAR_CLASSES = frozenset(
    {
        "airplane",
        "aeroplane",
        "plane",
        "automobile",
        "car",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
        "letadlo",
        "auto",
        "automobil",
        "pták",
        "ptak",
        "kočka",
        "kocka",
        "jelen",
        "pes",
        "žába",
        "zaba",
        "kůň",
        "kun",
        "loď",
        "lod",
        "nákladní auto",
        "nakladni auto",
        "náklaďák",
    }
)

_RE_COUNTERISH = re.compile(
    r"^(i|j|k|n|idx|count|total|correct|size|num\w*|n_\w+|epoch\w*|step\w*|\w*_count|"
    r"\w*_size|\w*loss\w*|\w*acc\w*|running\w*|offset|padding|pad|stride\w*|dim\w*|"
    r"\w*channels?|\w*filters?|lr|\w*time\w*|\w*_sum|s)$",
    re.IGNORECASE,
)
_RE_MODELISH = re.compile(
    r"model|net|cnn|resnet|xcep|mobil|vgg|effic|incep|dense|base|transfer|^tl|_tl|^ft|_ft|"
    r"^m\d*$|^m_|classifier|backbone|baseline|ensemble|clf",
    re.IGNORECASE,
)
_RE_NOT_MODEL_RECEIVER = re.compile(
    r"(datagen|generator|^gen|_gen$|scaler|encoder|pca|tsne|kmeans|vectori[sz]er|normali[sz]er|"
    r"tokenizer|imputer|^le$|^ohe$|^sc$|^aug|augment|layer$)",
    re.IGNORECASE,
)
_RE_PLOT_HISTORY_FN = re.compile(
    r"(plot|show|draw|visuali[sz]e|display|graph|vykresl)\w*"
    r"(hist|curve|learning|training|metric|loss|acc|progress|result|graf|prubeh)",
    re.IGNORECASE,
)
_RE_CONFUSION_FN = re.compile(r"confusion|(^|_)cm(_|$)|conf_mat|confmat", re.IGNORECASE)
_RE_TRAIN_FN = re.compile(
    r"^(train|fit|compile_and_(train|fit)|run_train|run_experiment|trenuj|train_and)\w*$|_train$|"
    r"^(build|make|compile)_and_(train|fit)\w*",
    re.IGNORECASE,
)
_RE_EVAL_FN = re.compile(r"^(evaluate|eval|test_model|test_accuracy|score)\w*$", re.IGNORECASE)
_RE_BUILDER_FN = re.compile(
    r"model|net|cnn|resnet|xcep|mobil|vgg|effic|incep|classifier|transfer|baseline|backbone",
    re.IGNORECASE,
)
_RE_NOT_BUILDER = re.compile(
    r"data|loader|gen|plot|show|hist|train|fit|eval|test|predict|summar|compile|load|save|"
    r"print|count|param|acc|loss|score|metric|report|time|size|shape|layer|weight",
    re.IGNORECASE,
)
_RE_HIST_NAME = re.compile(r"hist|^h\d*$|^h_|logs?$|^his\w*", re.IGNORECASE)
_RE_HIST_LIST = re.compile(
    r"^(train|val|valid|validation|tr|va)?_?(loss|losses|acc|accs|accuracy|accuracies)"
    r"(es|s|_hist(ory)?|_list|_values|_curve)?$|"
    r"^(train|val|valid|validation)_(loss|acc|accuracy)\w*$|(losses|accs|accuracies)$",
    re.IGNORECASE,
)
_RE_SIZE_NAME = re.compile(
    r"^(n|num|number|len|size|count)_?(of_)?(train|training|val|valid|validation|test|testing)"
    r"(_samples|_size|_images|_examples|_n|_count)?$|"
    r"^(train|training|val|valid|validation|test|testing)_?(size|samples|n|count|images|examples|subset)$",
    re.IGNORECASE,
)
_METRIC_KEY = re.compile(r"loss|acc", re.IGNORECASE)
_RE_SPLIT_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _split_of(text: str) -> Split:
    """Which data split a variable name refers to: ``x_test`` -> test, ``val_ds`` -> val."""
    if not text:
        return "unknown"
    tokens = [t.lower() for t in _RE_SPLIT_TOKEN.findall(text)]
    if any("test" in t or t in ("te", "tst", "ts") for t in tokens):
        return "test"
    if any(
        t.startswith("val")
        or t in ("dev", "v", "holdout")
        or (t.endswith("val") and not t.endswith(("eval", "interval")))
        for t in tokens
    ):
        return "val"
    if any("train" in t or t in ("tr", "trn") for t in tokens):
        return "train"
    return "unknown"


# --------------------------------------------------------------------- taints

_EMPTYSET: frozenset[str] = frozenset()


class _NoValue:
    """Marks a taint that carries no constant."""


_NO = _NoValue()


class _T:
    """What flows into one value: layers, bases, models, predictions, histories."""

    __slots__ = (
        "layers",
        "residual",
        "separable",
        "bottleneck",
        "ensemble",
        "base",
        "base_var",
        "weights",
        "models",
        "preds",
        "hist",
        "aug",
        "cm",
        "framework",
        "split",
        "is_model",
        "built",
        "gen",
        "const",
        "members",
        "labels",
        "obj",
        "lr",
        "fitres",
        "evalres",
        "elts",
        "layer",
    )

    def __init__(self) -> None:
        # Each layer constructed once, as (serial, canonical name): merging two
        # branches that share an ancestor does not count its layers twice.
        self.layers: frozenset[tuple[int, str]] | None = None
        self.residual = False
        self.separable = False
        self.bottleneck = False
        self.ensemble = False
        self.base: str | None = None
        self.base_var: str | None = None
        self.weights: str | None = None
        self.models: frozenset[str] = _EMPTYSET
        self.preds: frozenset[str] = _EMPTYSET
        self.hist: frozenset[str] = _EMPTYSET
        self.aug = False
        self.cm = False
        self.framework: Framework | None = None
        self.split: Split | None = None
        # The fields below describe the value itself and do not flow on.
        self.is_model = False
        self.built: str | None = None
        self.gen = False
        self.const: object = _NO
        self.members: tuple[str, ...] | None = None
        self.labels: tuple[str, ...] | None = None
        self.obj: str | None = None
        self.lr: float | None = None
        self.fitres = False
        self.evalres = False
        self.elts: tuple[_T, ...] | None = None
        self.layer: str | None = None

    def flows(self) -> bool:
        return bool(
            self.layers
            or self.residual
            or self.separable
            or self.bottleneck
            or self.ensemble
            or self.base
            or self.models
            or self.preds
            or self.hist
            or self.aug
            or self.cm
            or self.framework
            or self.split
            or self.weights
        )

    def pure(self) -> bool:
        return not (
            self.is_model
            or self.built is not None
            or self.gen
            or self.const is not _NO
            or self.members is not None
            or self.labels is not None
            or self.obj is not None
            or self.lr is not None
            or self.fitres
            or self.evalres
            or self.elts is not None
            or self.layer is not None
        )

    def copy(self) -> _T:
        new = _T()
        for name in _T.__slots__:
            setattr(new, name, getattr(self, name))
        return new

    def flowing(self) -> _T:
        """This taint without the fields that describe only the value itself."""
        if self.pure():
            return self
        new = _T()
        for name in _FLOWING:
            setattr(new, name, getattr(self, name))
        return new


_FLOWING = _T.__slots__[: _T.__slots__.index("is_model")]
_E = _T()


def _merge(taints: Iterable[_T]) -> _T:
    picked = [t for t in taints if t is not _E and t.flows()]
    if not picked:
        return _E
    if len(picked) == 1:
        return picked[0].flowing()
    out = _T()
    for t in picked:
        if t.layers:
            out.layers = t.layers if out.layers is None else out.layers | t.layers
        out.residual |= t.residual
        out.separable |= t.separable
        out.bottleneck |= t.bottleneck
        out.ensemble |= t.ensemble
        out.aug |= t.aug
        out.cm |= t.cm
        if out.base is None and t.base is not None:
            out.base, out.base_var, out.weights = t.base, t.base_var, t.weights
        if out.weights is None:
            out.weights = t.weights
        if t.models:
            out.models = out.models | t.models
        if t.preds:
            out.preds = out.preds | t.preds
        if t.hist:
            out.hist = out.hist | t.hist
        if out.framework is None or t.framework == "pytorch":
            out.framework = t.framework or out.framework
        if out.split is None:
            out.split = t.split
    return out


def _with(t: _T, **changes: object) -> _T:
    new = t.copy()
    for key, value in changes.items():
        setattr(new, key, value)
    return new


# ------------------------------------------------------------------- context


@dataclass
class _Func:
    """A function or class defined in the notebook."""

    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    is_class: bool
    module_class: bool = False  # subclasses nn.Module / keras.Model (an instantiable model)
    framework: Framework | None = None
    summary: _T | None = None
    summarising: bool = False
    trainables: list[tuple[bool, bool]] = field(default_factory=list)
    pure: bool | None = None


@dataclass
class _Notebook:
    """What earlier cells defined, visible to later cells."""

    env: dict[str, _T] = field(default_factory=dict)
    funcs: dict[str, _Func] = field(default_factory=dict)
    model_defs: dict[str, ModelDef] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    serial: int = 0
    # True: a call of a notebook function reports the facts of its body, named after
    # the caller's variables (read_sources). False: function bodies report their facts
    # where they are defined, named by their parameters (read_source).
    expand_calls: bool = False


@dataclass
class _Loop:
    models: list[str]
    layer_var: str | None = None
    layer_root: str | None = None
    layer_partial: bool = False
    if_depth: int = 0
    split: Split = "unknown"  # which data the loop iterates, judged by its name


@dataclass
class _Pending:
    """A hand-written training or evaluation loop whose model is found while reading it."""

    train_recv: list[str] = field(default_factory=list)
    model_calls: list[str] = field(default_factory=list)
    eval_recv: list[str] = field(default_factory=list)
    split_texts: list[str] = field(default_factory=list)
    aug: bool = False


@dataclass
class _Frame:
    env: dict[str, _T]
    globals_env: dict[str, _T] | None  # None for the cell's own (notebook-level) frame
    emit: bool
    line: int | None = None
    subst: dict[str, str] = field(default_factory=dict)
    funcs: dict[str, _Func] = field(default_factory=dict)
    loops: list[_Loop] = field(default_factory=list)
    if_depth: int = 0
    no_grad: bool = False
    torch_fit: FitCall | None = None
    torch_eval: bool = False
    pending: _Pending | None = None
    in_forward: bool = False
    builds: bool = False
    stack: tuple[str, ...] = ()
    returns: list[_T] = field(default_factory=list)
    return_names: list[list[str | None]] = field(default_factory=list)
    acc: list[_T] | None = None
    conv_seq: list[int] = field(default_factory=list)
    emitted: list[object] = field(default_factory=list)
    local_defs: dict[str, ModelDef] = field(default_factory=dict)
    outer_loops: list[_Loop] = field(default_factory=list)
    eval_recv: str | None = None
    train_recv: str | None = None
    prune: bool = True  # take only the branch a known test selects (not when summarising)
    trainables: list[tuple[bool, bool]] = field(default_factory=list)


_MAX_DEPTH = 6


# --------------------------------------------------------------------- reader


class _Reader:
    def __init__(self, nb: _Notebook, cell: int, text: str) -> None:
        self.nb = nb
        self.facts = SourceFacts(cell=cell, parsed=True)
        self.source_text = text
        self.maybe_train = "backward" in text or "apply_gradients" in text or ".step(" in text
        self.frame = _Frame(env=nb.env, globals_env=None, emit=True)
        self.targets: list[ast.expr] = []
        self.stmt_line = 0
        self.hist_plotted: list[str] = []
        self.calls: list[str] = []
        self.last_expr: _T | None = None
        self.ensemble_made = False

    # ------------------------------------------------------------ top level

    def run(self, tree: ast.Module) -> SourceFacts:
        body = tree.body
        with contextlib.suppress(RecursionError):
            self.stmts(body)
        facts = self.facts
        if body and isinstance(body[-1], ast.Expr) and self.last_expr is not None:
            last = self.last_expr
            if last.cm:
                facts.shows_confusion = True
            value = body[-1].value
            if isinstance(value, ast.Name) and "acc" in value.id.lower():
                facts.prints_accuracy = True
            if last.evalres:
                facts.prints_accuracy = True
        facts.history_vars_plotted = list(dict.fromkeys(self.hist_plotted))
        facts.calls_functions = list(dict.fromkeys(self.calls))
        facts.confusion_model_vars = list(dict.fromkeys(facts.confusion_model_vars))
        return facts

    # ------------------------------------------------------------- helpers

    def line(self) -> int:
        return self.frame.line or self.stmt_line

    def lookup(self, name: str) -> _T | None:
        frame = self.frame
        found = frame.env.get(name)
        if found is None and frame.globals_env is not None:
            found = frame.globals_env.get(name)
        return found

    def func(self, name: str) -> _Func | None:
        found = self.frame.funcs.get(name)
        if found is None:
            found = self.nb.funcs.get(name)
        return found

    def bind_name(self, name: str, taint: _T) -> None:
        self.frame.env[name] = taint
        if self.frame.globals_env is None:
            self.nb.imports.pop(name, None)
            if taint.obj != "function":
                self.nb.funcs.pop(name, None)

    def text(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return self.frame.subst.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            return f"{self.text(node.value)}.{node.attr}"
        if isinstance(node, ast.Subscript):
            index = node.slice
            if isinstance(index, ast.Constant):
                inner = repr(index.value)
            elif isinstance(index, ast.Name):
                inner = self.frame.subst.get(index.id, index.id)
            else:
                inner = _unparse(index)
            return f"{self.text(node.value)}[{inner}]"
        if isinstance(node, ast.Call):
            return f"{self.text(node.func)}()"
        return _unparse(node)

    def root(self, node: ast.AST) -> str | None:
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Name):
            text = self.frame.subst.get(node.id, node.id)
            return re.split(r"[.\[(]", text, maxsplit=1)[0] or None
        return None

    def is_module(self, name: str) -> bool:
        if name in self.frame.env or (
            self.frame.globals_env is not None and name in self.frame.globals_env
        ):
            return False
        return name in self.nb.imports or name in _MODULE_ROOTS

    def dotted(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = node.id
        full = self.nb.imports.get(root)
        if full and self.is_module(root):
            root = full
        parts.append(root)
        return ".".join(reversed(parts))

    def split_of_node(self, node: ast.AST | None) -> Split:
        if node is None:
            return "unknown"
        return _split_of(" ".join(self.names_in(node)))

    def names_in(self, node: ast.AST) -> list[str]:
        out: list[str] = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                out.append(self.frame.subst.get(sub.id, sub.id))
            elif isinstance(sub, ast.Attribute):
                out.append(sub.attr)
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                out.append(sub.value)
            if len(out) > 24:
                break
        return out

    def const(self, node: ast.AST | None) -> object:
        if node is None:
            return _NO
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            found = self.lookup(node.id)
            return found.const if found is not None else _NO
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.const(node.operand)
            return (
                -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else _NO
            )
        if isinstance(node, ast.BinOp):
            left, right = self.const(node.left), self.const(node.right)
            if not (_is_number(left) and _is_number(right)):
                return _NO
            assert isinstance(left, (int, float)) and isinstance(right, (int, float))
            try:
                if isinstance(node.op, ast.Add):
                    return left + right
                if isinstance(node.op, ast.Sub):
                    return left - right
                if isinstance(node.op, ast.Mult):
                    return left * right
                if isinstance(node.op, ast.FloorDiv):
                    return left // right
                if isinstance(node.op, ast.Div):
                    return left / right
                if isinstance(node.op, ast.Pow) and abs(right) < 64:
                    return left**right
            except (ArithmeticError, ValueError):
                return _NO
            return _NO
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return _compare(node.ops[0], self.const(node.left), self.const(node.comparators[0]))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.const(node.operand)
            return _NO if inner is _NO else not inner
        if isinstance(node, ast.BoolOp):
            values = [self.const(v) for v in node.values]
            if any(v is _NO for v in values):
                return _NO
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) <= 64:
            items = [self.const(e) for e in node.elts]
            return _NO if any(v is _NO for v in items) else tuple(items)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
            inner = self.const(node.args[0])
            number = isinstance(inner, (int, float)) and not isinstance(inner, bool)
            if node.func.id in ("int", "round") and isinstance(inner, (int, float)) and number:
                return int(inner)
            if node.func.id == "float" and isinstance(inner, (int, float)) and number:
                return float(inner)
            if node.func.id == "len" and isinstance(node.args[0], (ast.List, ast.Tuple)):
                return len(node.args[0].elts)
        return _NO

    def int_const(self, node: ast.AST | None) -> int | None:
        value = self.const(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if isinstance(value, float):
            return int(value) if value.is_integer() else None
        return value

    def float_const(self, node: ast.AST | None) -> float | None:
        value = self.const(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)

    def in_loop(self) -> tuple[bool, list[str]]:
        loops = self.frame.outer_loops + self.frame.loops
        models: list[str] = []
        for loop in loops:
            models.extend(loop.models)
        return bool(loops), list(dict.fromkeys(models))

    def sink(self) -> SourceFacts:
        """Where cell-level flags go: the cell's facts, or nowhere while only summarising."""
        if self.frame.emit:
            return self.facts
        return SourceFacts(cell=self.facts.cell, parsed=True)

    def new_layer(self, name: str) -> frozenset[tuple[int, str]]:
        self.nb.serial += 1
        return frozenset({(self.nb.serial, name)})

    def fresh(self, layers: frozenset[tuple[int, str]]) -> frozenset[tuple[int, str]]:
        out = []
        for _, name in sorted(layers):
            self.nb.serial += 1
            out.append((self.nb.serial, name))
        return frozenset(out)

    def add_layer(self, taint: _T, name: str) -> frozenset[tuple[int, str]]:
        return (taint.layers or frozenset()) | self.new_layer(name)

    def remember(self, fact: object) -> None:
        self.frame.emitted.append(fact)

    # ----------------------------------------------------------- statements

    def stmts(self, body: Sequence[ast.stmt]) -> None:
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:
        self.stmt_line = getattr(node, "lineno", self.stmt_line)
        handler = _STMT_HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self.stmt(child)
                elif isinstance(child, ast.expr):
                    self.note(self.ev(child))

    def note(self, taint: _T) -> None:
        if self.frame.acc is not None and taint is not _E:
            self.frame.acc.append(taint)

    def s_expr(self, node: ast.Expr) -> None:
        self.targets = []
        taint = self.ev(node.value)
        self.note(taint)
        if self.frame.globals_env is None:
            self.last_expr = taint

    def s_assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        value = node.value
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if value is None:
            return
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in ("trainable", "requires_grad"):
                self.trainable_assign(target, value)
        self.targets = list(targets)
        self.ensemble_made = False
        taint = self.ev(value)
        self.targets = []
        self.note(taint)
        self.data_facts(list(targets), value, taint)
        for target in targets:
            self.bind(target, value, taint)
        self.last_expr = None

    def s_augassign(self, node: ast.AugAssign) -> None:
        self.targets = []
        value = self.ev(node.value)
        current = self.ev(node.target)
        combined = _merge([current, value])
        if isinstance(node.op, ast.Add) and self.is_skip(node.target, node.value, current, value):
            combined = _with(combined, residual=True, layers=self.add_layer(combined, "Add"))
        if value.fitres and isinstance(node.target, ast.Name):
            combined = _with(combined, hist=combined.hist | {node.target.id})
        self.note(combined)
        if isinstance(node.target, ast.Name):
            keep = self.lookup(node.target.id)
            if keep is not None and keep.const is not _NO:
                new_const = self.const(ast.BinOp(left=node.target, op=node.op, right=node.value))
                combined = _with(combined, const=new_const)
            self.bind_name(node.target.id, combined)
        elif isinstance(node.target, (ast.Subscript, ast.Attribute)):
            root = self.root(node.target)
            if root is not None:
                self.grow(root, node.value, node.target)

    def s_for(self, node: ast.For | ast.AsyncFor) -> None:
        frame = self.frame
        self.targets = []
        iter_taint = self.ev(node.iter)
        members, index = self.loop_members(node.iter)
        loop = _Loop(models=members, split=self.split_of_node(node.iter))
        self.layer_loop(node, loop)
        if members:
            member_taint = _merge(self.lookup(m) or _E for m in members)
            member_taint = _with(member_taint, is_model=True, models=frozenset(members))
            self.bind_loop_target(node.target, member_taint, index, iter_taint)
        else:
            self.bind_target_plain(node.target, iter_taint)
        started_fit = False
        started_eval = False
        if frame.emit and frame.torch_fit is None and self.has_step(node):
            started_fit = True
            fit = FitCall(
                order=len(self.facts.fits),
                model_var=None,
                history_var=None,
                epochs=self.range_count(node.iter),
                initial_epoch=None,
                validation="none",
                callbacks=[],
                augmentation=iter_taint.aug,
                in_loop=self.in_loop()[0],
                loop_models=self.in_loop()[1],
                line=self.line(),
            )
            self.facts.fits.append(fit)
            self.remember(fit)
            frame.torch_fit = fit
            frame.pending = _Pending()
        elif frame.torch_fit is not None:
            assert frame.pending is not None
            frame.pending.split_texts.append(" ".join(self.names_in(node.iter)))
            frame.pending.aug |= iter_taint.aug
        elif (
            frame.emit
            and not frame.torch_eval
            and (frame.no_grad or self.has_no_grad(node))
            and not self.has_step(node)
        ):
            started_eval = True
            frame.torch_eval = True
            frame.pending = _Pending()
        frame.loops.append(loop)
        try:
            self.stmts(node.body)
            self.stmts(node.orelse)
        finally:
            frame.loops.pop()
        if started_fit:
            self.finish_torch_fit()
        if started_eval:
            self.finish_torch_eval(node)

    def s_while(self, node: ast.While) -> None:
        frame = self.frame
        self.note(self.ev(node.test))
        started = False
        if frame.emit and frame.torch_fit is None and self.has_step(node):
            started = True
            fit = FitCall(
                order=len(self.facts.fits),
                model_var=None,
                history_var=None,
                epochs=None,
                initial_epoch=None,
                validation="none",
                callbacks=[],
                augmentation=False,
                in_loop=self.in_loop()[0],
                loop_models=self.in_loop()[1],
                line=self.line(),
            )
            self.facts.fits.append(fit)
            self.remember(fit)
            frame.torch_fit = fit
            frame.pending = _Pending()
        frame.loops.append(_Loop(models=[]))
        try:
            self.stmts(node.body)
            self.stmts(node.orelse)
        finally:
            frame.loops.pop()
        if started:
            self.finish_torch_fit()

    def s_if(self, node: ast.If) -> None:
        self.targets = []
        self.note(self.ev(node.test))
        # A test on values known here (``if name == "resnet18":`` in a builder called
        # with that name) takes one branch; inside loops values change, so both.
        decided = self.const(node.test) if self.frame.prune and not self.frame.loops else _NO
        self.frame.if_depth += 1
        try:
            if decided is _NO or not isinstance(decided, (bool, int, str, float)):
                self.stmts(node.body)
                self.stmts(node.orelse)
            elif decided:
                self.stmts(node.body)
            else:
                self.stmts(node.orelse)
        finally:
            self.frame.if_depth -= 1

    def s_with(self, node: ast.With | ast.AsyncWith) -> None:
        frame = self.frame
        saved = frame.no_grad
        for item in node.items:
            expr = item.context_expr
            callee = self.dotted(expr.func) if isinstance(expr, ast.Call) else None
            if callee and callee.endswith(("no_grad", "inference_mode")):
                frame.no_grad = True
            else:
                taint = self.ev(expr)
                if item.optional_vars is not None:
                    self.bind_target_plain(item.optional_vars, taint)
        try:
            self.stmts(node.body)
        finally:
            frame.no_grad = saved

    def s_try(self, node: ast.Try) -> None:
        self.stmts(node.body)
        for handler in node.handlers:
            self.stmts(handler.body)
        self.stmts(node.orelse)
        self.stmts(node.finalbody)

    def s_return(self, node: ast.Return) -> None:
        if node.value is None:
            return
        self.targets = []
        taint = self.ev(node.value)
        self.note(taint)
        self.frame.returns.append(taint)
        value = node.value
        if isinstance(value, ast.Tuple):
            names = [e.id if isinstance(e, ast.Name) else None for e in value.elts]
        else:
            names = [value.id if isinstance(value, ast.Name) else _call_root_name(value)]
        self.frame.return_names.append(names)

    def s_import(self, node: ast.Import | ast.ImportFrom) -> None:
        facts = self.facts
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".", 1)[0]
                facts.imports.add(top)
                local = alias.asname or top
                self.nb.imports[local] = alias.name if alias.asname else top
                self.frame.env.pop(local, None)
        else:
            if node.level or not node.module:
                return
            top = node.module.split(".", 1)[0]
            facts.imports.add(top)
            for alias in node.names:
                if alias.name == "*":
                    continue
                local = alias.asname or alias.name
                self.nb.imports[local] = f"{node.module}.{alias.name}"
                self.frame.env.pop(local, None)
        for name in facts.imports:
            hint = _FRAMEWORK_OF_MODULE.get(name)
            if hint:
                facts.framework_hints.add(hint)

    def s_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        is_class = isinstance(node, ast.ClassDef)
        fn = _Func(name=node.name, node=node, is_class=is_class)
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                text = _unparse(base)
                last = text.rsplit(".", 1)[-1]
                parent = self.func(last)
                if last in ("Module",) or text.startswith(("nn.", "torch.")):
                    fn.module_class, fn.framework = True, "pytorch"
                elif last in ("Model", "Sequential"):
                    fn.module_class, fn.framework = True, "keras"
                elif last == "Layer":
                    fn.framework = "keras"
                elif parent is not None and parent.is_class:
                    fn.module_class, fn.framework = parent.module_class, parent.framework
        frame = self.frame
        if frame.globals_env is None:
            self.nb.funcs[node.name] = fn
            self.nb.env.pop(node.name, None)
            self.facts.defines_functions.append(node.name)
            if frame.emit:
                self.define_builder(fn)
                if not self.nb.expand_calls and not isinstance(node, ast.ClassDef):
                    # Read on its own, a cell reports what its function bodies do, named
                    # by their parameters; the caller maps them at the call sites.
                    self.run_function(fn, node, None, [], {}, emit=True, body=True)
        else:
            frame.funcs[node.name] = fn

    # ------------------------------------------------------------- binding

    def bind(self, target: ast.expr, value: ast.expr, taint: _T) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            elts = taint.elts
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for sub_t, sub_v in zip(target.elts, value.elts, strict=True):
                    self.bind(sub_t, sub_v, self.ev(sub_v))
                return
            for i, sub in enumerate(target.elts):
                part = elts[i] if elts is not None and i < len(elts) else taint.flowing()
                if isinstance(sub, ast.Starred):
                    sub = sub.value
                self.bind_one(sub, value, part, from_tuple=True)
            return
        if isinstance(target, ast.Starred):
            target = target.value
        self.bind_one(target, value, taint, from_tuple=False)

    def bind_one(self, target: ast.expr, value: ast.expr, taint: _T, from_tuple: bool) -> None:
        frame = self.frame
        text = self.text(target)
        if isinstance(target, ast.Name):
            name = target.id
            if isinstance(value, (ast.Name, ast.Subscript, ast.Attribute)) and not from_tuple:
                source_text = self.text(value)
                if self.aliasable(value, taint) and source_text != text:
                    self.facts.aliases[text] = source_text
            stored = self.stored(taint, text)
            self.bind_name(name, stored)
            if taint.built is not None and not isinstance(value, ast.Name):
                self.model_def(text, taint)
            elif taint.ensemble and self.ensemble_made and taint.preds and not taint.layers:
                self.model_def(text, taint)
                self.bind_name(name, _with(stored, preds=frozenset({text})))
            return
        root = self.root(target)
        if root is None:
            return
        owner = self.lookup(root)
        if owner is not None and owner.is_model and root != "self":
            # model.fc = nn.Linear(...), model.classifier[6] = nn.Linear(...)
            self.grow(root, value, target)
            return
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            container = owner
            members = list(container.members or ()) if container is not None else []
            if taint.built is not None:
                self.model_def(text, taint)
                members.append(text)
            elif isinstance(value, ast.Name) and (taint.is_model or _RE_MODELISH.search(value.id)):
                self.facts.aliases[text] = self.text(value)
                members.append(self.text(value))
            grown = _merge([container or _E, self.stored(taint, root)])
            if members:
                grown = _with(grown, members=tuple(members))
            if frame.globals_env is None or root in frame.env or container is None:
                self.bind_name(root, grown)
            else:
                frame.env[root] = grown

    def stored(self, taint: _T, name: str) -> _T:
        """The taint a name keeps after ``name = <value with taint>``."""
        out = taint
        changes: dict[str, object] = {}
        if taint.built is not None:
            changes["built"] = None
        if taint.is_model and taint.built is not None:
            changes["models"] = frozenset({name})
            if taint.base is not None and taint.base_var is None:
                changes["base_var"] = name
        if taint.fitres:
            changes["hist"] = taint.hist | {_root_text(name)}
            changes["fitres"] = False
        if taint.layer is not None and taint.layer in AUGMENTATION_LAYERS:
            changes["aug"] = True
        if changes:
            out = _with(taint, **changes)
        return out

    def aliasable(self, value: ast.expr, taint: _T) -> bool:
        if taint.is_model:
            return True
        if isinstance(value, ast.Name):
            return self.lookup(value.id) is None and bool(_RE_MODELISH.search(value.id))
        if isinstance(value, ast.Subscript):
            root = self.root(value)
            container = self.lookup(root) if root else None
            return container is not None and bool(container.members)
        return False

    def bind_target_plain(self, target: ast.expr, taint: _T) -> None:
        if isinstance(target, ast.Name):
            self.frame.env[target.id] = taint.flowing() if not taint.is_model else taint
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, sub in enumerate(target.elts):
                part = taint.elts[i] if taint.elts and i < len(taint.elts) else taint.flowing()
                self.bind_target_plain(sub, part)
        elif isinstance(target, ast.Starred):
            self.bind_target_plain(target.value, taint)

    def bind_loop_target(
        self, target: ast.expr, member_taint: _T, index: int | None, iter_taint: _T
    ) -> None:
        if index is None or not isinstance(target, (ast.Tuple, ast.List)):
            self.bind_target_plain(target, member_taint)
            return
        for i, sub in enumerate(target.elts):
            self.bind_target_plain(sub, member_taint if i == index else _E)
        if isinstance(target.elts[-1], (ast.Tuple, ast.List)) and index >= len(target.elts):
            self.bind_target_plain(target.elts[-1], iter_taint)

    def grow(self, root: str, value: ast.expr | None, target: ast.expr | None) -> None:
        """Layers added to an existing model: ``m.add(...)``, ``model.fc = nn.Linear(...)``."""
        current = self.lookup(root)
        if current is None:
            return
        extra = self.ev(value) if value is not None else _E
        if not extra.flows():
            return
        grown = _merge([current, extra])
        grown = _with(
            grown,
            is_model=current.is_model,
            models=current.models or grown.models,
            base_var=current.base_var or grown.base_var,
            members=current.members,
        )
        if root in self.frame.env or self.frame.globals_env is None:
            self.frame.env[root] = grown
        else:
            assert self.frame.globals_env is not None
            self.frame.globals_env[root] = grown
        model_def = self.frame.local_defs.get(root)
        if model_def is None and self.frame.globals_env is None:
            model_def = self.nb.model_defs.get(root)
        if model_def is None and self.frame.globals_env is not None:
            model_def = self.nb.model_defs.get(root) if root not in self.frame.env else None
        if model_def is not None:
            _fill_model_def(model_def, grown)

    def model_def(self, var: str, taint: _T) -> None:
        frame = self.frame
        framework: Framework = taint.framework or "keras"
        base_var = taint.base_var
        if taint.base is not None and base_var is None and taint.built == "":
            base_var = var
        if taint.base is None and base_var is None:
            base_var = self.sub_model(taint, var)
        model_def = ModelDef(
            var=var,
            is_builder=False,
            builder=taint.built or None,
            layers=_count(taint.layers),
            residual=taint.residual,
            separable=taint.separable,
            bottleneck=taint.bottleneck,
            base=taint.base,
            base_var=base_var,
            weights=taint.weights,
            ensemble=taint.ensemble,
            framework=framework,
            line=self.line(),
        )
        if not frame.emit:
            frame.local_defs[var] = model_def
            return
        if frame.globals_env is not None:
            frame.local_defs[var] = model_def
            return
        self.facts.model_defs.append(model_def)
        self.nb.model_defs[var] = model_def
        self.framework_hint(framework)

    def sub_model(self, taint: _T, var: str) -> str | None:
        """A model of the notebook used whole inside another (``Sequential([model2, ...])``)."""
        found: list[str] = []
        for name in taint.models:
            if name == var:
                continue
            known = self.lookup(name)
            if known is None or not known.is_model or not known.layers:
                continue
            if all(
                layer in AUGMENTATION_LAYERS or layer in _PREPROCESSING for _, layer in known.layers
            ):
                continue
            found.append(name)
        return found[0] if len(found) == 1 else None

    def framework_hint(self, framework: Framework | None) -> None:
        if framework is not None:
            self.facts.framework_hints.add(framework)

    # ------------------------------------------------------- builder defs

    def define_builder(self, fn: _Func) -> None:
        summary = self.summarise(fn)
        if not (summary.is_model or fn.module_class):
            return
        framework: Framework = fn.framework or summary.framework or "keras"
        model_def = ModelDef(
            var=fn.name,
            is_builder=True,
            builder=None,
            layers=_count(summary.layers),
            residual=summary.residual,
            separable=summary.separable,
            bottleneck=summary.bottleneck,
            base=summary.base,
            base_var=summary.base_var,
            weights=summary.weights,
            ensemble=summary.ensemble,
            framework=framework,
            line=getattr(fn.node, "lineno", 0),
        )
        self.facts.model_defs.append(model_def)
        self.framework_hint(framework)

    def summarise(self, fn: _Func) -> _T:
        """What a function or class contributes to the model it builds, read once."""
        if fn.summary is not None:
            return fn.summary
        if fn.summarising or len(self.frame.stack) >= _MAX_DEPTH:
            return _E
        fn.summarising = True
        try:
            if isinstance(fn.node, ast.ClassDef):
                summary = self.summarise_class(fn, fn.node)
            else:
                summary = self.run_function(fn, fn.node, None, [], {}, emit=False)[0]
        finally:
            fn.summarising = False
        fn.summary = summary
        return summary

    def summarise_class(self, fn: _Func, node: ast.ClassDef) -> _T:
        parts: list[_T] = []
        for base in node.bases:
            parent = self.func(_unparse(base).rsplit(".", 1)[-1])
            if parent is not None and parent.is_class and parent is not fn:
                parts.append(self.summarise(parent))
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                result, frame = self.run_function(fn, item, None, [], {}, emit=False, method=True)
                parts.append(result)
                fn.trainables.extend(frame.trainables)
        out = _merge(parts)
        out = _with(out, is_model=fn.module_class, framework=fn.framework or out.framework)
        return out

    def run_function(
        self,
        fn: _Func,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        call: ast.Call | None,
        arg_taints: list[_T],
        kw_taints: dict[str, _T],
        emit: bool,
        method: bool = False,
        body: bool = False,
    ) -> tuple[_T, _Frame]:
        caller = self.frame
        frame = _Frame(
            env={},
            globals_env=caller.globals_env if caller.globals_env is not None else caller.env,
            emit=emit and caller.emit,
            line=None if body else caller.line or self.stmt_line,
            stack=caller.stack + (fn.name,),
            acc=[] if not emit else None,
            in_forward=method and node.name in ("forward", "call", "__call__"),
            builds=_scan(node).builds,
            torch_fit=caller.torch_fit,
            torch_eval=caller.torch_eval,
            pending=caller.pending,
            no_grad=caller.no_grad,
            outer_loops=caller.outer_loops + caller.loops,
            prune=call is not None,
        )
        params = node.args.posonlyargs + node.args.args
        if method and params and params[0].arg in ("self", "cls"):
            params = params[1:]
        defaults = node.args.defaults
        first_default = len(params) - len(defaults)
        for i, param in enumerate(params):
            frame.env[param.arg] = _E
            if i >= first_default:
                frame.env[param.arg] = self.ev(defaults[i - first_default])
        for kwarg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=False):
            frame.env[kwarg.arg] = self.ev(default) if default is not None else _E
        if call is not None:
            for i, arg in enumerate(call.args):
                if isinstance(arg, ast.Starred) or i >= len(params):
                    break
                name = params[i].arg
                frame.env[name] = arg_taints[i] if i < len(arg_taints) else _E
                if _simple(arg):
                    frame.subst[name] = self.text(arg)
            for keyword in call.keywords:
                if keyword.arg is None:
                    continue
                frame.env[keyword.arg] = kw_taints.get(keyword.arg, _E)
                if _simple(keyword.value):
                    frame.subst[keyword.arg] = self.text(keyword.value)
        saved = self.frame, self.targets, self.stmt_line
        self.frame = frame
        try:
            self.stmts(node.body)
        except RecursionError:
            pass
        finally:
            self.frame, self.targets, self.stmt_line = saved
        result = self.function_result(frame)
        if not emit and frame.acc is not None:
            whole = _merge(frame.acc)
            if result.is_model or whole.layers or whole.base:
                merged = _merge([whole, result])
                result = _with(
                    merged,
                    is_model=result.is_model or (bool(frame.returns) and _constructs(node)),
                    elts=result.elts,
                )
        return result, frame

    def function_result(self, frame: _Frame) -> _T:
        if not frame.returns:
            return _E
        if len(frame.returns) == 1:
            return frame.returns[0]
        sizes = {len(t.elts) if t.elts is not None else -1 for t in frame.returns}
        merged = _merge(frame.returns)
        is_model = any(t.is_model for t in frame.returns)
        if len(sizes) == 1 and -1 not in sizes:
            size = sizes.pop()
            elts = tuple(
                _with(
                    _merge(t.elts[i] for t in frame.returns if t.elts is not None),
                    is_model=any(t.elts is not None and t.elts[i].is_model for t in frame.returns),
                )
                for i in range(size)
            )
            return _with(merged, elts=elts, is_model=is_model)
        return _with(merged, is_model=is_model)

    def pure(self, fn: _Func, seen: frozenset[str] = frozenset()) -> bool:
        """Whether calling ``fn`` can produce no fact beyond the value it returns."""
        if fn.pure is not None:
            return fn.pure
        scan = _scan(fn.node)
        pure = not scan.facts
        if pure:
            for name in scan.user_calls - seen - {fn.name}:
                other = self.func(name)
                if other is not None and not self.pure(other, seen | {fn.name}):
                    pure = False
                    break
        fn.pure = pure
        return pure

    def instantiate(self, fn: _Func, node: ast.Call, arg_taints: list[_T], kw: dict[str, _T]) -> _T:
        """``Net(...)``: a class defined in the notebook, with helper classes passed in."""
        summary = self.summarise(fn)
        out = _merge([summary, *arg_taints, *kw.values()])
        for arg in node.args:
            if isinstance(arg, ast.Name):
                helper = self.func(arg.id)
                if helper is not None and helper is not fn:
                    out = _merge([out, self.summarise(helper)])
        if fn.module_class or summary.layers:
            out = _with(out, is_model=True, built=fn.name, framework=fn.framework or out.framework)
        if fn.trainables:
            target = self.targets[0] if len(self.targets) == 1 else None
            text = self.text(target) if isinstance(target, (ast.Name, ast.Subscript)) else None
            for value, partial in fn.trainables:
                self.trainable_fact(text, value, partial)
        return out

    def rename_inline(self, inner: _Frame, targets: list[ast.expr]) -> dict[str, str]:
        """Name the facts of an inlined call after the caller's variables."""
        mapping: dict[str, str] = {}
        target_texts: list[str | None] = []
        if len(targets) == 1 and isinstance(targets[0], (ast.Tuple, ast.List)):
            target_texts = [self.text(t) for t in targets[0].elts]
        elif len(targets) == 1:
            target_texts = [self.text(targets[0])]
        for names in inner.return_names:
            if len(names) == len(target_texts):
                for name, text in zip(names, target_texts, strict=True):
                    if name and text and name not in inner.subst:
                        mapping[name] = text
        for fact in inner.emitted:
            if isinstance(fact, FitCall):
                if fact.model_var in mapping:
                    fact.model_var = mapping[fact.model_var]
                if fact.history_var in mapping:
                    fact.history_var = mapping[fact.history_var]
            elif isinstance(fact, EvaluateCall):
                if fact.model_var in mapping:
                    fact.model_var = mapping[fact.model_var]
                if fact.result_var in mapping:
                    fact.result_var = mapping[fact.result_var]
            elif isinstance(fact, CompileCall):
                if fact.model_var in mapping:
                    fact.model_var = mapping[fact.model_var]
            elif isinstance(fact, TrainableChange) and fact.target in mapping:
                fact.target = mapping[fact.target]
        if inner.emit:
            for var, model_def in inner.local_defs.items():
                if var in mapping:
                    continue
                self.facts.model_defs.append(model_def)
                self.framework_hint(model_def.framework)
        return mapping

    # ---------------------------------------------------------- expressions

    def ev(self, node: ast.AST) -> _T:
        handler = _EXPR_HANDLERS.get(type(node))
        if handler is not None:
            return handler(self, node)
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, (int, float, str, bool)):
                out = _T()
                out.const = node.value
                return out
            return _E
        parts = [
            self.ev(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)
        ]
        return _merge(parts)

    def e_name(self, node: ast.Name) -> _T:
        found = self.lookup(node.id)
        if found is None:
            fn = self.func(node.id)
            if fn is not None:
                out = _T()
                out.obj = "function"
                return out
            return _E
        return found

    def e_attribute(self, node: ast.Attribute) -> _T:
        inner = self.ev(node.value)
        attr = node.attr
        if attr == "history":
            refs = inner.hist or frozenset({_root_text(self.text(node.value))})
            return _with(inner.flowing(), hist=refs)
        owner = node.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if attr.startswith(("DEFAULT", "IMAGENET1K")) or (
            isinstance(owner_name, str) and owner_name.endswith("_Weights")
        ):
            out = _T()
            out.weights = "imagenet"
            return out
        if inner.is_model and attr in ("output", "input", "outputs", "inputs", "layers"):
            return _with(inner.flowing(), models=inner.models)
        return inner.flowing()

    def e_subscript(self, node: ast.Subscript) -> _T:
        inner = self.ev(node.value)
        index = node.slice
        self.ev(index)
        if (
            isinstance(index, ast.Constant)
            and isinstance(index.value, str)
            and _METRIC_KEY.search(index.value)
            and (inner.hist or _RE_HIST_NAME.search(self.text(node.value).split(".")[-1]))
        ):
            root = self.root(node.value)
            refs = inner.hist or (frozenset({root}) if root else _EMPTYSET)
            return _with(inner.flowing(), hist=refs)
        if (
            inner.elts is not None
            and isinstance(index, ast.Constant)
            and isinstance(index.value, int)
        ) and -len(inner.elts) <= index.value < len(inner.elts):
            return inner.elts[index.value]
        if inner.members is not None and inner.is_model is False and inner.flows():
            return _with(inner.flowing(), is_model=True) if inner.members else inner.flowing()
        return inner.flowing()

    def e_binop(self, node: ast.BinOp) -> _T:
        left, right = self.ev(node.left), self.ev(node.right)
        out = _merge([left, right])
        const = self.const(node) if (left.const is not _NO or right.const is not _NO) else _NO
        if const is not _NO:
            out = _with(out, const=const)
        if isinstance(node.op, ast.Add):
            if self.is_ensemble([left, right]):
                self.ensemble_made = True
                out = _with(out, ensemble=True)
            elif self.is_skip(node.left, node.right, left, right):
                out = _with(out, residual=True, layers=self.add_layer(out, "Add"))
        return out

    def e_compare(self, node: ast.Compare) -> _T:
        parts = [self.ev(node.left), *(self.ev(c) for c in node.comparators)]
        out = _merge(parts)
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], ast.Eq)
            and self.frame.emit
            and self.frame.torch_fit is None
            and not self.frame.torch_eval
        ):
            sides = [node.left, node.comparators[0]]
            pred_side = None
            for side, taint in zip(sides, parts, strict=True):
                if (
                    taint.preds
                    or (taint.models and not taint.is_model)
                    or (isinstance(side, ast.Name) and "pred" in side.id.lower())
                ):
                    pred_side = (side, taint)
            if pred_side is not None and not all(isinstance(s, ast.Constant) for s in sides):
                taint = pred_side[1]
                models = sorted(taint.preds or taint.models)
                if len(models) > 1 and taint.base_var in models:
                    models.remove(taint.base_var)
                split = self.split_of_node(node)
                if split == "unknown" and taint.split:
                    split = taint.split
                for loop in reversed(self.frame.outer_loops + self.frame.loops):
                    if split == "unknown":
                        split = loop.split
                batches = bool(self.frame.loops) and not taint.preds
                self.evaluate_fact(
                    "torch_eval" if self.frame.no_grad or batches else "accuracy_score",
                    models[0] if len(models) == 1 else None,
                    split,
                )
        return out

    def e_boolop(self, node: ast.BoolOp) -> _T:
        return _merge(self.ev(v) for v in node.values)

    def e_collection(self, node: ast.List | ast.Tuple | ast.Set) -> _T:
        parts = [self.ev(e) for e in node.elts]
        if parts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
        ):
            self.class_names(
                [
                    e.value
                    for e in node.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
            )
        out = _merge(parts)
        members = [
            self.text(e)
            for e, t in zip(node.elts, parts, strict=True)
            if t.is_model
            or (
                isinstance(e, ast.Name)
                and self.lookup(e.id) is None
                and _RE_MODELISH.search(e.id)
                and not _RE_HIST_NAME.search(e.id)
            )
        ]
        labels = tuple(
            t.obj or (self.text(e) if isinstance(e, ast.Name) else "")
            for e, t in zip(node.elts, parts, strict=True)
        )
        out = _with(out, labels=labels, elts=tuple(parts) if isinstance(node, ast.Tuple) else None)
        if not isinstance(node, ast.Set) and all(t.const is not _NO for t in parts):
            out.const = tuple(t.const for t in parts)
        if members:
            out.members = tuple(members)
        return out

    def e_dict(self, node: ast.Dict) -> _T:
        parts: list[_T] = []
        members: list[str] = []
        values = [v for v in node.values]
        strings = [
            v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
        if len(strings) >= 2 and len(strings) == len(values):
            self.class_names(strings)
        target = self.targets[0] if len(self.targets) == 1 else None
        target_text = self.text(target) if isinstance(target, ast.Name) else None
        for key, value in zip(node.keys, values, strict=True):
            taint = self.ev(value)
            if key is not None:
                self.ev(key)
            parts.append(taint)
            if target_text is not None and key is not None:
                entry = f"{target_text}[{_unparse(key)}]"
                if taint.built is not None:
                    self.model_def(entry, taint)
                    members.append(entry)
                elif isinstance(value, ast.Name) and (
                    taint.is_model or _RE_MODELISH.search(value.id)
                ):
                    self.facts.aliases[entry] = self.text(value)
                    members.append(self.text(value))
        out = _merge(parts)
        if members:
            out = _with(out, members=tuple(members))
        return out

    def e_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> _T:
        expanded = self.expand_comprehension(node)
        if expanded is not None:
            return expanded
        env = self.frame.env
        saved: dict[str, _T | None] = {}
        multi = False
        for gen in node.generators:
            iter_taint = self.ev(gen.iter)
            members, index = self.loop_members(gen.iter)
            names = [n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)]
            for name in names:
                saved.setdefault(name, env.get(name))
            if members:
                multi = multi or len(members) >= 2
                member_taint = _with(
                    _merge(self.lookup(m) or _E for m in members),
                    is_model=True,
                    models=frozenset(members),
                )
                self.bind_loop_target(gen.target, member_taint, index, iter_taint)
            else:
                self.bind_target_plain(gen.target, iter_taint)
            for cond in gen.ifs:
                self.ev(cond)
        if isinstance(node, ast.DictComp):
            out = _merge([self.ev(node.key), self.ev(node.value)])
        else:
            out = self.ev(node.elt)
        for name, old in saved.items():
            if old is None:
                env.pop(name, None)
            else:
                env[name] = old
        if multi and (out.preds or out.models):
            out = _with(out, preds=out.preds | out.models)
        return out

    def expand_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> _T | None:
        """``{n: build(n) for n in ["a", "b"]}``: one model per literal item."""
        if len(node.generators) != 1 or len(self.targets) != 1:
            return None
        target = self.targets[0]
        gen = node.generators[0]
        value = node.value if isinstance(node, ast.DictComp) else node.elt
        if not (
            isinstance(target, ast.Name)
            and isinstance(gen.target, ast.Name)
            and not gen.ifs
            and isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and self.func(value.func.id) is not None
        ):
            return None
        items = self.const(gen.iter)
        if not isinstance(items, tuple) or not 0 < len(items) <= 12:
            return None
        var = gen.target.id
        env = self.frame.env
        saved = env.get(var)
        members: list[str] = []
        parts: list[_T] = []
        try:
            for i, item in enumerate(items):
                const = _T()
                const.const = item
                env[var] = const
                entry: str | None = f"{target.id}[{i}]"
                if isinstance(node, ast.DictComp):
                    key = node.key
                    keyed = isinstance(key, ast.Name) and key.id == var
                    entry = f"{target.id}[{item!r}]" if keyed else None
                self.targets = [ast.Name(id=entry or target.id, ctx=ast.Store())]
                taint = self.ev(value)
                parts.append(taint)
                if taint.built is not None and entry is not None:
                    self.model_def(entry, taint)
                    members.append(entry)
        finally:
            self.targets = [target]
            if saved is None:
                env.pop(var, None)
            else:
                env[var] = saved
        out = _merge(parts)
        if members:
            out = _with(out, members=tuple(members))
        return out

    def e_lambda(self, node: ast.Lambda) -> _T:
        env = self.frame.env
        names = [a.arg for a in node.args.args]
        saved = {n: env.get(n) for n in names}
        for n in names:
            env[n] = _E
        out = self.ev(node.body)
        for n, old in saved.items():
            if old is None:
                env.pop(n, None)
            else:
                env[n] = old
        return out.flowing()

    def e_namedexpr(self, node: ast.NamedExpr) -> _T:
        taint = self.ev(node.value)
        if isinstance(node.target, ast.Name):
            self.frame.env[node.target.id] = self.stored(taint, node.target.id)
        return taint

    def e_joinedstr(self, node: ast.JoinedStr) -> _T:
        return _merge(self.ev(v) for v in node.values)

    def e_formatted(self, node: ast.FormattedValue) -> _T:
        return self.ev(node.value)

    def e_yield(self, node: ast.Yield | ast.YieldFrom) -> _T:
        taint = self.ev(node.value) if node.value is not None else _E
        self.frame.returns.append(taint)
        self.frame.return_names.append([None])
        return _E

    def e_starred(self, node: ast.Starred) -> _T:
        return self.ev(node.value)

    def e_ifexp(self, node: ast.IfExp) -> _T:
        self.ev(node.test)
        return _merge([self.ev(node.body), self.ev(node.orelse)])

    # --------------------------------------------------------------- calls

    def e_call(self, node: ast.Call) -> _T:
        func = node.func
        saved_targets = self.targets
        if (
            not saved_targets
            and isinstance(func, ast.Attribute)
            and func.attr in ("append", "extend", "insert")
            and isinstance(func.value, ast.Name)
        ):
            # histories.append(model.fit(...)): the result is kept in ``histories``
            self.targets = [func.value]
        arg_taints = [self.ev(a) for a in node.args]
        self.targets = saved_targets
        kw_taints = {k.arg or f"**{i}": self.ev(k.value) for i, k in enumerate(node.keywords)}
        args_merged = _merge([*arg_taints, *kw_taints.values()])

        if isinstance(func, ast.Name):
            name = self.frame.subst.get(func.id, func.id)
            fn = self.func(name)
            if fn is not None:
                self.calls.append(name)
                return self.user_call(fn, node, arg_taints, kw_taints)
            known = self.lookup(func.id)
            pending = self.frame.pending
            if (
                pending is not None
                and (known is None or not known.is_model)
                and node.args
                and _RE_MODELISH.search(name)
            ):
                pending.model_calls.append(name)
            if known is not None and known.is_model:
                return self.apply_model(func.id, known, arg_taints, kw_taints, node)
            if known is not None and known.layer is not None:
                return self.apply_layer(known, node, arg_taints)
            full = self.nb.imports.get(name) if known is None else None
            if full and "." in full:
                # from tensorflow.keras.applications import ResNet50 as R; R(...)
                prefix, _, last = full.rpartition(".")
                return self.library_call(
                    full, last, prefix, node, arg_taints, kw_taints, args_merged
                )
            return self.library_call(name, name, "", node, arg_taints, kw_taints, args_merged)

        if isinstance(func, ast.Attribute):
            root = self.root(func)
            callee = self.dotted(func)
            if root is not None and callee is not None and self.is_module(root):
                prefix, _, last = callee.rpartition(".")
                return self.library_call(
                    callee, last, prefix, node, arg_taints, kw_taints, args_merged
                )
            receiver = self.ev(func.value)
            return self.method_call(func, receiver, node, arg_taints, kw_taints, args_merged)

        # A layer applied to a tensor: Conv2D(...)(x), or any other call result called.
        callee_taint = self.ev(func)
        if callee_taint.layer is not None:
            return self.apply_layer(callee_taint, node, arg_taints)
        if callee_taint.is_model:
            return _merge([callee_taint.flowing(), args_merged])
        return _merge([callee_taint.flowing(), args_merged])

    def user_call(self, fn: _Func, node: ast.Call, arg_taints: list[_T], kw: dict[str, _T]) -> _T:
        frame = self.frame
        if fn.name in frame.stack or len(frame.stack) >= _MAX_DEPTH:
            return _merge([*arg_taints, *kw.values()])
        if isinstance(fn.node, ast.ClassDef):
            return self.instantiate(fn, node, arg_taints, kw)
        expand = self.nb.expand_calls and frame.emit
        nested = frame.globals_env is not None
        if (nested or not frame.emit) and (self.pure(fn) or not expand):
            # Nested helpers that only build layers are read once and reused.
            summary = self.summarise(fn)
            if summary.layers:
                # Each call builds its own layers.
                summary = _with(summary, layers=self.fresh(summary.layers))
            out = _merge([summary, *arg_taints, *kw.values()])
            if summary.is_model:
                out = _with(out, is_model=True, built=fn.name, elts=summary.elts)
            return out
        targets = self.targets
        plotted = len(self.hist_plotted)
        result, inner = self.run_function(fn, fn.node, node, arg_taints, kw, emit=expand)
        self.targets = targets
        mapping = self.rename_inline(inner, targets)
        self.hist_plotted[plotted:] = [mapping.get(h, h) for h in self.hist_plotted[plotted:]]
        frame.emitted.extend(inner.emitted)
        if result.base_var in mapping:
            result = _with(result, base_var=mapping[result.base_var])
        if result.is_model:
            result = _with(result, built=fn.name)
        elif result.elts is not None and any(e.is_model for e in result.elts):
            result = _with(
                result,
                elts=tuple(_with(e, built=fn.name) if e.is_model else e for e in result.elts),
            )
        return result

    def apply_model(
        self, name: str, model: _T, arg_taints: list[_T], kw: dict[str, _T], node: ast.Call
    ) -> _T:
        pending = self.frame.pending
        if pending is not None:
            pending.model_calls.append(self.frame.subst.get(name, name))
        out = _merge([model.flowing(), *arg_taints, *kw.values()])
        return _with(out, models=out.models | {self.frame.subst.get(name, name)})

    def apply_layer(self, layer: _T, node: ast.Call, arg_taints: list[_T]) -> _T:
        out = _merge([layer, *arg_taints])
        if layer.layer in _COMBINE_LAYERS and node.args:
            out = self.combine(out, node, arg_taints, layer.layer)
        return out

    def combine(self, out: _T, node: ast.Call, arg_taints: list[_T], kind: str) -> _T:
        """``Add()([x, y])``, ``layers.average([m1(x), m2(x)])``, ``torch.add(a, b)``."""
        first = node.args[0] if node.args else None
        if isinstance(first, (ast.List, ast.Tuple)):
            nodes: list[ast.expr] = list(first.elts)
            elements = [self.ev(e) for e in nodes]
        else:
            nodes, elements = list(node.args), arg_taints
        if len(elements) < 2:
            return out
        if self.is_ensemble(elements) or (kind == "Average" and _distinct_models(nodes)):
            self.ensemble_made = True
            return _with(out, ensemble=True)
        if kind == "Add":
            return _with(out, residual=True)
        return out

    def is_ensemble(self, taints: list[_T]) -> bool:
        sets: list[frozenset[str]] = []
        for t in taints:
            own = t.preds or frozenset(m for m in t.models if m != t.base_var)
            if own:
                sets.append(own)
        return (
            len(sets) >= 2
            and len(set(sets)) >= 2
            and not any(a <= b or b <= a for i, a in enumerate(sets) for b in sets[i + 1 :])
        )

    def is_skip(self, left: ast.expr, right: ast.expr, lt: _T, rt: _T) -> bool:
        """Whether ``left + right`` adds two tensors of a network (a skip connection)."""
        for side, taint in ((left, lt), (right, rt)):
            if taint.const is not _NO or taint.preds or taint.hist or taint.cm or _stringy(side):
                return False
            if isinstance(side, (ast.Name, ast.Attribute)):
                name = side.id if isinstance(side, ast.Name) else side.attr
                if _RE_COUNTERISH.match(name):
                    return False
            elif not isinstance(side, (ast.Call, ast.Subscript, ast.BinOp)):
                return False
        if self.frame.in_forward:
            return True
        return bool(lt.layers or rt.layers)

    # ------------------------------------------------------ library calls

    def library_call(
        self,
        callee: str,
        last: str,
        prefix: str,
        node: ast.Call,
        args: list[_T],
        kw: dict[str, _T],
        merged: _T,
    ) -> _T:
        facts = self.sink()
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        # Pretrained networks.
        base = self.base_call(callee, last, prefix, node, keywords)
        if base is not None:
            return base
        layer = self.layer_call(last, prefix, node, keywords)
        if layer is not None:
            canon = layer.layer or (next(iter(layer.layers))[1] if layer.layers else "")
            if last[:1].islower() and canon in _COMBINE_LAYERS:
                return self.combine(_merge([layer, *args]), node, args, canon)
            return layer
        if last in _MODEL_CTORS and not prefix.endswith(("nn", "torch.nn")):
            self.framework_hint("keras")
            return _with(merged, is_model=True, built="", framework=merged.framework or "keras")
        if last == "Sequential":
            self.framework_hint("pytorch")
            return _with(merged, is_model=True, built="", framework="pytorch")
        if last == "clone_model":
            source = args[0] if args else merged
            return _with(source.flowing(), is_model=True, built="", models=_EMPTYSET)
        if last == "load_model":
            return _with(merged, is_model=True, built="load_model")
        if last in (
            "confusion_matrix",
            "crosstab",
            "ConfusionMatrixDisplay",
            "plot_confusion_matrix",
        ):
            return self.confusion_call(last, node, args, kw, merged)
        if last in ("from_predictions", "from_estimator") and "Confusion" in prefix:
            out = self.confusion_call(last, node, args, kw, merged)
            facts.shows_confusion = True
            facts.plots_anything = True
            return out
        if last in ("accuracy_score", "balanced_accuracy_score"):
            self.accuracy_call(node, args)
            return _with(merged, evalres=True)
        if last == "ImageDataGenerator":
            aug = any(k in _AUG_KWARGS and not _is_falsy(v) for k, v in keywords.items())
            if aug:
                facts.augmentation_defined = True
            return _with(merged, gen=True, aug=aug)
        if prefix.endswith("image") and last.startswith(("random_", "stateless_random_")):
            facts.augmentation_defined = True
            return _with(merged, aug=True)
        if self.loads_cifar(callee, last, node):
            facts.loads_cifar10 = True
        if last in _OPTIMIZERS:
            return self.optimizer_call(last, node, keywords, merged)
        root = callee.split(".", 1)[0]
        if (
            root in ("plt", "matplotlib", "pyplot", "sns", "seaborn")
            or (callee.startswith(("matplotlib.", "seaborn.")))
            or last == "plot_model"
        ):
            self.plot_call(last, node, args, kw, None)
            return _E
        if last in ("print", "display"):
            self.print_call(node, args)
            return _E
        if last in ("from_pretrained",) and node.args:
            found = canonical_base(self.str_const(node.args[0]) or "")
            if found:
                return self.base_taint(found, "imagenet", "pytorch")
        out = merged
        if not prefix:
            self.unknown_function(last, node, args, kw, merged)
            if self.looks_built(last):
                out = _with(out, is_model=True, built=last)
        if last in _AVERAGING and len(merged.preds) >= 2:
            self.ensemble_made = True
            out = _with(out, ensemble=True)
        if last[:1].isupper():
            out = _with(out, obj=last)
        return out

    def looks_built(self, name: str) -> bool:
        """``model = get_resnet()`` or ``net = ResNetCIFAR()`` with the definition elsewhere."""
        if (
            not self.targets
            or name in _BUILTINS
            or name in _LIBRARY_FUNCS
            or self.lookup(name) is not None
            or _RE_NOT_BUILDER.search(name)
        ):
            return False
        if _RE_BUILDER_FN.search(name):
            return True
        target = self.targets[0]
        return (
            name[:1].isupper()
            and isinstance(target, ast.Name)
            and bool(_RE_MODELISH.search(target.id))
            and not _RE_HIST_NAME.search(target.id)
        )

    def str_const(self, node: ast.AST | None) -> str | None:
        value = self.const(node)
        return value if isinstance(value, str) else None

    def base_taint(self, canon: str, weights: str | None, framework: Framework) -> _T:
        out = _T()
        out.base = canon
        out.weights = weights
        out.is_model = True
        out.built = ""
        out.framework = framework
        self.framework_hint(framework)
        return out

    def base_call(
        self, callee: str, last: str, prefix: str, node: ast.Call, keywords: dict[str, ast.expr]
    ) -> _T | None:
        if self.func(last) is not None:
            return None
        if last in KERAS_APPLICATIONS:
            return self.base_taint(last, self.weights_of(keywords, keras=True), "keras")
        if last in TORCHVISION_MODELS and (
            not prefix
            or "models" in prefix
            or "torchvision" in prefix
            or "pretrained" in keywords
            or "weights" in keywords
        ):
            return self.base_taint(
                TORCHVISION_MODELS[last], self.weights_of(keywords, keras=False), "pytorch"
            )
        if last == "create_model" and (prefix.endswith("timm") or not prefix) and node.args:
            name = self.str_const(node.args[0])
            found = canonical_base(name or "") if name else None
            if found or name:
                weights = self.weights_of(keywords, keras=False)
                return self.base_taint(found or name or "timm", weights, "pytorch")
        if last in ("KerasLayer", "load") and ("hub" in prefix) and node.args:
            url = self.str_const(node.args[0]) or ""
            out = self.base_taint(canonical_base(url) or "TFHub", "imagenet", "keras")
            trainable = keywords.get("trainable")
            if trainable is not None:
                value = self.const(trainable)
                target = self.targets[0] if len(self.targets) == 1 else None
                if isinstance(value, bool):
                    self.trainable_fact(
                        self.text(target) if target is not None else None, value, False
                    )
            return out
        if last == "load" and prefix.endswith("torch.hub") and len(node.args) >= 2:
            name = self.str_const(node.args[1]) or ""
            found = canonical_base(name)
            if found:
                return self.base_taint(found, self.weights_of(keywords, keras=False), "pytorch")
        if last == "from_preset" and node.args:
            found = canonical_base(self.str_const(node.args[0]) or "")
            if found:
                return self.base_taint(found, "imagenet", "keras")
        return None

    def weights_of(self, keywords: dict[str, ast.expr], keras: bool) -> str | None:
        if "pretrained" in keywords:
            value = self.const(keywords["pretrained"])
            if isinstance(value, bool):
                return "imagenet" if value else "none"
            if isinstance(value, str):
                return "imagenet"
        node = keywords.get("weights")
        if node is None:
            return None
        value = self.const(node)
        if value is None:
            return "none"
        if isinstance(value, str):
            lowered = value.lower()
            if lowered in ("imagenet", "default") or lowered.startswith("imagenet"):
                return "imagenet"
            return value
        taint = self.ev(node)
        if taint.weights:
            return taint.weights
        text = self.text(node)
        if "Weights" in text or "DEFAULT" in text or "IMAGENET" in text:
            return "imagenet"
        return None

    def layer_call(
        self, last: str, prefix: str, node: ast.Call, keywords: dict[str, ast.expr]
    ) -> _T | None:
        short_prefix = prefix.split(".")[-1] if prefix else ""
        if short_prefix in ("F", "functional") and last in _TORCH_FUNCTIONAL:
            out = _T()
            out.layers = self.new_layer(_TORCH_FUNCTIONAL[last])
            out.framework = "pytorch"
            return out
        if last == "cat" and short_prefix == "torch":
            out = _T()
            out.layers = self.new_layer("Concatenate")
            out.framework = "pytorch"
            out.layer = "Concatenate"
            return out
        if last == "add" and short_prefix in (
            "tf",
            "tensorflow",
            "math",
            "torch",
            "ops",
            "K",
            "backend",
        ):
            out = _T()
            out.layers = self.new_layer("Add")
            out.layer = "Add"
            out.framework = "pytorch" if short_prefix == "torch" else "keras"
            return out
        if short_prefix in ("transforms", "T", "v2", "A", "albumentations") and last[:1].isupper():
            if last in AUGMENTATION_LAYERS or last.startswith("Random"):
                self.facts.augmentation_defined = True
                out = _T()
                out.aug = True
                return out
            return None
        canon = canonical_layer(last, short_prefix if short_prefix else "")
        if canon is None:
            return None
        torch = (
            short_prefix == "nn"
            or prefix.endswith("torch.nn")
            or last != canon
            and last[-2:] in ("2d", "1d", "3d")
            or last in ("Linear", "LazyLinear")
        )
        out = _T()
        out.layers = self.new_layer(canon)
        out.layer = canon
        out.framework = "pytorch" if torch else "keras"
        self.framework_hint(out.framework)
        if canon in ("SeparableConv2D", "SeparableConv1D", "DepthwiseConv2D"):
            out.separable = True
        if canon in AUGMENTATION_LAYERS:
            out.aug = True
            self.facts.augmentation_defined = True
        if canon in CONV_LAYERS:
            groups = keywords.get("groups")
            if groups is not None and self.int_const(groups) != 1:
                out.separable = True
                out.layers = self.new_layer("DepthwiseConv2D")
                canon = "DepthwiseConv2D"
            if canon == "Conv2D":
                kernel_node = keywords.get("kernel_size")
                position = 2 if torch else 1
                if kernel_node is None and len(node.args) > position:
                    kernel_node = node.args[position]
                kernel = self.kernel(kernel_node)
                seq = self.frame.conv_seq
                if kernel == 1 and seq[-2:] == [1, 3]:
                    out.bottleneck = True
                seq.append(kernel)
                if len(seq) > 8:
                    del seq[:-4]
        return out

    def kernel(self, node: ast.AST | None) -> int:
        if isinstance(node, (ast.Tuple, ast.List)) and node.elts:
            node = node.elts[0]
        value = self.int_const(node)
        return value if value is not None else 0

    def loads_cifar(self, callee: str, last: str, node: ast.Call) -> bool:
        lowered = callee.lower()
        if last == "load_data" and "cifar10" in lowered:
            return True
        if last in ("CIFAR10",):
            return True
        if last in ("load", "load_dataset", "builder") and node.args:
            name = self.str_const(node.args[0])
            return bool(name and name.lower().replace("-", "").startswith("cifar10"))
        return False

    def optimizer_call(
        self, last: str, node: ast.Call, keywords: dict[str, ast.expr], merged: _T
    ) -> _T:
        lr_node = keywords.get("learning_rate") or keywords.get("lr")
        params_owner = self.parameters_owner(node)
        if lr_node is None and node.args:
            candidate = (
                node.args[1] if params_owner is not None and len(node.args) > 1 else node.args[0]
            )
            if params_owner is None or len(node.args) > 1:
                lr_node = candidate
        lr = self.float_const(lr_node)
        out = _T()
        out.obj = last
        out.lr = lr
        if params_owner is not None and self.frame.emit:
            fact = CompileCall(
                model_var=params_owner, optimizer=last, learning_rate=lr, line=self.line()
            )
            self.facts.compiles.append(fact)
            self.remember(fact)
            self.framework_hint("pytorch")
        return out

    def parameters_owner(self, node: ast.Call) -> str | None:
        for sub in ast.walk(node):
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in ("parameters", "named_parameters")
            ):
                return self.root(sub.func.value)
        return None

    def confusion_call(
        self, last: str, node: ast.Call, args: list[_T], kw: dict[str, _T], merged: _T
    ) -> _T:
        if last == "crosstab" and not (
            merged.preds or merged.models or "pred" in " ".join(self.names_in(node)).lower()
        ):
            return merged
        facts = self.sink()
        facts.computes_confusion = True
        if last == "plot_confusion_matrix" and self.func(last) is None:
            facts.shows_confusion = True
            facts.plots_anything = True
        models = set(merged.preds or merged.models)
        if last == "from_estimator" and node.args:
            models.add(self.text(node.args[0]))
        facts.confusion_model_vars.extend(sorted(models))
        return _with(merged, cm=True)

    def accuracy_call(self, node: ast.Call, args: list[_T]) -> None:
        merged = _merge(args)
        models = sorted(merged.preds or frozenset(m for m in merged.models if m != merged.base_var))
        first = node.args[0] if node.args else None
        split = self.split_of_node(first) if first is not None else "unknown"
        if split == "unknown" and merged.split:
            split = merged.split
        if split == "unknown":
            split = self.split_of_node(node)
        self.evaluate_fact("accuracy_score", models[0] if len(models) == 1 else None, split)

    def evaluate_fact(self, kind: EvalKind, model_var: str | None, on: Split) -> None:
        if not self.frame.emit:
            return
        in_loop, loop_models = self.in_loop()
        result = self.targets_text()
        fact = EvaluateCall(
            order=len(self.facts.evaluates),
            kind=kind,
            model_var=model_var,
            result_var=result,
            on=on,
            in_loop=in_loop,
            loop_models=loop_models,
            line=self.line(),
        )
        self.facts.evaluates.append(fact)
        self.remember(fact)

    def targets_text(self) -> str | None:
        if not self.targets:
            return None
        texts: list[str] = []
        for target in self.targets[:1]:
            if isinstance(target, (ast.Tuple, ast.List)):
                texts.extend(self.text(t) for t in target.elts)
            else:
                texts.append(self.text(target))
        return ",".join(texts) or None

    def plot_call(
        self, last: str, node: ast.Call, args: list[_T], kw: dict[str, _T], receiver: _T | None
    ) -> None:
        facts = self.sink()
        drawing = last in _PLOT_METHODS or last in ("show", "savefig") or receiver is not None
        if not drawing and last not in ("figure", "subplots", "subplot", "title", "legend"):
            return
        if last in _PLOT_METHODS or last == "show":
            facts.plots_anything = True
        sources = [*args, *kw.values()]
        if receiver is not None:
            sources.append(receiver)
        if last in _CM_DRAW and any(t.cm for t in sources):
            facts.shows_confusion = True
        if last in (
            "plot",
            "lineplot",
            "semilogy",
            "step",
            "scatter",
            "errorbar",
            "fill_between",
            "relplot",
            "line",
            "bar",
        ):
            refs: list[str] = []
            for t in sources:
                refs.extend(sorted(t.hist))
            if last != "bar":
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(arg, ast.Name) and _RE_HIST_LIST.search(arg.id):
                        known = self.lookup(arg.id)
                        if known is None or not known.hist:
                            refs.append(self.text(arg))
            if refs:
                facts.plots_history = True
                if self.frame.emit:
                    self.hist_plotted.extend(refs)

    def print_call(self, node: ast.Call, args: list[_T]) -> None:
        facts = self.sink()
        shapes = [
            sub for sub in ast.walk(node) if isinstance(sub, ast.Attribute) and sub.attr == "shape"
        ]
        shapes.sort(key=lambda a: (a.lineno, a.col_offset))
        for attr in shapes:
            split = _split_of(self.text(attr.value))
            facts.printed_shapes.append(split if split != "unknown" else None)
        if any(t.cm for t in args):
            facts.shows_confusion = True
        if any(t.evalres for t in args):
            facts.prints_accuracy = True
            return
        for word in self.names_in(node):
            lowered = word.lower()
            if (
                "acc" in lowered
                or "přesnost" in lowered
                or "presnost" in lowered
                or "úspěšnost" in lowered
                or "classification_report" in lowered
            ):
                facts.prints_accuracy = True
                return

    def unknown_function(
        self, name: str, node: ast.Call, args: list[_T], kw: dict[str, _T], merged: _T
    ) -> None:
        if (
            name in _BUILTINS
            or name in _LIBRARY_FUNCS
            or name in self.nb.imports
            or self.lookup(name) is not None
        ):
            if name in ("print", "display"):
                self.print_call(node, args)
            return
        self.calls.append(name)
        facts = self.sink()
        if _RE_PLOT_HISTORY_FN.search(name):
            facts.plots_anything = True
            refs = sorted(merged.hist)
            if not refs:
                refs = [self.text(a) for a in node.args if isinstance(a, (ast.Name, ast.Subscript))]
            if refs:
                facts.plots_history = True
                if self.frame.emit:
                    self.hist_plotted.extend(refs)
            return
        if _RE_CONFUSION_FN.search(name):
            facts.computes_confusion = True
            facts.shows_confusion = True
            models = merged.preds or merged.models
            facts.confusion_model_vars.extend(sorted(models))
            if not models:
                for arg in node.args:
                    taint = self.ev(arg)
                    if taint.is_model or (
                        isinstance(arg, ast.Name) and _RE_MODELISH.search(arg.id)
                    ):
                        facts.confusion_model_vars.append(self.text(arg))
            return
        if _RE_TRAIN_FN.search(name) and name.lower() not in ("train_test_split",):
            self.guessed_fit(name, node, args, kw)
            if "eval" in name.lower() or "test" in name.lower():
                model = self.model_arg(node, args)
                self.evaluate_fact(
                    "evaluate",
                    model,
                    self.split_of_node(node)
                    if "test" in " ".join(self.names_in(node)).lower()
                    else "test",
                )
            return
        if _RE_EVAL_FN.search(name):
            model = self.model_arg(node, args)
            self.evaluate_fact("evaluate", model, self.split_of_node(node))

    def model_arg(self, node: ast.Call, args: list[_T]) -> str | None:
        for arg, taint in zip(node.args, args, strict=False):
            if taint.is_model:
                return self.text(arg)
        for keyword in node.keywords:
            if keyword.arg in ("model", "net", "m", "network"):
                return self.text(keyword.value)
        for arg in node.args:
            if isinstance(arg, (ast.Name, ast.Subscript)) and _RE_MODELISH.search(self.text(arg)):
                return self.text(arg)
        if node.args and isinstance(node.args[0], (ast.Name, ast.Subscript, ast.Attribute)):
            return self.text(node.args[0])
        return None

    def guessed_fit(self, name: str, node: ast.Call, args: list[_T], kw: dict[str, _T]) -> None:
        if not self.frame.emit:
            return
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        epochs = None
        for key in ("epochs", "n_epochs", "num_epochs", "nb_epoch", "epoch"):
            if key in keywords:
                epochs = self.int_const(keywords[key])
                break
        split_texts = [t for a in node.args[1:] for t in self.names_in(a)]
        split_texts += [t for k in node.keywords for t in self.names_in(k.value)]
        validation: Literal["none", "val", "test", "split"] = "none"
        splits = {_split_of(t) for t in split_texts}
        if "validation_split" in keywords:
            validation = "split"
        elif "test" in splits and "val" not in splits:
            validation = "test"
        elif "val" in splits:
            validation = "val"
        in_loop, loop_models = self.in_loop()
        fact = FitCall(
            order=len(self.facts.fits),
            model_var=self.model_arg(node, args),
            history_var=self.targets_text(),
            epochs=epochs,
            initial_epoch=None,
            validation=validation,
            callbacks=[],
            augmentation=any(t.aug for t in args) or any(t.aug for t in kw.values()),
            in_loop=in_loop,
            loop_models=loop_models,
            line=self.line(),
        )
        self.facts.fits.append(fact)
        self.remember(fact)

    # ------------------------------------------------------- method calls

    def method_call(
        self,
        func: ast.Attribute,
        receiver: _T,
        node: ast.Call,
        args: list[_T],
        kw: dict[str, _T],
        merged: _T,
    ) -> _T:
        meth = func.attr
        recv_node = func.value
        facts = self.sink()
        if meth in _FIT_METHODS:
            if self.fit_call(recv_node, receiver, node, args, kw):
                out = _T()
                out.fitres = True
                out.hist = frozenset()
                return out
            return _merge([receiver.flowing(), merged])
        if meth in _EVAL_METHODS or meth in _PREDICT_METHODS:
            return self.eval_call(meth, recv_node, receiver, node, args, merged)
        if meth == "compile":
            self.compile_call(recv_node, node)
            return _E
        if (
            meth == "add"
            and not (node.args and isinstance(node.args[0], (ast.List, ast.Tuple)))
            and (
                receiver.is_model or (receiver is _E and _RE_MODELISH.search(self.text(recv_node)))
            )
        ):
            root = self.root(recv_node)
            if root is not None and node.args:
                if receiver is _E and self.lookup(root) is None:
                    return _E
                self.grow(root, node.args[0], None)
            return _E
        if meth in _MUTATORS and isinstance(recv_node, ast.Name):
            name = recv_node.id
            current = self.lookup(name)
            extra = merged
            if any(t.fitres for t in args):
                extra = _with(extra, hist=extra.hist | {name})
            grown = _merge([current or _E, extra])
            members = list(current.members or ()) if current is not None else []
            for arg, taint in zip(node.args, args, strict=False):
                if taint.is_model and isinstance(arg, ast.Name):
                    members.append(self.text(arg))
            if members:
                grown = _with(grown, members=tuple(members))
            if name in self.frame.env or self.frame.globals_env is None:
                self.frame.env[name] = grown
            elif self.frame.globals_env is not None:
                self.frame.globals_env[name] = grown
            return _E
        if meth == "requires_grad_":
            value = self.const(node.args[0]) if node.args else True
            root = self.root(recv_node)
            if isinstance(value, bool) and root is not None:
                self.trainable_fact(root, value, not isinstance(recv_node, ast.Name))
            return receiver
        if meth in _PASSTHROUGH:
            pending = self.frame.pending
            if meth == "train" and not node.args:
                self.frame.train_recv = self.text(recv_node)
                if pending is not None:
                    pending.train_recv.append(self.text(recv_node))
            if meth == "eval" and not node.args:
                self.frame.eval_recv = self.text(recv_node)
                if pending is not None:
                    pending.eval_recv.append(self.text(recv_node))
            return receiver
        if meth in ("flow", "flow_from_directory", "flow_from_dataframe"):
            aug = receiver.aug if receiver.gen else True
            return _with(merged, aug=aug or merged.aug)
        if meth in ("from_predictions", "from_estimator") and "Confusion" in self.text(recv_node):
            out = self.confusion_call(meth, node, args, kw, merged)
            facts.shows_confusion = True
            facts.plots_anything = True
            return out
        if meth in _PLOT_OBJECT_METHODS or (meth in ("show",) and receiver.cm):
            self.plot_call(meth, node, args, kw, receiver)
            if meth == "plot" and receiver.cm:
                facts.shows_confusion = True
            return _E
        if meth in (
            "parameters",
            "named_parameters",
            "get_layer",
            "output",
            "summary",
            "count_params",
        ):
            return receiver.flowing()
        if meth == "from_preset":
            found = canonical_base(self.str_const(node.args[0]) or "") if node.args else None
            if found:
                return self.base_taint(found, "imagenet", "keras")
        if meth == "from_pretrained" and node.args:
            found = canonical_base(self.str_const(node.args[0]) or "")
            if found:
                return self.base_taint(found, "imagenet", "pytorch")
        if meth in ("map",) and self.loads_cifar("", "", node):
            facts.loads_cifar10 = True
        out = _merge([receiver.flowing(), merged])
        if receiver.is_model and meth in ("__call__", "call"):
            return _with(out, models=out.models | receiver.models)
        return out

    def fit_call(
        self, recv_node: ast.expr, receiver: _T, node: ast.Call, args: list[_T], kw: dict[str, _T]
    ) -> bool:
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        receiver_text = self.text(recv_node)
        strong = any(
            k in keywords
            for k in (
                "epochs",
                "validation_data",
                "validation_split",
                "callbacks",
                "steps_per_epoch",
                "initial_epoch",
            )
        )
        if receiver.gen and not strong:
            return False
        if not strong and not receiver.is_model:
            last = receiver_text.rsplit(".", 1)[-1]
            if _RE_NOT_MODEL_RECEIVER.search(last) or not _RE_MODELISH.search(receiver_text):
                return False
        if not self.frame.emit:
            return True
        epochs_node = keywords.get("epochs") or keywords.get("nb_epoch")
        if epochs_node is None and len(node.args) > 3:
            epochs_node = node.args[3]
        validation: Literal["none", "val", "test", "split"] = "none"
        if "validation_data" in keywords and not _is_none(keywords["validation_data"]):
            split = self.split_of_node(keywords["validation_data"])
            validation = "test" if split == "test" else "val"
        elif "validation_split" in keywords and not _is_falsy(keywords["validation_split"]):
            validation = "split"
        callbacks = self.callback_names(keywords.get("callbacks"))
        data = node.args[0] if node.args else keywords.get("x") or keywords.get("generator")
        data_taint = args[0] if args else (kw.get("x") or kw.get("generator") or _E)
        augmentation = data_taint.aug or receiver.aug
        if (
            isinstance(data, ast.Call)
            and isinstance(data.func, ast.Attribute)
            and data.func.attr in ("flow", "flow_from_directory", "flow_from_dataframe")
        ):
            augmentation = augmentation or data_taint.aug
        in_loop, loop_models = self.in_loop()
        fact = FitCall(
            order=len(self.facts.fits),
            model_var=receiver_text,
            history_var=self.targets_text(),
            epochs=self.int_const(epochs_node),
            initial_epoch=self.int_const(keywords.get("initial_epoch")),
            validation=validation,
            callbacks=callbacks,
            augmentation=augmentation,
            in_loop=in_loop,
            loop_models=loop_models,
            line=self.line(),
        )
        self.facts.fits.append(fact)
        self.remember(fact)
        self.framework_hint("keras")
        return True

    def callback_names(self, node: ast.expr | None) -> list[str]:
        if node is None:
            return []
        out: list[str] = []
        elements: list[ast.expr]
        if isinstance(node, (ast.List, ast.Tuple)):
            elements = list(node.elts)
        elif isinstance(node, ast.Name):
            found = self.lookup(node.id)
            if found is not None and found.labels is not None:
                return [label for label in found.labels if label]
            if found is not None and found.obj is not None:
                return [found.obj]
            return [self.text(node)]
        else:
            elements = [node]
        for element in elements:
            if isinstance(element, ast.Call):
                callee = self.dotted(element.func) or _unparse(element.func)
                out.append(callee.rsplit(".", 1)[-1])
            elif isinstance(element, ast.Name):
                found = self.lookup(element.id)
                out.append(found.obj if found is not None and found.obj else self.text(element))
            elif isinstance(element, ast.Starred):
                out.extend(self.callback_names(element.value))
        return out

    def eval_call(
        self,
        meth: str,
        recv_node: ast.expr,
        receiver: _T,
        node: ast.Call,
        args: list[_T],
        merged: _T,
    ) -> _T:
        receiver_text = self.text(recv_node)
        first = node.args[0] if node.args else None
        if first is None:
            for keyword in node.keywords:
                if keyword.arg in ("x", "generator", "X"):
                    first = keyword.value
        split = self.split_of_node(first) if first is not None else "unknown"
        kind: EvalKind = "evaluate" if meth in _EVAL_METHODS else "predict"
        if receiver.gen or _RE_NOT_MODEL_RECEIVER.search(receiver_text.rsplit(".", 1)[-1]):
            return merged
        self.evaluate_fact(kind, receiver_text, split)
        out = _T()
        out.preds = frozenset(m for m in receiver.models if m != receiver.base_var) or frozenset(
            {receiver_text}
        )
        out.split = split if split != "unknown" else None
        out.evalres = kind == "evaluate"
        return out

    def compile_call(self, recv_node: ast.expr, node: ast.Call) -> None:
        if not self.frame.emit:
            return
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        opt_node = keywords.get("optimizer") or (node.args[0] if node.args else None)
        optimizer: str | None = None
        lr: float | None = None
        if isinstance(opt_node, ast.Constant) and isinstance(opt_node.value, str):
            optimizer = _OPTIMIZER_STRINGS.get(opt_node.value.lower(), opt_node.value)
        elif isinstance(opt_node, ast.Call):
            callee = self.dotted(opt_node.func) or _unparse(opt_node.func)
            optimizer = callee.rsplit(".", 1)[-1]
            taint = self.ev(opt_node)
            lr = taint.lr
        elif opt_node is not None:
            taint = self.ev(opt_node)
            if taint.obj is not None:
                optimizer, lr = taint.obj, taint.lr
            elif isinstance(taint.const, str):
                optimizer = _OPTIMIZER_STRINGS.get(taint.const.lower(), taint.const)
        fact = CompileCall(
            model_var=self.text(recv_node), optimizer=optimizer, learning_rate=lr, line=self.line()
        )
        self.facts.compiles.append(fact)
        self.remember(fact)

    # ---------------------------------------------------------- trainable

    def trainable_assign(self, target: ast.Attribute, value: ast.expr) -> None:
        const = self.const(value)
        partial = False
        if isinstance(const, bool):
            flag = const
        else:
            flag, partial = True, True
        owner = target.value
        frame = self.frame
        for loop in reversed(frame.loops):
            if (
                loop.layer_var is not None
                and isinstance(owner, ast.Name)
                and owner.id == loop.layer_var
            ):
                partial = partial or loop.layer_partial or frame.if_depth > loop.if_depth
                self.trainable_fact(loop.layer_root, flag, partial)
                return
        if isinstance(owner, ast.Name) and owner.id == "self":
            return
        root = self.root(owner)
        if root is None:
            return
        if not isinstance(owner, ast.Name):
            partial = True
        if (
            isinstance(owner, ast.Name)
            and frame.loops
            and self.lookup(owner.id) is None
            and target.attr == "requires_grad"
        ):
            partial = True
        self.trainable_fact(root, flag, partial)

    def trainable_fact(self, target: str | None, value: bool, partial: bool) -> None:
        if not self.frame.emit:
            if self.frame.acc is not None:
                self.frame.trainables.append((value, partial))
            return
        fact = TrainableChange(target=target, value=value, partial=partial, line=self.line())
        self.facts.trainable_changes.append(fact)
        self.remember(fact)

    def layer_loop(self, node: ast.For | ast.AsyncFor, loop: _Loop) -> None:
        iter_node = node.iter
        target = node.target
        if (
            isinstance(iter_node, ast.Call)
            and isinstance(iter_node.func, ast.Name)
            and iter_node.func.id in ("enumerate", "tqdm", "list", "reversed")
            and iter_node.args
        ):
            iter_node = iter_node.args[0]
            if isinstance(target, ast.Tuple) and len(target.elts) == 2:
                target = target.elts[1]
        partial = False
        owner: ast.expr | None = None
        if (
            isinstance(iter_node, ast.Subscript)
            and isinstance(iter_node.value, ast.Attribute)
            and iter_node.value.attr == "layers"
        ):
            owner = iter_node.value.value
            partial = True
        elif isinstance(iter_node, ast.Attribute) and iter_node.attr == "layers":
            owner = iter_node.value
        elif (
            isinstance(iter_node, ast.Call)
            and isinstance(iter_node.func, ast.Attribute)
            and iter_node.func.attr in ("parameters", "named_parameters", "children", "modules")
        ):
            owner = iter_node.func.value
            if (
                iter_node.func.attr == "named_parameters"
                and isinstance(target, ast.Tuple)
                and len(target.elts) == 2
            ):
                target = target.elts[1]
        if owner is None:
            return
        root = self.root(owner)
        if root is None:
            return
        if not isinstance(owner, ast.Name):
            partial = True
        if isinstance(target, ast.Name):
            loop.layer_var = target.id
            loop.layer_root = root
            loop.layer_partial = partial
            loop.if_depth = self.frame.if_depth

    # ------------------------------------------------------------- loops

    def loop_members(self, node: ast.expr) -> tuple[list[str], int | None]:
        index: int | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in ("enumerate", "tqdm", "list", "sorted", "reversed") and node.args:
                members, inner = self.loop_members(node.args[0])
                if name == "enumerate" and members:
                    return members, 1 if inner is None else None
                return members, inner
            if name == "zip":
                for i, arg in enumerate(node.args):
                    members, _ = self.loop_members(arg)
                    if members:
                        return members, i
                return [], None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("items", "values")
        ):
            members, _ = self.loop_members(node.func.value)
            return members, 1 if node.func.attr == "items" else None
        if isinstance(node, ast.Name):
            found = self.lookup(node.id)
            if found is not None and found.members:
                return list(found.members), None
            return [], None
        if isinstance(node, (ast.List, ast.Tuple)):
            out: list[str] = []
            for element in node.elts:
                if isinstance(element, (ast.Tuple, ast.List)):
                    for i, sub in enumerate(element.elts):
                        if self.is_model_name(sub):
                            out.append(self.text(sub))
                            index = i
                elif self.is_model_name(element):
                    out.append(self.text(element))
            return out, index
        if isinstance(node, ast.Dict):
            return [self.text(v) for v in node.values if self.is_model_name(v)], None
        return [], None

    def is_model_name(self, node: ast.expr) -> bool:
        if not isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)):
            return False
        if isinstance(node, ast.Name):
            found = self.lookup(node.id)
            if found is not None:
                return found.is_model
            if self.func(node.id) is not None:
                return True
            return bool(_RE_MODELISH.search(node.id)) and not _RE_HIST_NAME.search(node.id)
        taint = self.ev(node)
        return taint.is_model

    def range_count(self, node: ast.expr) -> int | None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("tqdm", "trange") and node.func.id == "trange":
                args = node.args
            elif node.func.id == "tqdm" and node.args:
                return self.range_count(node.args[0])
            elif node.func.id == "range":
                args = node.args
            else:
                return None
            if len(args) == 1:
                return self.int_const(args[0])
            if len(args) >= 2:
                start, stop = self.int_const(args[0]), self.int_const(args[1])
                if start is not None and stop is not None:
                    return max(stop - start, 0)
        return None

    def has_step(self, node: ast.AST) -> bool:
        """Whether a loop holds a training step (here or in a notebook function it calls)."""
        if not (self.maybe_train or self.frame.stack):
            return False
        scan = _scan(node)
        if scan.steps:
            return True
        for name in scan.user_calls:
            fn = self.func(self.frame.subst.get(name, name))
            if fn is not None and _scan(fn.node).steps:
                return True
        return False

    def has_no_grad(self, node: ast.AST) -> bool:
        return _scan(node).no_grad

    def finish_torch_fit(self) -> None:
        frame = self.frame
        fit, pending = frame.torch_fit, frame.pending
        frame.torch_fit, frame.pending = None, None
        if fit is None or pending is None:
            return
        candidates = pending.train_recv or pending.model_calls
        if not candidates and frame.train_recv:
            candidates = [frame.train_recv]
        if candidates:
            fit.model_var = candidates[0]
        splits = {_split_of(t) for t in pending.split_texts}
        if "test" in splits:
            fit.validation = "test"
        elif "val" in splits:
            fit.validation = "val"
        fit.augmentation = fit.augmentation or pending.aug
        self.framework_hint("pytorch")

    def finish_torch_eval(self, node: ast.For | ast.AsyncFor) -> None:
        frame = self.frame
        pending = frame.pending
        frame.torch_eval, frame.pending = False, None
        if pending is None:
            return
        candidates = (
            pending.model_calls
            or pending.eval_recv
            or ([frame.eval_recv] if frame.eval_recv else [])
        )
        if not candidates:
            return
        split = self.split_of_node(node.iter)
        saved = self.targets
        self.targets = []
        self.evaluate_fact("torch_eval", candidates[0], split)
        self.targets = saved

    # --------------------------------------------------------- data facts

    def data_facts(self, targets: list[ast.expr], value: ast.expr, taint: _T) -> None:
        facts = self.facts
        if len(targets) != 1:
            return
        target = targets[0]
        if isinstance(target, ast.Name):
            name = target.id
            if _RE_SIZE_NAME.match(name):
                size = self.int_const(value)
                split = _split_of(name)
                if size is not None and size >= 10 and split != "unknown":
                    facts.subset_sizes[split] = size
            if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice):
                self.slice_size(name, value)
            elif (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "take"
                and value.args
            ):
                size = self.int_const(value.args[0])
                split = _split_of(name)
                if size is not None and split != "unknown":
                    facts.subset_sizes[split] = size
        elif isinstance(target, (ast.Tuple, ast.List)):
            names = [self.text(e) for e in target.elts]
            for name_node, sub in zip(
                target.elts,
                value.elts if isinstance(value, (ast.Tuple, ast.List)) else [],
                strict=False,
            ):
                if (
                    isinstance(name_node, ast.Name)
                    and isinstance(sub, ast.Subscript)
                    and isinstance(sub.slice, ast.Slice)
                ):
                    self.slice_size(name_node.id, sub)
            if isinstance(value, ast.Call):
                callee = self.dotted(value.func) or ""
                if callee.endswith("train_test_split"):
                    keywords = {k.arg: k.value for k in value.keywords if k.arg}
                    test_size = self.int_const(keywords.get("test_size"))
                    train_size = self.int_const(keywords.get("train_size"))
                    if len(names) >= 2:
                        held_out = _split_of(names[1])
                        if test_size is not None and held_out in ("val", "test"):
                            facts.subset_sizes[held_out] = test_size
                        if train_size is not None and _split_of(names[0]) == "train":
                            facts.subset_sizes["train"] = train_size

    def slice_size(self, name: str, node: ast.Subscript) -> None:
        split = _split_of(name)
        if split == "unknown":
            split = _split_of(self.text(node.value))
        if split == "unknown":
            return
        index = node.slice
        assert isinstance(index, ast.Slice)
        if index.step is not None:
            return
        start = self.int_const(index.lower) if index.lower is not None else 0
        stop = self.int_const(index.upper) if index.upper is not None else None
        if start is None:
            return
        if stop is None:
            if index.upper is None and start < 0:
                self.facts.subset_sizes[split] = -start
            return
        if stop > start >= 0:
            self.facts.subset_sizes[split] = stop - start

    def class_names(self, names: list[str]) -> None:
        if self.facts.class_names is not None or len(names) < 2:
            return
        known = sum(1 for n in names if n.strip().lower() in _CIFAR_CLASSES)
        if known >= 2 and known * 2 >= len(names):
            self.facts.class_names = list(names)


# --------------------------------------------------------------- utilities


def _unparse(node: ast.AST) -> str:
    try:
        return ast.unparse(node)[:120]
    except Exception:  # noqa: BLE001 - odd nodes from a recovered parse
        return ""


def _compare(op: ast.cmpop, left: object, right: object) -> object:
    if left is _NO or right is _NO:
        return _NO
    try:
        if isinstance(op, ast.Eq):
            return left == right
        if isinstance(op, ast.NotEq):
            return left != right
        if isinstance(op, ast.In) and isinstance(right, (tuple, str)):
            return left in right
        if isinstance(op, ast.NotIn) and isinstance(right, (tuple, str)):
            return left not in right
        if _is_number(left) and _is_number(right):
            assert isinstance(left, (int, float)) and isinstance(right, (int, float))
            if isinstance(op, ast.Lt):
                return left < right
            if isinstance(op, ast.LtE):
                return left <= right
            if isinstance(op, ast.Gt):
                return left > right
            if isinstance(op, ast.GtE):
                return left >= right
    except TypeError:
        return _NO
    return _NO


_RE_STRINGY = re.compile(
    r"name|str|path|dir|prefix|suffix|title|label|block|stage|msg|text|file|url|key|tag",
    re.IGNORECASE,
)


def _stringy(node: ast.AST) -> bool:
    """Whether an operand of ``+`` is text (layer names built by concatenation)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _stringy(node.left) or _stringy(node.right)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in ("str", "format", "join", "repr")
    if isinstance(node, ast.Name):
        return bool(_RE_STRINGY.search(node.id))
    return False


def _distinct_models(nodes: list[ast.expr]) -> bool:
    """``[m1(x), m2(x)]`` or ``[m1.output, m2.output]``: outputs of different named models."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.add(node.func.id)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ("output", "outputs")
            and isinstance(node.value, ast.Name)
        ):
            names.add(node.value.id)
        else:
            return False
    return len(names) >= 2


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_falsy(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def _simple(node: ast.AST) -> bool:
    return isinstance(node, (ast.Name, ast.Attribute, ast.Subscript))


def _root_text(text: str) -> str:
    return re.split(r"[.\[(]", text, maxsplit=1)[0] or text


def _call_root_name(node: ast.AST) -> str | None:
    """``model`` for ``return model.to(device)``."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr not in _PASSTHROUGH:
            return None
        node = node.func.value
    return node.id if isinstance(node, ast.Name) else None


@dataclass(frozen=True)
class _Scan:
    builds: bool  # constructs layers (so ``a + b`` of tensors is a skip connection)
    facts: bool  # trains, evaluates, compiles, plots, freezes...: must be read where called
    user_calls: frozenset[str]  # bare names called (possibly other notebook functions)
    steps: bool  # a training step: backward(), apply_gradients(), optimizer.step()
    no_grad: bool  # a ``with torch.no_grad():`` block


_FACT_ATTRS = frozenset(
    {
        "fit",
        "fit_generator",
        "evaluate",
        "evaluate_generator",
        "compile",
        "backward",
        "apply_gradients",
        "step",
        "requires_grad_",
        "from_predictions",
        "from_estimator",
        "train",
        "eval",
        "savefig",
        "load_data",
    }
    | _PREDICT_METHODS
    | _PLOT_METHODS
)
_FACT_NAMES = frozenset(
    {
        "accuracy_score",
        "balanced_accuracy_score",
        "confusion_matrix",
        "ConfusionMatrixDisplay",
        "crosstab",
        "plot_confusion_matrix",
        "CIFAR10",
        "ImageDataGenerator",
        "print",
        "display",
    }
    | _OPTIMIZERS
)


def _scan(node: ast.AST) -> _Scan:
    """One walk over a function or class body, cached on the node."""
    cached = getattr(node, "_grader_scan", None)
    if isinstance(cached, _Scan):
        return cached
    builds = facts = steps = no_grad = False
    calls: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Attribute):
                name = func.attr
                root = func.value
                while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
                    root = root.func if isinstance(root, ast.Call) else root.value
                if isinstance(root, ast.Name) and root.id in ("plt", "sns", "ax", "axes", "fig"):
                    facts = True
                if name in ("backward", "apply_gradients") or (
                    name == "step"
                    and not (isinstance(root, ast.Name) and "sched" in root.id.lower())
                    and not (isinstance(func.value, ast.Attribute) and "sched" in func.value.attr)
                ):
                    steps = True
            elif isinstance(func, ast.Name):
                name = func.id
                calls.add(name)
            else:
                continue
            if name in _FACT_ATTRS or name in _FACT_NAMES:
                facts = True
            if not builds and name[:1].isupper() and canonical_layer(name, "layers") is not None:
                builds = True
        elif isinstance(sub, (ast.Assign, ast.AugAssign)):
            targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
            if any(
                isinstance(t, ast.Attribute) and t.attr in ("trainable", "requires_grad")
                for t in targets
            ):
                facts = True
        elif isinstance(sub, (ast.With, ast.AsyncWith)):
            facts = True
            for item in sub.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call):
                    callee = expr.func
                    name = callee.attr if isinstance(callee, ast.Attribute) else ""
                    name = callee.id if isinstance(callee, ast.Name) else name
                    no_grad = no_grad or name in ("no_grad", "inference_mode")
    scan = _Scan(
        builds=builds, facts=facts, user_calls=frozenset(calls), steps=steps, no_grad=no_grad
    )
    with contextlib.suppress(AttributeError):
        setattr(node, "_grader_scan", scan)  # noqa: B010 - a cache slot on the AST node
    return scan


def _constructs(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if name in _MODEL_CTORS or name in KERAS_APPLICATIONS or name in TORCHVISION_MODELS:
                return True
    return False


def _count(layers: frozenset[tuple[int, str]] | None) -> Counter[str]:
    return Counter(name for _, name in sorted(layers)) if layers else Counter()


def _fill_model_def(model_def: ModelDef, taint: _T) -> None:
    model_def.layers = _count(taint.layers)
    model_def.residual = model_def.residual or taint.residual
    model_def.separable = model_def.separable or taint.separable
    model_def.bottleneck = model_def.bottleneck or taint.bottleneck
    model_def.ensemble = model_def.ensemble or taint.ensemble
    if model_def.base is None and taint.base is not None:
        model_def.base = taint.base
        model_def.base_var = taint.base_var
        model_def.weights = taint.weights
    if taint.framework == "pytorch":
        model_def.framework = "pytorch"


_FRAMEWORK_OF_MODULE: dict[str, Framework] = {
    "tensorflow": "keras",
    "keras": "keras",
    "tf_keras": "keras",
    "keras_cv": "keras",
    "keras_hub": "keras",
    "keras_nlp": "keras",
    "tensorflow_hub": "keras",
    "tensorflow_addons": "keras",
    "torch": "pytorch",
    "torchvision": "pytorch",
    "timm": "pytorch",
    "torchmetrics": "pytorch",
    "torchsummary": "pytorch",
    "torchinfo": "pytorch",
    "lightning": "pytorch",
    "pytorch_lightning": "pytorch",
}

_STMT_HANDLERS: dict[type, Callable[[_Reader, Any], None]] = {
    ast.Expr: _Reader.s_expr,
    ast.Assign: _Reader.s_assign,
    ast.AnnAssign: _Reader.s_assign,
    ast.AugAssign: _Reader.s_augassign,
    ast.For: _Reader.s_for,
    ast.AsyncFor: _Reader.s_for,
    ast.While: _Reader.s_while,
    ast.If: _Reader.s_if,
    ast.With: _Reader.s_with,
    ast.AsyncWith: _Reader.s_with,
    ast.Try: _Reader.s_try,
    ast.TryStar: _Reader.s_try,
    ast.Return: _Reader.s_return,
    ast.Import: _Reader.s_import,
    ast.ImportFrom: _Reader.s_import,
    ast.FunctionDef: _Reader.s_def,
    ast.AsyncFunctionDef: _Reader.s_def,
    ast.ClassDef: _Reader.s_def,
}

_EXPR_HANDLERS: dict[type, Callable[[_Reader, Any], _T]] = {
    ast.Name: _Reader.e_name,
    ast.Attribute: _Reader.e_attribute,
    ast.Subscript: _Reader.e_subscript,
    ast.BinOp: _Reader.e_binop,
    ast.Compare: _Reader.e_compare,
    ast.BoolOp: _Reader.e_boolop,
    ast.List: _Reader.e_collection,
    ast.Tuple: _Reader.e_collection,
    ast.Set: _Reader.e_collection,
    ast.Dict: _Reader.e_dict,
    ast.ListComp: _Reader.e_comprehension,
    ast.SetComp: _Reader.e_comprehension,
    ast.GeneratorExp: _Reader.e_comprehension,
    ast.DictComp: _Reader.e_comprehension,
    ast.Lambda: _Reader.e_lambda,
    ast.NamedExpr: _Reader.e_namedexpr,
    ast.JoinedStr: _Reader.e_joinedstr,
    ast.FormattedValue: _Reader.e_formatted,
    ast.Starred: _Reader.e_starred,
    ast.Yield: _Reader.e_yield,
    ast.YieldFrom: _Reader.e_yield,
    ast.IfExp: _Reader.e_ifexp,
    ast.Call: _Reader.e_call,
}


# ------------------------------------------------------------------ public


def _read(nb: _Notebook, cell: int, source: str) -> SourceFacts:
    try:
        text = strip_magics(source if isinstance(source, str) else "")
        if not text.strip():
            return SourceFacts(cell=cell, parsed=True)
        tree = _parse(text)
        if tree is None:
            return SourceFacts(cell=cell, parsed=False)
        return _Reader(nb, cell, text).run(tree)
    except Exception:  # noqa: BLE001 - a reader never fails a notebook
        return SourceFacts(cell=cell, parsed=False)


def read_source(cell: int, source: str) -> SourceFacts:
    """Facts about one code cell's source, read on its own.

    Function bodies report their facts where they are defined, named by their
    parameters; calls of notebook functions are not expanded (see the module
    docstring). Never raises; ``parsed`` is False only when no statement of
    the cell is Python.
    """
    return _read(_Notebook(), cell, source)


def read_sources(cells: Iterable[tuple[int, str]]) -> list[SourceFacts]:
    """Facts about a notebook's code cells, read in order with what earlier cells defined.

    ``cells`` are ``(cell_index, source)`` pairs in notebook order. Functions,
    classes, models, bases, constants and containers bound in one cell are
    known to the cells after it: a call to a function defined earlier is
    read through its body (so a ``train(model)`` helper yields a
    :class:`FitCall` and ``plot_history(h)`` sets ``plots_history``), and
    ``m.add(...)`` in a later cell updates the :class:`ModelDef` of ``m``
    reported for the earlier cell.
    """
    nb = _Notebook(expand_calls=True)
    return [_read(nb, cell, source) for cell, source in cells]
