"""Stored-output parsers: what a cell's saved outputs say about training and results.

The strings below imitate saved notebooks byte for byte where it matters:
ANSI codes, carriage returns and backspaces written by Keras progress bars,
pandas / sklearn reprs. ``data/outputs/keras3_pandas_sklearn.json`` holds the
outputs of a small notebook really executed with nbclient (Keras 3, pandas,
scikit-learn), raw as Jupyter stores them.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from grader.extract.facts import AccuracyCandidate, OutputFacts
from grader.extract.outputs import read_outputs
from grader.extract.text import clean_text, mentions, parse_number, strip_ansi

DATA = Path(__file__).parent / "data" / "outputs"


# ------------------------------------------------------------------ helpers


def stream(text: str | list[str], name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def result(plain: str | list[str] | None = None, html: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if plain is not None:
        data["text/plain"] = plain
    if html is not None:
        data["text/html"] = html
    return {"output_type": "execute_result", "execution_count": 3, "data": data, "metadata": {}}


def display(plain: str | None = None, **mimes: str) -> dict[str, Any]:
    data: dict[str, Any] = {k.replace("_", "/", 1).replace("_", "+"): v for k, v in mimes.items()}
    if plain is not None:
        data["text/plain"] = plain
    return {"output_type": "display_data", "data": data, "metadata": {}}


def read(*outputs: dict[str, Any]) -> OutputFacts:
    return read_outputs(7, list(outputs))


def fixture(name: str) -> list[dict[str, Any]]:
    cells = json.loads((DATA / "keras3_pandas_sklearn.json").read_text(encoding="utf-8"))
    outputs: list[dict[str, Any]] = cells[name]["outputs"]
    return outputs


def values(cands: list[AccuracyCandidate]) -> list[float]:
    return [c.value for c in cands]


def k3_line(cur: int, total: int, rest: str, seconds: str = "5s", step: str = "52ms/step") -> str:
    """A Keras 3 progress-bar state as written to the notebook (bold, green/white bar)."""
    done = 20 * cur // total
    bar = f"\x1b[32m{'━' * done}\x1b[0m\x1b[37m{'━' * (20 - done)}\x1b[0m"
    width = len(str(total))
    return f"\x1b[1m{cur:>{width}}/{total}\x1b[0m {bar} \x1b[1m{seconds}\x1b[0m {step}{rest}"


def k3_epoch(
    k: int, n: int, acc: float, loss: float, val: tuple[float, float] | None, steps: int = 63
) -> list[dict[str, Any]]:
    """One Keras 3 epoch as Jupyter stores it: header, bar states joined by \\b...\\r."""
    erase = "\x08" * 72 + "\r"
    final_rest = f" - accuracy: {acc:.4f} - loss: {loss:.4f}"
    if val is not None:
        final_rest += f" - val_accuracy: {val[0]:.4f} - val_loss: {val[1]:.4f}"
    return [
        stream(f"Epoch {k}/{n}\n"),
        stream("\r" + k3_line(1, steps, " - accuracy: 0.1250 - loss: 2.4102", "1:02", "1s/step")),
        stream(
            erase
            + k3_line(
                steps // 2, steps, f" - accuracy: {acc - 0.05:.4f} - loss: {loss + 0.2:.4f}", "2s"
            )
        ),
        stream(erase + k3_line(steps, steps, final_rest) + "\n"),
    ]


def k2_epoch(
    k: int,
    n: int,
    acc: float,
    loss: float,
    val: tuple[float, float] | None,
    *,
    steps: int = 63,
    names: tuple[str, str] = ("accuracy", "val_accuracy"),
) -> str:
    """One Keras 2 epoch: each bar state erased with backspaces and a carriage return."""
    states = [
        f" 1/{steps} [..............................] - ETA: 1:05 - loss: 2.3051 - {names[0]}: 0.0938",
        f"{steps // 2}/{steps} [==============>...............] - ETA: 2s - loss: {loss + 0.3:.4f} - {names[0]}: {acc - 0.1:.4f}",
    ]
    final = f"{steps}/{steps} [==============================] - 6s 95ms/step - loss: {loss:.4f} - {names[0]}: {acc:.4f}"
    if val is not None:
        final += f" - val_loss: {val[1]:.4f} - {names[1]}: {val[0]:.4f}"
    out = f"Epoch {k}/{n}\n" + states[0]
    prev = states[0]
    for state in [*states[1:], final]:
        out += "\b" * len(prev) + "\r" + state
        prev = state
    return out + "\n"


# ------------------------------------------------------------- text clean-up


class TestCleanText:
    def test_ansi_codes_removed(self) -> None:
        raw = "\x1b[1m63/63\x1b[0m \x1b[32m━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m5s\x1b[0m 52ms/step"
        assert clean_text(raw) == "63/63 ━━━━ 5s 52ms/step"
        assert strip_ansi("\x1b[38;5;34m2,257,984\x1b[0m (8.61 MB)") == "2,257,984 (8.61 MB)"

    def test_carriage_return_keeps_the_last_state(self) -> None:
        assert clean_text("10%\r50%\r100%\n") == "100%\n"
        assert clean_text("line one\r\nline two\r\n") == "line one\nline two\n"

    def test_trailing_carriage_return_keeps_the_line(self) -> None:
        assert clean_text("Accuracy: 0.77\r") == "Accuracy: 0.77"

    def test_backspaces_erase_characters(self) -> None:
        assert clean_text("abc\b\bX") == "aX"
        assert clean_text("\b\b\bstart") == "start"

    def test_keras2_backspace_run_then_carriage_return(self) -> None:
        text = clean_text(k2_epoch(1, 1, 0.55, 1.2, (0.5, 1.3)))
        lines = text.splitlines()
        assert lines[0] == "Epoch 1/1"
        assert lines[1].startswith(
            "63/63 [==============================] - 6s 95ms/step - loss: 1.2000"
        )
        assert len(lines) == 2

    def test_keras2_backspaces_without_carriage_return(self) -> None:
        first = " 1/8 [===>..........................] - ETA: 3s - loss: 2.3000"
        final = "8/8 [==============================] - 1s 80ms/step - loss: 2.0000"
        assert clean_text(first + "\b" * len(first) + final + "\n") == final + "\n"

    def test_keras3_split_across_outputs_and_interleaved_stderr(self) -> None:
        facts = read(
            stream("Epoch 1/2\n"),
            stream("\r" + k3_line(1, 897, " - accuracy: 0.2539 - loss: 1.8124", "1:05")),
            stream(
                "/usr/lib/python3/keras/src/trainers/data_adapters/py_dataset_adapter.py:121: UserWarning: Your `PyDataset` class should call `super().__init__(**kwargs)`\n",
                "stderr",
            ),
            stream(
                "\x08" * 76
                + "\r"
                + k3_line(
                    897,
                    897,
                    " - accuracy: 0.2539 - loss: 1.8123 - val_accuracy: 0.3126 - val_loss: 1.6925",
                    "140s",
                    "147ms/step",
                )
                + "\n"
            ),
        )
        assert "897/897 ━━━━━━━━━━━━━━━━━━━━ 140s 147ms/step - accuracy: 0.2539" in facts.text
        assert "1/897" not in facts.text
        assert "UserWarning" in facts.text
        (log,) = facts.training_logs
        assert log.history["val_accuracy"] == [0.3126]
        assert log.seconds == 140

    def test_list_of_strings_and_odd_text_fields(self) -> None:
        odd: list[Any] = [None, [1, None, "x"], {"a": 1}]
        facts = read(
            stream(["Test ", "accuracy: ", "0.81\n"]),
            *({"output_type": "stream", "name": "stdout", "text": t} for t in odd),
        )
        assert facts.accuracy_candidates[0].value == pytest.approx(0.81)

    def test_vocabulary(self) -> None:
        assert mentions("Přesnost na testovacích datech") == (True, False, False)
        assert mentions("validační přesnost") == (False, True, False)
        assert mentions("trénovací přesnost") == (False, False, True)
        assert mentions("val_acc") == (False, True, False)
        assert mentions("latest value") == (False, False, False)
        assert mentions("Test accuracy of the trained CNN") == (True, False, False)
        assert mentions("Training accuracy") == (False, False, True)
        assert parse_number("78.3%") == pytest.approx(78.3)
        assert parse_number("2,257,984") == 2257984
        assert parse_number("0,71") is None
        assert parse_number("acc") is None


# ------------------------------------------------------------ training logs


class TestKeras3Logs:
    def test_real_fit_with_validation_split(self) -> None:
        facts = read_outputs(2, fixture("keras3_fit_validation_split"))
        (log,) = facts.training_logs
        assert log.style == "keras3"
        assert log.epoch_numbers == [1, 2, 3]
        assert log.epochs_declared == 3
        assert log.history["accuracy"] == [0.3276, 0.3276, 0.3472]
        assert log.history["val_loss"] == [1.1075, 1.0972, 1.097]
        assert set(log.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
        assert log.seconds is not None and 0 < log.seconds < 5
        assert log.line.startswith("26/26 ━━━━━━━━━━━━━━━━━━━━")
        assert not facts.accuracy_candidates
        assert not facts.has_evaluate_bar

    def test_real_callbacks_early_stopping_then_evaluate(self) -> None:
        facts = read_outputs(3, fixture("keras3_callbacks_then_evaluate"))
        (log,) = facts.training_logs
        # ModelCheckpoint / ReduceLROnPlateau / EarlyStopping lines are not epochs
        assert log.epoch_numbers == [1, 2]
        assert log.epochs_declared == 6
        assert log.history["val_accuracy"] == [0.265, 0.255]
        assert log.history["learning_rate"] == [0.001, 0.001]
        assert facts.has_evaluate_bar
        # the evaluate bar shows running averages; only the printed list is a candidate
        (cand,) = facts.accuracy_candidates
        assert cand.method == "evaluate_result"
        assert cand.value == pytest.approx(0.265, abs=1e-6)
        assert cand.line == "[1.1078083515167236, 0.26499998569488525]"

    def test_real_verbose2_then_initial_epoch_then_evaluate_and_predict(self) -> None:
        facts = read_outputs(4, fixture("keras3_verbose2_initial_epoch_evaluate_predict"))
        first, second = facts.training_logs
        assert first.style == "keras-verbose2"
        assert first.epoch_numbers == [1, 2]
        assert first.history["accuracy"] == [0.3691, 0.3672]
        assert second.style == "keras3"
        assert second.epoch_numbers == [3, 4]  # continued with initial_epoch=2
        assert second.epochs_declared == 4
        assert (first.order, second.order) == (0, 1)
        assert facts.has_evaluate_bar
        (cand,) = facts.accuracy_candidates
        assert (cand.method, cand.label, cand.value) == ("print", "Test accuracy", 0.265)
        assert cand.mentions_test and cand.confidence >= 0.8

    def test_checkpoint_line_between_intermediate_and_final_state(self) -> None:
        # Keras 3 + ModelCheckpoint(verbose=1): a complete-looking bar without val_*,
        # the callback message, then the real final line of the epoch
        outs = [stream("Epoch 1/2\n")]
        outs.append(
            stream(
                "\r"
                + k3_line(
                    98,
                    98,
                    " - loss: 0.7375 - sparse_categorical_accuracy: 0.5431",
                    "0s",
                    "490ms/step",
                )
            )
        )
        outs.append(
            stream(
                "\nEpoch 1: val_sparse_categorical_accuracy improved from -inf to 0.52239, saving model to best_model.keras\n"
            )
        )
        outs.append(
            stream(
                "\x08" * 60
                + "\r"
                + k3_line(
                    98,
                    98,
                    " - loss: 0.7370 - sparse_categorical_accuracy: 0.5437 - val_loss: 0.8431 - val_sparse_categorical_accuracy: 0.5224",
                    "56s",
                    "537ms/step",
                )
                + "\n"
            )
        )
        outs.append(stream("Epoch 2/2\n"))
        outs.append(
            stream(
                "\r"
                + k3_line(
                    98,
                    98,
                    " - loss: 0.5505 - sparse_categorical_accuracy: 0.7213",
                    "0s",
                    "469ms/step",
                )
            )
        )
        outs.append(
            stream("\nEpoch 2: val_sparse_categorical_accuracy did not improve from 0.52239\n")
        )
        outs.append(
            stream(
                "\x08" * 60
                + "\r"
                + k3_line(
                    98,
                    98,
                    " - loss: 0.5500 - sparse_categorical_accuracy: 0.7220 - val_loss: 0.9000 - val_sparse_categorical_accuracy: 0.5100",
                    "46s",
                    "470ms/step",
                )
                + "\n"
            )
        )
        facts = read(*outs)
        (log,) = facts.training_logs
        assert log.history == {
            "loss": [0.737, 0.55],
            "accuracy": [0.5437, 0.722],
            "val_loss": [0.8431, 0.9],
            "val_accuracy": [0.5224, 0.51],
        }
        assert log.seconds == 102
        assert not facts.has_evaluate_bar
        assert not facts.accuracy_candidates

    def test_custom_callback_text_before_the_final_line(self) -> None:
        outs = [
            stream("Epoch 1/1\n"),
            stream("\r" + k3_line(63, 63, " - accuracy: 0.4000 - loss: 1.6000", "0s")),
        ]
        outs.append(stream("\nlearning rate now 0.001, epoch took 5.1 s\n"))
        outs.append(
            stream(
                "\x08" * 60
                + "\r"
                + k3_line(
                    63,
                    63,
                    " - accuracy: 0.4100 - loss: 1.5900 - val_accuracy: 0.4500 - val_loss: 1.5000",
                )
                + "\n"
            )
        )
        facts = read(*outs)
        (log,) = facts.training_logs
        assert log.history["val_accuracy"] == [0.45]
        assert not facts.has_evaluate_bar

    def test_two_fits_in_a_loop(self) -> None:
        outs: list[dict[str, Any]] = []
        for name, accs in (("cnn", (0.3, 0.4)), ("resnet", (0.35, 0.5))):
            outs.append(stream(f"Training {name}...\n"))
            for k, acc in enumerate(accs, start=1):
                outs.extend(k3_epoch(k, 2, acc, 1.5, (acc - 0.02, 1.6)))
            outs.append(
                stream(
                    "\r"
                    + k3_line(32, 32, " - accuracy: 0.4719 - loss: 1.4565", "1s", "20ms/step")
                    + "\n"
                )
            )
            outs.append(stream(f"{name} test accuracy: {accs[-1] - 0.03:.4f}\n"))
        facts = read(*outs)
        assert [log.history["accuracy"] for log in facts.training_logs] == [[0.3, 0.4], [0.35, 0.5]]
        assert facts.has_evaluate_bar
        assert [(c.label, c.value) for c in facts.accuracy_candidates] == [
            ("cnn test accuracy", 0.37),
            ("resnet test accuracy", 0.47),
        ]
        assert [c.order for c in facts.accuracy_candidates] == [0, 1]

    def test_evaluate_right_after_fit_without_validation(self) -> None:
        # same number of steps as training and no val_*: still an evaluate bar
        outs = [
            *k3_epoch(1, 2, 0.4, 1.5, None, steps=32),
            *k3_epoch(2, 2, 0.5, 1.3, None, steps=32),
        ]
        outs.append(
            stream(
                "\r"
                + k3_line(32, 32, " - accuracy: 0.4900 - loss: 1.3300", "0s", "6ms/step")
                + "\n"
            )
        )
        facts = read(*outs)
        (log,) = facts.training_logs
        assert log.history["accuracy"] == [0.4, 0.5]
        assert facts.has_evaluate_bar
        assert not facts.accuracy_candidates

    def test_evaluate_bar_alone_is_never_a_candidate(self) -> None:
        facts = read(
            stream(
                "\r"
                + k3_line(32, 32, " - accuracy: 0.7719 - loss: 0.6565", "1s", "20ms/step")
                + "\n"
            )
        )
        assert facts.has_evaluate_bar
        assert not facts.accuracy_candidates
        assert not facts.training_logs

    def test_predict_bar_is_not_an_evaluate_bar(self) -> None:
        facts = read(stream(k3_line(32, 32, "", "1s", "10ms/step") + "\n"))
        assert not facts.has_evaluate_bar

    def test_interrupted_epoch_is_dropped_and_error_recorded(self) -> None:
        outs = [*k3_epoch(1, 10, 0.4, 1.5, (0.42, 1.4)), stream("Epoch 2/10\n")]
        outs.append(stream("\r" + k3_line(17, 63, " - accuracy: 0.4500 - loss: 1.4000", "40s")))
        outs.append(
            {
                "output_type": "error",
                "ename": "KeyboardInterrupt",
                "evalue": "",
                "traceback": ["\x1b[0;31mKeyboardInterrupt\x1b[0m"],
            }
        )
        facts = read(*outs)
        (log,) = facts.training_logs
        assert log.epoch_numbers == [1]
        assert facts.errors == [("KeyboardInterrupt", "")]

    def test_unknown_step_count_in_first_epoch(self) -> None:
        facts = read(
            stream("Epoch 1/2\n"),
            stream(
                "\r\x1b[1m     63/Unknown\x1b[0m \x1b[1m9s\x1b[0m 80ms/step - accuracy: 0.3000 - loss: 1.9000\n"
            ),
            stream("Epoch 2/2\n"),
            stream(
                "\r"
                + k3_line(
                    63,
                    63,
                    " - accuracy: 0.4000 - loss: 1.6000 - val_accuracy: 0.4100 - val_loss: 1.5000",
                )
                + "\n"
            ),
        )
        (log,) = facts.training_logs
        assert log.epoch_numbers == [1, 2]
        assert log.history["accuracy"] == [0.3, 0.4]
        assert "val_accuracy" not in log.history  # not printed in every epoch


class TestKeras2Logs:
    def test_backspace_progress_bars(self) -> None:
        text = "".join(
            k2_epoch(k, 3, 0.3 + k / 10, 2 - k / 10, (0.35 + k / 10, 1.9 - k / 10))
            for k in (1, 2, 3)
        )
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert log.style == "keras2"
        assert log.history["accuracy"] == [0.4, 0.5, 0.6]
        assert log.history["val_accuracy"] == [0.45, 0.55, 0.65]
        assert log.seconds == 18
        assert not facts.has_evaluate_bar

    def test_stale_progress_text_after_the_final_values(self) -> None:
        text = (
            "Epoch 1/2\n50000/50000 [==============================] - 70s 1ms/step - loss: 0.0336 - acc: 0.9883: 8s - loss: 0.0305 - \n"
            "Epoch 2/2\n50000/50000 [==============================] - 72s 1ms/step - loss: 0.0300 - acc: 0.9900\n"
            "10000/10000 [==============================] - 7s 670us/step\n"
            "Loss = 1.1632175745\nTest Accuracy = 0.8007\n"
        )
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert log.history == {"loss": [0.0336, 0.03], "accuracy": [0.9883, 0.99]}
        assert [c.value for c in facts.accuracy_candidates] == [0.8007]

    def test_stale_first_state_glued_before_the_final_state(self) -> None:
        facts = read(
            stream("Epoch 1/2\n"),
            stream(
                "2026-02-18 12:05:38.559859: I tensorflow/compiler/xla/stream_executor/cuda/cuda_dnn.cc:442] Loaded cuDNN version 8907\n",
                "stderr",
            ),
            stream(
                "   1/1250 [..............................] - ETA: 20:04:57 - loss: 3.1981 - accuracy: 0.1875"
            ),
            stream(
                "2026-02-18 12:06:29.877649: I ./tensorflow/compiler/jit/device_compiler.h:186] Compiled cluster using XLA!\n",
                "stderr",
            ),
            stream(
                "1250/1250 [==============================] - 66s 6ms/step - loss: 0.5173 - accuracy: 0.8239 - val_loss: 0.4077 - val_accuracy: 0.8563\n"
                "Epoch 2/2\n1250/1250 [==============================] - 6s 5ms/step - loss: 0.3656 - accuracy: 0.8731 - val_loss: 0.4072 - val_accuracy: 0.8577\n"
            ),
        )
        (log,) = facts.training_logs
        assert log.epoch_numbers == [1, 2]
        assert log.history["val_accuracy"] == [0.8563, 0.8577]
        assert log.seconds == 72
        assert not facts.has_evaluate_bar

    def test_weights_download_bar_is_not_training(self) -> None:
        text = "Downloading data from https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/weights.h5\n9406464/9406464 [==============================] - 0s 0us/step\n"
        facts = read(stream(text))
        assert not facts.training_logs and not facts.has_evaluate_bar

    def test_interrupted_keras2_run_keeps_the_finished_epochs(self) -> None:
        text = "".join(k2_epoch(k, 100, 0.5, 1.0, (0.5, 1.0), steps=834) for k in (1, 2))
        text += "Epoch 3/100\n 216/834 [======>.......................] - ETA: 47s - loss: 0.9999 - accuracy: 0.6453"
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert (log.epoch_numbers, log.epochs_declared) == ([1, 2], 100)
        assert not facts.has_evaluate_bar

    def test_old_metric_names_are_normalised(self) -> None:
        text = "Train on 2000 samples, validate on 1000 samples\n" + "".join(
            k2_epoch(k, 2, 0.5, 1.0, (0.45, 1.1), names=("acc", "val_acc")) for k in (1, 2)
        )
        (log,) = read(stream(text)).training_logs
        assert set(log.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}

    def test_saved_by_classic_jupyter_and_evaluate_after(self) -> None:
        text = (
            "Epoch 1/2\n"
            "1563/1562 [==============================] - 159s 102ms/step - loss: 0.7214 - acc: 0.7477 - val_loss: 1.1692 - val_acc: 0.7500\n"
            "Epoch 2/2\n"
            "1563/1562 [==============================] - 158s 101ms/step - loss: 0.7022 - acc: 0.7547 - val_loss: 1.1475 - val_acc: 0.7520\n"
            "10000/10000 [==============================] - 12s 1ms/step\n"
            "313/313 [==============================] - 2s 6ms/step - loss: 1.1475 - accuracy: 0.7520\n"
        )
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert log.epoch_numbers == [1, 2]
        assert log.seconds == 317
        assert facts.has_evaluate_bar
        assert not facts.accuracy_candidates

    def test_verbose2_tf2_with_epoch_timing(self) -> None:
        text = (
            "Epoch 1/2\n63/63 - 5s - loss: 1.9000 - accuracy: 0.3100 - val_loss: 1.6000 - val_accuracy: 0.4000 - 5s/epoch - 80ms/step\n"
            "Epoch 2/2\n63/63 - 1s - loss: 1.5000 - accuracy: 0.4500 - val_loss: 1.4000 - val_accuracy: 0.5000 - 950ms/epoch - 15ms/step\n"
            "\nModel trained.\n"
            "32/32 - 0s - loss: 1.4100 - accuracy: 0.4980 - 358ms/epoch - 11ms/step\n"
            "\nTest accuracy: 0.4980000138282776\n"
        )
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert log.style == "keras-verbose2"
        assert log.history["accuracy"] == [0.31, 0.45]
        assert log.seconds == pytest.approx(5.95)
        assert facts.has_evaluate_bar
        (cand,) = facts.accuracy_candidates
        assert cand.value == pytest.approx(0.498)

    def test_verbose2_tf1(self) -> None:
        text = "Epoch 1/2\n - 12s - loss: 1.5000 - acc: 0.4500 - val_loss: 1.3000 - val_acc: 0.5200\nEpoch 2/2\n - 11s - loss: 1.2000 - acc: 0.5600 - val_loss: 1.1000 - val_acc: 0.6000\n"
        (log,) = read(stream(text)).training_logs
        assert log.history["val_accuracy"] == [0.52, 0.6]
        assert log.seconds == 23

    def test_callback_lines_keras2(self) -> None:
        text = (
            k2_epoch(1, 3, 0.5, 1.0, (0.45, 1.1))
            + "\nEpoch 00001: val_loss improved from inf to 1.10000, saving model to best.h5\n"
            + k2_epoch(2, 3, 0.55, 0.9, (0.44, 1.2))
            + "\nEpoch 00002: ReduceLROnPlateau reducing learning rate to 0.00010000000474974513.\n"
            + "Epoch 00002: early stopping\n"
        )
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert log.epoch_numbers == [1, 2]
        assert not facts.accuracy_candidates

    def test_fine_tuning_restart_with_new_total(self) -> None:
        text = "".join(k2_epoch(k, 2, 0.5, 1.0, (0.5, 1.0)) for k in (1, 2)) + "".join(
            k2_epoch(k, 4, 0.6, 0.9, (0.6, 0.9)) for k in (3, 4)
        )
        logs = read(stream(text)).training_logs
        assert [log.epoch_numbers for log in logs] == [[1, 2], [3, 4]]
        assert [log.epochs_declared for log in logs] == [2, 4]


class TestCustomLogs:
    def test_pytorch_bracket_style_with_percent(self) -> None:
        text = "".join(
            f"Epoch [{k}/3], Loss: {1.5 - k / 10:.4f}, Acc: {40 + 5 * k:.2f}%\n" for k in (1, 2, 3)
        )
        (log,) = read(stream(text)).training_logs
        assert log.style == "custom"
        assert log.history == {"loss": [1.4, 1.3, 1.2], "accuracy": [0.45, 0.5, 0.55]}
        assert log.epochs_declared == 3

    def test_pipe_separated_with_validation_and_time(self) -> None:
        text = (
            "epoch 1 | train loss 1.2000 | train acc 0.4500 | val loss 1.1000 | val acc 0.5000 | time 12.5s\n"
            "epoch 2 | train loss 1.0000 | train acc 0.5500 | val loss 1.0500 | val acc 0.5400 | time 11.5s\n"
        )
        (log,) = read(stream(text)).training_logs
        assert log.history == {
            "loss": [1.2, 1.0],
            "accuracy": [0.45, 0.55],
            "val_loss": [1.1, 1.05],
            "val_accuracy": [0.5, 0.54],
        }
        assert log.seconds == 24
        assert log.epoch_numbers == [1, 2]

    def test_keras_like_custom_line(self) -> None:
        text = "Epoch 1/2 - loss: 0.9000 - acc: 0.6000 - val_loss: 0.9500 - val_acc: 0.5800\nEpoch 2/2 - loss: 0.8000 - acc: 0.6500 - val_loss: 0.9000 - val_acc: 0.6000\n"
        (log,) = read(stream(text)).training_logs
        assert log.style == "custom"
        assert log.history["val_accuracy"] == [0.58, 0.6]

    def test_test_accuracy_per_epoch_is_history_not_candidate(self) -> None:
        text = "".join(
            f"Epoch {k}/3\nTrain Loss: {1.6 - k / 5:.4f}, Test Loss: {1.4 - k / 10:.4f}, Test Accuracy: {0.45 + k / 20:.4f}\n"
            for k in (1, 2, 3)
        )
        facts = read(
            stream(text), stream("100%|██████████| 782/782 [00:18<00:00, 43.43it/s]\n", "stderr")
        )
        (log,) = facts.training_logs
        assert log.history["test_accuracy"] == [0.5, 0.55, 0.6]
        assert log.history["loss"] == [1.4, 1.2, 1.0]
        assert not facts.accuracy_candidates

    def test_header_then_metric_lines_and_final_test_print(self) -> None:
        text = (
            "".join(
                f"Epoch {k}/2\n----------\nTrain loss: {1.0 / k:.3f}  Train acc: {0.5 + k / 10:.3f}\nVal loss: {1.1 / k:.3f}  Val acc: {0.45 + k / 10:.3f}\n"
                for k in (1, 2)
            )
            + "Test accuracy: 0.6120\n"
        )
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert log.history["val_accuracy"] == [0.55, 0.65]
        assert log.history["accuracy"] == [0.6, 0.7]
        (cand,) = facts.accuracy_candidates
        assert (cand.value, cand.mentions_test) == (0.612, True)

    def test_per_batch_lines_then_epoch_summary(self) -> None:
        text = (
            "Epoch [1/2], Step [100/500], Loss: 1.9000\nEpoch [1/2], Step [500/500], Loss: 1.5000\n"
            "Epoch [2/2], Step [100/500], Loss: 1.4000\nEpoch [2/2], Step [500/500], Loss: 1.2000\n"
            "Accuracy of the network on the 10000 test images: 54 %\n"
        )
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert log.history == {"loss": [1.5, 1.2]}
        (cand,) = facts.accuracy_candidates
        assert cand.value == pytest.approx(0.54)
        assert cand.label == "Accuracy of the network on the 10000 test images"
        assert cand.mentions_test

    def test_pytorch_cifar_tutorial(self) -> None:
        text = (
            "[1,  2000] loss: 2.212\n[1,  4000] loss: 1.876\n[2,  2000] loss: 1.512\n[2,  4000] loss: 1.432\n"
            "Finished Training\nAccuracy of the network on the 10000 test images: 54 %\n"
            "Accuracy for class: plane is 60.6 %\nAccuracy for class: car   is 71.2 %\n"
        )
        facts = read(stream(text))
        (log,) = facts.training_logs
        assert (log.history, log.epoch_numbers) == ({"loss": [1.876, 1.432]}, [1, 2])
        assert [c.value for c in facts.accuracy_candidates] == [0.54]  # per-class lines are not

    def test_underscore_names_and_time_in_parentheses(self) -> None:
        text = "Epoch 1/2, train_acc=0.512, val_acc=0.498 (12.5 sec)\nEpoch 2/2, train_acc=0.612, val_acc=0.558 (11.0 sec)\n"
        (log,) = read(stream(text)).training_logs
        assert log.history == {"accuracy": [0.512, 0.612], "val_accuracy": [0.498, 0.558]}
        assert log.seconds == 23.5

    def test_czech_custom_log(self) -> None:
        text = "Epocha 1/2 - ztráta: 1.2000 - přesnost: 0.5000\nEpocha 2/2 - ztráta: 1.0000 - přesnost: 0.6000\n"
        (log,) = read(stream(text)).training_logs
        assert log.history == {"loss": [1.2, 1.0], "accuracy": [0.5, 0.6]}

    def test_callback_like_lines_without_metrics_are_not_epochs(self) -> None:
        text = "Epoch 5: early stopping\nEpoch 3: saving model to model.keras\nRestoring model weights from the end of the best epoch: 3.\n"
        facts = read(stream(text))
        assert not facts.training_logs
        assert not facts.accuracy_candidates


# -------------------------------------------------------- accuracy candidates


class TestPrintedAccuracy:
    @pytest.mark.parametrize(
        ("line", "value", "label"),
        [
            ("Test accuracy: 0.7415", 0.7415, "Test accuracy"),
            ("test acc 78.83%", 0.7883, "test acc"),
            ("Přesnost na testovacích datech: 0.71", 0.71, "Přesnost na testovacích datech"),
            ("Testovací přesnost: 71.2 %", 0.712, "Testovací přesnost"),
            ("CNN - test accuracy = 0.65", 0.65, "CNN - test accuracy"),
            ("Test Acc: 0.61 | Test Loss: 1.02", 0.61, "Test Acc"),
            (
                "Accuracy of the network on the 1000 test images: 64 %",
                0.64,
                "Accuracy of the network on the 1000 test images",
            ),
            ("Testgenauigkeit: 0.70", 0.70, "Testgenauigkeit"),
            ("Precisión en test: 0.69", 0.69, "Precisión en test"),
            ("Exactitud de prueba: 0.68", 0.68, "Exactitud de prueba"),
            ("Précision sur le jeu de test : 0.67", 0.67, "Précision sur le jeu de test"),
            ("Presnosť na testovacích dátach: 0.66", 0.66, "Presnosť na testovacích dátach"),
            ("Dokładność na zbiorze testowym: 0.65", 0.65, "Dokładność na zbiorze testowym"),
            (
                "Model 3 (ResNet50) test accuracy: 0.8123",
                0.8123,
                "Model 3 (ResNet50) test accuracy",
            ),
            ("Final test_acc=0.7001", 0.7001, "Final test_acc"),
            (
                "🎯 Test accuracy (MobileNetV2, fine-tuned): 85.30%",
                0.853,
                "🎯 Test accuracy (MobileNetV2, fine-tuned)",
            ),
            ("Úspěšnost na testovací sadě: 0.74", 0.74, "Úspěšnost na testovací sadě"),
        ],
    )
    def test_wordings(self, line: str, value: float, label: str) -> None:
        (cand,) = read(stream(line + "\n")).accuracy_candidates
        assert cand.value == pytest.approx(value)
        assert cand.label == label
        assert cand.method == "print"
        assert cand.mentions_test and not cand.mentions_val and not cand.mentions_train
        assert cand.confidence >= 0.8
        assert cand.line == line

    def test_loss_is_not_an_accuracy(self) -> None:
        assert not read(
            stream("Test loss: 0.8\nZtráta na testovacích datech: 0.9\n")
        ).accuracy_candidates

    def test_loss_and_accuracy_on_one_line(self) -> None:
        (cand,) = read(stream("Test loss: 0.6565, Test accuracy: 0.7719\n")).accuracy_candidates
        assert (cand.value, cand.label) == (0.7719, "Test accuracy")

    def test_percent_written_twice(self) -> None:
        (cand,) = read(stream("Test accuracy: 0.7415 (74.15%)\n")).accuracy_candidates
        assert cand.value == pytest.approx(0.7415)

    def test_percentage_without_sign_is_converted_with_less_confidence(self) -> None:
        (cand,) = read(stream("Test accuracy: 78.83\n")).accuracy_candidates
        assert cand.value == pytest.approx(0.7883)
        assert 0.6 < cand.confidence < 0.85

    def test_out_of_range_values_are_dropped(self) -> None:
        assert not read(stream("Test accuracy: 178.3\nTest accuracy: 120%\n")).accuracy_candidates

    def test_validation_and_training_are_flagged(self) -> None:
        cands = read(
            stream(
                "Validation accuracy: 0.70\nTraining accuracy: 0.95\nvalidační přesnost: 0.69\nbest val_acc = 0.72\n"
            )
        ).accuracy_candidates
        assert [c.value for c in cands] == [0.70, 0.95, 0.69, 0.72]
        assert [(c.mentions_val, c.mentions_train) for c in cands] == [
            (True, False),
            (False, True),
            (True, False),
            (True, False),
        ]
        assert all(not c.mentions_test and c.confidence <= 0.2 for c in cands)

    def test_plain_accuracy_is_a_low_confidence_candidate(self) -> None:
        (cand,) = read(stream("Accuracy: 71.20%\n")).accuracy_candidates
        assert cand.value == pytest.approx(0.712)
        assert not (cand.mentions_test or cand.mentions_val or cand.mentions_train)
        assert cand.confidence < 0.5

    def test_other_accuracy_kinds_are_not_candidates(self) -> None:
        text = "Top-5 accuracy: 0.97\nbalanced accuracy: 0.71\nTest precision: 0.70\nTest F1: 0.69\nEpoch 10 took 12.3 s\n"
        assert not read(stream(text)).accuracy_candidates

    def test_heading_then_one_line_per_model(self) -> None:
        text = "Test accuracy comparison:\n  Simple CNN:   0.7120\n  ResNet-like:  0.7550\n  MobileNetV2:  85.3%\n\nDone.\n"
        cands = read(stream(text)).accuracy_candidates
        assert [(c.label, c.value) for c in cands] == [
            ("Simple CNN", 0.712),
            ("ResNet-like", 0.755),
            ("MobileNetV2", 0.853),
        ]
        assert all(c.mentions_test and c.method == "print" for c in cands)

    def test_model_name_before_the_metrics(self) -> None:
        cands = read(
            stream("Model CNN: loss=0.65, acc=0.77\nResNet | test loss 0.70 | test acc 0.78\n")
        ).accuracy_candidates
        assert [(c.label, c.value) for c in cands] == [
            ("Model CNN acc", 0.77),
            ("ResNet test acc", 0.78),
        ]
        assert [c.mentions_test for c in cands] == [False, True]

    def test_decimal_comma_and_thousands(self) -> None:
        cands = read(
            stream(
                "Přesnost na testovacích datech: 0,77\nAccuracy of the network on the 10,000 test images: 64 %\n"
            )
        ).accuracy_candidates
        assert [c.value for c in cands] == [0.77, 0.64]

    def test_percent_in_label_and_fraction_with_percent_sign(self) -> None:
        first, second = read(
            stream("Test accuracy (%): 77.19\nTest accuracy: 0.77%\n")
        ).accuracy_candidates
        assert (first.value, first.confidence) == (0.7719, 0.85)
        assert second.value == pytest.approx(0.77)
        assert second.confidence < first.confidence

    def test_value_on_the_line_after_its_label(self) -> None:
        (cand,) = read(stream("Test accuracy:\n0.7719\n")).accuracy_candidates
        assert (cand.label, cand.value, cand.mentions_test) == ("Test accuracy", 0.7719, True)

    def test_per_class_heading_is_not_a_comparison(self) -> None:
        text = "Accuracy per class:\n  airplane: 0.81\n  automobile: 0.90\nPřesnost pro jednotlivé třídy:\n  kočka: 0.55\n"
        assert not read(stream(text)).accuracy_candidates

    def test_lines_without_accuracy_word_are_ignored(self) -> None:
        assert not read(
            stream("CNN: 0.71, ResNet: 0.75\nlearning rate 0.001\nDropout 0.5\n")
        ).accuracy_candidates

    def test_stderr_logging_line_counts(self) -> None:
        (cand,) = read(stream("INFO:root:test accuracy 0.7300\n", "stderr")).accuracy_candidates
        assert cand.value == pytest.approx(0.73)

    def test_markdown_display(self) -> None:
        out = display(
            "<IPython.core.display.Markdown object>", text_markdown="**Test accuracy:** 0.8015"
        )
        (cand,) = read(out).accuracy_candidates
        assert cand.value == pytest.approx(0.8015)


class TestEvaluateResults:
    def test_list_execute_result(self) -> None:
        (cand,) = read(result("[0.6512, 0.7775999903678894]")).accuracy_candidates
        assert (cand.method, cand.value, cand.label) == ("evaluate_result", 0.7776, "")
        assert 0.5 <= cand.confidence < 0.8

    def test_numpy_scalars_in_the_list(self) -> None:
        (cand,) = read(result("[np.float64(0.6512), np.float64(0.7776)]")).accuracy_candidates
        assert cand.value == pytest.approx(0.7776)

    def test_real_tuple_and_dict(self) -> None:
        (tup,) = read_outputs(6, fixture("loss_acc_tuple")).accuracy_candidates
        assert tup.value == pytest.approx(0.265)
        (dct,) = read_outputs(5, fixture("evaluate_return_dict")).accuracy_candidates
        assert (dct.method, dct.label) == ("evaluate_result", "accuracy")
        assert dct.value == pytest.approx(0.265)

    def test_printed_list_with_label(self) -> None:
        (cand,) = read(stream("Test loss, Test accuracy: [0.6512, 0.7776]\n")).accuracy_candidates
        assert cand.value == pytest.approx(0.7776)
        assert cand.mentions_test and cand.confidence >= 0.7

    def test_several_results_printed_on_one_line(self) -> None:
        line = "[1.5612444877624512, 0.4471000134944916] [0.745083212852478, 0.7526000142097473] [1.3925106525421143, 0.5016000270843506]\n"
        cands = read(stream(line)).accuracy_candidates
        assert [(c.value, c.order) for c in cands] == [(0.4471, 0), (0.7526, 1), (0.5016, 2)]
        assert all(c.method == "evaluate_result" for c in cands)
        labelled = read(stream("CNN: [0.81, 0.7116] ResNet: [0.75, 0.7526]\n")).accuracy_candidates
        assert [(c.label, c.value) for c in labelled] == [("CNN", 0.7116), ("ResNet", 0.7526)]

    def test_multi_metric_list_is_ambiguous(self) -> None:
        (cand,) = read(result("[0.6512, 0.7776, 0.9512, 0.7001]")).accuracy_candidates
        assert cand.value == pytest.approx(0.7776)
        assert cand.confidence <= 0.3

    def test_shapes_and_probabilities_are_not_results(self) -> None:
        facts = read(
            result("(2000, 32, 32, 3)"),
            stream("Input shape: (32, 32, 3)\n(0, 1)\narray([0.2, 0.8], dtype=float32)\n"),
            result("array([[0.1, 0.9]], dtype=float32)"),
        )
        assert not facts.accuracy_candidates

    def test_dict_of_results_per_model(self) -> None:
        text = "{'cnn': {'accuracy': 0.71, 'loss': 0.9}, 'resnet': {'accuracy': 0.76, 'loss': 0.7}}"
        facts = read(result(text))
        assert [(c.label, c.value) for c in facts.accuracy_candidates] == [
            ("cnn", 0.71),
            ("resnet", 0.76),
        ]
        assert [r.label for r in facts.table_rows] == ["cnn", "resnet"]
        assert facts.table_rows[1].values == {"accuracy": 0.76, "loss": 0.7}

    def test_last_epoch_metrics_dict_is_not_a_result(self) -> None:
        facts = read(
            result("{'accuracy': 0.95, 'loss': 0.12, 'val_accuracy': 0.78, 'val_loss': 0.7}")
        )
        assert not facts.accuracy_candidates

    def test_classification_report_dict(self) -> None:
        text = "{'cat': {'precision': 0.8, 'recall': 0.7, 'f1-score': 0.75, 'support': 100}, 'accuracy': 0.775, 'macro avg': {'precision': 0.78}}"
        (cand,) = read(result(text)).accuracy_candidates
        assert (cand.method, cand.value) == ("classification_report", 0.775)

    def test_history_dict_is_not_a_result(self) -> None:
        facts = read(
            stream("{'loss': [1.9, 1.5], 'accuracy': [0.3, 0.4], 'val_accuracy': [0.35, 0.45]}\n")
        )
        assert not facts.accuracy_candidates

    def test_dict_of_model_accuracies_with_label(self) -> None:
        facts = read(stream("Test accuracies: {'Simple CNN': 0.712, 'ResNet': 0.755}\n"))
        assert [(c.label, c.value, c.mentions_test) for c in facts.accuracy_candidates] == [
            ("Simple CNN", 0.712, True),
            ("ResNet", 0.755, True),
        ]
        assert [r.values for r in facts.table_rows] == [{"value": 0.712}, {"value": 0.755}]

    def test_bare_float_from_accuracy_score(self) -> None:
        (cand,) = read_outputs(9, fixture("accuracy_score_float")).accuracy_candidates
        assert (cand.method, cand.value, cand.label) == ("accuracy_score", 0.265, "")
        assert cand.confidence <= 0.3
        (np_cand,) = read(result("np.float64(0.7733)")).accuracy_candidates
        assert np_cand.value == pytest.approx(0.7733)
        assert not read(result("12.5")).accuracy_candidates
        assert not read(result("42")).accuracy_candidates

    def test_classification_report(self) -> None:
        facts = read_outputs(7, fixture("classification_report_and_confusion"))
        (cand,) = facts.accuracy_candidates
        assert (cand.method, cand.value) == ("classification_report", 0.27)
        assert cand.line.startswith("accuracy")

    def test_classification_report_title_names_the_split(self) -> None:
        report = (
            "Validation report:\n"
            "              precision    recall  f1-score   support\n\n"
            "    airplane       0.80      0.75      0.77       100\n"
            "  automobile       0.85      0.90      0.87       100\n\n"
            "    accuracy                           0.82       200\n"
            "   macro avg       0.82      0.82      0.82       200\n"
            "weighted avg       0.82      0.82      0.82       200\n"
        )
        (cand,) = read(stream(report)).accuracy_candidates
        assert cand.label == "Validation report"
        assert cand.mentions_val and cand.confidence < 0.5


# -------------------------------------------------------------------- tables


class TestTables:
    def test_real_dataframe_print_and_html_result(self) -> None:
        facts = read_outputs(10, fixture("comparison_dataframe_print_and_result"))
        labels = ["Simple CNN", "ResNet-like", "MobileNetV2 (fine-tuned)"]
        assert [r.label for r in facts.table_rows] == labels * 2
        assert facts.table_rows[0].values == {
            "Test Accuracy": 0.712,
            "Train time (s)": 120.5,
            "Params": 122570,
        }
        assert [(c.label, c.value, c.method) for c in facts.accuracy_candidates[:3]] == [
            ("Simple CNN", 0.712, "table"),
            ("ResNet-like", 0.755, "table"),
            ("MobileNetV2 (fine-tuned)", 0.853, "table"),
        ]
        assert all(c.mentions_test for c in facts.accuracy_candidates)
        assert [c.order for c in facts.accuracy_candidates] == list(range(6))

    def test_real_named_index_and_series(self) -> None:
        for name in ("comparison_dataframe_named_index", "accuracy_series"):
            facts = read_outputs(11, fixture(name))
            assert values(facts.accuracy_candidates) == [0.712, 0.755, 0.853], name
            assert facts.table_rows[2].label == "MobileNetV2 (fine-tuned)"

    def test_real_styler_with_percent_cells(self) -> None:
        facts = read_outputs(16, fixture("styler_percent_table"))
        assert values(facts.accuracy_candidates) == [0.712, 0.755, 0.853]
        assert facts.table_rows[0].values["Test Accuracy"] == pytest.approx(71.2)

    def test_plain_text_dataframe_without_html(self) -> None:
        text = "         Model  Train Acc  Val Acc  Test Acc  Time [s]\n0   Simple CNN       0.95     0.72     0.712     120.5\n1  ResNet-like       0.91     0.76     0.755     300.2\n"
        facts = read(stream(text))
        assert [(c.label, c.value) for c in facts.accuracy_candidates] == [
            ("Simple CNN", 0.712),
            ("ResNet-like", 0.755),
        ]
        assert facts.table_rows[0].values == {
            "Train Acc": 0.95,
            "Val Acc": 0.72,
            "Test Acc": 0.712,
            "Time [s]": 120.5,
        }

    def test_two_test_accuracy_columns_name_the_column(self) -> None:
        text = "         Model  Test acc (frozen)  Test acc (fine-tuned)\n0  MobileNetV2              0.812                  0.853"
        cands = read(result(text)).accuracy_candidates
        assert [(c.label, c.value) for c in cands] == [
            ("MobileNetV2 (Test acc (frozen))", 0.812),
            ("MobileNetV2 (Test acc (fine-tuned))", 0.853),
        ]

    def test_plain_accuracy_column_is_ambiguous_next_to_train_and_val(self) -> None:
        text = "        Model  Train Acc  Val Acc  Accuracy\n0  Simple CNN       0.95     0.72      0.71\n1      ResNet       0.91     0.76      0.75\n"
        facts = read(result(text))
        assert len(facts.table_rows) == 2
        assert not facts.accuracy_candidates

    def test_plain_accuracy_column_alone(self) -> None:
        text = "         model  accuracy  time\n0   simple_cnn      71.2   120\n1  mobilenetv2      85.3    80"
        cands = read(result(text)).accuracy_candidates
        assert [(c.label, c.value) for c in cands] == [
            ("simple_cnn", 0.712),
            ("mobilenetv2", 0.853),
        ]
        assert all(0.4 <= c.confidence <= 0.6 for c in cands)

    def test_czech_headers(self) -> None:
        text = "            Model  Přesnost (test)  Čas tréninku [s]\n0  Jednoduchá CNN            0.712             120.5\n1     MobileNetV2            0.853              80.0"
        cands = read(result(text)).accuracy_candidates
        assert [(c.label, c.value, c.mentions_test) for c in cands] == [
            ("Jednoduchá CNN", 0.712, True),
            ("MobileNetV2", 0.853, True),
        ]

    def test_markdown_pipe_table(self) -> None:
        text = (
            "| Model       |   Test Accuracy |   Time (s) |\n"
            "|:------------|----------------:|-----------:|\n"
            "| Simple CNN  |          0.712  |      120.5 |\n"
            "| MobileNetV2 |          0.853  |       80   |\n"
        )
        facts = read(stream(text))
        assert [(c.label, c.value) for c in facts.accuracy_candidates] == [
            ("Simple CNN", 0.712),
            ("MobileNetV2", 0.853),
        ]
        assert facts.table_rows[1].values == {"Test Accuracy": 0.853, "Time (s)": 80}

    def test_grid_table(self) -> None:
        text = (
            "+-------------+-----------------+\n"
            "| Model       |   Test Accuracy |\n"
            "+=============+=================+\n"
            "| Simple CNN  |           0.712 |\n"
            "+-------------+-----------------+\n"
            "| ResNet-like |           0.755 |\n"
            "+-------------+-----------------+\n"
        )
        assert values(read(stream(text)).accuracy_candidates) == [0.712, 0.755]

    def test_transposed_table(self) -> None:
        text = "                   CNN   ResNet  MobileNetV2\nTest accuracy    0.712    0.755        0.853\nTraining time  120.000  300.000       80.000"
        cands = read(result(text)).accuracy_candidates
        assert [(c.label, c.value) for c in cands] == [
            ("CNN", 0.712),
            ("ResNet", 0.755),
            ("MobileNetV2", 0.853),
        ]

    def test_splits_as_rows(self) -> None:
        text = "       accuracy  loss\ntrain     0.950  0.15\nval       0.720  0.80\ntest      0.712  0.83"
        cands = read(result(text)).accuracy_candidates
        test = [c for c in cands if c.mentions_test]
        assert [(c.label, c.value) for c in test] == [("test", 0.712)]
        assert all(c.confidence <= 0.2 for c in cands if not c.mentions_test)

    def test_history_dataframe_gives_rows_but_no_candidates(self) -> None:
        text = "   accuracy      loss  val_accuracy  val_loss\n0    0.3100  1.900000        0.4000  1.600000\n1    0.4500  1.500000        0.5000  1.400000"
        facts = read(result(text))
        assert not facts.accuracy_candidates
        assert [r.label for r in facts.table_rows] == ["0", "1"]

    def test_random_printed_lines_are_not_a_table(self) -> None:
        text = "Found 2000 images belonging to 10 classes.\nFound 1000 images belonging to 10 classes.\nTraining time CNN:        120.5 s\nTraining time ResNet:     300.2 s\n"
        facts = read(stream(text))
        assert not facts.table_rows
        assert not facts.accuracy_candidates


# ------------------------------------------------------------------ matrices


class TestMatrices:
    def test_real_print_and_array_repr(self) -> None:
        facts = read_outputs(7, fixture("classification_report_and_confusion"))
        assert [m.matrix for m in facts.matrices] == [[[43, 10, 0], [62, 10, 0], [61, 14, 0]]] * 2
        assert [m.order for m in facts.matrices] == [0, 1]

    def test_real_dataframe_with_class_names(self) -> None:
        (m,) = read_outputs(8, fixture("confusion_dataframe")).matrices
        assert m.labels == ["cat", "dog", "ship"]
        assert m.matrix[1] == [62, 10, 0]
        assert not read_outputs(8, fixture("confusion_dataframe")).table_rows

    def test_labelled_print_and_torch_and_tf(self) -> None:
        text = (
            "Confusion matrix:\n[[50  2  3]\n [ 4 40  6]\n [ 1  2 47]]\n"
            "tensor([[50,  2],\n        [ 4, 44]])\n"
            "tf.Tensor(\n[[61  9]\n [12 58]], shape=(2, 2), dtype=int32)\n"
        )
        mats = read(stream(text)).matrices
        assert [m.matrix for m in mats] == [
            [[50, 2, 3], [4, 40, 6], [1, 2, 47]],
            [[50, 2], [4, 44]],
            [[61, 9], [12, 58]],
        ]

    def test_wrapped_ten_class_matrix(self) -> None:
        rows = [
            [(i * 7 + j * 13) % 90 + (800 if i == j else 0) for j in range(10)] for i in range(10)
        ]
        body = "\n ".join(
            "["
            + " ".join(f"{v:3d}" for v in row[:7])
            + "\n  "
            + " ".join(f"{v:3d}" for v in row[7:])
            + "]"
            for row in rows
        )
        (m,) = read(stream("[" + body + "]\n")).matrices
        assert m.matrix == rows

    def test_things_that_are_not_confusion_matrices(self) -> None:
        text = (
            "[3 8 8 0 6 6 1 6 3 1]\n"  # predictions
            "[[0 0 1]\n [1 0 0]\n [0 1 0]]\n"  # one-hot labels
            "[[0.9  0.05 0.05]\n [0.1  0.8  0.1 ]\n [0.2  0.1  0.7 ]]\n"  # normalised floats
            "[[1 2 3]\n [4 5 6]]\n"  # not square
            "[[[255 255 255]\n  [250 250 250]]]\n"  # an image
            "[[  0   0   0 ...   0   0   0]\n [  0   0   0 ...   0   0   0]]\n"  # truncated
        )
        assert not read(stream(text)).matrices

    def test_crosstab_with_margins(self) -> None:
        text = "Predicted  cat  dog  All\nActual                  \ncat         40   10   50\ndog          5   45   50\nAll         45   55  100"
        (m,) = read(result(text)).matrices
        assert m.matrix == [[40, 10], [5, 45]]
        assert m.labels == ["cat", "dog"]

    def test_integer_comparison_table_is_not_a_matrix(self) -> None:
        text = "           epochs  batch   params\nCNN            10     32   122570\nResNet         20     64   455000\nMobileNet      15     32  2257984"
        facts = read(result(text))
        assert not facts.matrices
        assert len(facts.table_rows) == 3


# ----------------------------------------------------------------- summaries


class TestSummaries:
    def test_real_keras3_summaries(self) -> None:
        (s,) = read_outputs(1, fixture("keras3_summary")).summaries
        assert (s.name, s.total, s.trainable, s.non_trainable) == ("sequential", 183, 183, 0)
        assert s.layer_types == ["Conv2D", "SeparableConv2D", "GlobalAveragePooling2D", "Dense"]
        (t,) = read_outputs(13, fixture("mobilenetv2_frozen_summary")).summaries
        assert (t.total, t.trainable, t.non_trainable) == (2261827, 3843, 2257984)
        assert t.layer_types == ["Functional", "GlobalAveragePooling2D", "Dense"]

    def test_keras2_wrapped_type_names(self) -> None:
        text = (
            'Model: "sequential"\n'
            "_________________________________________________________________\n"
            " Layer (type)                Output Shape              Param #   \n"
            "=================================================================\n"
            " conv2d (Conv2D)             (None, 30, 30, 32)        896       \n"
            "                                                                 \n"
            " batch_normalization (BatchN  (None, 30, 30, 32)       128       \n"
            " ormalization)                                                   \n"
            "                                                                 \n"
            " max_pooling2d (MaxPooling2D  (None, 15, 15, 32)       0         \n"
            " )                                                               \n"
            "                                                                 \n"
            " mobilenetv2_1.00_96 (Functi  (None, 3, 3, 1280)       2257984   \n"
            " onal)                                                           \n"
            "                                                                 \n"
            " dense (Dense)               (None, 10)                12810     \n"
            "                                                                 \n"
            "=================================================================\n"
            "Total params: 2,271,818\n"
            "Trainable params: 13,834\n"
            "Non-trainable params: 2,257,984\n"
            "_________________________________________________________________\n"
        )
        facts = read(stream(text))
        (s,) = facts.summaries
        assert s.name == "sequential"
        assert s.layer_types == [
            "Conv2D",
            "BatchNormalization",
            "MaxPooling2D",
            "Functional",
            "Dense",
        ]
        assert (s.total, s.trainable, s.non_trainable) == (2271818, 13834, 2257984)
        assert not facts.table_rows

    def test_old_keras_functional_with_connected_to(self) -> None:
        text = (
            "__________________________________________________________________________________________________\n"
            "Layer (type)                    Output Shape         Param #     Connected to                     \n"
            "==================================================================================================\n"
            "input_1 (InputLayer)            (None, 32, 32, 3)    0                                            \n"
            "__________________________________________________________________________________________________\n"
            "conv2d_1 (Conv2D)               (None, 32, 32, 16)   448         input_1[0][0]                    \n"
            "__________________________________________________________________________________________________\n"
            "batch_normalization_1 (BatchNor (None, 32, 32, 16)   64          conv2d_1[0][0]                   \n"
            "__________________________________________________________________________________________________\n"
            "add_1 (Add)                     (None, 32, 32, 16)   0           batch_normalization_1[0][0]      \n"
            "                                                                 input_1[0][0]                    \n"
            "==================================================================================================\n"
            "Total params: 512\nTrainable params: 480\nNon-trainable params: 32\n"
        )
        (s,) = read(stream(text)).summaries
        assert s.name is None
        assert s.layer_types == ["InputLayer", "Conv2D", "BatchNor", "Add"]
        assert s.total == 512

    def test_torchinfo_and_torchsummary(self) -> None:
        torchinfo = (
            "==========================================================================================\n"
            "Layer (type:depth-idx)                   Output Shape              Param #\n"
            "==========================================================================================\n"
            "ResNet                                   [1, 10]                   --\n"
            "├─Conv2d: 1-1                            [1, 64, 16, 16]           9,408\n"
            "├─Sequential: 1-2                        [1, 64, 8, 8]             --\n"
            "│    └─BasicBlock: 2-1                   [1, 64, 8, 8]             73,984\n"
            "├─Linear: 1-3                            [1, 10]                   5,130\n"
            "==========================================================================================\n"
            "Total params: 11,181,642\nTrainable params: 5,130\nNon-trainable params: 11,176,512\n"
            "Total mult-adds (M): 37.03\n"
        )
        (s,) = read(stream(torchinfo)).summaries
        assert s.layer_types == ["ResNet", "Conv2d", "Sequential", "BasicBlock", "Linear"]
        assert (s.total, s.trainable) == (11181642, 5130)
        torchsummary = (
            "----------------------------------------------------------------\n"
            "        Layer (type)               Output Shape         Param #\n"
            "================================================================\n"
            "            Conv2d-1         [-1, 64, 112, 112]           9,408\n"
            "       BatchNorm2d-2         [-1, 64, 112, 112]             128\n"
            "            Linear-3                   [-1, 10]           5,130\n"
            "================================================================\n"
            "Total params: 14,666\nTrainable params: 14,666\nNon-trainable params: 0\n"
        )
        (t,) = read(stream(torchsummary)).summaries
        assert t.layer_types == ["Conv2d", "BatchNorm2d", "Linear"]

    def test_two_summaries_in_one_cell(self) -> None:
        outs = fixture("keras3_summary") + fixture("mobilenetv2_frozen_summary")
        summaries = read(*outs).summaries
        assert [(s.name, s.order) for s in summaries] == [("sequential", 0), ("sequential_1", 1)]


# ----------------------------------------------------------- images, errors


class TestImagesAndErrors:
    def test_images_are_counted_not_read(self) -> None:
        big = "iVBORw0KGgo" + "A" * 3_000_000
        facts = read(
            display("<Figure size 640x480 with 1 Axes>", image_png=big),
            display(image_jpeg="/9j/4AAQ"),
            display(image_svg_xml="<svg></svg>", image_png="iVBOR"),
            result("<matplotlib.legend.Legend at 0x7f>"),
        )
        assert facts.images == 3
        assert "iVBOR" not in facts.text

    def test_error_outputs_and_stderr_tracebacks(self) -> None:
        facts = read(
            {
                "output_type": "error",
                "ename": "ValueError",
                "evalue": "\x1b[31mShapes (None, 10) and (None, 1) are incompatible\x1b[0m",
                "traceback": [],
            },
            stream(
                'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n    model.fit(x)\nKeyboardInterrupt\n',
                "stderr",
            ),
            stream(
                'Traceback (most recent call last):\n  File "x.py", line 1\ntensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor\n',
                "stderr",
            ),
        )
        assert facts.errors == [
            ("ValueError", "Shapes (None, 10) and (None, 1) are incompatible"),
            ("KeyboardInterrupt", ""),
            (
                "tensorflow.python.framework.errors_impl.ResourceExhaustedError",
                "OOM when allocating tensor",
            ),
        ]

    def test_warnings_are_not_errors(self) -> None:
        facts = read(
            stream(
                "/usr/lib/python3/site-packages/keras/src/layers/core/dense.py:87: UserWarning: Do not pass an `input_shape`\n",
                "stderr",
            )
        )
        assert not facts.errors


# ---------------------------------------------------------------- robustness


class TestRobustness:
    @pytest.mark.parametrize(
        "outputs",
        [
            None,
            [],
            [None, 3, "text", []],
            [{"output_type": "stream"}],
            [{"output_type": "execute_result", "data": None}],
            [
                {
                    "output_type": "execute_result",
                    "data": {"text/plain": 5, "text/html": ["<table>", 7]},
                }
            ],
            [
                {
                    "output_type": "display_data",
                    "data": {"text/html": "<table><tr><td>1</td></tr><tr><th colspan='x'>a"},
                }
            ],
            [{"output_type": "error"}],
            [{"output_type": "unknown", "text": "Test accuracy: 0.7"}],
            [stream("Epoch 1/0\n0/0 ━━ 0s - accuracy: nan - loss: inf\n[[\n" + "[" * 500 + "\n")],
            [stream("\x1b[" * 1000 + "\r" * 1000 + "\x08" * 1000)],
            [
                result("{'a': {'b': {'c': 1}}}"),
                result("[" * 2000 + "]" * 2000),
                result("{" + "1: 2, " * 5000 + "}"),
            ],
        ],
    )
    def test_never_raises(self, outputs: Any) -> None:
        facts = read_outputs(0, outputs)
        assert isinstance(facts, OutputFacts)
        assert facts.cell == 0

    def test_random_noise_never_raises(self) -> None:
        rng = random.Random(5)
        alphabet = "Epoch 1/10\n━[=>.]- accuracy: 0.5 val_acc test % | ( ) { } , : \r\x08\x1b[1m0123456789Layer (type) Total params: ┃│"
        for _ in range(300):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
            kind = rng.choice(["stdout", "stderr"])
            facts = read_outputs(
                1,
                [
                    stream(text, kind),
                    result(text),
                    {
                        "output_type": "display_data",
                        "data": {"text/html": f"<table>{text}</table>"},
                    },
                ],
            )
            for cand in facts.accuracy_candidates:
                assert 0.0 <= cand.value <= 1.0
                assert 0.0 <= cand.confidence <= 1.0

    def test_fast_on_a_large_notebook(self) -> None:
        keras2_raw = (
            "".join(k2_epoch(k, 50, 0.5, 1.0, (0.5, 1.0), steps=63) for k in range(1, 51)) * 4
        )
        printed = "".join(
            f"sample {i}: predicted {i % 10}, true {(i * 7) % 10}\n" for i in range(20_000)
        )
        cells = []
        for i in range(50):
            if i % 10 == 0:
                cells.append([stream(keras2_raw)])
            elif i % 10 == 1:
                cells.append([stream(printed)])
            elif i % 10 == 2:
                cells.append([display("<Figure>", image_png="A" * 2_000_000)])
            else:
                cells.append(
                    [*k3_epoch(1, 1, 0.5, 1.0, (0.5, 1.0)), stream("Test accuracy: 0.5\n")]
                )
        start = time.perf_counter()
        for i, outs in enumerate(cells):
            read_outputs(i, outs)
        elapsed = time.perf_counter() - start
        assert elapsed < 1.0  # typically well under 0.1 s; generous for slow CI machines


def test_orders_follow_the_output() -> None:
    facts = read(
        stream("Test accuracy: 0.70\n"),
        result("[0.9, 0.71]"),
        stream("CNN test accuracy: 0.72\n"),
    )
    assert [(c.order, c.value) for c in facts.accuracy_candidates] == [
        (0, 0.7),
        (1, 0.71),
        (2, 0.72),
    ]
    assert facts.cell == 7


# ------------------------------------------------ shapes from real notebooks (issue 13)


class TestShapesFromRealNotebooks:
    def test_per_class_lines_are_a_series_and_the_overall_line_is_not(self) -> None:
        facts = read(
            stream(
                "Test Accuracy of airplane: 73% (735/1000)\nTest Accuracy of automobile: 78% (784/1000)\n"
                "Test Accuracy of  bird: 51% (517/1000)\n\nTest Accuracy (Overall): 67% (2036/3000)\n"
            )
        )
        assert [(c.value, c.series) for c in facts.accuracy_candidates] == [
            (0.73, True),
            (0.78, True),
            (0.51, True),
            (0.67, False),
        ]

    def test_accuracy_words_after_the_value(self) -> None:
        facts = read(stream("MobileNetV2 : 86.17% Validation Accuracy\n"))
        (cand,) = facts.accuracy_candidates
        assert cand.value == pytest.approx(0.8617)
        assert cand.label == "MobileNetV2 Validation Accuracy" and cand.mentions_val

    def test_a_validation_dict_shown_as_the_result_is_a_candidate_that_says_validation(
        self,
    ) -> None:
        facts = read(result("{'val_loss': 0.9666368365287781, 'val_acc': 0.761523425579071}"))
        (cand,) = facts.accuracy_candidates
        assert (cand.method, cand.mentions_val, cand.shown) == ("evaluate_result", True, True)
        assert cand.value == pytest.approx(0.7615, abs=1e-4)

    def test_a_dict_of_training_and_validation_metrics_is_not(self) -> None:
        facts = read(result("{'train_loss': 0.5, 'val_loss': 0.96, 'val_acc': 0.76}"))
        assert not facts.accuracy_candidates

    def test_a_sentence_after_an_aligned_table_is_not_a_row(self) -> None:
        facts = read(
            stream(
                "Classe     Précision (%)\nplane        47.37   \ncar          51.40   \n"
                "bird         46.74   \nPrécision du réseau sur les 1000 images de test : 43.90 %\n"
            )
        )
        prints = [c for c in facts.accuracy_candidates if c.method == "print"]
        assert [(c.value, c.mentions_test) for c in prints] == [(0.439, True)]
        assert len(facts.table_rows) == 3

    def test_a_record_series_names_its_validation_accuracy(self) -> None:
        facts = read(
            stream("train_acc     0.766771\nval_acc       0.729331\nName: 9, dtype: float64\n")
        )
        # the training row says nothing of held-out data: no candidate
        assert [(c.label, c.value, c.mentions_val) for c in facts.accuracy_candidates] == [
            ("val_acc", 0.729331, True),
        ]

    def test_where_an_error_stopped_the_cell(self) -> None:
        err = {
            "output_type": "error",
            "ename": "RuntimeError",
            "evalue": "boom",
            "traceback": ["---", "RuntimeError   Traceback", "File <timed exec>:42\n"],
        }
        facts = read(err)
        assert facts.error_line == 43 and not facts.printed
        assert read(stream("x\n"), err).printed

    def test_displayed_values_are_marked_shown(self) -> None:
        facts = read(result("(0.0, 1.0)"))
        assert [c.shown for c in facts.accuracy_candidates] == [True]
        assert not read(stream("[0.65, 0.77]\n")).accuracy_candidates[0].shown
