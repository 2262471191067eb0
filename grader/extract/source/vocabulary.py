"""The source reader's vocabulary: the names, words and patterns it recognises.

Tables only (and :func:`split_of`, which reads a split from a name's words):
module roots, Keras / PyTorch method names, plotting functions, optimizers,
and the regular expressions that judge a student's variable or function name
(``cnn_model`` is model-like, ``plot_history`` plots a history, ``x_val``
holds validation data). The interpreter core and the recognisers import
what they need from here; nothing here reads a syntax tree.
"""

from __future__ import annotations

import builtins
import re

from grader.extract.source.values import Framework, Split

#: Names that stand for a library module when not bound by the notebook.
MODULE_ROOTS = frozenset(
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

# ------------------------------------------------------------- method names

FIT_METHODS = frozenset({"fit", "fit_generator"})
EVAL_METHODS = frozenset({"evaluate", "evaluate_generator"})
PREDICT_METHODS = frozenset(
    {"predict", "predict_generator", "predict_on_batch", "predict_classes", "predict_proba"}
)
#: Methods that return their receiver (``model.to(device)``, ``net.train()``).
PASSTHROUGH = frozenset(
    {"to", "cuda", "cpu", "float", "double", "half", "train", "eval", "build", "requires_grad_"}
)
#: Methods that add to a container in place.
MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault"})
#: Drawing functions of matplotlib / seaborn / pandas (and ``plot_model``).
PLOT_METHODS = frozenset(
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
#: Layers that only prepare the input (a model of only these is not a network).
PREPROCESSING = frozenset({"Rescaling", "Normalization", "Resizing", "CenterCrop", "Input"})
#: Drawing methods of an axes or a frame object.
PLOT_OBJECT_METHODS = PLOT_METHODS - {"step", "line", "area", "stem", "table", "plot_model"}
#: Drawing calls that show a confusion matrix passed to them.
CM_DRAW = frozenset({"heatmap", "imshow", "matshow", "pcolormesh", "pcolor", "plot", "table"})
# ------------------------------------------------------------ library names

OPTIMIZERS = frozenset(
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
OPTIMIZER_STRINGS = {name.lower(): name for name in OPTIMIZERS}
#: Keras model constructors (``Sequential`` is also PyTorch's, with an ``nn`` prefix).
MODEL_CTORS = frozenset({"Sequential", "Model", "Functional"})
#: Keyword arguments of ImageDataGenerator that augment.
AUG_KWARGS = frozenset(
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
#: ``torch.nn.functional`` operations counted as layers, in Keras spelling.
TORCH_FUNCTIONAL = {
    "relu": "ReLU",
    "max_pool2d": "MaxPooling2D",
    "avg_pool2d": "AveragePooling2D",
    "adaptive_avg_pool2d": "GlobalAveragePooling2D",
    "adaptive_max_pool2d": "GlobalMaxPooling2D",
    "dropout": "Dropout",
    "gelu": "GELU",
}
#: numpy-style reductions that average predictions (an ensemble).
AVERAGING = frozenset({"mean", "average", "sum", "stack", "vstack", "add", "median"})
#: Layers that merge tensors: a skip connection or an ensemble.
COMBINE_LAYERS = frozenset({"Add", "Average", "Concatenate", "Maximum", "Multiply", "Subtract"})
#: Library functions whose names would otherwise look like a notebook's own helpers.
LIBRARY_FUNCS = frozenset(
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
BUILTINS = frozenset(dir(builtins))

#: CIFAR-10 class names, in English and Czech: a literal list of them names the classes.
CIFAR_CLASSES = frozenset(
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

# --------------------------------------------------------- judging names

#: Counters and sizes: ``a + b`` of these is arithmetic, not a skip connection.
RE_COUNTERISH = re.compile(
    r"^(i|j|k|n|idx|count|total|correct|size|num\w*|n_\w+|epoch\w*|step\w*|\w*_count|"
    r"\w*_size|\w*loss\w*|\w*acc\w*|running\w*|offset|padding|pad|stride\w*|dim\w*|"
    r"\w*channels?|\w*filters?|lr|\w*time\w*|\w*_sum|s)$",
    re.IGNORECASE,
)
#: Names of models.
RE_MODELISH = re.compile(
    r"model|net|cnn|resnet|xcep|mobil|vgg|effic|incep|dense|base|transfer|^tl|_tl|^ft|_ft|"
    r"^m\d*$|^m_|classifier|backbone|baseline|ensemble|clf",
    re.IGNORECASE,
)
#: Receivers of ``fit`` / ``predict`` that are not models (scalers, generators...).
RE_NOT_MODEL_RECEIVER = re.compile(
    r"(datagen|generator|^gen|_gen$|scaler|encoder|pca|tsne|kmeans|vectori[sz]er|normali[sz]er|"
    r"tokenizer|imputer|^le$|^ohe$|^sc$|^aug|augment|layer$)",
    re.IGNORECASE,
)
#: A function (defined outside the notebook) that plots training curves.
RE_PLOT_HISTORY_FN = re.compile(
    r"(plot|show|draw|visuali[sz]e|display|graph|vykresl)\w*"
    r"(hist|curve|learning|training|metric|loss|acc|progress|result|graf|prubeh|epoch)",
    re.IGNORECASE,
)
#: A function that computes and shows a confusion matrix.
RE_CONFUSION_FN = re.compile(r"confusion|(^|_)cm(_|$)|conf_mat|confmat", re.IGNORECASE)
#: A function that trains a model.
RE_TRAIN_FN = re.compile(
    r"^(train|fit|compile_and_(train|fit)|run_train|run_experiment|trenuj|train_and)\w*$|_train$|"
    r"^(build|make|compile)_and_(train|fit)\w*",
    re.IGNORECASE,
)
#: A function that evaluates a model.
RE_EVAL_FN = re.compile(r"^(evaluate|eval|test_model|test_accuracy|score)\w*$", re.IGNORECASE)
#: A function that builds a model (``get_resnet()``) ...
RE_BUILDER_FN = re.compile(
    r"model|net|cnn|resnet|xcep|mobil|vgg|effic|incep|classifier|transfer|baseline|backbone",
    re.IGNORECASE,
)
#: ... unless its name says it does something else.
RE_NOT_BUILDER = re.compile(
    r"data|loader|gen|plot|show|hist|train|fit|eval|test|predict|summar|compile|load|save|"
    r"print|count|param|acc|loss|score|metric|report|time|size|shape|layer|weight",
    re.IGNORECASE,
)
#: Names of training histories.
RE_HIST_NAME = re.compile(r"hist|^h\d*$|^h_|logs?$|^his\w*", re.IGNORECASE)
#: Names of hand-kept lists of losses / accuracies.
RE_HIST_LIST = re.compile(
    r"^(train|val|valid|validation|tr|va)?_?(loss|losses|acc|accs|accuracy|accuracies)"
    r"(es|s|_hist(ory)?|_list|_values|_curve)?$|"
    r"^(train|val|valid|validation)_(loss|acc|accuracy)\w*$|(losses|accs|accuracies)$",
    re.IGNORECASE,
)
#: Names of data subset sizes (``n_train``, ``test_size``).
RE_SIZE_NAME = re.compile(
    r"^(n|num|number|len|size|count)_?(of_)?(train|training|val|valid|validation|test|testing)"
    r"(_samples|_size|_images|_examples|_n|_count)?$|"
    r"^(train|training|val|valid|validation|test|testing)_?(size|samples|n|count|images|examples|subset)$",
    re.IGNORECASE,
)
#: A key of ``history.history`` that names a metric.
METRIC_KEY = re.compile(r"loss|acc", re.IGNORECASE)
#: The words of a variable name (snake_case and CamelCase).
RE_SPLIT_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


#: Names of strings: ``prefix + name`` builds a layer name, not a skip connection.
RE_STRINGY = re.compile(
    r"name|str|path|dir|prefix|suffix|title|label|block|stage|msg|text|file|url|key|tag",
    re.IGNORECASE,
)


#: Methods whose call is a fact of the cell: a function calling them must be read where called.
FACT_ATTRS = frozenset(
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
    | PREDICT_METHODS
    | PLOT_METHODS
)
#: Functions whose call is a fact of the cell.
FACT_NAMES = frozenset(
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
    | OPTIMIZERS
)


#: Top-level packages that are libraries, not a student's own helper module.
KNOWN_LIBRARIES: frozenset[str] = frozenset(
    {
        "numpy", "matplotlib", "seaborn", "pandas", "sklearn", "scipy", "cv2", "PIL",
        "skimage", "tqdm", "os", "sys", "time", "math", "random", "json", "pickle",
        "shutil", "glob", "pathlib", "collections", "itertools", "functools", "datetime",
        "warnings", "IPython", "ipywidgets", "gc", "optuna", "wandb", "mlflow", "fastai",
        "albumentations", "imgaug", "h5py", "requests", "zipfile", "tarfile", "urllib",
        "copy", "re", "logging", "statistics", "csv", "typing", "dataclasses", "google",
        "kaggle", "kagglehub", "tensorflow_datasets", "datasets", "transformers",
        "huggingface_hub", "xgboost", "lightgbm", "joblib", "plotly", "visualkeras",
        "torchviz", "graphviz", "pydot", "rasterio", "imageio", "psutil", "platform",
        "subprocess", "io", "gzip", "struct", "hashlib", "tabulate", "rich", "cupy",
        "numba", "jax", "flax", "optax", "sympy", "statsmodels", "nltk", "spacy", "gensim",
    }
)  # fmt: skip

#: The framework an imported top-level module belongs to.
FRAMEWORK_OF_MODULE: dict[str, Framework] = {
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
    "fastai": "pytorch",
}


def split_of(text: str) -> Split:
    """Which data split a variable name refers to: ``x_test`` -> test, ``val_ds`` -> val."""
    if not text:
        return "unknown"
    tokens = [t.lower() for t in RE_SPLIT_TOKEN.findall(text)]
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
