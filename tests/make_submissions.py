"""Write the bundled example submissions (submissions/) as students would hand them in.

    python -m tests.make_submissions            # write the notebooks (code only)
    python -m tests.make_submissions --execute  # and run them (smoke profile, synthetic data)
                                                # so their stored outputs are real

Each notebook is plain Keras as the course teaches it; the executed copies keep
real Keras 3 outputs, which the static check then reads. One student submits a
notebook saved without outputs on purpose.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "submissions"

SETUP = """import time
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
import matplotlib.pyplot as plt
from sklearn.metrics import confusion_matrix, ConfusionMatrixDisplay

keras.utils.set_random_seed(42)
(x_train_full, y_train_full), (x_test_full, y_test_full) = keras.datasets.cifar10.load_data()
CLASSES = [0, 1, 2, 3, 9]
class_names = ['airplane', 'automobile', 'bird', 'cat', 'truck']
"""

SPLIT = """def subset(x, y, n):
    mask = np.isin(y.ravel(), CLASSES)
    x, y = x[mask][:n], y[mask].ravel()[:n]
    y = np.searchsorted(CLASSES, y)
    return x.astype('float32') / 255.0, y

x_all, y_all = subset(x_train_full, y_train_full, 3000)
x_train, y_train = x_all[:2000], y_all[:2000]
x_val, y_val = x_all[2000:], y_all[2000:]
x_test, y_test = subset(x_test_full, y_test_full, 1000)
print(x_train.shape, x_val.shape, x_test.shape)
"""

PLOT = """def plot_history(history, title):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
    ax1.plot(history.history['loss'], label='train')
    ax1.plot(history.history['val_loss'], label='validation')
    ax1.set_title(title + ': loss'); ax1.set_xlabel('epoch'); ax1.legend()
    ax2.plot(history.history['accuracy'], label='train')
    ax2.plot(history.history['val_accuracy'], label='validation')
    ax2.set_title(title + ': accuracy'); ax2.set_xlabel('epoch'); ax2.legend()
    plt.show()

def show_confusion(model, title):
    y_pred = np.argmax(model.predict(x_test, verbose=0), axis=1)
    cm = confusion_matrix(y_test, y_pred)
    ConfusionMatrixDisplay(cm, display_labels=class_names).plot(cmap='Blues', colorbar=False)
    plt.title(title)
    plt.show()
"""

SCRATCH = """model_cnn = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.RandomFlip('horizontal'),
    layers.Conv2D(32, 3, padding='same', activation='relu'),
    layers.BatchNormalization(),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, padding='same', activation='relu'),
    layers.BatchNormalization(),
    layers.MaxPooling2D(),
    layers.Conv2D(128, 3, padding='same', activation='relu'),
    layers.GlobalAveragePooling2D(),
    layers.Dropout(0.4),
    layers.Dense(5, activation='softmax'),
], name='bipyramidal_cnn')
model_cnn.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
start = time.time()
history_cnn = model_cnn.fit(x_train, y_train, epochs=15, batch_size=64, validation_data=(x_val, y_val))
time_cnn = time.time() - start
print(f'training time: {time_cnn:.1f} s')
"""

XCEPTION = """def sep_block(x, filters):
    residual = layers.Conv2D(filters, 1, strides=2, padding='same')(x)
    x = layers.SeparableConv2D(filters, 3, padding='same', activation='relu')(x)
    x = layers.BatchNormalization()(x)
    x = layers.SeparableConv2D(filters, 3, padding='same')(x)
    x = layers.MaxPooling2D(3, strides=2, padding='same')(x)
    return layers.add([x, residual])

def build_xception_like():
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(32, 3, padding='same', activation='relu')(inputs)
    for filters in (64, 128):
        x = sep_block(x, filters)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(5, activation='softmax')(x)
    return keras.Model(inputs, outputs, name='xception_like')

model_xc = build_xception_like()
model_xc.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
start = time.time()
history_xc = model_xc.fit(x_train, y_train, epochs=15, batch_size=64, validation_data=(x_val, y_val))
time_xc = time.time() - start
print(f'training time: {time_xc:.1f} s')
"""

RESNET = """def bottleneck(x, filters):
    shortcut = layers.Conv2D(filters * 2, 1, padding='same')(x)
    y = layers.Conv2D(filters, 1, activation='relu')(x)
    y = layers.Conv2D(filters, 3, padding='same', activation='relu')(y)
    y = layers.Conv2D(filters * 2, 1)(y)
    y = layers.Add()([y, shortcut])
    return layers.Activation('relu')(y)

