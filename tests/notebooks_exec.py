"""Scenario notebooks for the execution tests and the benchmark, built in code with nbformat.

Each function returns a notebook written the way students write them; tests
save it under ``tmp_path`` and run it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = [
    "endless",
    "finetune_only",
    "kills_kernel",
    "kills_kernel_after_model",
    "legacy_tf_keras",
    "missing_package",
    "no_metadata",
    "overhead_benchmark",
    "plain_raises",
    "raises_halfway",
    "save",
    "sys_exit_zero",
    "three_models",
    "uses_imagenet_weights",
]


def _nb(cells: list[NotebookNode], *, kernel: str = "python3") -> NotebookNode:
    nb = new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def save(nb: NotebookNode, path: Path) -> Path:
    nbformat.write(nb, str(path))
    return path


_IMPORTS = """\
import time
import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from sklearn.metrics import confusion_matrix, ConfusionMatrixDisplay
"""

_LOAD = """\
(x_train_full, y_train_full), (x_test_full, y_test_full) = keras.datasets.cifar10.load_data()
print(x_train_full.shape, y_train_full.shape, x_test_full.shape)
x_train, y_train = x_train_full[:2000] / 255.0, y_train_full[:2000]
x_val, y_val = x_train_full[2000:2500] / 255.0, y_train_full[2000:2500]
x_test, y_test = x_test_full[:500] / 255.0, y_test_full[:500]
class_names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
"""

_HELPERS = """\
def plot_history(history, title):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3))
    ax1.plot(history.history['loss'], label='train')
    ax1.plot(history.history['val_loss'], label='validation')
    ax1.set_title(title + ' - loss'); ax1.set_xlabel('epoch'); ax1.legend()
    ax2.plot(history.history['accuracy'], label='train')
    ax2.plot(history.history['val_accuracy'], label='validation')
    ax2.set_title(title + ' - accuracy'); ax2.set_xlabel('epoch'); ax2.legend()
    plt.show()

def show_confusion(model, x, y):
    y_pred = np.argmax(model.predict(x, verbose=0), axis=1)
    cm = confusion_matrix(y.ravel(), y_pred)
    ConfusionMatrixDisplay(cm, display_labels=class_names).plot(xticks_rotation=45)
    plt.show()
    return cm
"""

_SCRATCH = """\
model_cnn = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Conv2D(32, 3, padding='same', activation='relu'),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, padding='same', activation='relu'),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(64, activation='relu'),
    layers.Dense(10, activation='softmax'),
])
model_cnn.compile(optimizer=keras.optimizers.Adam(1e-3), loss='sparse_categorical_crossentropy', metrics=['accuracy'])
start = time.time()
history_cnn = model_cnn.fit(x_train, y_train, epochs=10, batch_size=64, validation_data=(x_val, y_val), verbose=2)
time_cnn = time.time() - start
"""

_SCRATCH_EVAL = """\
plot_history(history_cnn, 'Simple CNN')
loss_cnn, acc_cnn = model_cnn.evaluate(x_test, y_test, verbose=0)
print(f'Test accuracy (simple CNN): {acc_cnn:.4f}')
cm_cnn = show_confusion(model_cnn, x_test, y_test)
"""

_RESIDUAL = """\
def residual_block(x, filters):
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, padding='same')(x)
    y = layers.Conv2D(filters, 3, padding='same', activation='relu')(x)
    y = layers.Conv2D(filters, 3, padding='same')(y)
    y = layers.Add()([shortcut, y])
    return layers.Activation('relu')(y)

