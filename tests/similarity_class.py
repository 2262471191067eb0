"""A synthetic class for the similarity report: honest students, planted copies, look-alikes.

Everything is built in code from seeded random generators, with the standard
library only (the benchmark uses it too): notebooks are nbformat v4 dicts,
figures are PNGs drawn pixel by pixel and compressed with :mod:`zlib`.

Every student starts from the same starter notebook (imports, data loading,
a sample-images figure, a plotting helper and the lecture's textbook CNN) and
then writes their own code for a custom CNN (residual, Xception-like or
plain, in one of several coding styles, with their own names, comments,
hyper-parameters and habits) and a transfer-learning model (their choice of
pretrained base, input size, head, optional fine-tuning). Outputs are what a
run would store: Keras 3 training logs with per-epoch numbers from the
student's own random generator, printed test accuracies, figures of their
own curves and a comparison table.

Planted copies (:attr:`SyntheticClass.planted`, label -> (copy, original)):

* ``renamed``: every name the student chose renamed, comments and text
  rewritten, re-run (other numbers and figures);
* ``reordered``: cells reordered, a few cells added, re-run;
* ``rerun``: the same code re-run with another seed;
* ``pasted``: the student's own, different code, with the original's outputs
  (logs, numbers, figures; one figure re-encoded) pasted in;
* ``partial``: an honest notebook whose custom-CNN section was copied.

Honest look-alikes (:attr:`SyntheticClass.lookalikes`): ``starter-only``, two
students who did little beyond the starter and the textbook model; and
``mobilenet``, two who both chose MobileNetV2 with its default settings.
"""

from __future__ import annotations

import base64
import json
import random
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SyntheticClass", "build_class", "png_chart", "starter_notebook"]

N_CLASSES = 5
CLASSES = ["airplane", "automobile", "bird", "cat", "dog"]

# ------------------------------------------------------------------ PNG


def _png(width: int, height: int, rgb: bytearray, *, level: int = 6) -> bytes:
    raw = bytearray()
    stride = width * 3
    for y in range(height):
        raw.append(0)
        raw.extend(rgb[y * stride : (y + 1) * stride])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(raw), level))
        + chunk(b"IEND", b"")
    )


class _Canvas:
    def __init__(self, width: int, height: int, bg: tuple[int, int, int] = (255, 255, 255)):
        self.w, self.h = width, height
        self.px = bytearray(bytes(bg) * (width * height))

    def dot(self, x: int, y: int, c: tuple[int, int, int], thick: int = 1) -> None:
        for dy in range(thick):
            for dx in range(thick):
                xx, yy = x + dx, y + dy
                if 0 <= xx < self.w and 0 <= yy < self.h:
                    i = (yy * self.w + xx) * 3
                    self.px[i : i + 3] = bytes(c)

    def line(self, x0: int, y0: int, x1: int, y1: int, c: tuple[int, int, int], t: int = 1) -> None:
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.dot(x0, y0, c, t)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def rect(self, x0: int, y0: int, x1: int, y1: int, c: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(self.h, y1)):
            i = (y * self.w + max(0, x0)) * 3
            n = max(0, min(self.w, x1) - max(0, x0))
            self.px[i : i + 3 * n] = bytes(c) * n

    def png(self, level: int = 6) -> bytes:
        return _png(self.w, self.h, self.px, level=level)


PALETTES = [
    ((31, 119, 180), (255, 127, 14)),
    ((44, 160, 44), (214, 39, 40)),
    ((148, 103, 189), (140, 86, 75)),
    ((0, 0, 0), (128, 128, 128)),
    ((23, 190, 207), (188, 189, 34)),
]


def png_chart(
    panels: list[list[list[float]]],
    size: tuple[int, int],
    *,
    palette: int = 0,
    grid: bool = False,
    thick: int = 1,
) -> bytes:
    """Line charts side by side (like plt.subplots(1, n)): each panel is a list of series."""
    width, height = size
    cv = _Canvas(width, height)
    pw = width // max(1, len(panels))
    colours = PALETTES[palette % len(PALETTES)]
    for p, series in enumerate(panels):
        left, right = p * pw + pw // 8, (p + 1) * pw - pw // 16
        top, bottom = height // 10, height - height // 8
        cv.line(left, bottom, right, bottom, (0, 0, 0))
        cv.line(left, top, left, bottom, (0, 0, 0))
        if grid:
            for g in range(1, 4):
                y = top + (bottom - top) * g // 4
                cv.line(left + 1, y, right, y, (225, 225, 225))
        values = [v for s in series for v in s] or [0.0, 1.0]
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        for s_i, s in enumerate(series):
            if len(s) < 2:
                continue
            pts = [
                (
                    left + (right - left) * k // (len(s) - 1),
                    bottom - int((bottom - top) * (v - lo) / span),
                )
                for k, v in enumerate(s)
            ]
            for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
                cv.line(x0, y0, x1, y1, colours[s_i % 2], thick)
    return cv.png()


def png_blocks(values: list[list[float]], size: tuple[int, int]) -> bytes:
    """A heat map (a confusion matrix) or a grid of sample images."""
    width, height = size
    cv = _Canvas(width, height)
    rows, cols = len(values), len(values[0])
    for r in range(rows):
        for c in range(cols):
            v = max(0.0, min(1.0, values[r][c]))
            col = (int(255 * (1 - v)), int(255 * (1 - 0.6 * v)), 255)
            cv.rect(
                c * width // cols, r * height // rows, (c + 1) * width // cols - 1,
                (r + 1) * height // rows - 1, col,
            )  # fmt: skip
    return cv.png()


def _image(png: bytes, text: str = "<Figure size 1200x400 with 2 Axes>") -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(png).decode(), "text/plain": [text]},
        "metadata": {},
    }


def _stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def _result(text: str, count: int) -> dict[str, Any]:
    return {
        "output_type": "execute_result",
        "execution_count": count,
        "data": {"text/plain": text},
        "metadata": {},
    }


# ----------------------------------------------------------------- training logs

_BAR = "\x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m"


@dataclass
class History:
    acc: list[float]
    loss: list[float]
    val_acc: list[float]
    val_loss: list[float]
    test_acc: float
    test_loss: float
    seconds: float


def _history(rng: random.Random, epochs: int, start: float, end: float) -> History:
    acc, loss, vacc, vloss = [], [], [], []
    for e in range(epochs):
        t = (e + 1) / epochs
        a = start + (end - start) * (1 - (1 - t) ** 2) + rng.uniform(-0.02, 0.02)
        va = a - rng.uniform(0.0, 0.06) * t
        acc.append(round(min(0.999, a), 4))
        vacc.append(round(min(0.999, va), 4))
        loss.append(round(1.6 * (1 - a) + 0.15 + rng.uniform(-0.03, 0.03), 4))
        vloss.append(round(1.6 * (1 - va) + 0.2 + rng.uniform(0.0, 0.08) * t, 4))
    test = round(vacc[-1] + rng.uniform(-0.03, 0.02), 4)
    return History(
        acc,
        loss,
        vacc,
        vloss,
        test,
        round(1.6 * (1 - test) + 0.2 + rng.uniform(-0.05, 0.05), 4),
        round(rng.uniform(20, 400), 1),
    )


