"""Read one code cell's stored outputs into :class:`~grader.extract.facts.OutputFacts`.

The outputs are nbformat v4 dicts as a notebook stores them. Consecutive
stream outputs are joined per stream before cleaning (a progress bar line is
often split across several outputs), then each parser in :data:`_PARSERS`
reads the cleaned lines in turn. A parser marks the lines it has explained
(training epochs, a classification report, a model summary...) so that later
parsers do not read them again: the numbers on a Keras progress bar never
become a test accuracy, for instance.

Everything here is stdlib and line based: a notebook with megabytes of
output parses in milliseconds, and image payloads are only counted.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal

from grader.extract.facts import (
    AccuracyCandidate,
    ModelSummary,
    OutputFacts,
    PrintedMatrix,
    TableRow,
    TrainingLog,
)
from grader.extract.text import (
    as_text,
    clean_text,
    has_accuracy_word,
    has_loss_word,
    is_excluded_accuracy,
    mentions,
    parse_number,
    strip_ansi,
)

__all__ = ["read_outputs"]

_log = logging.getLogger(__name__)

_IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
_MAX_LINES = 6_000  # lines of one output read by the parsers (head and tail kept)
_MAX_HTML = 300_000  # characters of a text/html table worth parsing
_MAX_ROWS = 300  # rows of an HTML table worth parsing (comparison tables are small)
_MAX_LITERAL = 20_000  # characters of a repr worth handing to ast.literal_eval

Method = Literal["evaluate_result", "print", "classification_report", "accuracy_score", "table"]
Style = Literal["keras3", "keras2", "keras-verbose2", "custom"]

# ------------------------------------------------------------------ cell model


@dataclass
class _Segment:
    """The cleaned text of one output (or one stream run) and where its lines sit."""

    kind: Literal["stdout", "stderr", "plain", "error"]
    result: bool  # an execute_result
    text: str
    html: str | None = None
    start: int = 0
    end: int = 0
    low: str = ""  # the text in lower case, for cheap "is it worth reading" checks


@dataclass
class _Cell:
    facts: OutputFacts
    segments: list[_Segment]
    lines: list[str]
    consumed: set[int] = field(default_factory=set)
    candidates: list[tuple[tuple[int, int], AccuracyCandidate]] = field(default_factory=list)
    rows: list[tuple[tuple[int, int], TableRow]] = field(default_factory=list)
    matrices: list[tuple[tuple[int, int], PrintedMatrix]] = field(default_factory=list)
    summaries: list[tuple[tuple[int, int], ModelSummary]] = field(default_factory=list)

    def segment_lines(self, *kinds: str) -> Iterator[tuple[_Segment, int]]:
        for seg in self.segments:
            if seg.kind in kinds:
                for i in range(seg.start, seg.end):
                    yield seg, i

    def add_candidate(
        self,
        pos: tuple[int, int],
        value: float,
        method: Method,
        label: str,
        line: str,
        confidence: float,
        flags: tuple[bool, bool, bool] | None = None,
    ) -> None:
        test, val, train = flags if flags is not None else mentions(label)
        self.candidates.append(
            (
                pos,
                AccuracyCandidate(
                    value=round(value, 6),
                    method=method,
                    label=label.strip(),
                    line=line.strip(),
                    order=0,
                    mentions_test=test,
                    mentions_val=val,
                    mentions_train=train,
                    confidence=round(max(0.0, min(1.0, confidence)), 3),
                ),
            )
        )


def _build_cell(cell: int, outputs: list[Any]) -> _Cell:
    facts = OutputFacts(cell=cell, text="")
    segments: list[_Segment] = []
    run: dict[str, list[str]] = {}

    def flush() -> None:
        for name, parts in run.items():
            kind: Literal["stdout", "stderr"] = "stderr" if name == "stderr" else "stdout"
            segments.append(_Segment(kind, False, clean_text("".join(parts))))
        run.clear()

    for out in outputs:
        if not isinstance(out, dict):
            continue
        otype = out.get("output_type")
        if otype == "stream":
            name = out.get("name")
            run.setdefault(name if isinstance(name, str) else "stdout", []).append(
                as_text(out.get("text"))
            )
            continue
        flush()
        if otype in ("execute_result", "display_data"):
            data = out.get("data")
            if not isinstance(data, dict):
                continue
            if any(mime in data for mime in _IMAGE_MIMES):
                facts.images += 1
            text = as_text(data.get("text/markdown")) or as_text(data.get("text/plain"))
            html = as_text(data.get("text/html"))
            table_html = (
                html
                if len(html) <= _MAX_HTML and "<table" in html and html.count("<tr") <= _MAX_ROWS
                else None
            )
            if text or table_html:
                segments.append(
                    _Segment("plain", otype == "execute_result", clean_text(text), table_html)
                )
        elif otype == "error":
            ename = strip_ansi(str(out.get("ename") or "")).strip()
            evalue = strip_ansi(str(out.get("evalue") or "")).strip()
            if ename or evalue:
                facts.errors.append((ename, evalue))
                segments.append(_Segment("error", False, f"{ename}: {evalue}"))
    flush()

    lines: list[str] = []
    for seg in segments:
        seg_lines = seg.text.split("\n")
        if seg_lines and seg_lines[-1] == "":
            seg_lines.pop()
        if len(seg_lines) > _MAX_LINES:
            half = _MAX_LINES // 2
            seg_lines = [*seg_lines[:half], "", *seg_lines[-half:]]
        seg.low = seg.text.lower()
        seg.start = len(lines)
        lines.extend(seg_lines)
        if seg.html is not None and not seg_lines:
            lines.append("")  # gives the table a position
        seg.end = len(lines)
    facts.text = "\n".join(seg.text.rstrip("\n") for seg in segments if seg.text.strip())
    return _Cell(facts, segments, lines)


# ------------------------------------------------------------- training logs

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


def _scan_epochs(c: _Cell, kind: str) -> list[_Epoch]:
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


def _accept_extras(c: _Cell, log: list[_Epoch]) -> None:
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


def _parse_training(c: _Cell) -> None:
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


# ------------------------------------------------------------ model summaries

_MODEL_NAME = re.compile(r'^\s*Model:\s*"([^"]*)"')
_TOTAL = re.compile(r"^\s*Total params:\s*([\d,]+)")
_TRAINABLE = re.compile(r"^\s*Trainable params:\s*([\d,]+)")
_NON_TRAINABLE = re.compile(r"^\s*Non-trainable params:\s*([\d,]+)")
_PARAM_CELL = re.compile(r"^(?:[\d,]+|--)(?:\s|$)")
_KERAS_TYPE = re.compile(r"\(([^()]*)\)\s*$")
_KERAS_TYPE_OPEN = re.compile(r"\(\s*([A-Za-z_][\w.]*)")
_TORCHINFO_TYPE = re.compile(r"^[\s│├└─|]*([A-Za-z_][\w.]*)\s*:\s*\d+-\d+")
_TORCHSUMMARY_TYPE = re.compile(r"^([A-Za-z_][\w.]*)-\d+$")
_CLASS_NAME = re.compile(r"^[A-Z][\w.]*$")  # a bare class name: torchinfo's top row
_SPANS = re.compile(r"\S+(?: \S+)*")


def _layer_type(first_column: str) -> str | None:
    text = first_column.strip()
    if not text:
        return None
    m = _TORCHINFO_TYPE.match(text) or _TORCHSUMMARY_TYPE.match(text)
    if m:
        return m.group(1)
    m = _KERAS_TYPE.search(text)
    if m:
        inner = re.sub(r"\s+", "", m.group(1))
        return inner or None
    m = _KERAS_TYPE_OPEN.search(text)
    if m:
        return m.group(1)
    return text if _CLASS_NAME.match(text) else None


@dataclass
class _SummaryDraft:
    pos: tuple[int, int]
    name: str | None = None
    total: int | None = None
    trainable: int | None = None
    non_trainable: int | None = None
    layers: list[str] = field(default_factory=list)  # first-column text of each layer row


def _int(text: str) -> int | None:
    try:
        return int(text.replace(",", ""))
    except ValueError:
        return None


def _parse_summaries(c: _Cell) -> None:
    if not any(
        "params:" in seg.low or "layer (type" in seg.low
        for seg in c.segments
        if seg.kind != "error"
    ):
        return
    draft: _SummaryDraft | None = None
    table: Literal["none", "box", "ascii"] = "none"
    param_col = -1
    ascii_cols: tuple[int, int] = (0, 0)  # start of Output Shape and of Param #
    joiner = ""

    def finish() -> None:
        nonlocal draft, table
        if draft is not None and (draft.total is not None or draft.layers):
            types = [t for t in (_layer_type(text) for text in draft.layers) if t]
            c.summaries.append(
                (
                    draft.pos,
                    ModelSummary(
                        name=draft.name,
                        total=draft.total,
                        trainable=draft.trainable,
                        non_trainable=draft.non_trainable,
                        layer_types=types,
                        order=0,
                    ),
                )
            )
        draft = None
        table = "none"

    for _seg, i in c.segment_lines("stdout", "plain"):
        line = c.lines[i]
        name = _MODEL_NAME.match(line)
        if name:
            finish()
            draft = _SummaryDraft((i, 0), name=name.group(1))
            c.consumed.add(i)
            continue
        if "Layer (type" in line:
            if draft is None or draft.layers or draft.total is not None:
                finish()
                draft = _SummaryDraft((i, 0))
            c.consumed.add(i)
            if "┃" in line:
                cells = [cell.strip() for cell in line.strip().strip("┃").split("┃")]
                table = "box"
                param_col = next((k for k, cell in enumerate(cells) if "Param" in cell), -1)
                joiner = " "
            else:
                table = "ascii"
                shape_at = line.find("Output Shape")
                param_at = line.find("Param #")
                ascii_cols = (shape_at if shape_at > 0 else 30, param_at)
                joiner = ""
            continue
        total = _TOTAL.match(line)
        if total:
            if draft is None or draft.total is not None:
                finish()
                draft = _SummaryDraft((i, 0))
            draft.total = _int(total.group(1))
            table = "none"
            c.consumed.add(i)
            continue
        trainable = _TRAINABLE.match(line)
        if trainable and draft is not None:
            draft.trainable = _int(trainable.group(1))
            c.consumed.add(i)
            continue
        non_trainable = _NON_TRAINABLE.match(line)
        if non_trainable and draft is not None:
            draft.non_trainable = _int(non_trainable.group(1))
            c.consumed.add(i)
            finish()
            continue
        if draft is None:
            continue
        if table == "box":
            c.consumed.add(i)
            stripped = line.strip()
            if stripped.startswith("└"):
                table = "none"
                continue
            if not stripped.startswith("│"):
                continue
            cells = stripped.strip("│").split("│")
            first = cells[0].strip()
            param = cells[param_col].strip() if 0 <= param_col < len(cells) else ""
            if param and _PARAM_CELL.match(param):
                draft.layers.append(first)
            elif draft.layers and first:
                draft.layers[-1] += joiner + first
        elif table == "ascii":
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith(("Total params", "Trainable", "Non-trainable")):
                continue
            c.consumed.add(i)
            if set(stripped) <= set("=_-"):
                if stripped[0] == "=" and draft.layers:
                    table = "none"  # the rule under the last layer
                continue
            shape_at, param_at = ascii_cols
            spans = [(m.start(), m.group()) for m in _SPANS.finditer(line)]
            if spans and _TORCHSUMMARY_TYPE.match(spans[0][1]):
                first, param = spans[0][1], spans[-1][1]  # torchsummary: right-aligned
            else:
                first = line[:shape_at].strip()
                after = [text for start, text in spans if start >= max(shape_at, param_at - 3)]
                if param_at < 0:
                    after = after[1:]
                param = after[0] if after else ""
            has_param = _PARAM_CELL.match(param) is not None
            if has_param and first:
                draft.layers.append(first)
            elif draft.layers and first:
                draft.layers[-1] += joiner + first
    finish()


# ---------------------------------------------------- classification reports

_REPORT_HEADER = re.compile(r"^\s*precision\s+recall\s+f1-score\s+support\s*$")
_REPORT_ACCURACY = re.compile(r"^\s*accuracy\s+(\d*\.\d+|\d+)\s+(\d+)\s*$")
_REPORT_ROW = re.compile(r"^\s*\S.*?\s+(?:\d*\.\d+\s+){1,3}\d+\s*$")


def _parse_reports(c: _Cell) -> None:
    if not any("f1-score" in seg.low for seg in c.segments):
        return
    lines = c.lines
    for seg in c.segments:
        if seg.kind == "error" or "f1-score" not in seg.text:
            continue
        i = seg.start
        while i < seg.end:
            if i in c.consumed or not _REPORT_HEADER.match(lines[i]):
                i += 1
                continue
            title = ""
            for back in range(i - 1, max(seg.start, i - 3) - 1, -1):
                text = lines[back].strip()
                if text:
                    if back not in c.consumed and len(text) <= 150 and "precision" not in text:
                        title = text.rstrip(":").strip(" =-#*")
                    break
            c.consumed.add(i)
            j = i + 1
            while j < seg.end and j < i + 60:
                text = lines[j]
                if not text.strip():
                    j += 1
                    continue
                if not _REPORT_ROW.match(text):
                    break
                c.consumed.add(j)
                acc = _REPORT_ACCURACY.match(text)
                if acc:
                    value = float(acc.group(1))
                    if 0.0 <= value <= 1.0:
                        test, val, train = mentions(title)
                        confidence = 0.15 if (val or train) and not test else 0.8
                        c.add_candidate(
                            (j, 0),
                            value,
                            "classification_report",
                            title or "accuracy",
                            text,
                            confidence,
                            (test, val, train),
                        )
                j += 1
            i = j


# ------------------------------------------------------------------ matrices

_MATRIX_TOKEN = re.compile(r"^\d+\.?0*$")


def _int_matrix(body: str) -> list[list[int]] | None:
    if "..." in body or "[[[" in body:
        return None
    rows = re.findall(r"\[([^\[\]]*)\]", body)
    if not 2 <= len(rows) <= 20:
        return None
    matrix: list[list[int]] = []
    for row in rows:
        tokens = [t for t in re.split(r"[\s,]+", row.strip()) if t]
        if len(tokens) != len(rows) or not all(_MATRIX_TOKEN.match(t) for t in tokens):
            return None
        matrix.append([int(float(t)) for t in tokens])
    if not _plausible_matrix(matrix):
        return None
    return matrix


def _plausible_matrix(matrix: list[list[int]]) -> bool:
    """Counts of a confusion matrix: not a one-hot block, every true class present."""
    values = {v for row in matrix for v in row}
    return bool(values - {0, 1}) and all(sum(row) > 0 for row in matrix)


def _parse_array_matrices(c: _Cell) -> None:
    for seg in c.segments:
        if seg.kind not in ("stdout", "plain") or "[[" not in seg.text:
            continue
        i = seg.start
        while i < seg.end:
            line = c.lines[i]
            at = line.find("[[")
            if at < 0 or i in c.consumed:
                i += 1
                continue
            depth = 0
            parts: list[str] = []
            j = i
            text = line[at:]
            while j < seg.end and j < i + 120:
                parts.append(text)
                depth += text.count("[") - text.count("]")
                if depth <= 0:
                    break
                j += 1
                text = c.lines[j] if j < seg.end else ""
            matrix = _int_matrix("\n".join(parts)) if depth <= 0 else None
            if matrix is not None:
                c.matrices.append(((i, at), PrintedMatrix(matrix=matrix, labels=None, order=0)))
                c.consumed.update(range(i, j + 1))
            i = j + 1 if matrix is not None else i + 1


# -------------------------------------------------------------------- tables


@dataclass
class _Table:
    columns: list[str]  # data column names (the index column excluded)
    rows: list[tuple[str, list[str], str]]  # (index label, cells, source line)
    pos: tuple[int, int]
    index_name: str = ""
    series: bool = False


class _HTMLTables(HTMLParser):
    """Rows of every ``<table>`` in an HTML snippet: cell texts with their tag and colspan."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[tuple[bool, list[tuple[str, str, int]]]]] = []
        self._depth = 0
        self._row: list[tuple[str, str, int]] | None = None
        self._in_head = False
        self._cell: list[str] | None = None
        self._cell_tag = ""
        self._colspan = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif self._depth != 1:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._cell_tag = tag
            span = dict(attrs).get("colspan") or "1"
            self._colspan = int(span) if span.isdigit() else 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth = max(0, self._depth - 1)
        elif self._depth != 1:
            return
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).split())
            self._row.append((self._cell_tag, text, self._colspan))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append((self._in_head, self._row))
            self._row = None
        elif tag == "thead":
            self._in_head = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(html: str, pos: tuple[int, int]) -> list[_Table]:
    parser = _HTMLTables()
    parser.feed(html)
    parser.close()
    tables: list[_Table] = []
    for raw in parser.tables:
        head = [row for in_head, row in raw if in_head]
        body = [row for in_head, row in raw if not in_head]
        if not head and body and all(tag == "th" for tag, _t, _s in body[0]):
            head, body = [body[0]], body[1:]
        if not head or not body:
            continue
        width = max(sum(span for _tag, _t, span in row) for row in head)
        names = [""] * width
        index_name = ""
        for row in head:
            texts = [text for _tag, text, span in row for _ in range(span)]
            if len(texts) > 1 and texts[0] and not any(texts[1:]):
                index_name = texts[0]  # pandas puts the index name on its own header row
                continue
            for k, text in enumerate(texts[:width]):
                names[k] = f"{names[k]} {text}".strip() if text else names[k]
        rows: list[tuple[str, list[str], str]] = []
        for row in body:
            labels = [text for tag, text, _s in row if tag == "th"]
            cells = [text for tag, text, _s in row if tag == "td"]
            if not cells:
                continue
            rows.append((" ".join(labels), cells, " | ".join(t for _tag, t, _s in row)))
        if not rows:
            continue
        n_cells = max(len(cells) for _l, cells, _r in rows)
        columns = names[-n_cells:] if n_cells <= len(names) else names + [""] * (n_cells - width)
        tables.append(_Table(columns, rows, pos, index_name))
    return tables


