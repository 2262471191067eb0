"""Training logs: the epochs of each ``fit`` (or hand-written loop) in a cell's output.

Reads Keras 3 and Keras 2 progress bars (``verbose=1``), ``verbose=2`` lines,
callback messages between epochs, and hand-written logs in many wordings
(``Epoch 3/10 - loss: 0.91 - acc: 67.2%``, ``[2,  4000] loss: 1.876``,
``Epocha 3: přesnost 0.71``). Each run of epochs becomes a
:class:`~grader.extract.facts.TrainingLog` with its per-epoch history,
epoch numbers, declared epoch count and seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from grader.extract.facts import TrainingLog
from grader.extract.outputs.cell import Cell
from grader.extract.text import has_accuracy_word, is_excluded_accuracy, mentions

__all__ = ["parse_training"]

Style = Literal["keras3", "keras2", "keras-verbose2", "custom"]

_HEADER = re.compile(r"^\s*Epoch\s+(\d+)/(\d+)\s*$")
_BAR_HEAD = re.compile(r"^\s*(\d+)/(\d+|Unknown)\s*(━+|\[[=>.]*\])?")
_BAR_STATE = re.compile(r"(\d+)/(\d+)\s*(?:\[[=>.]*\]|━)")
_OLD_VERBOSE2 = re.compile(r"^\s*-\s+(\d+(?:\.\d+)?)s\s+-\s+(?=[A-Za-z_]\w*:)")
_VERBOSE2_TAIL = re.compile(r"^\s*-\s+\d+(?:\.\d+)?(?:s|ms)\s+-\s")
_UNKNOWN_TAIL = re.compile(r"^\s*\d+s\s")
_KERAS_METRIC = re.compile(
    r"(?<![\w/])([A-Za-z_]\w*):\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|-?inf)(?![\w.])"
)
_ELAPSED = re.compile(r"^\s*(?:-\s*)?(\d+(?:\.\d+)?)s(?![\w/])")
_STEP_TIME = re.compile(r"(\d+(?:\.\d+)?)(s|ms|us|µs)/(?:step|sample)")
_EPOCH_TIME = re.compile(r"(\d+(?:\.\d+)?)(s|ms)/epoch")
_CALLBACK = re.compile(r"^\s*Epoch\s+0*\d+:\s")
_CALLBACK_WORDS = re.compile(
    r"improv|saving|saved|early stopping|stopping|ReduceLROnPlateau|reducing|learning rate"
    r"|LearningRateScheduler|restoring|finished|did not|checkpoint",
    re.IGNORECASE,
)
_RESTORING = re.compile(r"^\s*Restoring model weights", re.IGNORECASE)
_CUSTOM_EPOCH = re.compile(
    r"^[^\w\n]{0,8}(?:epoch|epoche|epocha|epoka|época|époque)\s*[:#]?\s*\[?\s*(\d+)"
    r"\s*(?:(?:/|of|z|ze|von|de)\s*(\d+))?\s*\]?",
    re.IGNORECASE,
)
# the PyTorch CIFAR-10 tutorial: "[2,  4000] loss: 1.876" (epoch, mini-batch)
_TUTORIAL_EPOCH = re.compile(r"^\s*\[\s*(\d+),\s*(\d+)\]")
_FREE_SECONDS = re.compile(
    r"(?:[(\[]|took\s+|in\s+)(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)(?![\w])", re.IGNORECASE
)
_PUNCT_ONLY = re.compile(r"^[\W_]*$")
_PAIR = re.compile(
    r"(?P<name>[^\W\d_][\w\-]*(?:[ .][^\W\d_][\w\-]*){0,3}(?:\s*\([^()]{0,20}\))?)"
    r"\s*[:=]?\s*(?P<value>-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)(?![\d.])"
    r"(?P<unit>\s*%|\s*(?:s|sec|secs|seconds?|ms)(?!\w))?"
)
_NOT_A_METRIC = re.compile(
    r"(?<![a-z])(?:batch|step|iter|iteration|it|epochs?|samples?|images?|of|lr_step)(?![a-z])"
)
_TIME_NAME = re.compile(r"(?<![a-z])(?:time|čas|cas|took|duration|elapsed|zeit|tiempo|temps)")
_LOSS_NAME = re.compile(r"loss|ztr[áa]t")
_TRAIN_HINTS = ("poch", "loss", "━")  # every epoch line and evaluate bar has one
_ACC_ALIASES = frozenset(
    {"acc", "accuracy", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"}
)


@dataclass
class _Bar:
    current: int | None
    total: int | None
    style: Style
    metrics: list[tuple[str, float]]
    elapsed: float | None
    step: float | None
    epoch_time: float | None
    final: bool
    line: str


def _last_bar_state(line: str) -> str:
    """The last progress-bar state of a line where a stale state was left glued before it.

    Some front ends save ``   1/1250 [....] - ETA: 3:05 - loss: 3.19`` without its
    erasing backspaces, so the final ``1250/1250 [====] ...`` follows on the same line.
    """
    heads = list(_BAR_STATE.finditer(line))
    if len(heads) < 2:
        return line
    last = heads[-1]
    slash = last.start(2) - 1
    return line[max(last.start(), slash - len(last.group(2))) :]


def _seconds(value: str, unit: str) -> float:
    factor = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}.get(unit, 1.0)
    return float(value) * factor


def _parse_bar(line: str) -> _Bar | None:
    style: Style
    head = _BAR_HEAD.match(line)
    if head:
        current: int | None = int(head.group(1))
        total = None if head.group(2) == "Unknown" else int(head.group(2))
        bar = head.group(3)
        tail = line[head.end() :]
        if bar:
            style = "keras3" if bar[0] == "━" else "keras2"
        elif _VERBOSE2_TAIL.match(tail):
            style = "keras-verbose2"
        elif total is None and _UNKNOWN_TAIL.match(tail):
            style = "keras3"
        else:
            return None
    else:
        old = _OLD_VERBOSE2.match(line)
        if not old:
            return None
        current = total = None
        style = "keras-verbose2"
        tail = line
    metrics: list[tuple[str, float]] = []
    for name, value in _KERAS_METRIC.findall(tail):
        try:
            metrics.append((name, float(value)))
        except ValueError:
            continue
    elapsed_m = _ELAPSED.match(tail)
    step_m = _STEP_TIME.search(tail)
    epoch_m = _EPOCH_TIME.search(tail)
    eta = "ETA" in tail
    final = not eta and (current is None or total is None or current >= total)
    return _Bar(
        current=current,
        total=total,
        style=style,
        metrics=metrics,
        elapsed=float(elapsed_m.group(1)) if elapsed_m else None,
        step=_seconds(step_m.group(1), step_m.group(2)) if step_m else None,
        epoch_time=_seconds(epoch_m.group(1), epoch_m.group(2)) if epoch_m else None,
        final=final,
        line=line.strip(),
    )


def _keras_key(name: str) -> str:
    prefix, base = ("val_", name[4:]) if name.startswith("val_") else ("", name)
    if base in _ACC_ALIASES:
        return prefix + "accuracy"
    return name


def _custom_key(name: str) -> str | None:
    low = name.lower().strip(" .:-_")
    acc = has_accuracy_word(low) and not is_excluded_accuracy(low)
    loss = _LOSS_NAME.search(low) is not None
    if not acc and not loss:
        if _NOT_A_METRIC.search(low):
            return None
        if _TIME_NAME.search(low):
            return "__time__"
    test, val, _train = mentions(low)
    prefix = "val_" if val else "test_" if test else ""
    if acc and not loss:
        return prefix + "accuracy"
    if loss and not acc:
        return prefix + "loss"
    if low in ("lr", "learning rate", "learning_rate"):
        return "lr"
    snake = re.sub(r"[^\w]+", "_", low).strip("_")
    return snake or None


def _custom_pairs(text: str) -> tuple[dict[str, float], float | None]:
    """Metric name -> value pairs of a hand-written log line, and the seconds it names."""
    metrics: dict[str, float] = {}
    seconds: float | None = None
    for m in _PAIR.finditer(text):
        key = _custom_key(m.group("name"))
        unit = (m.group("unit") or "").strip()
        try:
            value = float(m.group("value"))
        except ValueError:
            continue
        if key is None:
            continue
        timed = unit in ("s", "sec", "secs", "second", "seconds", "ms")
        if key == "__time__" or (timed and not key.endswith(("accuracy", "loss"))):
            seconds = value / 1000 if unit == "ms" else value
            continue
        if key.endswith("accuracy") and (unit == "%" or 1 < value <= 100):
            value /= 100
        metrics.setdefault(key, value)
    if seconds is None:
        free = _FREE_SECONDS.search(text)
        seconds = float(free.group(1)) if free else None
    return metrics, seconds


def _has_core_metric(metrics: dict[str, float]) -> bool:
    return any(k.endswith(("accuracy", "loss")) for k in metrics)


@dataclass
class _Extra:
    line_index: int
    metrics: dict[str, float]
    seconds: float | None
    line: str


@dataclass
class _Epoch:
    number: int
    declared: int | None
    bar: _Bar | None = None
    custom: dict[str, float] = field(default_factory=dict)
    custom_seconds: float | None = None
    custom_line: str = ""
    extra: list[_Extra] = field(default_factory=list)
    open: bool = True
    last: str = ""  # what the previous non-blank line was: "bar", "callback", "text"

    @property
    def has_val(self) -> bool:
        return self.bar is not None and any(n.startswith("val_") for n, _ in self.bar.metrics)

    @property
    def family(self) -> str:
        return "keras" if self.bar is not None else "custom"

    def metrics(self) -> dict[str, float]:
        if self.bar is not None:
            out: dict[str, float] = {}
            for name, value in self.bar.metrics:
                key = _keras_key(name)
                if key in out:
                    key = name
                out.setdefault(key, value)
            return out
        merged = dict(self.custom)
        for extra in self.extra:
            merged.update(extra.metrics)
        return merged

    def seconds(self) -> float | None:
        bar = self.bar
        if bar is not None:
            if bar.epoch_time is not None:
                return bar.epoch_time
            by_steps = bar.step * bar.total if bar.step is not None and bar.total else None
            if bar.elapsed is not None and (bar.elapsed >= 2 or by_steps is None):
                return bar.elapsed
            return by_steps
        if self.custom_seconds is not None:
            return self.custom_seconds
        for extra in reversed(self.extra):
            if extra.seconds is not None:
                return extra.seconds
        return None

    def line(self) -> str:
        if self.bar is not None:
            return self.bar.line
        if self.custom_line:
            return self.custom_line
        return self.extra[-1].line if self.extra else ""


def _scan_epochs(c: Cell, kind: str) -> list[_Epoch]:
    epochs: list[_Epoch] = []
    cur: _Epoch | None = None
    lines = c.lines

    def finish() -> None:
        nonlocal cur
        if cur is not None:
            epochs.append(cur)
        cur = None

    for _seg, i in c.segment_lines(kind):
        line = lines[i]
        if not line.strip():
            continue
        header = _HEADER.match(line)
        if header:
            finish()
            cur = _Epoch(int(header.group(1)), int(header.group(2)))
            c.consumed.add(i)
            continue
        if "/" in line:
            line = _last_bar_state(line)
        bar = _parse_bar(line) if ("/" in line or "- " in line) else None
        if bar is not None:
            c.consumed.add(i)
            if not bar.metrics:  # a predict bar, or a bar without metrics
                if cur is not None and cur.bar is not None:
                    cur.open = False
                continue
            with_val = any(name.startswith("val_") for name, _v in bar.metrics)
            if cur is not None and (cur.open or with_val):
                if not bar.final:
                    cur.last = "bar"
                    continue
                if cur.open and cur.bar is None and not cur.custom and not cur.extra:
                    cur.bar, cur.last = bar, "bar"
                    continue
                if (
                    cur.bar is not None
                    and not cur.has_val
                    and bar.total == cur.bar.total
                    and (with_val or (cur.open and cur.last == "callback"))
                ):
                    # the epoch's real final line, after a callback printed mid-line
                    cur.bar, cur.last, cur.open = bar, "bar", True
                    continue
            if with_val:
                continue  # validation metrics only appear while training
            c.facts.has_evaluate_bar = True
            if cur is not None:
                cur.open = False
            continue
        if _RESTORING.match(line) or (_CALLBACK.match(line) and _CALLBACK_WORDS.search(line)):
            c.consumed.add(i)
            if cur is not None:
                cur.last = "callback"
            continue
        custom = _CUSTOM_EPOCH.match(line) or _TUTORIAL_EPOCH.match(line)
        if custom:
            rest = line[custom.end() :]
            number = int(custom.group(1))
            declared = (
                int(custom.group(2)) if custom.re is _CUSTOM_EPOCH and custom.group(2) else None
            )
            metrics, seconds = _custom_pairs(rest)
            if _has_core_metric(metrics):
                finish()
                cur = _Epoch(number, declared, custom=metrics, custom_seconds=seconds)
                cur.custom_line = line.strip()
                c.consumed.add(i)
                continue
            if _PUNCT_ONLY.match(rest):
                finish()
                cur = _Epoch(number, declared)
                c.consumed.add(i)
                continue
        if _CALLBACK.match(line):
            c.consumed.add(i)
            if cur is not None:
                cur.last = "callback"
            continue
        if cur is not None and cur.open:
            if cur.bar is not None:
                cur.open = False
                continue
            metrics, seconds = _custom_pairs(line)
            if _has_core_metric(metrics):
                cur.extra.append(_Extra(i, metrics, seconds, line.strip()))
            cur.last = "text"
    finish()
    return epochs


def _accept_extras(c: Cell, log: list[_Epoch]) -> None:
    """Keep the follow-up metric lines of hand-written logs; the last epoch's only when they fit."""
    for j, epoch in enumerate(log):
        if not epoch.extra:
            continue
        if j == len(log) - 1:
            if j > 0:
                allowed = {k for extra in log[j - 1].extra for k in extra.metrics}
                allowed |= set(log[j - 1].custom)
                epoch.extra = [e for e in epoch.extra if set(e.metrics) <= allowed]
            else:
                epoch.extra = [
                    e
                    for e in epoch.extra
                    if not any(k.startswith("test_") for k in e.metrics)
                    and (mentions(e.line)[1] or mentions(e.line)[2])
                ]
        c.consumed.update(e.line_index for e in epoch.extra)