inputs = keras.Input(shape=(32, 32, 3))
x = layers.Conv2D(32, 3, padding='same', activation='relu')(inputs)
x = residual_block(x, 32)
x = layers.MaxPooling2D()(x)
x = residual_block(x, 64)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation='softmax')(x)
model_res = keras.Model(inputs, outputs, name='resnet_like')
model_res.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
start = time.time()
history_res = model_res.fit(x_train, y_train, epochs=10, batch_size=64, validation_data=(x_val, y_val), verbose=2)
time_res = time.time() - start
plot_history(history_res, 'ResNet-like CNN')
loss_res, acc_res = model_res.evaluate(x_test, y_test, verbose=0)
print(f'Test accuracy (ResNet-like): {acc_res:.4f}')
cm_res = show_confusion(model_res, x_test, y_test)
"""

_TRANSFER = """\
base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights='imagenet')
base.trainable = False
inputs = keras.Input(shape=(32, 32, 3))
x = layers.Resizing(96, 96)(inputs)
x = layers.Rescaling(2.0, offset=-1.0)(x)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(10, activation='softmax')(x)
model_tl = keras.Model(inputs, outputs, name='mobilenet_transfer')
model_tl.compile(optimizer=keras.optimizers.Adam(1e-3), loss='sparse_categorical_crossentropy', metrics=['accuracy'])
start = time.time()
history_tl = model_tl.fit(x_train, y_train, epochs=5, batch_size=64, validation_data=(x_val, y_val), verbose=2)
time_tl = time.time() - start
plot_history(history_tl, 'MobileNetV2 (frozen)')
loss_tl, acc_tl = model_tl.evaluate(x_test, y_test, verbose=0)
print(f'Test accuracy (MobileNetV2 frozen): {acc_tl:.4f}')
"""

_FINETUNE = """\
base.trainable = True
for layer in base.layers[:-20]:
    layer.trainable = False
model_tl.compile(optimizer=keras.optimizers.Adam(1e-5), loss='sparse_categorical_crossentropy', metrics=['accuracy'])
history_ft = model_tl.fit(x_train, y_train, epochs=3, batch_size=64, validation_data=(x_val, y_val), verbose=2)
plot_history(history_ft, 'MobileNetV2 (fine-tuned)')
loss_ft, acc_ft = model_tl.evaluate(x_test, y_test, verbose=0)
print(f'Test accuracy (MobileNetV2 fine-tuned): {acc_ft:.4f}')
cm_ft = show_confusion(model_tl, x_test, y_test)
"""

_COMPARE = """\
import pandas as pd
results = pd.DataFrame({
    'model': ['Simple CNN', 'ResNet-like', 'MobileNetV2 frozen', 'MobileNetV2 fine-tuned'],
    'test_accuracy': [acc_cnn, acc_res, acc_tl, acc_ft],
    'train_time_s': [time_cnn, time_res, time_tl, None],
})
results
"""

_SUMMARY = """\
## Summary

We compared three models: the simple CNN trained from scratch, the ResNet-like custom CNN with
residual blocks, and the pretrained MobileNetV2 used for transfer learning, then fine-tuned.
The pretrained model generalizes best because its features were learned on ImageNet; the gap
between training and validation accuracy is the smallest, so it overfits the least.
Training time differs a lot: the small CNN trains fastest, the fine-tuned MobileNetV2 is the slowest.
"""


def three_models() -> NotebookNode:
    """Simple CNN, ResNet-like CNN, MobileNetV2 frozen then fine-tuned; curves, accuracies, matrices."""
    return _nb(
        [
            new_markdown_cell("# Homework 5: CNN architectures on CIFAR-10"),
            new_code_cell(_IMPORTS),
            new_code_cell(_LOAD),
            new_code_cell(_HELPERS),
            new_markdown_cell("## Model 1: simple CNN from scratch"),
            new_code_cell(_SCRATCH),
            new_code_cell(_SCRATCH_EVAL),
            new_markdown_cell("## Model 2: ResNet-like CNN"),
            new_code_cell(_RESIDUAL),
            new_markdown_cell("## Model 3: transfer learning with MobileNetV2"),
            new_code_cell(_TRANSFER),
            new_markdown_cell("### Fine-tuning"),
            new_code_cell(_FINETUNE),
            new_markdown_cell("## Comparison"),
            new_code_cell(_COMPARE),
            new_markdown_cell(_SUMMARY),
        ]
    )


def finetune_only() -> NotebookNode:
    """One pretrained model: frozen stage, then fine-tuning (the notebook asks for ImageNet weights)."""
    return _nb(
        [
            new_code_cell(_IMPORTS),
            new_code_cell(_LOAD),
            new_code_cell(_HELPERS),
            new_code_cell(_TRANSFER),
            new_code_cell(_FINETUNE),
        ]
    )


def uses_imagenet_weights() -> NotebookNode:
    """Only builds a pretrained base (for the missing-weights checks in the full profile)."""
    return _nb(
        [
            new_code_cell("from tensorflow import keras"),
            new_code_cell(
                "base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, "
                "weights='imagenet')\nprint(base.count_params())"
            ),
            new_code_cell("print('after')"),
        ]
    )


_FEEDS = {
    # a frozen base fed pixels scaled to [0, 1], built with the functional API
    "functional": """\