_SEPARATOR_ROW = re.compile(r"^[\s|:+\-=]+$")
_FOOTER = re.compile(r"^\s*\[\d+ rows x \d+ columns\]\s*$")
_SERIES_FOOTER = re.compile(r"^\s*(?:Name:\s*(.*?),\s*)?(?:Length: \d+, )?dtype:\s*\w+\s*$")


def _pipe_table(block: list[tuple[int, str]]) -> _Table | None:
    rows: list[list[str]] = []
    sources: list[str] = []
    for _i, line in block:
        stripped = line.strip()
        if _SEPARATOR_ROW.match(stripped):
            continue
        if not stripped.startswith("|"):
            return None
        rows.append([cell.strip() for cell in stripped.strip("|").split("|")])
        sources.append(stripped)
    if len(rows) < 2:
        return None
    header = rows[0]
    body = [(row[0], row[1:], src) for row, src in zip(rows[1:], sources[1:], strict=True)]
    return _Table(header[1:], body, (block[0][0], 0), header[0])


def _numeric_span(text: str) -> bool:
    first = text.split()[0] if text.split() else ""
    return parse_number(first) is not None


def _aligned_table(block: list[tuple[int, str]], allow_numeric_header: bool) -> _Table | None:
    """A whitespace-aligned table (pandas repr, tabulate, f-string columns)."""
    lines = [(i, line) for i, line in block if not _SEPARATOR_ROW.match(line)]
    lines = [(i, line) for i, line in lines if not _FOOTER.match(line)]
    if len(lines) < 2:
        return None
    header = lines[0][1]
    if header.rstrip().endswith("\\"):
        return None  # a wide frame wrapped over several blocks
    names = [(m.start(), m.end(), m.group()) for m in _SPANS.finditer(header)]
    if not names:
        return None
    if not allow_numeric_header and (
        len(names) < 2 or any(_numeric_span(n) for _s, _e, n in names)
    ):
        return None
    body = lines[1:]
    index_name = ""
    first_start = names[0][0]
    if body and len(body) > 1:
        lead = body[0][1]
        data_start = names[1][0] if first_start == 0 and len(names) > 1 else first_start
        if lead.strip() and 0 < len(lead.rstrip()) <= data_start:
            index_name = lead.strip()
            body = body[1:]
            if first_start == 0 and len(names) > 1:
                # pandas prints the columns' own name (crosstab "Predicted") in the index area
                index_name = f"{names[0][2]} / {index_name}"
                names = names[1:]
                first_start = names[0][0]
    rows: list[tuple[str, list[str], str]] = []
    for _i, line in body:
        cells = [""] * len(names)
        index_parts: list[str] = []
        for m in _SPANS.finditer(line):
            p_start, p_end, piece = m.start(), m.end(), m.group()
            best, overlap = -1, 0
            for k, (h_start, h_end, _n) in enumerate(names):
                shared = min(p_end, h_end) - max(p_start, h_start)
                if shared > overlap:
                    best, overlap = k, shared
            if best < 0:
                if p_end <= first_start:
                    index_parts.append(piece)
                    continue
                return None
            if cells[best]:
                return None
            cells[best] = piece
        rows.append((" ".join(index_parts), cells, line.strip()))
    if not rows:
        return None
    return _Table([n for _s, _e, n in names], rows, (lines[0][0], 0), index_name)