def _fit_log(h: History, steps: int, *, first_epoch: int = 1, updates: int = 2) -> str:
    out = []
    total = first_epoch + len(h.acc) - 1
    for k in range(len(h.acc)):
        out.append(f"Epoch {first_epoch + k}/{total}\n")
        for u in range(1, updates + 1):
            done = max(1, steps * u // (updates + 1))
            out.append(
                f"\r\x1b[1m{done:>3}/{steps}\x1b[0m \x1b[32m━━━━━━━━━━\x1b[0m\x1b[37m━━━━━━━━━━"
                f"\x1b[0m \x1b[1m{updates - u + 2}s\x1b[0m 60ms/step - accuracy: "
                f"{h.acc[k] * (0.8 + 0.05 * u):.4f} - loss: {h.loss[k] * (1.2 - 0.05 * u):.4f}"
            )
        ms = 40 + (k * 7) % 30
        out.append(
            f"\r\x1b[1m{steps}/{steps}\x1b[0m {_BAR} \x1b[1m{ms * steps // 1000 + 1}s\x1b[0m "
            f"{ms}ms/step - accuracy: {h.acc[k]:.4f} - loss: {h.loss[k]:.4f} - "
            f"val_accuracy: {h.val_acc[k]:.4f} - val_loss: {h.val_loss[k]:.4f}\n"
        )
    return "".join(out)


def _evaluate_log(h: History, steps: int = 32) -> str:
    return (
        f"\r\x1b[1m 1/{steps}\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m1s\x1b[0m 40ms/step"
        f" - accuracy: {min(h.test_acc + 0.05, 1):.4f} - loss: {h.test_loss * 0.9:.4f}"
        f"\r\x1b[1m{steps}/{steps}\x1b[0m {_BAR} \x1b[1m0s\x1b[0m 6ms/step"
        f" - accuracy: {h.test_acc:.4f} - loss: {h.test_loss:.4f}\n"
    )


# ------------------------------------------------------------- cells and runs


@dataclass
class Run:
    """One execution of a notebook: its random generator and what earlier cells produced."""

    rng: random.Random
    image_size: tuple[int, int]
    updates: int
    results: dict[str, History] = field(default_factory=dict)
    count: int = 0


@dataclass
class Cell:
    kind: str  # "code" or "markdown"
    source: str
    role: str = ""
    run: Callable[[Run], list[dict[str, Any]]] | None = None


def _md(text: str) -> Cell:
    return Cell("markdown", text)


def _code(
    source: str, role: str = "", run: Callable[[Run], list[dict[str, Any]]] | None = None
) -> Cell:
    return Cell("code", source.strip("\n"), role, run)


def render(
    cells: list[Cell], *, seed: int, image_size: tuple[int, int], updates: int = 2
) -> tuple[dict[str, Any], list[str]]:
    """A notebook dict (as saved after running all cells) and the role of each cell."""
    ctx = Run(random.Random(seed), image_size, updates)
    out_cells: list[dict[str, Any]] = []
    roles: list[str] = []
    for i, cell in enumerate(cells):
        src = cell.source
        lines = src.splitlines(keepends=True)
        if cell.kind == "markdown":
            out_cells.append(
                {"cell_type": "markdown", "id": f"c{i}", "metadata": {}, "source": lines}
            )
        else:
            ctx.count += 1
            outputs = cell.run(ctx) if cell.run else []
            for o in outputs:
                if o.get("output_type") == "execute_result":
                    o["execution_count"] = ctx.count
            out_cells.append(
                {
                    "cell_type": "code",
                    "id": f"c{i}",
                    "metadata": {},
                    "execution_count": ctx.count,
                    "outputs": outputs,
                    "source": lines,
                }
            )
        roles.append(cell.role)
    nb = {
        "cells": out_cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return nb, roles


# ------------------------------------------------------------------ starter

STARTER_IMPORTS = """
import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
"""

STARTER_DATA = """
# Load CIFAR-10 and keep a small subset of 5 classes (as in homework 4)
(x_train_full, y_train_full), (x_test_full, y_test_full) = keras.datasets.cifar10.load_data()
CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'dog']
train_mask = np.isin(y_train_full.flatten(), range(len(CLASSES)))
test_mask = np.isin(y_test_full.flatten(), range(len(CLASSES)))
x_all, y_all = x_train_full[train_mask], y_train_full[train_mask].flatten()
x_train, y_train = x_all[:2000] / 255.0, y_all[:2000]
x_val, y_val = x_all[2000:3000] / 255.0, y_all[2000:3000]
x_test, y_test = x_test_full[test_mask][:1000] / 255.0, y_test_full[test_mask].flatten()[:1000]
print(x_train.shape, x_val.shape, x_test.shape)
"""

STARTER_SAMPLES = """
plt.figure(figsize=(10, 2))
for i in range(10):
    plt.subplot(1, 10, i + 1)
    plt.imshow(x_train[i])
    plt.title(CLASSES[y_train[i]], fontsize=8)
    plt.axis('off')
plt.show()
"""

STARTER_HELPER = '''
def plot_history(history, title=''):
    """Training and validation curves (loss and accuracy) of a Keras History."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    axes[0].plot(history.history['loss'], label='train')
    axes[0].plot(history.history['val_loss'], label='validation')
    axes[0].set_title(title + ' loss')
    axes[0].legend()
    axes[1].plot(history.history['accuracy'], label='train')
    axes[1].plot(history.history['val_accuracy'], label='validation')
    axes[1].set_title(title + ' accuracy')
    axes[1].legend()
    plt.show()
'''

TEXTBOOK_MODEL = """
# The bipyramidal CNN from the lecture
model_1 = keras.Sequential([
    layers.Conv2D(32, (3, 3), activation='relu', padding='same', input_shape=(32, 32, 3)),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation='relu', padding='same'),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(128, (3, 3), activation='relu', padding='same'),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(128, activation='relu'),
    layers.Dropout(0.5),
    layers.Dense(5, activation='softmax'),
])
model_1.summary()
"""

TEXTBOOK_FIT = """
model_1.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
history_1 = model_1.fit(x_train, y_train, epochs=15, batch_size=64,
                        validation_data=(x_val, y_val))
"""

TEXTBOOK_PLOT = "plot_history(history_1, 'Model 1')"

TEXTBOOK_EVAL = """
test_loss_1, test_acc_1 = model_1.evaluate(x_test, y_test)
print(f'Test accuracy: {test_acc_1:.4f}')
"""

_SUMMARY = (
    'Model: "sequential"\n'
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
    "│ conv2d (Conv2D)                 │ (None, 32, 32, 32)     │           896 │\n"
    "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
    " Total params: 356,037 (1.36 MB)\n"
    " Trainable params: 356,037 (1.36 MB)\n"
    " Non-trainable params: 0 (0.00 B)\n"
)


def _sample_grid(ctx: Run) -> list[dict[str, Any]]:
    grid_rng = random.Random(12345)  # the same data, the same figure for everyone
    values = [[grid_rng.random() for _ in range(40)] for _ in range(4)]
    w, h = ctx.image_size
    return [_image(png_blocks(values, (w, max(16, h // 3))), "<Figure size 1000x200 with 10 Axes>")]


def _fit_run(
    key: str, epochs: int, batch: int, start: float, end: float
) -> Callable[[Run], list[dict[str, Any]]]:
    def run(ctx: Run) -> list[dict[str, Any]]:
        h = _history(ctx.rng, epochs, start, end)
        ctx.results[key] = h
        return [_stream(_fit_log(h, max(1, 2000 // batch), updates=ctx.updates))]

    return run


def _finetune_run(key: str, epochs: int, batch: int) -> Callable[[Run], list[dict[str, Any]]]:
    def run(ctx: Run) -> list[dict[str, Any]]:
        before = ctx.results[key]
        h = _history(ctx.rng, epochs, before.val_acc[-1], min(0.97, before.val_acc[-1] + 0.06))
        ctx.results[key + ".ft"] = h
        ctx.results[key] = h
        return [
            _stream(
                _fit_log(
                    h, max(1, 2000 // batch), first_epoch=len(before.acc) + 1, updates=ctx.updates
                )
            )
        ]

    return run


def _plot_run(
    key: str, palette: int, grid: bool, thick: int
) -> Callable[[Run], list[dict[str, Any]]]:
    def run(ctx: Run) -> list[dict[str, Any]]:
        h = ctx.results[key]
        png = png_chart(
            [[h.loss, h.val_loss], [h.acc, h.val_acc]],
            ctx.image_size,
            palette=palette,
            grid=grid,
            thick=thick,
        )
        return [_image(png)]

    return run


def _eval_run(key: str, fmt: str, show_result: bool) -> Callable[[Run], list[dict[str, Any]]]:
    def run(ctx: Run) -> list[dict[str, Any]]:
        h = ctx.results[key]
        outs = [_stream(_evaluate_log(h) + fmt.format(acc=h.test_acc, loss=h.test_loss) + "\n")]
        if show_result:
            outs.append(_result(repr(h.test_acc + 0.0000000123), ctx.count))
        return outs

    return run


def _cm_run(key: str, as_image: bool) -> Callable[[Run], list[dict[str, Any]]]:
    def run(ctx: Run) -> list[dict[str, Any]]:
        h = ctx.results[key]
        rng = ctx.rng
        rows = []
        for r in range(N_CLASSES):
            row = [rng.randint(5, 40) for _ in range(N_CLASSES)]
            row[r] = int(200 * h.test_acc) + rng.randint(-10, 10)
            rows.append(row)
        if as_image:
            mx = max(max(r) for r in rows)
            w, hgt = ctx.image_size
            return [
                _image(
                    png_blocks([[v / mx for v in r] for r in rows], (hgt, hgt)),
                    "<Figure size 600x600 with 2 Axes>",
                )
            ]
        text = "[" + "\n ".join("[" + " ".join(f"{v:3d}" for v in r) + "]" for r in rows) + "]\n"
        return [_stream(text)]

    return run


def _compare_run(keys: list[tuple[str, str]], timed: bool) -> Callable[[Run], list[dict[str, Any]]]:
    def run(ctx: Run) -> list[dict[str, Any]]:
        lines = [f"{'Model':<28}{'Test accuracy':>14}" + (f"{'Time [s]':>10}" if timed else "")]
        for label, key in keys:
            h = ctx.results.get(key)
            if h is None:
                continue
            line = f"{label:<28}{h.test_acc:>14.4f}"
            if timed:
                line += f"{h.seconds:>10.1f}"
            lines.append(line)
        return [_stream("\n".join(lines) + "\n")]

    return run


def starter_cells() -> list[Cell]:
    """The notebook every student starts from (what the instructor hands out)."""
    return [
        _md("# Homework 5: transfer learning and advanced CNN architectures"),
        _code(STARTER_IMPORTS, "imports"),
        _md("## Data"),
        _code(
            STARTER_DATA,
            "data",
            lambda ctx: [_stream("(2000, 32, 32, 3) (1000, 32, 32, 3) (1000, 32, 32, 3)\n")],
        ),
        _code(STARTER_SAMPLES, "samples", _sample_grid),
        _code(STARTER_HELPER, "helper"),
        _md("## Model 1: the CNN from the lecture"),
        _code(TEXTBOOK_MODEL, "m1.build", lambda ctx: [_stream(_SUMMARY)]),
        _code(TEXTBOOK_FIT, "m1.fit", _fit_run("m1", 15, 64, 0.35, 0.68)),
        _code(TEXTBOOK_PLOT, "m1.plot", _plot_run("m1", 0, False, 1)),
        _code(TEXTBOOK_EVAL, "m1.eval", _eval_run("m1", "Test accuracy: {acc:.4f}", False)),
    ]


def starter_notebook() -> dict[str, Any]:
    """The starter as handed out: code without outputs."""
    nb, _ = render(
        [Cell(c.kind, c.source, c.role, None) for c in starter_cells()],
        seed=0,
        image_size=(16, 16),
    )
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = None
    return nb


# ------------------------------------------------------------ how a student writes

NAME_POOLS: dict[str, list[str]] = {
    "m2": ["model_2", "custom_cnn", "res_model", "xnet", "m2", "cnn2", "my_resnet", "net2",
           "model_res", "model_custom", "xception_like", "deep_cnn", "model_b", "sit2"],
    "h2": ["history_2", "hist2", "h2", "hist_custom", "history_res", "train_log2", "hist_b",
           "historie2", "res_hist", "history_custom"],
    "m3": ["model_3", "transfer_model", "tl_model", "m3", "pretrained_model", "model_tl",
           "net3", "transfer", "model_c", "sit3"],
    "h3": ["history_3", "hist3", "h3", "hist_tl", "history_transfer", "train_log3", "hist_c",
           "historie3", "tl_hist"],
    "base": ["base_model", "base", "backbone", "pretrained", "conv_base", "feature_extractor",
             "zaklad", "encoder"],
    "block": ["res_block", "residual_block", "blok", "conv_block", "xception_block",
              "sep_block", "block", "make_block", "residual", "res_unit"],
    "x": ["x", "h", "y", "t", "z", "out_", "feat"],
    "inp": ["inputs", "inp", "input_layer", "vstup", "in_", "img_input"],
    "out": ["outputs", "out", "output_layer", "vystup", "preds", "logits"],
    "acc": ["acc", "test_acc", "accuracy", "presnost", "score", "test_accuracy"],
    "loss": ["loss", "test_loss", "ztrata", "tl", "eval_loss"],
    "f": ["filters", "f", "n_filters", "nf", "channels", "width"],
    "skip": ["shortcut", "skip", "residual", "identity", "prev", "sc"],
    "size": ["IMG_SIZE", "img_size", "SIZE", "target", "res", "INPUT_SIZE"],
    "prep": ["prepare", "preprocess", "prep", "to_input", "resize_images", "upscale"],
}  # fmt: skip

COMMENTS = {
    "en": ["# build the model", "# residual block with a projection shortcut", "# train",
           "# evaluate on the test set", "# freeze the pretrained base", "# new classification head",
           "# fine-tuning: unfreeze the top of the base", "# learning curves"],
    "cz": ["# sestaveni modelu", "# reziduální blok", "# trenovani", "# vyhodnoceni na testovacich datech",
           "# zmrazeni predtrenovane site", "# nova klasifikacni hlava", "# doladeni posledni vrstvy",
           "# krivky uceni"],
}  # fmt: skip

BASES = [
    ("Xception", "xception", [71, 96, 128]),
    ("ResNet50", "resnet50", [64, 96, 128]),
    ("VGG16", "vgg16", [48, 64, 96]),
    ("EfficientNetB0", "efficientnet", [64, 96, 128]),
    ("MobileNet", "mobilenet", [96, 128]),
    ("DenseNet121", "densenet", [64, 96]),
    ("ResNet50V2", "resnet_v2", [64, 96, 128]),
    ("InceptionV3", "inception_v3", [75, 96]),
]


@dataclass
class Style:
    """How one student writes code: habits that survive whatever model they build.

    Each habit is an independent draw, so two honest students rarely write a
    long stretch of code the same way (as in a real class), except where they
    both follow the starter notebook or a lecture pattern.
    """

    prefix: str  # "layers." or "" (from tensorflow.keras.layers import ...)
    named: bool  # Conv2D(filters=32, kernel_size=3) instead of Conv2D(32, 3)
    act: str  # "layer" Activation('relu'), "kwarg" activation='relu', "relu" ReLU()
    bn_first: bool  # BatchNormalization before the activation
    use_bias: bool  # use_bias=False on convolutions followed by batch normalisation
    tuple_kernel: bool  # kernel_size=(3, 3)
    kinit: bool  # kernel_initializer='he_normal'
    reg: bool  # kernel_regularizer=l2(...)
    add: str  # "Add" layers.Add()([a, b]), "add" layers.add([a, b]), "plus" a + b
    proj: str  # residual projection: "cond" when the width changes, "always"
    stem: int  # convolutions before the first block
    model_kw: bool  # Model(inputs=..., outputs=..., name=...)
    kw_rank: dict[str, float]  # the order keyword arguments come in
    lang: str  # comments: "en", "cz" or ""
    fstring: bool
    helper: bool  # plots with the starter's plot_history
    palette: int
    grid: bool
    thick: int
    opt_obj: bool  # keras.optimizers.Adam(...) rather than 'adam'
    metric: str  # "accuracy", "acc"
    verbose: int | None  # fit(..., verbose=...)
    compile_order: tuple[str, ...]
    tl_api: str  # transfer model: "functional" or "sequential"
    tl_training_flag: bool  # base(x, training=False)
    tl_prep: str  # "preprocess_input" or "rescaling"
    shuffle: bool  # fit(..., shuffle=True)
    noise: float  # how often a call departs from the habits (an extra argument, a layer name)
    rng: random.Random  # for those departures

    @classmethod
    def draw(cls, rng: random.Random) -> Style:
        kws = ["activation", "padding", "kernel_initializer", "kernel_regularizer", "use_bias",
               "strides", "weights", "include_top", "input_shape", "name"]  # fmt: skip
        return cls(
            prefix=rng.choice(["layers.", "layers.", ""]),
            named=rng.random() < 0.35,
            act=rng.choice(["layer", "kwarg", "relu", "kwarg"]),
            bn_first=rng.random() < 0.6,
            use_bias=rng.random() < 0.3,
            tuple_kernel=rng.random() < 0.4,
            kinit=rng.random() < 0.25,
            reg=rng.random() < 0.2,
            add=rng.choice(["Add", "add", "plus"]),
            proj=rng.choice(["cond", "always"]),
            stem=rng.choice([1, 1, 2]),
            model_kw=rng.random() < 0.4,
            kw_rank={k: rng.random() for k in kws},
            lang=rng.choice(["en", "cz", "", "en"]),
            fstring=rng.random() < 0.6,
            helper=rng.random() < 0.5,
            palette=rng.randrange(len(PALETTES)),
            grid=rng.random() < 0.5,
            thick=rng.choice([1, 1, 2]),
            opt_obj=rng.random() < 0.6,
            metric=rng.choice(["accuracy", "accuracy", "acc"]),
            verbose=rng.choice([None, None, 1, 2]),
            compile_order=tuple(rng.sample(["optimizer", "loss", "metrics"], 3)),
            tl_api=rng.choice(["functional", "sequential"]),
            tl_training_flag=rng.random() < 0.6,
            tl_prep=rng.choice(["preprocess_input", "rescaling"]),
            shuffle=rng.random() < 0.3,
            noise=rng.uniform(0.1, 0.35),
            rng=random.Random(rng.getrandbits(32)),
        )


def draw_names(rng: random.Random, avoid: dict[str, str] | None = None) -> dict[str, str]:
    out = {}
    for role, pool in NAME_POOLS.items():
        choices = [p for p in pool if not avoid or p != avoid.get(role)]
        out[role] = rng.choice(choices)
    return out


@dataclass
class Design:
    """What one student decided to build and how to train it."""

    kind: str  # "residual", "xception" or "plain"
    api: str  # "functional" or "sequential" (plain only)
    blocks: int
    filters: list[int]
    kernel: int
    act: str
    bn: bool
    dropout: float
    dense: int
    gap: bool
    opt: str
    lr: float
    epochs: int
    batch: int
    early_stop: bool
    loop: bool  # blocks in a for loop
    base: tuple[str, str, list[int]]
    size: int
    head_dense: int
    head_dropout: float
    flatten_head: bool
    finetune: bool
    ft_layers: int
    ft_lr: float
    tl_epochs: int
    tl_batch: int
    resize_in_model: bool
    cm_image: bool
    eval_fmt: int
    show_result: bool
    timed: bool
    compare_table: bool
    extra_cells: int

    @classmethod
    def draw(cls, rng: random.Random) -> Design:
        base_f = rng.choice([16, 24, 32, 48, 64])
        blocks = rng.randint(2, 4)
        growth = rng.choice(["double", "plus", "same"])
        filters = []
        f = base_f
        for _ in range(blocks):
            filters.append(f)
            f = f * 2 if growth == "double" else f + 32 if growth == "plus" else f
        base = rng.choice(BASES)
        return cls(
            kind=rng.choice(["residual", "xception", "plain", "residual"]),
            api=rng.choice(["functional", "sequential"]),
            blocks=blocks,
            filters=filters,
            kernel=rng.choice([3, 3, 5]),
            act=rng.choice(["relu", "relu", "elu", "swish", "gelu"]),
            bn=rng.random() < 0.7,
            dropout=rng.choice([0.2, 0.25, 0.3, 0.4, 0.5]),
            dense=rng.choice([64, 128, 256, 512]),
            gap=rng.random() < 0.6,
            opt=rng.choice(["adam", "adam", "rmsprop", "sgd", "adamw"]),
            lr=rng.choice([1e-3, 5e-4, 3e-4, 2e-3, 1e-4]),
            epochs=rng.choice([10, 12, 15, 20, 25, 30]),
            batch=rng.choice([32, 64, 128]),
            early_stop=rng.random() < 0.4,
            loop=rng.random() < 0.5,
            base=base,
            size=rng.choice(base[2]),
            head_dense=rng.choice([0, 64, 128, 256]),
            head_dropout=rng.choice([0.0, 0.2, 0.3, 0.5]),
            flatten_head=rng.random() < 0.25,
            finetune=rng.random() < 0.5,
            ft_layers=rng.choice([10, 20, 30, 40]),
            ft_lr=rng.choice([1e-5, 5e-5, 1e-4]),
            tl_epochs=rng.choice([5, 8, 10, 12]),
            tl_batch=rng.choice([32, 64]),
            resize_in_model=rng.random() < 0.5,
            cm_image=rng.random() < 0.6,
            eval_fmt=rng.randrange(4),
            show_result=rng.random() < 0.3,
            timed=rng.random() < 0.5,
            compare_table=rng.random() < 0.7,
            extra_cells=rng.randint(0, 4),
        )


class _Raw(str):
    """A piece of code put into a call as it is (a variable name)."""


def _value(v: object) -> str:
    if isinstance(v, _Raw):
        return str(v)
    return repr(v)


def _layer(st: Style, name: str, *pos: object, **kw: object) -> str:
    """One layer call the way this student writes it."""
    params = {"Conv2D": ["filters", "kernel_size"], "SeparableConv2D": ["filters", "kernel_size"],
              "Dense": ["units"], "Dropout": ["rate"], "MaxPooling2D": ["pool_size"]}.get(name, [])  # fmt: skip
    args: list[str] = []
    for i, p in enumerate(pos):
        if params[i : i + 1] == ["kernel_size"] and st.tuple_kernel and isinstance(p, int):
            p = (p, p)
        if st.named and i < len(params):
            args.append(f"{params[i]}={_value(p)}")
        else:
            args.append(_value(p))
    if name in ("Conv2D", "SeparableConv2D"):
        if st.kinit:
            kw.setdefault("kernel_initializer", "he_normal")
        if st.reg:
            kw.setdefault("kernel_regularizer", _Raw("keras.regularizers.l2(1e-4)"))
    if st.rng.random() < st.noise:
        extra, value = st.rng.choice(_DEPARTURES)
        if extra == "name":
            value = f"{name.lower()[:4]}_{st.rng.choice(['a', 'b', 'x', 'top', 'blk', 'out'])}{st.rng.randint(1, 9)}"
        kw.setdefault(extra, value)
    ordered = sorted(kw.items(), key=lambda t: st.kw_rank.get(t[0], 0.5))
    args += [f"{k}={_value(v)}" for k, v in ordered]
    return f"{st.prefix}{name}({', '.join(args)})"


_DEPARTURES: list[tuple[str, object]] = [
    ("name", ""),
    ("name", ""),
    ("dtype", "float32"),
    ("trainable", True),
    ("kernel_constraint", _Raw("keras.constraints.max_norm(3)")),
    ("bias_initializer", "zeros"),
]


def _comment(st: Style, k: int) -> str:
    if not st.lang:
        return ""
    return COMMENTS[st.lang][k % len(COMMENTS[st.lang])] + "\n"


def _optimizer(st: Style, opt: str, lr: float) -> str:
    cls = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD", "adamw": "AdamW"}[opt]
    if not st.opt_obj and opt in ("adam", "rmsprop") and lr == 1e-3:
        return repr(opt)
    mom = ", momentum=0.9" if opt == "sgd" else ""
    return f"keras.optimizers.{cls}(learning_rate={lr}{mom})"


def _imports_cell(st: Style) -> str:
    if st.prefix:
        return ""
    return (
        "from tensorflow.keras.layers import (Conv2D, SeparableConv2D, MaxPooling2D, Dense, Dropout,\n"
        "    BatchNormalization, Activation, ReLU, Add, add, GlobalAveragePooling2D, Flatten,\n"
        "    Input, Resizing, Rescaling)\n"
        "from tensorflow.keras.models import Model, Sequential"
    )


def _act_lines(st: Style, d: Design, var: str, indent: str) -> list[str]:
    """Batch normalisation and activation after a layer, in this student's order."""
    L = st.prefix  # noqa: N806
    act = (
        f"{indent}{var} = {L}ReLU()({var})"
        if st.act == "relu" and d.act == "relu"
        else f"{indent}{var} = {_layer(st, 'Activation', d.act)}({var})"
    )
    bn = f"{indent}{var} = {L}BatchNormalization()({var})"
    if not d.bn:
        return [act]
    return [bn, act] if st.bn_first else [act, bn]


def _conv(
    st: Style, d: Design, conv: str, filt: object, k: int, var: str, indent: str, **kw: object
) -> list[str]:
    """A convolution with its activation, as this student writes it."""
    if st.act == "kwarg" and not (d.bn and st.bn_first):
        line = _layer(st, conv, filt, k, padding="same", activation=d.act, **kw)
        out = [f"{indent}{var} = {line}({var})"]
        if d.bn:
            out.append(f"{indent}{var} = {st.prefix}BatchNormalization()({var})")
        return out
    if d.bn and st.use_bias:
        kw["use_bias"] = False
    line = _layer(st, conv, filt, k, padding="same", **kw)
    return [f"{indent}{var} = {line}({var})"] + _act_lines(st, d, var, indent)


def _add(st: Style, a: str, b: str) -> str:
    if st.add == "plus":
        return f"{a} + {b}"
    if st.add == "add":
        return f"{st.prefix}add([{a}, {b}])"
    return f"{st.prefix}Add()([{a}, {b}])"


def _custom_build(st: Style, d: Design, n: dict[str, str], rng: random.Random) -> str:
    L = st.prefix  # noqa: N806
    x, f, blk, skip = n["x"], n["f"], n["block"], n["skip"]
    K = "keras." if L else ""  # noqa: N806

    if d.kind == "plain" and d.api == "sequential":
        lines = [f"{n['m2']} = {K}Sequential(["]
        lines.append(f"    {_layer(st, 'Input', (32, 32, 3))},")
        for filt in d.filters:
            for _ in range(2):
                if st.act == "kwarg":
                    lines.append(
                        f"    {_layer(st, 'Conv2D', filt, d.kernel, activation=d.act, padding='same')},"
                    )
                    if d.bn:
                        lines.append(f"    {L}BatchNormalization(),")
                else:
                    lines.append(f"    {_layer(st, 'Conv2D', filt, d.kernel, padding='same')},")
                    seq = [f"    {L}BatchNormalization(),"] if d.bn else []
                    a = (
                        f"    {L}ReLU(),"
                        if st.act == "relu" and d.act == "relu"
                        else f"    {_layer(st, 'Activation', d.act)},"
                    )
                    lines += seq + [a] if st.bn_first else [a] + seq
            lines.append(f"    {_layer(st, 'MaxPooling2D', 2)},")
            lines.append(f"    {_layer(st, 'Dropout', round(d.dropout / 2, 2))},")
        lines.append(f"    {L}GlobalAveragePooling2D()," if d.gap else f"    {L}Flatten(),")
        lines.append(f"    {_layer(st, 'Dense', d.dense, activation=d.act)},")
        lines.append(f"    {_layer(st, 'Dropout', d.dropout)},")
        lines.append(f"    {_layer(st, 'Dense', N_CLASSES, activation='softmax')},")
        lines.append("])")
        return "\n".join(lines) + f"\n{n['m2']}.summary()"

    conv = "SeparableConv2D" if d.kind == "xception" else "Conv2D"
    kparam = rng.random() < 0.4
    sig = f"def {blk}({x}, {f}" + (f", kernel_size={d.kernel}):" if kparam else "):")
    k: object = _Raw("kernel_size") if kparam else d.kernel
    body = [sig]
    if d.kind == "residual":
        body.append(f"    {skip} = {x}")
        body += _conv(st, d, conv, _Raw(f), k, x, "    ")  # type: ignore[arg-type]
        body.append(f"    {x} = {_layer(st, conv, _Raw(f), k, padding='same')}({x})")
        if d.bn:
            body.append(f"    {x} = {L}BatchNormalization()({x})")
        if st.proj == "cond":
            body.append(f"    if {skip}.shape[-1] != {f}:")
            body.append(
                f"        {skip} = {_layer(st, 'Conv2D', _Raw(f), 1, padding='same')}({skip})"
            )
        else:
            body.append(f"    {skip} = {_layer(st, 'Conv2D', _Raw(f), 1)}({skip})")
        body.append(f"    {x} = {_add(st, x, skip)}")
        body.append(f"    {x} = {_layer(st, 'Activation', d.act)}({x})")
        body.append(f"    return {x}")
    elif d.kind == "xception":
        body.append(
            f"    {skip} = {_layer(st, 'Conv2D', _Raw(f), 1, strides=2, padding='same')}({x})"
        )
        for _ in range(2):
            body += _act_lines(st, d, x, "    ")
            body.append(f"    {x} = {_layer(st, conv, _Raw(f), k, padding='same')}({x})")
        body.append(f"    {x} = {_layer(st, 'MaxPooling2D', 3, strides=2, padding='same')}({x})")
        body.append(f"    return {_add(st, x, skip)}")
    else:
        for _ in range(2):
            body += _conv(st, d, conv, _Raw(f), k, x, "    ")  # type: ignore[arg-type]
        body.append(f"    {x} = {_layer(st, 'MaxPooling2D', 2)}({x})")
        body.append(f"    return {x}")
    main = ["", f"{n['inp']} = {K}Input(shape=(32, 32, 3))", f"{x} = {n['inp']}"]
    for s in range(st.stem):
        main += _conv(
            st, d, "Conv2D", d.filters[0] // (2 if s == 0 and st.stem == 2 else 1), 3, x, ""
        )
    pool = d.kind == "residual"
    if d.loop:
        main.append(f"for {f} in {d.filters!r}:")
        main.append(f"    {x} = {blk}({x}, {f})")
        if pool:
            main.append(f"    {x} = {_layer(st, 'MaxPooling2D', 2)}({x})")
    else:
        for filt in d.filters:
            main.append(f"{x} = {blk}({x}, {filt})")
            if pool:
                main.append(f"{x} = {_layer(st, 'MaxPooling2D', 2)}({x})")
    main.append(f"{x} = {L}GlobalAveragePooling2D()({x})" if d.gap else f"{x} = {L}Flatten()({x})")
    if d.dense and not d.gap:
        main.append(f"{x} = {_layer(st, 'Dense', d.dense, activation=d.act)}({x})")
    main.append(f"{x} = {_layer(st, 'Dropout', d.dropout)}({x})")
    main.append(f"{n['out']} = {_layer(st, 'Dense', N_CLASSES, activation='softmax')}({x})")
    if st.model_kw:
        main.append(
            f"{n['m2']} = {K}Model(inputs={n['inp']}, outputs={n['out']}, name={n['m2']!r})"
        )
    else:
        main.append(f"{n['m2']} = {K}Model({n['inp']}, {n['out']})")
    main.append(f"{n['m2']}.summary()")
    return "\n".join(body + main)


def _fit_source(st: Style, m: str, h: str, opt: str, epochs: int, batch: int, es: bool,
                data: tuple[str, str, str, str], *, split: bool = False) -> str:  # fmt: skip
    xtr, ytr, xv, yv = data
    parts = {
        "optimizer": f"optimizer={opt}",
        "loss": "loss='sparse_categorical_crossentropy'",
        "metrics": f"metrics=[{st.metric!r}]",
    }
    lines = [f"{m}.compile(" + ", ".join(parts[k] for k in st.compile_order) + ")"]
    extra = ""
    if es:
        lines.insert(
            0,
            "early = keras.callbacks.EarlyStopping(monitor='val_loss', patience=5, "
            "restore_best_weights=True)",
        )
        extra += ", callbacks=[early]"
    if st.verbose is not None:
        extra += f", verbose={st.verbose}"
    if st.shuffle:
        extra += ", shuffle=True"
    if st.fstring:
        lines.append("import time")
        lines.append("start = time.time()")
    val = "validation_split=0.2" if split else f"validation_data=({xv}, {yv})"
    lines.append(f"{h} = {m}.fit({xtr}, {ytr}, epochs={epochs}, batch_size={batch}, {val}{extra})")
    if st.fstring:
        lines.append("fit_seconds = time.time() - start")
    return "\n".join(lines)


def _plot_source(st: Style, h: str, title: str) -> str:
    key = "acc" if st.metric == "acc" else "accuracy"
    if st.helper and key == "accuracy":
        return f"plot_history({h}, {title!r})"
    return "\n".join(
        [
            "fig, ax = plt.subplots(1, 2, figsize=(12, 4))",
            f"for i, key in enumerate(['loss', {key!r}]):",
            f"    ax[i].plot({h}.history[key], label='train')",
            f"    ax[i].plot({h}.history['val_' + key], label='val')",
            f"    ax[i].set_title({title!r} + ' ' + key)",
            *(["    ax[i].grid(True)"] if st.grid else []),
            "    ax[i].legend()",
            "plt.tight_layout()",
            "plt.show()",
        ]
    )


EVAL_FORMATS = [
    "Test accuracy: {acc:.4f}",
    "Přesnost na testovacích datech: {acc:.4f}",
    "test acc = {acc:.4f}, loss = {loss:.4f}",
    "Accuracy on test set: {acc:.4f}",
]


def _eval_source(st: Style, n: dict[str, str], m: str, fmt: int, x_test: str = "x_test") -> str:
    acc, loss = n["acc"], n["loss"]
    label = EVAL_FORMATS[fmt].split(":")[0].split("=")[0].strip()
    pr = f"print(f'{label}: {{{acc}:.4f}}')" if st.fstring else f"print('{label}: %.4f' % {acc})"
    return f"{loss}, {acc} = {m}.evaluate({x_test}, y_test)\n{pr}"


def _cm_source(m: str, image: bool) -> str:
    lines = [
        "from sklearn.metrics import confusion_matrix",
        f"y_pred = np.argmax({m}.predict(x_test, verbose=0), axis=1)",
        "cm = confusion_matrix(y_test, y_pred)",
    ]
    if image:
        lines += [
            "plt.figure(figsize=(6, 6))",
            "plt.imshow(cm, cmap='Blues')",
            "plt.xticks(range(len(CLASSES)), CLASSES, rotation=45)",
            "plt.yticks(range(len(CLASSES)), CLASSES)",
            "plt.colorbar()",
            "plt.show()",
        ]
    else:
        lines.append("print(cm)")
    return "\n".join(lines)


def _transfer_build(st: Style, d: Design, n: dict[str, str], size: int, shape: str) -> list[str]:
    L = st.prefix  # noqa: N806
    K = "keras." if L else ""  # noqa: N806
    base_cls, module, _ = d.base
    b, m, x = n["base"], n["m3"], n["x"]
    base_kw = {"weights": "imagenet", "include_top": False, "input_shape": _Raw(shape)}
    ordered = sorted(base_kw.items(), key=lambda t: st.kw_rank.get(t[0], 0.5))
    args = ", ".join(f"{k}={_value(v)}" for k, v in ordered)
    lines = [
        _comment(st, 4).rstrip("\n"),
        f"{b} = keras.applications.{base_cls}({args})",
        f"{b}.trainable = False",
        "",
        _comment(st, 5).rstrip("\n"),
    ]
    head: list[str] = []
    head.append(f"{L}Flatten()" if d.flatten_head else f"{L}GlobalAveragePooling2D()")
    if d.head_dense:
        head.append(_layer(st, "Dense", d.head_dense, activation="relu"))
    if d.head_dropout:
        head.append(_layer(st, "Dropout", d.head_dropout))
    head.append(_layer(st, "Dense", N_CLASSES, activation="softmax"))
    prep = (
        f"{L}Rescaling(scale=2.0, offset=-1.0)"
        if st.tl_prep == "rescaling"
        else f"{L}Lambda(keras.applications.{module}.preprocess_input)"
    )
    if st.tl_api == "sequential":
        steps = [
            f"{K}Input(shape=(32, 32, 3))" if d.resize_in_model else f"{K}Input(shape={shape})"
        ]
        if d.resize_in_model:
            steps += [f"{L}Resizing({size}, {size})", prep]
        steps.append(b)
        steps += head
        lines.append(f"{m} = {K}Sequential([")
        lines += [f"    {s}," for s in steps]
        lines.append("])")
    else:
        inp = f"{K}Input(shape=(32, 32, 3))" if d.resize_in_model else f"{K}Input(shape={shape})"
        lines.append(f"{n['inp']} = {inp}")
        src = n["inp"]
        if d.resize_in_model:
            lines.append(f"{x} = {L}Resizing({size}, {size})({src})")
            lines.append(f"{x} = {prep}({x})")
            src = x
        call = f"{b}({src}, training=False)" if st.tl_training_flag else f"{b}({src})"
        lines.append(f"{x} = {call}")
        for layer in head[:-1]:
            lines.append(f"{x} = {layer}({x})")
        lines.append(f"{n['out']} = {head[-1]}({x})")
        lines.append(f"{m} = {K}Model({n['inp']}, {n['out']})")
    return lines


def _transfer_cells(
    st: Style, d: Design, n: dict[str, str], rng: random.Random, *, key: str = "m3"
) -> list[Cell]:
    base_cls, module, _ = d.base
    size = d.size
    m, h = n["m3"], n["h3"]
    cells: list[Cell] = [
        _md(
            rng.choice(
                [
                    "## Model 3: transfer learning",
                    "## Model 3 – předtrénovaná síť",
                    f"## Transfer learning ({base_cls})",
                    "## Pretrained base",
                ]
            )
        )  # fmt: skip
    ]
    if not d.resize_in_model:
        prep = [
            f"{n['size']} = {size}",
            f"def {n['prep']}(images):",
            f"    images = tf.image.resize(images * 255.0, ({n['size']}, {n['size']}))",
            f"    return keras.applications.{module}.preprocess_input(images)",
            "",
            f"x_train_tl, x_val_tl, x_test_tl = {n['prep']}(x_train), {n['prep']}(x_val), {n['prep']}(x_test)",
        ]
        cells.append(_code("\n".join(prep), "m3.prep"))
        data = ("x_train_tl", "y_train", "x_val_tl", "y_val")
        shape = f"({n['size']}, {n['size']}, 3)"
    else:
        data = ("x_train", "y_train", "x_val", "y_val")
        shape = f"({size}, {size}, 3)"
    cells.append(_code("\n".join(_transfer_build(st, d, n, size, shape)), "m3.build"))
    opt = _optimizer(st, d.opt if d.opt != "sgd" else "adam", d.lr if d.lr <= 1e-3 else 1e-3)
    cells.append(
        _code(
            _fit_source(st, m, h, opt, d.tl_epochs, d.tl_batch, False, data),
            "m3.fit",
            _fit_run(key, d.tl_epochs, d.tl_batch, 0.55, 0.82),
        )
    )
    b = n["base"]
    if d.finetune:
        ft = [
            _comment(st, 6).rstrip("\n"),
            f"{b}.trainable = True",
            f"for layer in {b}.layers[:-{d.ft_layers}]:",
            "    layer.trainable = False",
            f"{m}.compile(optimizer=keras.optimizers.Adam(learning_rate={d.ft_lr}), "
            f"loss='sparse_categorical_crossentropy', metrics=[{st.metric!r}])",
            f"{h}_ft = {m}.fit({data[0]}, {data[1]}, epochs={d.tl_epochs + 5}, "
            f"initial_epoch={d.tl_epochs}, batch_size={d.tl_batch}, validation_data=({data[2]}, {data[3]}))",
        ]
        cells.append(_code("\n".join(ft), "m3.ft", _finetune_run(key, 5, d.tl_batch)))
    cells.append(
        _code(
            _plot_source(st, h if not d.finetune else f"{h}_ft", f"Transfer {base_cls}"),
            "m3.plot",
            _plot_run(key, st.palette, st.grid, st.thick),
        )  # fmt: skip
    )
    tst = "x_test_tl" if not d.resize_in_model else "x_test"
    cells.append(
        _code(
            _eval_source(st, n, m, d.eval_fmt, tst),
            "m3.eval",
            _eval_run(key, EVAL_FORMATS[d.eval_fmt], d.show_result),
        )
    )
    return cells


def mobilenet_cells(variant: int) -> list[Cell]:
    """Transfer learning with MobileNetV2 and its default settings, as the Keras guide shows it.

    Two honest students who both picked it write it in their own way; the
    model and the training settings come out the same.
    """
    if variant == 0:
        build = """
base_model = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights='imagenet')
base_model.trainable = False
inputs = keras.Input(shape=(32, 32, 3))
x = layers.Resizing(96, 96)(inputs)
x = keras.applications.mobilenet_v2.preprocess_input(x * 255.0)
x = base_model(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(5, activation='softmax')(x)
model_3 = keras.Model(inputs, outputs)
"""
        fit = """
model_3.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
history_3 = model_3.fit(x_train, y_train, epochs=10, validation_data=(x_val, y_val))
"""
        m, h = "model_3", "history_3"
    else:
        build = """
# MobileNetV2 pretrained on ImageNet, frozen, with a new head
mobilenet = tf.keras.applications.MobileNetV2(weights="imagenet", include_top=False,
                                              input_shape=(96, 96, 3))
mobilenet.trainable = False

tl = tf.keras.Sequential()
tl.add(tf.keras.layers.Input(shape=(32, 32, 3)))
tl.add(tf.keras.layers.Resizing(96, 96))
tl.add(tf.keras.layers.Lambda(lambda img: tf.keras.applications.mobilenet_v2.preprocess_input(img * 255)))
tl.add(mobilenet)
tl.add(tf.keras.layers.GlobalAveragePooling2D())
tl.add(tf.keras.layers.Dense(5, activation="softmax"))
tl.summary()
"""
        fit = """
tl.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
tl_history = tl.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=10)
"""
        m, h = "tl", "tl_history"
    return [
        _md("## Model 3: MobileNetV2" if variant == 0 else "## Transfer learning: MobileNetV2"),
        _code(build, "m3.build"),
        _code(fit, "m3.fit", _fit_run("m3", 10, 32, 0.6, 0.84)),
        _code(
            f"plot_history({h}, 'MobileNetV2')"
            if variant == 0
            else f"plt.plot({h}.history['val_accuracy'])\nplt.title('MobileNetV2 validation accuracy')\nplt.show()",
            "m3.plot",
            _plot_run("m3", 2 + variant, variant == 1, 1),
        ),  # fmt: skip
        _code(
            f"loss3, acc3 = {m}.evaluate(x_test, y_test)\nprint('MobileNetV2 test accuracy:', round(acc3, 4))",
            "m3.eval",
            _eval_run("m3", "MobileNetV2 test accuracy: {acc:.4f}", False),
        ),
    ]


def student_cells(rng: random.Random, *, style: Style | None = None, design: Design | None = None,
                  names: dict[str, str] | None = None, minimal: bool = False,
                  transfer: list[Cell] | None = None) -> list[Cell]:  # fmt: skip
    """A whole notebook of one honest student: the starter, then their own work."""
    st = style or Style.draw(rng)
    d = design or Design.draw(rng)
    n = names or draw_names(rng)
    cells = starter_cells()
    imports = _imports_cell(st)
    if imports:
        cells.insert(2, _code(imports, "imports2"))
    if minimal:
        cells.append(_md(rng.choice(["## Transfer learning", "## Model 3"])))
        d.resize_in_model = True
        src = "\n".join(_transfer_build(st, d, n, d.size, f"({d.size}, {d.size}, 3)"))
        src += "\n" + _fit_source(st, n["m3"], n["h3"], "'adam'", d.tl_epochs, 32, False,
                                   ("x_train", "y_train", "x_val", "y_val"))  # fmt: skip
        cells.append(_code(src, "m3.fit", _fit_run("m3", d.tl_epochs, 32, 0.5, 0.75)))
        cells.append(_md(rng.choice(["Transfer learning is better.", "Předtrénovaná síť je lepší.",
                                     "The pretrained model wins, as expected."])))  # fmt: skip
        return cells
    # model 2: the student's own custom CNN
    title = {"residual": "residual CNN", "xception": "Xception-like CNN", "plain": "deeper CNN"}[
        d.kind
    ]
    cells.append(_md(rng.choice([f"## Model 2: {title}", f"## Model 2 – {title}",
                                 f"## Custom {title}", "## Vlastní architektura"])))  # fmt: skip
    build = _comment(st, 0) + _custom_build(st, d, n, rng)
    cells.append(
        _code(
            build, "m2.build", lambda ctx: [_stream(_SUMMARY.replace("sequential", "functional"))]
        )
    )
    opt = _optimizer(st, d.opt, d.lr)
    cells.append(
        _code(
            _comment(st, 2) + _fit_source(st, n["m2"], n["h2"], opt, d.epochs, d.batch, d.early_stop,
                                               ("x_train", "y_train", "x_val", "y_val"),
                                               split=rng.random() < 0.2),
            "m2.fit",
            _fit_run("m2", d.epochs, d.batch, 0.3, rng.uniform(0.66, 0.8)),
        )
    )  # fmt: skip
    cells.append(_code(_plot_source(st, n["h2"], title.capitalize()), "m2.plot",
                       _plot_run("m2", st.palette, st.grid, st.thick)))  # fmt: skip
    cells.append(_code(_eval_source(st, n, n["m2"], d.eval_fmt), "m2.eval",
                       _eval_run("m2", EVAL_FORMATS[d.eval_fmt], d.show_result)))  # fmt: skip
    cells.append(_code(_cm_source(n["m2"], d.cm_image), "m2.cm", _cm_run("m2", d.cm_image)))
    # model 3: transfer learning
    cells += transfer if transfer is not None else _transfer_cells(st, d, n, rng)
    # comparison and discussion
    if d.compare_table:
        rows = [("CNN (lecture)", "m1"), (title, "m2"), ("transfer learning", "m3")]
        src = "results = {\n" + "".join(f"    {label!r}: {key},\n" for label, key in rows) + "}\n"
        src += "for name, value in results.items():\n    print(f'{name:<28}{value:>14.4f}')"
        cells.append(_md(rng.choice(["## Comparison", "## Srovnání modelů", "## Results"])))
        cells.append(_code(src, "cmp", _compare_run(rows, d.timed)))
    extras = [
        ("print(np.bincount(y_train))", lambda ctx: [_stream("[400 400 400 400 400]\n")]),
        ("print(x_train.dtype, x_train.min(), x_train.max())", lambda ctx: [_stream("float64 0.0 1.0\n")]),
        ("wrong = np.where(y_pred != y_test)[0]\nprint(len(wrong), 'misclassified')",
         lambda ctx: [_stream(f"{ctx.rng.randint(150, 350)} misclassified\n")]),
        ("import platform\nprint(platform.python_version(), tf.__version__)",
         lambda ctx: [_stream("3.11.7 2.16.1\n")]),
        ("for i, name in enumerate(CLASSES):\n    print(i, name)", None),
    ]  # fmt: skip
    for src, run in rng.sample(extras, d.extra_cells):
        cells.append(_code(src, "extra", run))
    words = {
        "en": ["The pretrained model generalises best.", "Training from scratch overfits quickly.",
               "Fine-tuning helped a little.", "The residual network trains slower per epoch.",
               "Data augmentation would help the small CNN."],
        "cz": ["Nejlépe generalizuje předtrénovaný model.", "Model od nuly se rychle přeučí.",
               "Doladění trochu pomohlo.", "Reziduální síť se učí pomaleji."],
    }  # fmt: skip
    pool = words["cz" if st.lang == "cz" else "en"]
    cells.append(_md("## " + rng.choice(["Summary", "Závěr", "Discussion"]) + "\n\n" +
                     " ".join(rng.sample(pool, 3))))  # fmt: skip
    return cells


NOTES = [
    "The model overfits after a few epochs.", "Validation accuracy stops improving here.",
    "Here I try a smaller learning rate.", "Tady zkouším menší learning rate.",
    "The curves look reasonable.", "Křivky vypadají rozumně.", "Next: the confusion matrix.",
    "Training took a few minutes on CPU.", "Trénování trvalo několik minut.",
]  # fmt: skip


def _random_grid(
    rows: int, cols: int, size: tuple[int, int]
) -> Callable[[Run], list[dict[str, Any]]]:
    def run(ctx: Run) -> list[dict[str, Any]]:
        values = [[ctx.rng.random() for _ in range(cols)] for _ in range(rows)]
        w, h = ctx.image_size
        return [_image(png_blocks(values, (w, max(16, h * size[1] // size[0]))))]

    return run


def lengthen(cells: list[Cell], rng: random.Random) -> list[Cell]:
    """A notebook as long as real ones (about 40 cells): notes between the cells, and two
    more figures (augmented samples, misclassified test images)."""
    out: list[Cell] = []
    for cell in cells:
        out.append(cell)
        if cell.kind == "code" and cell.role not in ("imports", "imports2") and rng.random() < 0.55:
            out.append(_md(rng.choice(NOTES)))
    figures = [
        _code(
            "augment = keras.Sequential([layers.RandomFlip('horizontal'), layers.RandomRotation(0.1)])\n"
            "plt.figure(figsize=(10, 2))\nfor i in range(8):\n    plt.subplot(1, 8, i + 1)\n"
            "    plt.imshow(augment(x_train[:1])[0])\n    plt.axis('off')\nplt.show()",
            "extra",
            _random_grid(2, 16, (5, 1)),
        ),
        _code(
            "wrong = np.where(y_pred != y_test)[0][:10]\nplt.figure(figsize=(10, 2))\n"
            "for k, i in enumerate(wrong):\n    plt.subplot(1, 10, k + 1)\n    plt.imshow(x_test[i])\n"
            "    plt.title(CLASSES[y_pred[i]], fontsize=7)\n    plt.axis('off')\nplt.show()",
            "extra",
            _random_grid(3, 30, (5, 1)),
        ),
    ]
    return out[:-1] + figures + out[-1:]


# -------------------------------------------------------------- the class


@dataclass
class SyntheticClass:
    notebooks: dict[str, dict[str, Any]]  # id -> notebook
    starter: dict[str, Any]
    planted: dict[str, tuple[str, str]] = field(default_factory=dict)
    lookalikes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for sid, nb in self.notebooks.items():
            (folder / f"{sid}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
        return folder

    def write_starter(self, path: Path) -> Path:
        path.write_text(json.dumps(self.starter, indent=1), encoding="utf-8")
        return path

    def honest(self) -> list[str]:
        copies = {c for c, _ in self.planted.values()}
        return [s for s in self.notebooks if s not in copies]


def _rename(source: str, mapping: dict[str, str]) -> str:
    for old, new in sorted(mapping.items(), key=lambda t: -len(t[0])):
        source = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, source)
    return source


def _recomment(source: str, rng: random.Random) -> str:
    out = []
    for line in source.split("\n"):
        if line.lstrip().startswith("#"):
            line = (
                line.split("#")[0]
                + "# "
                + rng.choice(
                    ["here we go", "model definition", "training part", "my version", "see lecture"]
                )
            )
        out.append(line)
    if rng.random() < 0.9:
        out.insert(0, "# " + rng.choice(["rewritten", "own code", "part two", "final version"]))
    return "\n".join(out)


def build_class(
    n_honest: int = 30,
    *,
    seed: int = 2025,
    image_size: tuple[int, int] = (120, 60),
    updates: int = 2,
    planted: bool = True,
    long: bool = False,
) -> SyntheticClass:
    """A class of ``n_honest`` honest students (look-alikes included) plus the planted copies.

    ``long`` makes every notebook about 40 cells (:func:`lengthen`), as real ones are;
    ``image_size`` and ``updates`` (progress-bar states per epoch in the logs) set how
    heavy the stored outputs are.
    """
    rng = random.Random(seed)

    def grow(cells: list[Cell], salt: int) -> list[Cell]:
        return lengthen(cells, random.Random(seed * 7919 + salt)) if long else cells

    programs: dict[str, list[Cell]] = {}
    styles: dict[str, tuple[Style, Design, dict[str, str]]] = {}
    for k in range(n_honest):
        sid = f"student_{k + 1:03d}"
        srng = random.Random(rng.getrandbits(32))
        st, d, n = Style.draw(srng), Design.draw(srng), draw_names(srng)
        if d.base[0] == "MobileNet" and srng.random() < 0.5:
            d.base = BASES[0]
        styles[sid] = (st, d, n)
        programs[sid] = grow(student_cells(srng, style=st, design=d, names=n), k)
    cls = SyntheticClass({}, starter_notebook())
    seeds = {sid: rng.getrandbits(32) for sid in programs}

    if n_honest >= 6:
        # honest look-alikes: two minimal notebooks; two MobileNetV2 with defaults
        h1, h2 = "student_minimal_a", "student_minimal_b"
        for j, (sid, base) in enumerate(((h1, BASES[1]), (h2, BASES[2]))):
            srng = random.Random(rng.getrandbits(32))
            st, d, n = Style.draw(srng), Design.draw(srng), draw_names(srng)
            d.base = base
            programs[sid] = grow(
                student_cells(srng, style=st, design=d, names=n, minimal=True), 10_000 + j
            )
            seeds[sid] = rng.getrandbits(32)
        cls.lookalikes["starter-only"] = (h1, h2)
        m1, m2 = "student_mobilenet_a", "student_mobilenet_b"
        for v, sid in enumerate((m1, m2)):
            srng = random.Random(rng.getrandbits(32))
            st, d, n = Style.draw(srng), Design.draw(srng), draw_names(srng)
            programs[sid] = grow(
                student_cells(srng, style=st, design=d, names=n, transfer=mobilenet_cells(v)),
                30_000 + v,
            )
            seeds[sid] = rng.getrandbits(32)
        cls.lookalikes["mobilenet"] = (m1, m2)

    rendered: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for sid, cells in programs.items():
        rendered[sid] = render(cells, seed=seeds[sid], image_size=image_size, updates=updates)

    if planted and n_honest >= 10:
        originals = [f"student_{k:03d}" for k in (3, 7, 11, 15, 19)]
        # (a) renamed: same design, other names, other comments and text, re-run
        orig = originals[0]
        st, d, n = styles[orig]
        crng = random.Random(seed + 1)
        new_names = draw_names(crng, avoid=n)
        renames = {v: new_names[k] for k, v in n.items() if new_names[k] != v}
        copy_cells: list[Cell] = []
        for theirs in programs[orig]:
            if theirs.kind == "code":
                src = _recomment(_rename(theirs.source, renames), crng)
                copy_cells.append(Cell("code", src, theirs.role, theirs.run))
            else:  # their text, rewritten
                copy_cells.append(
                    _md(crng.choice([*NOTES, "## Part", "## Další část", "## Notes"]))
                )
        rendered["copy_renamed"] = render(
            copy_cells, seed=seed + 2, image_size=image_size, updates=updates
        )
        cls.planted["renamed"] = ("copy_renamed", orig)

        # (b) reordered, a few cells added, re-run
        orig = originals[1]
        cells = list(programs[orig])
        m2_part = [c for c in cells if c.role.startswith("m2.")]
        m3_part = [c for c in cells if c.role.startswith("m3.")]
        head = [
            c
            for c in cells
            if not c.role.startswith(("m2.", "m3.")) and c.role not in ("cmp", "extra")
        ]
        head = [c for c in head if c.kind == "code"]
        tail = [c for c in cells if c.role in ("cmp", "extra")]
        added = [
            _code("print('shapes:', x_train.shape, y_train.shape)", "added",
                  lambda ctx: [_stream("shapes: (2000, 32, 32, 3) (2000,)\n")]),
            _code("model_names = ['lecture', 'custom', 'transfer']\nprint(model_names)", "added",
                  lambda ctx: [_stream("['lecture', 'custom', 'transfer']\n")]),
            _code("import os\nos.makedirs('figures', exist_ok=True)", "added"),
        ]  # fmt: skip
        # the model cells in another order: evaluation before the plots
        m2_re = sorted(
            m2_part,
            key=lambda c: ["m2.build", "m2.fit", "m2.eval", "m2.cm", "m2.plot"].index(c.role),
        )
        reordered = (
            head[:1] + added[:1] + head[1:] + m3_part + added[1:2] + m2_re + added[2:] + tail
        )
        reordered = [_md("# HW5")] + reordered
        rendered["copy_reordered"] = render(
            reordered, seed=seed + 3, image_size=image_size, updates=updates
        )
        cls.planted["reordered"] = ("copy_reordered", orig)

        # (c) the same code re-run with another seed
        orig = originals[2]
        rendered["copy_rerun"] = render(
            programs[orig], seed=seed + 4, image_size=image_size, updates=updates
        )
        cls.planted["rerun"] = ("copy_rerun", orig)

        # (d) own code, the original's outputs pasted in (one figure re-encoded)
        orig = originals[3]
        srng = random.Random(seed + 5)
        own_cells = grow(student_cells(srng), 20_001)
        nb, roles = render(own_cells, seed=seed + 6, image_size=image_size, updates=updates)
        onb, oroles = rendered[orig]
        by_role = {r: c for r, c in zip(oroles, onb["cells"], strict=True) if r}
        reencoded = False
        for r, cell in zip(roles, nb["cells"], strict=True):
            if (
                cell["cell_type"] == "code"
                and r.split(".")[-1] in ("fit", "plot", "eval", "ft")
                and r in by_role
            ):
                outs = json.loads(json.dumps(by_role[r]["outputs"]))
                if not reencoded and r.endswith("plot"):
                    for o in outs:
                        if "image/png" in o.get("data", {}):
                            o["data"]["image/png"] = _reencode(o["data"]["image/png"])
                            reencoded = True
                cell["outputs"] = outs
        rendered["copy_pasted"] = (nb, roles)
        cls.planted["pasted"] = ("copy_pasted", orig)

        # (e) an honest notebook whose custom-CNN section was copied from another
        orig = originals[4]
        srng = random.Random(seed + 7)
        own_cells = grow(student_cells(srng), 20_002)
        section = [c for c in programs[orig] if c.role.startswith("m2.")]
        mixed: list[Cell] = []
        done = False
        for c in own_cells:
            if c.role.startswith("m2."):
                if not done:
                    mixed += section
                    done = True
                continue
            mixed.append(c)
        rendered["copy_partial"] = render(
            mixed, seed=seed + 8, image_size=image_size, updates=updates
        )
        cls.planted["partial"] = ("copy_partial", orig)

    cls.notebooks = {sid: nb for sid, (nb, _) in rendered.items()}
    return cls


def _reencode(b64: str) -> str:
    """The same picture saved again: other compression, a few pixels touched (a screenshot)."""
    data = base64.b64decode(b64)
    width, height = struct.unpack(">II", data[16:24])
    idat = b""
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3
    px = bytearray()
    for y in range(height):
        px.extend(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
    for x in range(min(6, width)):
        px[x * 3 : x * 3 + 3] = b"\xf0\xf0\xf0"
    return base64.b64encode(_png(width, height, px, level=9)).decode()