inputs = keras.Input(shape=(32, 32, 3))
x = layers.Conv2D(32, 3, padding='same', activation='relu')(inputs)
x = bottleneck(x, 32)
x = layers.MaxPooling2D()(x)
x = bottleneck(x, 64)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(5, activation='softmax')(x)
model_res = keras.Model(inputs, outputs, name='resnet_like')
model_res.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
start = time.time()
history_res = model_res.fit(x_train, y_train, epochs=15, batch_size=64, validation_data=(x_val, y_val))
time_res = time.time() - start
print(f'training time: {time_res:.1f} s')
"""

TRANSFER = """base_model = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights='imagenet')
base_model.trainable = False
inputs = keras.Input(shape=(32, 32, 3))
x = layers.Resizing(96, 96)(inputs)
x = layers.Rescaling(2.0, offset=-1.0)(x)   # [0, 1] -> [-1, 1] as MobileNetV2 expects
x = base_model(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.3)(x)
outputs = layers.Dense(5, activation='softmax')(x)
model_tl = keras.Model(inputs, outputs, name='mobilenetv2_transfer')
model_tl.compile(optimizer=keras.optimizers.Adam(1e-3), loss='sparse_categorical_crossentropy', metrics=['accuracy'])
start = time.time()
history_tl = model_tl.fit(x_train, y_train, epochs=8, batch_size=64, validation_data=(x_val, y_val))
time_tl = time.time() - start
print(f'training time: {time_tl:.1f} s')
"""

FINETUNE = """base_model.trainable = True
for layer in base_model.layers[:-20]:
    layer.trainable = False