def _series_table(block: list[tuple[int, str]]) -> _Table | None:
    footer = _SERIES_FOOTER.match(block[-1][1])
    if not footer or len(block) < 2:
        return None
    rows: list[tuple[str, list[str], str]] = []
    index_name = ""
    for k, (_i, line) in enumerate(block[:-1]):
        m = re.match(r"^(.*?\S)\s{2,}(\S+)\s*$", line)
        if not m:
            if k == 0 and line.strip():
                index_name = line.strip()
                continue
            return None
        rows.append((m.group(1).strip(), [m.group(2)], line.strip()))
    if not rows:
        return None
    name = (footer.group(1) or "").strip()
    return _Table([name], rows, (block[0][0], 0), index_name, series=True)


def _text_blocks(c: _Cell, seg: _Segment) -> Iterator[list[tuple[int, str]]]:
    block: list[tuple[int, str]] = []
    for i in range(seg.start, seg.end):
        line = c.lines[i]
        if i in c.consumed or not line.strip():
            if block:
                yield block
            block = []
            continue
        block.append((i, line))
    if block:
        yield block


def _text_table(block: list[tuple[int, str]], from_result: bool) -> _Table | None:
    first = block[0][1].lstrip()
    if first.startswith(("|", "+")):
        return _pipe_table([(i, ln) for i, ln in block if not ln.lstrip().startswith("+")])
    series = _series_table(block)
    if series is not None:
        return series
    if len(block) > 60 or (not from_result and len(block) < 3):
        return None
    return _aligned_table(block, allow_numeric_header=from_result)


