"""Build fixture notebooks in code: cells and outputs the way Jupyter saves them.

Outputs imitate what Keras 2/3, sklearn, pandas and matplotlib really print,
byte for byte where it matters (ANSI codes, carriage returns, backspaces).
"""

from __future__ import annotations

import base64
from typing import Any

import nbformat
from nbformat import v4

# a 1x1 PNG: enough for "the cell shows an image"
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360f8cfc0f01f0005000201e221bc330000000049454e44ae426082"
    )
).decode()


class NB:
    """A notebook under construction; every code cell gets the next execution count."""

    def __init__(self, *, kernelspec: bool = True) -> None:
        self.nb = v4.new_notebook()
        if kernelspec:
            self.nb.metadata["kernelspec"] = {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
            self.nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
        self.count = 0

    def md(self, text: str) -> NB:
        self.nb.cells.append(v4.new_markdown_cell(text))
        return self

    def code(self, source: str, *outputs: dict[str, Any], count: int | None | bool = True) -> NB:
        cell = v4.new_code_cell(source)
        if count is True:
            self.count += 1
            cell.execution_count = self.count
        elif count is False or count is None:
            cell.execution_count = None
        else:
            cell.execution_count = count
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        self.nb.cells.append(cell)
        return self

    def build(self) -> nbformat.NotebookNode:
        return self.nb

    def write(self, path: Any) -> Any:
        nbformat.write(self.nb, str(path))
        return path


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def result(text: str, count: int = 1, html: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"text/plain": text}
    if html is not None:
        data["text/html"] = html
    return {"output_type": "execute_result", "execution_count": count, "data": data, "metadata": {}}


def image(text: str = "<Figure size 1200x400 with 2 Axes>") -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "data": {"image/png": PNG, "text/plain": text},
        "metadata": {},
    }


def error(ename: str = "NameError", evalue: str = "name 'x' is not defined") -> dict[str, Any]:
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": [f"{ename}: {evalue}"],
    }


# ----------------------------------------------------------------- Keras logs

_BAR3 = "\x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m"


def keras3_fit(
    epochs: list[tuple[float, float, float, float]],
    *,
    steps: int = 63,
    total: int | None = None,
    start: int = 1,
    seconds: int = 5,
) -> str:
    """Keras 3 `fit` output: for each epoch a progress bar rewritten with \\r, then the final line.

    Each epoch is (accuracy, loss, val_accuracy, val_loss); Keras 3 sorts metrics by name.
    """
    total = total or (start + len(epochs) - 1)
    out = []
    for k, (acc, loss, vacc, vloss) in enumerate(epochs):
        n = start + k
        out.append(f"Epoch {n}/{total}\n")
        # intermediate states: running averages that must not be read as results
        out.append(
            f"\r\x1b[1m 1/{steps}\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m1:02\x1b[0m 1s/step"
            f" - accuracy: {acc / 2:.4f} - loss: {loss * 2:.4f}"
        )
        out.append(
            f"\r\x1b[1m{steps // 2}/{steps}\x1b[0m \x1b[32m━━━━━━━━━━\x1b[0m\x1b[37m━━━━━━━━━━\x1b[0m"
            f" \x1b[1m2s\x1b[0m 50ms/step - accuracy: {acc * 0.9:.4f} - loss: {loss * 1.1:.4f}"
        )
        out.append(
            f"\r\x1b[1m{steps}/{steps}\x1b[0m {_BAR3} \x1b[1m{seconds}s\x1b[0m {seconds * 1000 // steps}ms/step"
            f" - accuracy: {acc:.4f} - loss: {loss:.4f} - val_accuracy: {vacc:.4f} - val_loss: {vloss:.4f}\n"
        )
    return "".join(out)


def keras2_fit(
    epochs: list[tuple[float, float, float, float]],
    *,
    steps: int = 63,
    total: int | None = None,
    old_names: bool = False,
    start: int = 1,
) -> str:
    """Keras 2 `fit` output: `[=====]` bars rewritten with runs of backspaces.

    Each epoch is (accuracy, loss, val_accuracy, val_loss).
    """
    total = total or (start + len(epochs) - 1)
    acc_name = "acc" if old_names else "accuracy"
    out = []
    for k, (acc, loss, vacc, vloss) in enumerate(epochs):
        out.append(f"Epoch {start + k}/{total}\n")
        first = f" 1/{steps} [..............................] - ETA: 1:05 - loss: {loss * 2:.4f} - {acc_name}: {acc / 2:.4f}"
        out.append(first)
        mid = f"{steps // 2}/{steps} [==============>...............] - ETA: 2s - loss: {loss * 1.1:.4f} - {acc_name}: {acc * 0.9:.4f}"
        out.append("\b" * len(first) + mid)
        final = (
            f"{steps}/{steps} [==============================] - 6s 95ms/step - loss: {loss:.4f} - {acc_name}: {acc:.4f}"
            f" - val_loss: {vloss:.4f} - val_{acc_name}: {vacc:.4f}\n"
        )
        out.append("\b" * len(mid) + final)
    return "".join(out)


def keras_verbose2(epochs: list[tuple[float, float, float, float]], *, steps: int = 63) -> str:
    out = []
    for k, (acc, loss, vacc, vloss) in enumerate(epochs, start=1):
        out.append(f"Epoch {k}/{len(epochs)}\n")
        out.append(
            f"{steps}/{steps} - 4s - 64ms/step - accuracy: {acc:.4f} - loss: {loss:.4f}"
            f" - val_accuracy: {vacc:.4f} - val_loss: {vloss:.4f}\n"
        )
    return "".join(out)


def keras3_evaluate(acc: float, loss: float, *, steps: int = 32) -> str:
    """The evaluate progress bar (running averages, different from the returned value)."""
    return (
        f"\r\x1b[1m 1/{steps}\x1b[0m \x1b[37m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m1s\x1b[0m 40ms/step"
        f" - accuracy: {min(acc + 0.09, 1):.4f} - loss: {loss * 0.8:.4f}"
        f"\r\x1b[1m{steps}/{steps}\x1b[0m {_BAR3} \x1b[1m0s\x1b[0m 6ms/step"
        f" - accuracy: {min(acc + 0.0137, 1):.4f} - loss: {loss * 0.97:.4f}\n"
    )


def curve(n: int, lo: float, hi: float) -> list[tuple[float, float, float, float]]:
    """n epochs rising from lo to hi accuracy."""
    step = (hi - lo) / max(n - 1, 1)
    return [
        (
            round(lo + i * step, 4),
            round(2.0 - i * step * 2, 4),
            round(lo + i * step * 0.9, 4),
            round(2.1 - i * step * 1.8, 4),
        )
        for i in range(n)
    ]


def classification_report(
    acc: float, support: int = 1000, classes: tuple[str, ...] = ("airplane", "automobile", "bird")
) -> str:
    rows = "".join(
        f"{c:>12}       0.70      0.72      0.71       {support // len(classes)}\n" for c in classes
    )
    return (
        "              precision    recall  f1-score   support\n\n"
        + rows
        + f"\n    accuracy                           {acc:.2f}      {support}\n"
        f"   macro avg       0.71      0.71      0.71      {support}\n"
        f"weighted avg       0.71      0.71      0.71      {support}\n"
    )


CM3 = "[[250  40  43]\n [ 31 270  32]\n [ 45  38 251]]"