model_tl.compile(optimizer=keras.optimizers.Adam(1e-5), loss='sparse_categorical_crossentropy', metrics=['accuracy'])
start = time.time()
history_ft = model_tl.fit(x_train, y_train, epochs=12, initial_epoch=len(history_tl.epoch), batch_size=64, validation_data=(x_val, y_val))
time_ft = time.time() - start
print(f'training time: {time_ft:.1f} s')
"""


def _eval(var: str, label: str) -> str:
    return (
        f"loss_{var}, acc_{var} = model_{var}.evaluate(x_test, y_test, verbose=0)\n"
        f"print(f'{label} test accuracy: {{acc_{var}:.4f}}')"
    )


def _nb(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for kind, text in cells:
        nb.cells.append(v4.new_markdown_cell(text) if kind == "md" else v4.new_code_cell(text))
    return nb


def alice() -> nbformat.NotebookNode:
    """Complete: three approaches, a fine-tuning variant, curves, matrices, Czech summary."""
    return _nb(
        [
            (
                "md",
                "# Domácí úkol 5: transfer learning a pokročilé architektury CNN\n\nPodmnožina CIFAR-10, 5 tříd, 2000/1000/1000.",
            ),
            ("code", SETUP),
            ("code", SPLIT),
            ("code", PLOT),
            ("md", "## Model 1: bipyramidální CNN od nuly"),
            ("code", SCRATCH),
            ("code", "plot_history(history_cnn, 'CNN od nuly')"),
            ("code", _eval("cnn", "CNN")),
            ("code", "show_confusion(model_cnn, 'CNN od nuly')"),
            ("md", "## Model 2: Xception-like CNN (separabilní konvoluce, reziduální spojení)"),
            ("code", XCEPTION),
            ("code", "plot_history(history_xc, 'Xception-like')"),
            ("code", _eval("xc", "Xception-like")),
            ("code", "show_confusion(model_xc, 'Xception-like')"),
            ("md", "## Model 3: transfer learning s MobileNetV2 (zmrazená báze)"),
            ("code", TRANSFER),
            ("code", "plot_history(history_tl, 'MobileNetV2 (frozen)')"),
            ("code", _eval("tl", "MobileNetV2 frozen")),
            ("code", "show_confusion(model_tl, 'MobileNetV2 (frozen)')"),
            ("md", "### Fine-tuning: rozmrazení posledních 20 vrstev, malý learning rate"),
            ("code", FINETUNE),
            ("code", "plot_history(history_ft, 'MobileNetV2 fine-tuned')"),
            ("code", _eval("tl", "MobileNetV2 fine-tuned")),
            ("code", "show_confusion(model_tl, 'MobileNetV2 fine-tuned')"),
            ("md", "## Srovnání"),
            (
                "code",
                "import pandas as pd\npd.DataFrame({'model': ['CNN', 'Xception-like', 'MobileNetV2', 'MobileNetV2 fine-tuned'],\n              'test accuracy': [acc_cnn, acc_xc, None, acc_tl],\n              'training time [s]': [time_cnn, time_xc, time_tl, time_ft]})",
            ),
            (
                "md",
                "## Shrnutí\n\nNejlépe generalizuje model s předtrénovanou bází MobileNetV2, zejména po doladění (fine-tuning) "
                "posledních vrstev s malým learning rate: rozdíl mezi trénovací a validační přesností je u něj nejmenší, "
                "protože příznaky naučené na ImageNetu se na malých datech tolik nepřeučují. CNN od nuly se přeučuje "
                "nejdříve, Xception-like síť s reziduálními spojeními je o něco lepší. Doba trénování se výrazně liší: "
                "MobileNetV2 na vstupu 96x96 trénuje nejpomaleji, doladění je ještě pomalejší, malé sítě od nuly jsou "
                "nejrychlejší.",
            ),
        ]
    )


def bob() -> nbformat.NotebookNode:
    """Three approaches (ResNet-like custom model), English summary, no variant."""
    return _nb(
        [
            (
                "md",
                "# Homework 5\n\nCNN from scratch vs ResNet-like CNN vs MobileNetV2 transfer learning.",
            ),
            ("code", SETUP),
            ("code", SPLIT),
            ("code", PLOT),
            ("md", "## 1. Baseline CNN"),
            ("code", SCRATCH),
            ("code", "plot_history(history_cnn, 'Baseline CNN')"),
            ("code", _eval("cnn", "Baseline CNN")),
            ("code", "show_confusion(model_cnn, 'Baseline CNN')"),
            ("md", "## 2. ResNet-like CNN with bottleneck blocks"),
            ("code", RESNET),
            ("code", "plot_history(history_res, 'ResNet-like')"),
            ("code", _eval("res", "ResNet-like")),
            ("code", "show_confusion(model_res, 'ResNet-like')"),
            ("md", "## 3. Transfer learning (MobileNetV2)"),
            ("code", TRANSFER),
            ("code", "plot_history(history_tl, 'MobileNetV2')"),
            ("code", _eval("tl", "MobileNetV2")),
            ("code", "show_confusion(model_tl, 'MobileNetV2')"),
            (
                "md",
                "## Summary\n\nThe transfer learning model generalises best: its validation accuracy follows the training "
                "accuracy closely, while the baseline CNN starts to overfit after a few epochs and the ResNet-like model "
                "is in between. Training time differs: the MobileNetV2 model is the slowest per epoch because of the "
                "upsampled 96x96 input, the baseline CNN is the fastest.",
            ),
        ]
    )


def carol() -> nbformat.NotebookNode:
    """Scratch CNN and transfer learning only; no confusion matrix, no summary."""
    return _nb(
        [
            ("code", SETUP),
            ("code", SPLIT),
            ("code", PLOT),
            ("md", "## CNN"),
            ("code", SCRATCH),
            ("code", "plot_history(history_cnn, 'CNN')"),
            ("code", _eval("cnn", "CNN")),
            ("md", "## Pretrained MobileNetV2"),
            ("code", TRANSFER),
            ("code", "plot_history(history_tl, 'MobileNetV2')"),
            ("code", _eval("tl", "MobileNetV2")),
        ]
    )


def dan() -> nbformat.NotebookNode:
    """Complete code, but handed in without outputs (never run before saving)."""
    return bob()


STUDENTS = {
    "novakova_alice/hw5.ipynb": (alice, True),
    "brown_bob/homework5.ipynb": (bob, True),
    "cerna_carol/ukol5.ipynb": (carol, True),
    "dvorak_dan/hw5.ipynb": (dan, False),
}

ROSTER = """student_id,name,email,submitted_hw4,submitted_at,consultation
novakova_alice,Alice Nováková,alice@example.edu,no,2025-11-16T21:04:00+01:00,yes
brown_bob,Bob Brown,bob@example.edu,yes,2025-11-17T18:30:00+01:00,yes
cerna_carol,Carol Černá,carol@example.edu,no,2025-11-18T09:15:00+01:00,no
dvorak_dan,Dan Dvořák,dan@example.edu,yes,2025-11-17T23:10:00+01:00,
evans_eve,Eve Evans,eve@example.edu,yes,,
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--execute",
        action="store_true",
        help="run each notebook (smoke profile) and keep its outputs",
    )
    ns = ap.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    (OUT / "roster.csv").write_text(ROSTER, encoding="utf-8")
    for rel, (build, run) in STUDENTS.items():
        path = OUT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(build(), str(path))
        if ns.execute and run:
            from grader.execute import RunOptions
            from grader.pipeline import execute_and_extract

            res = execute_and_extract(
                path, RunOptions(profile="smoke", seed=42, force=True, cache=False)
            )
            print(rel, res.status, res.failure, f"{res.wall_seconds:.0f} s", file=sys.stderr)
            executed = Path(res.files.executed) if res.files.executed else None
            if executed and executed.exists():
                nb = nbformat.read(str(executed), as_version=4)
                # hand in what the student saw: their own cells, without the harness's injected cell
                nb.cells = [
                    c
                    for c in nb.cells
                    if "injected-parameters" not in c.get("metadata", {}).get("tags", [])
                ]
                nbformat.write(nb, str(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