_MATRIX_WORDS = re.compile(r"pred|true|actual|skute[čc]n|předpov|predikov|label", re.IGNORECASE)


def _table_matrix(table: _Table) -> PrintedMatrix | None:
    labels = [label for label, _cells, _src in table.rows]
    columns = list(table.columns)
    rows = [list(cells) for _l, cells, _s in table.rows]
    if labels and labels[-1].lower() in ("all", "total", "sum"):
        labels, rows = labels[:-1], rows[:-1]
    if columns and columns[-1].lower() in ("all", "total", "sum"):
        columns = columns[:-1]
        rows = [r[:-1] for r in rows]
    n = len(rows)
    if not 2 <= n <= 20 or len(columns) != n or any(len(r) != n for r in rows):
        return None
    if not all(_MATRIX_TOKEN.match(cell.strip()) for r in rows for cell in r):
        return None
    matrix = [[int(float(cell)) for cell in r] for r in rows]
    if not _plausible_matrix(matrix):
        return None

    def norm(names: list[str]) -> list[str]:
        return [
            re.sub(r"^(?:pred(?:icted)?|true|actual)[\s_:]*", "", x.strip().lower()) for x in names
        ]

    same = norm(labels) == norm(columns) or sorted(norm(labels)) == sorted(norm(columns))
    numbered = [x.strip() for x in labels] == [str(k) for k in range(n)] and [
        x.strip() for x in columns
    ] == [str(k) for k in range(n)]
    named = _MATRIX_WORDS.search(" ".join([table.index_name, *columns, *labels])) is not None
    if not (same or numbered or named):
        return None
    return PrintedMatrix(matrix=matrix, labels=[x.strip() for x in labels] or None, order=0)