base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights='imagenet')
base.trainable = False
inputs = keras.Input(shape=(32, 32, 3))
x = layers.Resizing(96, 96)(inputs)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation='softmax')(x)
model = keras.Model(inputs, outputs)
""",
    # the same mistake in a Sequential model
    "sequential": """\
base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights='imagenet')
base.trainable = False
model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Resizing(96, 96),
    base,
    layers.GlobalAveragePooling2D(),
    layers.Dense(10, activation='softmax'),
])
""",
    # the base's own input is the model's input (base.input ... base.output)
    "flattened": """\
base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), include_top=False, weights='imagenet')
for layer in base.layers:
    layer.trainable = False
x = layers.GlobalAveragePooling2D()(base.output)
outputs = layers.Dense(10, activation='softmax')(x)
model = keras.Model(base.input, outputs)
""",
    # preprocess_input inside the model: what the weights expect
    "preprocessed": """\
base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights='imagenet')
base.trainable = False
inputs = keras.Input(shape=(32, 32, 3))
x = layers.Resizing(96, 96)(inputs * 255.0)
x = keras.applications.mobilenet_v2.preprocess_input(x)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation='softmax')(x)
model = keras.Model(inputs, outputs)
""",
}


def base_fed(style: str) -> NotebookNode:
    """A transfer model whose base is fed as ``style`` says (see ``_FEEDS``); data in [0, 1]."""
    fit = (
        "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
        "metrics=['accuracy'])\n"
        "model.fit(x_train, y_train, epochs=1, batch_size=64, validation_data=(x_val, y_val), "
        "verbose=2)\n"
        "print('Test accuracy:', model.evaluate(x_test, y_test, verbose=0)[1])"
    )
    return _nb([new_code_cell(_IMPORTS), new_code_cell(_LOAD), new_code_cell(_FEEDS[style] + fit)])


def raises_halfway() -> NotebookNode:
    """Trains the simple CNN, evaluates it, then a cell raises before the second model."""
    return _nb(
        [
            new_code_cell(_IMPORTS),
            new_code_cell(_LOAD),
            new_code_cell(_HELPERS),
            new_code_cell(_SCRATCH),
            new_code_cell(_SCRATCH_EVAL),
            new_code_cell("print(results_table['resnet'])  # a name that was never defined"),
            new_code_cell(_RESIDUAL),
        ]
    )


def kills_kernel_after_model() -> NotebookNode:
    """Trains and evaluates one model, then ends its own kernel process."""
    return _nb(
        [
            new_code_cell(_IMPORTS),
            new_code_cell(_LOAD),
            new_code_cell(_HELPERS),
            new_code_cell(_SCRATCH),
            new_code_cell(_SCRATCH_EVAL),
            new_code_cell("import os\nos._exit(1)"),
            new_code_cell("print('never runs')"),
        ]
    )


def plain_raises() -> NotebookNode:
    return _nb(
        [
            new_markdown_cell("# A notebook that fails"),
            new_code_cell("x = 1\nprint('first', x)"),
            new_code_cell("def f(d):\n    return d['missing']\n\nf({})"),
            new_code_cell("print('never runs')"),
        ]
    )


def endless() -> NotebookNode:
    return _nb(
        [
            new_code_cell("print('starting')"),
            new_code_cell("import time\nwhile True:\n    time.sleep(0.05)"),
            new_code_cell("print('never runs')"),
        ]
    )


def kills_kernel() -> NotebookNode:
    return _nb(
        [
            new_code_cell("print('before')"),
            new_code_cell("import os\nos._exit(1)"),
            new_code_cell("print('never runs')"),
        ]
    )


def no_metadata() -> NotebookNode:
    """No kernelspec, no language_info, and a kernel name that does not exist elsewhere."""
    nb = _nb(
        [new_code_cell("import sys\nprint(sys.version_info[:2])"), new_code_cell("print(6 * 7)")]
    )
    nb.metadata = {}
    return nb


def missing_package() -> NotebookNode:
    return _nb(
        [
            new_code_cell("print('ok')"),
            new_code_cell("import definitely_not_installed_pkg"),
        ],
        kernel="conda-env-dl-py",
    )


def sys_exit_zero() -> NotebookNode:
    return _nb(
        [
            new_code_cell("print('before')"),
            new_code_cell("import sys\nsys.exit(0)"),
            new_code_cell("print('never runs')"),
        ]
    )


_INLINE_DATA = """\
rng = np.random.default_rng(0)
labels = rng.integers(0, 10, 2000)
x_all = (rng.random((2000, 32, 32, 3)) * 0.5 + labels[:, None, None, None] / 20.0).astype('float32')
y_all = labels.reshape(-1, 1)
x_train, y_train = x_all[:1200], y_all[:1200]
x_val, y_val = x_all[1200:1600], y_all[1200:1600]
x_test, y_test = x_all[1600:], y_all[1600:]
class_names = [str(i) for i in range(10)]
"""


def overhead_benchmark() -> NotebookNode:
    """The three-model workflow on data made in the notebook and an untrained MobileNetV2.

    Runs unchanged under bare papermill (no dataset download, no weights), so the
    benchmark can compare the harness's wall time with papermill's on the same work.
    """
    transfer = (
        _TRANSFER.replace("weights='imagenet'", "weights=None")
        .replace("(96, 96, 3)", "(64, 64, 3)")
        .replace("Resizing(96, 96)", "Resizing(64, 64)")
        .replace("epochs=5", "epochs=2")
    )
    finetune = _FINETUNE.replace("epochs=3", "epochs=1")
    return _nb(
        [
            new_code_cell(_IMPORTS),
            new_code_cell(_INLINE_DATA),
            new_code_cell(_HELPERS),
            new_code_cell(_SCRATCH.replace("epochs=10", "epochs=3")),
            new_code_cell(_SCRATCH_EVAL),
            new_code_cell(_RESIDUAL.replace("epochs=10", "epochs=3")),
            new_code_cell(transfer),
            new_code_cell(finetune),
            new_code_cell(_COMPARE),
            new_markdown_cell(_SUMMARY),
        ]
    )


def legacy_tf_keras() -> NotebookNode:
    """Keras 2 through the ``tf_keras`` package: ``acc`` metric names, ``input_shape=`` layers."""
    return _nb(
        [
            new_code_cell(
                "import numpy as np\nimport tf_keras as keras\nfrom tf_keras import layers"
            ),
            new_code_cell(
                "(x, y), (xt, yt) = keras.datasets.cifar10.load_data()\n"
                "x, xt = x[:1000] / 255.0, xt[:300] / 255.0\n"
                "y, yt = y[:1000], yt[:300]"
            ),
            new_code_cell(
                "m = keras.Sequential([\n"
                "    layers.Conv2D(8, 3, activation='relu', input_shape=(32, 32, 3)),\n"
                "    layers.GlobalAveragePooling2D(),\n"
                "    layers.Dense(10, activation='softmax'),\n"
                "])\n"
                "m.compile('adam', 'sparse_categorical_crossentropy', metrics=['acc'])\n"
                "h = m.fit(x, y, epochs=5, validation_data=(xt, yt), verbose=2)\n"
                "print('test acc', m.evaluate(xt, yt, verbose=0)[1])"
            ),
            new_code_cell(
                "base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, "
                "weights='imagenet')"
            ),
        ]
    )