def _split_logs(epochs: list[_Epoch]) -> list[list[_Epoch]]:
    logs: list[list[_Epoch]] = []
    for epoch in epochs:
        if epoch.bar is None and not epoch.custom and not epoch.extra:
            continue
        if logs:
            prev = logs[-1][-1]
            same_declared = (
                epoch.declared is None or prev.declared is None or epoch.declared == prev.declared
            )
            if (
                epoch.family == "custom"
                and prev.family == "custom"
                and epoch.number == prev.number
                and same_declared
            ):
                # a per-batch line of the same epoch: the later line wins
                prev.custom.update(epoch.custom)
                prev.extra.extend(epoch.extra)
                prev.custom_line = epoch.custom_line or prev.custom_line
                prev.custom_seconds = epoch.custom_seconds or prev.custom_seconds
                continue
            new = (
                epoch.family != prev.family
                or epoch.number <= prev.number
                or not same_declared
                or (epoch.family == "keras" and epoch.number != prev.number + 1)
            )
            if not new:
                logs[-1].append(epoch)
                continue
        logs.append([epoch])
    return logs


def parse_training(c: Cell) -> None:
    for kind in ("stdout", "stderr"):
        if not any(
            seg.kind == kind and any(hint in seg.low for hint in _TRAIN_HINTS) for seg in c.segments
        ):
            continue
        logs = _split_logs(_scan_epochs(c, kind))
        for log in logs:
            _accept_extras(c, log)
            measured = [(e, e.metrics()) for e in log]
            kept = [e for e, m in measured if m]
            if not kept:
                continue
            per_epoch = [m for _e, m in measured if m]
            keys = [k for k in per_epoch[0] if all(k in m for m in per_epoch)]
            history = {k: [m[k] for m in per_epoch] for k in keys}
            times = [e.seconds() for e in kept]
            seconds = (
                round(sum(t for t in times if t is not None), 3)
                if all(t is not None for t in times)
                else None
            )
            first_bar = kept[0].bar
            style: Style = first_bar.style if first_bar is not None else "custom"
            c.facts.training_logs.append(
                TrainingLog(
                    order=len(c.facts.training_logs),
                    history=history,
                    epoch_numbers=[e.number for e in kept],
                    epochs_declared=kept[-1].declared,
                    seconds=seconds,
                    style=style,
                    line=kept[-1].line(),
                )
            )