def _is_integer_label(text: str) -> bool:
    return text.strip().lstrip("-").isdigit()


def _accuracy_column(name: str) -> bool:
    return has_accuracy_word(name) and not has_loss_word(name) and not is_excluded_accuracy(name)


def _emit_table(c: _Cell, table: _Table) -> bool:
    """TableRows, and accuracy candidates for accuracy columns; False when nothing numeric."""
    matrix = _table_matrix(table)
    if matrix is not None:
        c.matrices.append((table.pos, matrix))
        return True
    # which column holds the row label
    label_col = -1
    if all(not label or _is_integer_label(label) for label, _c, _s in table.rows):
        for k in range(len(table.columns)):
            if all(
                k < len(cells) and cells[k] and parse_number(cells[k]) is None
                for _l, cells, _s in table.rows
            ):
                label_col = k
                break
    numeric_cols = [
        k
        for k, _name in enumerate(table.columns)
        if k != label_col
        and any(
            k < len(cells) and parse_number(cells[k]) is not None for _l, cells, _s in table.rows
        )
    ]
    if not numeric_cols:
        return False
    names = [n.strip() for n in table.columns]
    acc_cols = [k for k in numeric_cols if _accuracy_column(names[k])]
    flags = {k: mentions(names[k]) for k in acc_cols}
    split_named = any(mentions(name)[1] or mentions(name)[2] for name in names)
    chosen: list[tuple[int, float]] = []
    for k in acc_cols:
        test, val, train = flags[k]
        if val or train:
            if not test:
                continue
            chosen.append((k, 0.3))
        elif test:
            chosen.append((k, 0.75))
        elif not split_named:
            chosen.append((k, 0.5))
    if table.series and not table.columns[0]:
        chosen = []
    for r, (index_label, cells, source) in enumerate(table.rows):
        label = cells[label_col].strip() if label_col >= 0 and label_col < len(cells) else ""
        label = label or index_label.strip()
        values: dict[str, float] = {}
        for k in numeric_cols:
            if k < len(cells):
                number = parse_number(cells[k])
                if number is not None:
                    values[names[k] or f"column {k}"] = number
        if not values:
            continue
        pos = (table.pos[0], r + 1)
        c.rows.append((pos, TableRow(label=label, values=values, order=0)))
        row_flags = mentions(label)
        for k, confidence in chosen:
            if k >= len(cells):
                continue
            value = _as_fraction(cells[k])
            if value is None:
                continue
            col_flags = flags[k]
            merged = (
                col_flags[0] or row_flags[0],
                col_flags[1] or row_flags[1],
                col_flags[2] or row_flags[2],
            )
            conf = confidence if not (row_flags[1] or row_flags[2]) else 0.1
            name = f"{label} ({names[k]})" if len(chosen) > 1 else label
            c.add_candidate(pos, value, "table", name, source, conf, merged)
        if not chosen and _accuracy_column(label) and not table.series:
            # transposed comparison: one row per metric, one column per model
            test, val, train = row_flags
            conf = 0.1 if (val or train) and not test else 0.7 if test else 0.45
            for k in numeric_cols:
                if k < len(cells) and names[k]:
                    value = _as_fraction(cells[k])
                    if value is not None:
                        c.add_candidate(pos, value, "table", names[k], source, conf, row_flags)
    return True


def _as_fraction(cell: str) -> float | None:
    number = parse_number(cell)
    if number is None:
        return None
    if "%" in cell or 1.0 < number <= 100.0:
        number /= 100.0
    return number if 0.0 <= number <= 1.0 else None


def _parse_tables(c: _Cell) -> None:
    for seg in c.segments:
        if seg.kind == "error":
            continue
        found_html = False
        if seg.html is not None:
            try:
                tables = _html_tables(seg.html, (seg.start, 0))
            except Exception:  # malformed HTML: fall back to the text/plain repr
                tables = []
            for table in tables:
                found_html = _emit_table(c, table) or found_html
            if found_html:
                c.consumed.update(range(seg.start, seg.end))
                continue
        if seg.kind == "stderr" or ("  " not in seg.text and "|" not in seg.text):
            continue
        for block in _text_blocks(c, seg):
            text_table = _text_table(block, from_result=seg.kind == "plain")
            if text_table is not None and _emit_table(c, text_table):
                c.consumed.update(i for i, _line in block)


# ---------------------------------------------------------- evaluate results

_NUMPY_SCALAR = re.compile(
    r"\b(?:np\.|numpy\.)?(?:float|int)(?:16|32|64)\(\s*([^()]*?)\s*\)|\btensor\(\s*([^(),]*?)\s*\)"
)
_FLAT_LITERAL = re.compile(r"[\[({][^\[\](){}]*[\])}]")
_BARE_FLOAT = re.compile(
    r"^\s*(?:(?:np\.|numpy\.)?float(?:16|32|64)\(|tensor\(|tf\.Tensor\()?\s*"
    r"(-?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:,\s*shape=\(\),\s*dtype=\w+)?\)?\s*$"
)
_CLOSERS = ("]", ")", "}", "].", ").", "}.")
_FLOAT_LITERAL = re.compile(r"^-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?$")


def _unwrap_scalars(text: str) -> str:
    return _NUMPY_SCALAR.sub(lambda m: m.group(1) or m.group(2) or "", text)


