"""Printed accuracies: a line naming accuracy next to its value, in any wording or language.

``Test accuracy: 0.7712``, ``CNN - test acc 77.1 %``, ``Přesnost na testovacích
datech: 0,77``, and a heading (``"Test accuracy:"``) followed by one
``name: value`` line per model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.extract.outputs.cell import Cell, clean_label
from grader.extract.text import (
    has_accuracy_word,
    has_loss_word,
    is_excluded_accuracy,
    mentions,
    names_accuracy,
)

__all__ = ["parse_prints"]

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
_ACC_STEMS = (
    "acc", "esnos", "ěšnost", "ešnost", "ávnost", "avnost", "genauigkeit", "cisi",
    "exactitud", "adno", "trafno",
)  # fmt: skip


def _has_accuracy_stem(low: str) -> bool:
    """A cheap pre-check (lower-case text) before the exact vocabulary match."""
    return any(stem in low for stem in _ACC_STEMS)


@dataclass
class _Value:
    start: int
    value: float
    percent: bool
    label: str  # text since the previous metric value
    local: str  # text since the previous value of any kind
    end: int = 0  # where the number (and its % sign) ends


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
        head = clean_label(line[:cut]) if cut > 0 else ""
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
        label = clean_label(before)
        if since_metric > 0 and head and label:
            label = f"{head} {label}"  # "CNN: loss=0.65, acc=0.77" -> "CNN acc"
        local = clean_label(line[since_value:start])
        percent = percent or (since_metric == 0 and "%" in label)
        out.append(_Value(start, value, percent, label, local, end))
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


def _trailing_label(line: str, values: list[_Value], k: int) -> str:
    """The words after the k-th value up to the next one: ``86.17% Validation Accuracy``."""
    stop = values[k + 1].start if k + 1 < len(values) else len(line)
    return clean_label(line[values[k].end : stop])


def _emit_line_accuracies(c: Cell, i: int, line: str) -> None:
    """Candidates from a line naming accuracy next to its value(s)."""
    values = _line_values(line)
    for k, v in enumerate(values):
        label = v.label
        if not names_accuracy(label):
            trail = _trailing_label(line, values, k)
            if not (names_accuracy(trail) and len(values) == 1):
                continue
            label = f"{label} {trail}".strip()
        fraction = _fraction(v.value, v.percent)
        if fraction is None:
            continue
        test, val, train = mentions(label)
        conf = _print_confidence(test, val, train) * fraction[1]
        c.add_candidate((i, v.start), fraction[0], "print", label, line, conf)


def _emit_under_heading(c: Cell, i: int, line: str, heading: _Heading) -> None:
    """Candidates from "Simple CNN: 0.71" lines after an accuracy heading."""
    values = _line_values(line)
    if len(values) == 1 and not values[0].local and heading.line == i - 1:
        fraction = _fraction(values[0].value, values[0].percent)
        if fraction is not None and heading.text.endswith(":"):
            label = clean_label(heading.text)
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


def parse_prints(c: Cell) -> None:
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
