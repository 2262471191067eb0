"""Evaluate results: what ``model.evaluate`` returns or a cell prints as a literal.

``[0.65, 0.7712]`` (loss, accuracy), ``{'loss': 0.65, 'accuracy': 0.77}``,
``np.float64(0.77)`` as a cell's value, ``classification_report(...,
output_dict=True)``, and such literals printed after a label
(``CNN: [0.65, 0.77]``).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from grader.extract.facts import TableRow
from grader.extract.outputs.cell import CandidateMethod, Cell, Position, clean_label
from grader.extract.text import (
    has_accuracy_word,
    has_loss_word,
    mentions,
    names_accuracy,
    parse_fraction,
)

__all__ = ["parse_results"]

_MAX_LITERAL = 20_000  # characters of a repr worth handing to ast.literal_eval

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
    if names_accuracy(low):
        test, val, train = mentions(low)
        if val or train:
            return "split_accuracy"
        return "accuracy"
    if has_loss_word(low) or "f1" in low or "precision" in low or "recall" in low or "auc" in low:
        return "other_metric"
    return "name"


def _emit_list(
    c: Cell,
    pos: Position,
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


def _emit_dict(c: Cell, pos: Position, data: dict[Any, Any], label: str, line: str) -> bool:
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
        split_keys = [k for k in numeric if mentions(k)[1] or mentions(k)[2]]
        if split_keys:
            if len(split_keys) == len(numeric) and not any(mentions(k)[2] for k in numeric):
                _emit_val_dict(c, pos, numeric, label, line)
            return True  # last-epoch training metrics (val_*), not an evaluate result
        if accuracy_keys:
            method: CandidateMethod = (
                "classification_report" if "macro avg" in data else "evaluate_result"
            )
            key = accuracy_keys[0]
            value = parse_fraction(repr(numeric[key]))
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
                    fraction = parse_fraction(repr(value))
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
                fraction = parse_fraction(repr(values[accuracy_keys[0]]))
                if fraction is not None:
                    test, val, train = outer
                    confidence = 0.1 if (val or train) and not test else 0.7 if test else 0.6
                    c.add_candidate(
                        row_pos, fraction, "evaluate_result", key, line, confidence, outer
                    )
        return found
    return False


def _emit_val_dict(c: Cell, pos: Position, numeric: dict[str, Any], label: str, line: str) -> None:
    """``{'val_loss': 0.79, 'val_acc': 0.77}``: what a validation function returns.

    Whether it measured the validation or the test set is for the assembly to
    say (the data the call was given); the candidate says "validation".
    """
    accuracy_keys = [k for k in numeric if names_accuracy(k)]
    if len(accuracy_keys) != 1:
        return
    value = parse_fraction(repr(numeric[accuracy_keys[0]]))
    if value is None:
        return
    test = mentions(label)[0]
    c.add_candidate(
        pos, value, "evaluate_result", label or accuracy_keys[0], line, 0.3, (test, True, False)
    )


def parse_results(c: Cell) -> None:
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


def _emit_printed_literals(c: Cell, i: int, line: str) -> bool:
    """Evaluate results printed on one line: ``[0.65, 0.77]``, ``a: [..] b: [..]``, a dict."""
    found = False
    since = 0
    for m in _FLAT_LITERAL.finditer(line):
        literal = m.group()
        before = line[: m.start()]
        depth = sum(before.count(ch) for ch in "[({") - sum(before.count(ch) for ch in "])}")
        if depth > 0 or (before[-1:].isalnum() or before[-1:] in ("_", ".")):
            continue  # nested in a larger structure, or a call such as array([...])
        label = clean_label(line[since : m.start()])
        since = m.end()
        numbers = _number_list(literal)
        if numbers is not None:
            found = _emit_list(c, (i, m.start()), numbers, label, line, result=False) or found
        elif literal.startswith("{") and m.end() >= len(line.rstrip(" .")):
            data = _literal(literal)
            if isinstance(data, dict):
                found = _emit_dict(c, (i, m.start()), data, label, line) or found
    return found