def _literal(text: str) -> Any:
    if len(text) > _MAX_LITERAL:
        return None
    try:
        return ast.literal_eval(_unwrap_scalars(text.strip()))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _number_list(text: str) -> list[tuple[float, str]] | None:
    """A flat list / tuple repr of numbers: (value, token as written) pairs."""
    inner = _unwrap_scalars(text.strip())
    if not inner or inner[0] not in "[(" or inner[-1] not in "])":
        return None
    tokens = [t.strip() for t in inner[1:-1].split(",")]
    if tokens and tokens[-1] == "":
        tokens.pop()
    if not 2 <= len(tokens) <= 5 or not all(_FLOAT_LITERAL.match(t) for t in tokens):
        return None
    return [(float(t), t) for t in tokens]


def _metric_key_kind(key: str) -> str:
    low = key.lower()
    if _accuracy_column(low):
        test, val, train = mentions(low)
        if val or train:
            return "split_accuracy"
        return "accuracy"
    if has_loss_word(low) or "f1" in low or "precision" in low or "recall" in low or "auc" in low:
        return "other_metric"
    return "name"


def _emit_list(
    c: _Cell,
    pos: tuple[int, int],
    numbers: list[tuple[float, str]],
    label: str,
    line: str,
    result: bool,
) -> bool:
    value, token = numbers[1]
    if "." not in token and "e" not in token.lower():
        return False
    if not 0.0 <= value <= 1.0 or numbers[0][0] < 0:
        return False
    test, val, train = mentions(label)
    if len(numbers) == 2:
        confidence = 0.6 if result else 0.5
        if test and not (val or train):
            confidence += 0.2
    else:
        confidence = 0.25
    if (val or train) and not test:
        confidence = 0.1
    if label and not (has_accuracy_word(label) or has_loss_word(label) or test):
        confidence -= 0.15
    c.add_candidate(pos, value, "evaluate_result", label, line, confidence, (test, val, train))
    return True


def _emit_dict(c: _Cell, pos: tuple[int, int], data: dict[Any, Any], label: str, line: str) -> bool:
    if not data or not all(isinstance(k, str) for k in data):
        return False
    outer = mentions(label)
    report_accuracy = data.get("accuracy")
    if "macro avg" in data and isinstance(report_accuracy, float):
        # classification_report(..., output_dict=True)
        if 0.0 <= report_accuracy <= 1.0:
            test, val, train = outer
            confidence = 0.15 if (val or train) and not test else 0.75
            c.add_candidate(
                pos,
                report_accuracy,
                "classification_report",
                label or "accuracy",
                line,
                confidence,
                outer,
            )
        return True
    numeric = {
        k: v for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    nested = {k: v for k, v in data.items() if isinstance(v, dict)}
    if numeric and len(numeric) == len(data):
        kinds = {k: _metric_key_kind(k) for k in numeric}
        accuracy_keys = [k for k, kind in kinds.items() if kind == "accuracy"]
        if any(mentions(k)[1] or mentions(k)[2] for k in numeric):
            return True  # last-epoch training metrics (val_*), not an evaluate result
        if accuracy_keys:
            method: Method = "classification_report" if "macro avg" in data else "evaluate_result"
            key = accuracy_keys[0]
            value = _as_fraction(repr(numeric[key]))
            if value is None:
                return False
            test, val, train = outer
            confidence = 0.1 if (val or train) and not test else 0.8 if test else 0.65
            c.add_candidate(pos, value, method, label or key, line, confidence, outer)
            return True
        if all(kind == "name" for kind in kinds.values()):
            for r, (key, value) in enumerate(numeric.items()):
                row_pos = (pos[0], pos[1] + r)
                c.rows.append(
                    (row_pos, TableRow(label=key, values={"value": float(value)}, order=0))
                )
                if has_accuracy_word(label) and not has_loss_word(label):
                    fraction = _as_fraction(repr(value))
                    if fraction is not None:
                        test, val, train = outer
                        confidence = 0.1 if (val or train) and not test else 0.7 if test else 0.4
                        c.add_candidate(row_pos, fraction, "print", key, line, confidence, outer)
            return True
        return False
    if nested and len(nested) == len(data):
        found = False
        for r, (key, inner) in enumerate(nested.items()):
            values = {
                str(k): float(v)
                for k, v in inner.items()
                if isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
            }
            if not values:
                continue
            row_pos = (pos[0], pos[1] + r)
            c.rows.append((row_pos, TableRow(label=key, values=values, order=0)))
            found = True
            accuracy_keys = [k for k in values if _metric_key_kind(k) == "accuracy"]
            if accuracy_keys and not any(mentions(k)[1] or mentions(k)[2] for k in values):
                fraction = _as_fraction(repr(values[accuracy_keys[0]]))
                if fraction is not None:
                    test, val, train = outer
                    confidence = 0.1 if (val or train) and not test else 0.7 if test else 0.6
                    c.add_candidate(
                        row_pos, fraction, "evaluate_result", key, line, confidence, outer
                    )
        return found
    return False


def _parse_results(c: _Cell) -> None:
    lines = c.lines
    for seg in c.segments:
        if seg.kind == "error" or seg.start == seg.end:
            continue
        if (
            seg.kind == "plain"
            and seg.result
            and not any(i in c.consumed for i in range(seg.start, seg.end))
        ):
            text = seg.text.strip()
            pos = (seg.start, 0)
            bare = _BARE_FLOAT.match(text)
            if bare:
                value = float(bare.group(1))
                if 0.0 <= value <= 1.0:
                    c.add_candidate(
                        pos, value, "accuracy_score", "", text, 0.3, (False, False, False)
                    )
                c.consumed.update(range(seg.start, seg.end))
                continue
            numbers = _number_list(text)
            if numbers is not None:
                _emit_list(c, pos, numbers, "", text, result=True)
                c.consumed.update(range(seg.start, seg.end))
                continue
            if text[:1] == "{":
                data = _literal(text)
                if isinstance(data, dict) and _emit_dict(c, pos, data, "", text.replace("\n", " ")):
                    c.consumed.update(range(seg.start, seg.end))
                    continue
        if seg.kind != "stdout":
            continue
        body = (
            [i for i in range(seg.start, seg.end) if lines[i].strip()]
            if seg.text.strip().count("\n") == 0
            else []
        )
        if len(body) == 1 and body[0] not in c.consumed:
            bare = _BARE_FLOAT.match(lines[body[0]])
            if bare and 0.0 <= float(bare.group(1)) <= 1.0:
                c.add_candidate(
                    (body[0], 0),
                    float(bare.group(1)),
                    "accuracy_score",
                    "",
                    lines[body[0]],
                    0.15,
                    (False, False, False),
                )
                c.consumed.add(body[0])
                continue
        if "]" not in seg.text and ")" not in seg.text and "}" not in seg.text:
            continue
        for i in range(seg.start, seg.end):
            line = lines[i].rstrip()
            if not line.endswith(_CLOSERS) or i in c.consumed:
                continue
            if _emit_printed_literals(c, i, line):
                c.consumed.add(i)


def _emit_printed_literals(c: _Cell, i: int, line: str) -> bool:
    """Evaluate results printed on one line: ``[0.65, 0.77]``, ``a: [..] b: [..]``, a dict."""
    found = False
    since = 0
    for m in _FLAT_LITERAL.finditer(line):
        literal = m.group()
        before = line[: m.start()]
        depth = sum(before.count(ch) for ch in "[({") - sum(before.count(ch) for ch in "])}")
        if depth > 0 or (before[-1:].isalnum() or before[-1:] in ("_", ".")):
            continue  # nested in a larger structure, or a call such as array([...])
        label = _clean_label(line[since : m.start()])
        since = m.end()
        numbers = _number_list(literal)
        if numbers is not None:
            found = _emit_list(c, (i, m.start()), numbers, label, line, result=False) or found
        elif literal.startswith("{") and m.end() >= len(line.rstrip(" .")):
            data = _literal(literal)
            if isinstance(data, dict):
                found = _emit_dict(c, (i, m.start()), data, label, line) or found
    return found


# ------------------------------------------------------------- printed lines

_VALUE = re.compile(
    r"(?<![\w.,])(-?(?:\d+(?:[.,]\d+)?|\.\d+)(?:[eE][-+]?\d+)?)(\s*%)?(?![\w.]|,\d)"
)
_METRICISH = re.compile(
    r"acc|loss|precision|recall|score|time|čas|param|epoch|error|chyb"
    r"|(?<![a-z])(?:f1|auc|sec|lr|mae|mse)(?![a-z])"
    r"|p[řr]esnos|úsp[ěe][šs]nost|uspesnost|genauigkeit|precisión|précision|exactitud|dok[łl]adno",
    re.IGNORECASE,
)
_HEAD_SEPARATORS = (":", "|", " - ", "=", ">", "]")
_CONTAINER_LINE = re.compile(r"^\s*(?:\{.*\}|\[.*\]|\(.*\))\s*$")
_LABEL_STRIP = " \t:=|,;>*#-–—•·→'\"`"
_ACC_STEMS = (
    "acc", "esnos", "ěšnost", "ešnost", "ávnost", "avnost", "genauigkeit", "cisi",
    "exactitud", "adno", "trafno",
)  # fmt: skip


def _has_accuracy_stem(low: str) -> bool:
    """A cheap pre-check (lower-case text) before the exact vocabulary match."""
    return any(stem in low for stem in _ACC_STEMS)


def _clean_label(text: str) -> str:
    return text.strip(_LABEL_STRIP + "([{").strip()


@dataclass
class _Value:
    start: int
    value: float
    percent: bool
    label: str  # text since the previous metric value
    local: str  # text since the previous value of any kind


def _decimal_comma(text: str) -> bool:
    whole, sep, frac = text.partition(",")
    return bool(sep) and (whole.lstrip("-") == "0" or len(frac) != 3)


def _number(text: str) -> float | None:
    """A printed number; ``0,77`` is a decimal comma, ``12,345`` a thousands separator."""
    if "," in text:
        text = text.replace(",", ".") if _decimal_comma(text) else text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def _line_values(line: str) -> list[_Value]:
    out: list[_Value] = []
    since_metric = 0
    since_value = 0
    first_metric = _METRICISH.search(line)
    head = ""
    if first_metric:
        cut = max(line.rfind(sep, 0, first_metric.start()) for sep in _HEAD_SEPARATORS)
        head = _clean_label(line[:cut]) if cut > 0 else ""
    for m in _VALUE.finditer(line):
        number, percent = m.group(1), bool(m.group(2))
        start, end = m.span()
        before = line[since_metric:start]
        after = line[end:].lstrip()
        decimal = "." in number or "e" in number.lower() or _decimal_comma(number)
        is_value = (
            decimal
            or percent
            or re.search(r"[:=]\s*$", line[:start]) is not None
            or not after
            or after[:1] in ",;|)]}"
        )
        if not is_value:
            continue
        value = _number(number)
        if value is None:
            continue
        label = _clean_label(before)
        if since_metric > 0 and head and label:
            label = f"{head} {label}"  # "CNN: loss=0.65, acc=0.77" -> "CNN acc"
        local = _clean_label(line[since_value:start])
        percent = percent or (since_metric == 0 and "%" in label)
        out.append(_Value(start, value, percent, label, local))
        since_value = end
        if _METRICISH.search(before):
            since_metric = end
    return out


def _fraction(value: float, percent: bool) -> tuple[float, float] | None:
    """(fraction, confidence factor) for an accuracy as printed."""
    if percent:
        if 0.0 < value < 1.0:
            return value, 0.6  # "0.77%": most likely a fraction printed with a % sign
        value /= 100.0
        return (value, 1.0) if 0.0 <= value <= 1.0 else None
    if 0.0 <= value <= 1.0:
        return value, 1.0
    if 1.0 < value <= 100.0:
        return value / 100.0, 0.85
    return None


def _print_confidence(test: bool, val: bool, train: bool) -> float:
    if (val or train) and not test:
        return 0.1
    if test and (val or train):
        return 0.3
    return 0.85 if test else 0.4


@dataclass
class _Heading:
    """A line such as "Test accuracy:" announcing one value per following line."""

    text: str
    flags: tuple[bool, bool, bool]
    line: int
    left: int = 30


_CLASS_WORDS = re.compile(r"class|t[řr][íi]d|klas", re.IGNORECASE)


def _heading(line: str, i: int) -> _Heading | None:
    text = line.strip()
    if (
        len(text) > 100
        or _line_values(line)
        or has_loss_word(text)
        or is_excluded_accuracy(text)
        or _CLASS_WORDS.search(text)
    ):
        return None
    return _Heading(text, mentions(text), i)


def _emit_line_accuracies(c: _Cell, i: int, line: str) -> None:
    """Candidates from a line naming accuracy next to its value(s)."""
    for v in _line_values(line):
        label = v.label
        if not has_accuracy_word(label) or has_loss_word(label) or is_excluded_accuracy(label):
            continue
        fraction = _fraction(v.value, v.percent)
        if fraction is None:
            continue
        test, val, train = mentions(label)
        conf = _print_confidence(test, val, train) * fraction[1]
        c.add_candidate((i, v.start), fraction[0], "print", label, line, conf)


def _emit_under_heading(c: _Cell, i: int, line: str, heading: _Heading) -> None:
    """Candidates from "Simple CNN: 0.71" lines after an accuracy heading."""
    values = _line_values(line)
    if len(values) == 1 and not values[0].local and heading.line == i - 1:
        fraction = _fraction(values[0].value, values[0].percent)
        if fraction is not None and heading.text.endswith(":"):
            label = _clean_label(heading.text)
            conf = _print_confidence(*heading.flags) * 0.9 * fraction[1]
            c.add_candidate((i, 0), fraction[0], "print", label, line, conf, heading.flags)
        return
    for v in values:
        if not v.local or _METRICISH.search(v.local):
            continue
        fraction = _fraction(v.value, v.percent)
        if fraction is None:
            continue
        own = mentions(v.local)
        flags = (heading.flags[0] or own[0], heading.flags[1] or own[1], heading.flags[2] or own[2])
        conf = _print_confidence(*flags) * 0.85 * fraction[1]
        c.add_candidate((i, v.start), fraction[0], "print", v.local, line, conf, flags)


def _parse_prints(c: _Cell) -> None:
    lines = c.lines
    for seg in c.segments:
        if seg.kind == "error" or not _has_accuracy_stem(seg.low):
            continue
        heading: _Heading | None = None
        for i in range(seg.start, seg.end):
            line = lines[i]
            if i in c.consumed or not line.strip():
                heading = None
                continue
            stem = _has_accuracy_stem(line.lower())
            if heading is None and not stem:
                continue
            if _CONTAINER_LINE.match(line):
                heading = None
                continue  # a dict / list dump (history, predictions): not a printed result
            if stem and has_accuracy_word(line):
                heading = _heading(line, i)
                if heading is None:
                    _emit_line_accuracies(c, i, line)
            elif heading is not None and heading.left > 0 and not has_loss_word(line):
                heading.left -= 1
                _emit_under_heading(c, i, line, heading)
            else:
                heading = None


# ---------------------------------------------------------------- tracebacks

_EXCEPTION_LINE = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Iteration|Failure|Warning))(?::\s?(.*))?$"
)


def _parse_tracebacks(c: _Cell) -> None:
    for seg in c.segments:
        if seg.kind != "stderr" or "Traceback" not in seg.text:
            continue
        found: tuple[str, str] | None = None
        inside = False
        for i in range(seg.start, seg.end):
            line = c.lines[i]
            if "Traceback (most recent call last)" in line:
                if found is not None and found not in c.facts.errors:
                    c.facts.errors.append(found)
                found, inside = None, True
                continue
            if inside and line and not line[0].isspace():
                m = _EXCEPTION_LINE.match(line.strip())
                if m:
                    found, inside = (m.group(1), (m.group(2) or "").strip()), False
        if found is not None and found not in c.facts.errors:
            c.facts.errors.append(found)


# ------------------------------------------------------------------ registry

_PARSERS: tuple[tuple[str, Callable[[_Cell], None]], ...] = (
    ("training", _parse_training),
    ("summaries", _parse_summaries),
    ("classification_reports", _parse_reports),
    ("array_matrices", _parse_array_matrices),
    ("tables", _parse_tables),
    ("evaluate_results", _parse_results),
    ("printed_accuracy", _parse_prints),
    ("tracebacks", _parse_tracebacks),
)
"""Parsers in the order they run; earlier ones claim lines so later ones skip them."""


def _ordered(items: list[tuple[tuple[int, int], Any]]) -> list[Any]:
    out = []
    for order, (_pos, item) in enumerate(sorted(items, key=lambda pair: pair[0])):
        item.order = order
        out.append(item)
    return out


def read_outputs(cell: int, outputs: list[dict[str, Any]]) -> OutputFacts:
    """Facts found in one code cell's stored outputs; never raises.

    ``outputs`` are the cell's nbformat v4 output dicts in order. Training
    logs, accuracy candidates, tables, matrices and summaries carry an
    ``order``: their position among the facts of the same kind in this cell.
    """
    try:
        c = _build_cell(cell, outputs if isinstance(outputs, list) else [])
    except Exception:
        _log.debug("cell %s: outputs could not be read", cell, exc_info=True)
        return OutputFacts(cell=cell, text="")
    for name, parser in _PARSERS:
        try:
            parser(c)
        except Exception:
            _log.debug("cell %s: output parser %s failed", cell, name, exc_info=True)
    facts = c.facts
    try:
        facts.accuracy_candidates = _ordered(c.candidates)
        facts.table_rows = _ordered(c.rows)
        facts.matrices = _ordered(c.matrices)
        facts.summaries = _ordered(c.summaries)
    except Exception:
        _log.debug("cell %s: ordering failed", cell, exc_info=True)
    return facts
