"""Text helpers for stored notebook outputs: terminal clean-up and the words students use.

Saved outputs keep what the kernel wrote: ANSI colour codes, carriage returns
and backspaces from progress bars (Keras 2 rewrites its bar with ``\\b``,
Keras 3 with ``\\b...\\r``). :func:`clean_text` turns that into the text a
reader saw in the notebook. The vocabulary functions tell whether a label
speaks of accuracy, loss, the test / validation / training split, in English,
Czech, Slovak and a few other languages.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "as_text",
    "clean_text",
    "has_accuracy_word",
    "has_loss_word",
    "is_excluded_accuracy",
    "mentions",
    "names_accuracy",
    "parse_fraction",
    "parse_number",
    "strip_ansi",
]

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|\x1b[@-Z\\-_]"  # two-character escapes
)

# Words naming accuracy. "precision" in English is another metric; the accented
# Spanish / French spellings mean accuracy in student notebooks.
_ACC = re.compile(
    r"(?<![a-z])acc(?:urac(?:y|ies))?(?![a-z])"
    r"|p[řr]esnos[tť]|úsp[ěe][šs]nost|uspesnost|spr[áa]vnost"
    r"|genauigkeit|precisión|précision|exactitud|exactitude"
    r"|dok[łl]adno[śs][ćc]|trafno[śs][ćc]",
    re.IGNORECASE,
)
_LOSS = re.compile(
    r"(?<![a-z])loss(?:es)?(?![a-z])|ztr[áa]t|verlust|p[ée]rdida|perte(?![a-z])"
    r"|(?<![a-z])strat[ay]?(?![a-z])|(?<![a-z])chyb|(?<![a-z])error|entropy"
    r"|(?<![a-z])(?:mse|mae|rmse)(?![a-z])",
    re.IGNORECASE,
)
# Accuracy variants that are not the plain top-1 accuracy of a classifier.
_EXCLUDED = re.compile(
    r"top[-_ ]?(?:[2-9]|\d\d|k)(?![0-9])|balanced|per[-_ ]?class|class[-_ ]?wise|mean[-_ ]class"
    r"|(?:for|of)\s+(?:the\s+)?class(?![a-z])|pro\s+t[řr][íi]du",
    re.IGNORECASE,
)
_TEST = re.compile(
    r"(?<![a-z])test|held[-_ ]?out|hold[-_ ]?out|(?<![a-z])prueba",
    re.IGNORECASE,
)
_VAL = re.compile(
    r"(?<![a-z])val(?![a-z])|(?<![a-z])valid|(?<![a-z])walidac|(?<![a-z])dev(?:elopment)?(?![a-z])",
    re.IGNORECASE,
)
_TRAIN = re.compile(
    r"(?<![a-z])train(?!ed)|(?<![a-z])tr[ée]n(?:ovac|ink|in|ing)|(?<![a-z])trenin"
    r"|(?<![a-z])entrena|(?<![a-z])entra[iî]n|(?<![a-z])ucz[aą]c",
    re.IGNORECASE,
)
_BACKSPACES = re.compile(r"(\x08+)")
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


def as_text(value: Any) -> str:
    """An nbformat text field (a string or a list of strings) as one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return ""


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (colours, bold, cursor codes)."""
    if "\x1b" not in text:
        return text
    return _ANSI.sub("", text)


def _apply_backspaces(segment: str) -> str:
    out = ""
    for piece in _BACKSPACES.split(segment):
        if piece.startswith("\x08"):
            out = out[: max(0, len(out) - len(piece))]
        else:
            out += piece
    return out


def _settle_line(line: str) -> str:
    """What remains visible of one line after its carriage returns and backspaces.

    A carriage return followed by new text replaces the line, as Jupyter shows
    it; a trailing carriage return with nothing after it leaves the line as is.
    """
    parts = line.rstrip("\r").split("\r")
    for part in reversed(parts):
        if "\x1b" in part:
            part = _ANSI.sub("", part)
        if "\x08" in part:
            part = _apply_backspaces(part)
        if part.strip():
            return part
    return ""


def clean_text(raw: str) -> str:
    """Stored output text as the reader saw it: escapes removed, ``\\r`` and ``\\b`` applied."""
    if not raw:
        return ""
    text = raw
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if "\r" in text or "\x08" in text:
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if "\r" in line or "\x08" in line:
                lines[i] = _settle_line(line)
        text = "\n".join(lines)
    return strip_ansi(text)


def has_accuracy_word(label: str) -> bool:
    """Whether ``label`` names accuracy in any of the supported languages."""
    return _ACC.search(label) is not None


def has_loss_word(label: str) -> bool:
    """Whether ``label`` names a loss or an error measure."""
    return _LOSS.search(label) is not None


def is_excluded_accuracy(label: str) -> bool:
    """Top-k, balanced or per-class accuracy: not the plain accuracy the rubric asks for."""
    return _EXCLUDED.search(label) is not None


def names_accuracy(label: str) -> bool:
    """Whether ``label`` names the plain accuracy (not a loss, not top-k or per-class)."""
    return has_accuracy_word(label) and not has_loss_word(label) and not is_excluded_accuracy(label)


def mentions(label: str) -> tuple[bool, bool, bool]:
    """(test, validation, training): which data split ``label`` names."""
    return (
        _TEST.search(label) is not None,
        _VAL.search(label) is not None,
        _TRAIN.search(label) is not None,
    )


def parse_number(token: str) -> float | None:
    """A printed number (``0.77``, ``1,234``, ``78.3%``, ``1e-3``) as a float; None if it is not one."""
    token = token.strip().rstrip("%").strip()
    if not token:
        return None
    if "," in token:
        if re.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
            token = token.replace(",", "")
        else:
            return None
    if not _NUMBER.match(token):
        lowered = token.lower()
        if lowered in ("nan", "inf", "-inf"):
            return float(lowered)
        return None
    try:
        return float(token)
    except ValueError:
        return None


def parse_fraction(token: str) -> float | None:
    """A printed accuracy as a fraction: ``0.77``, ``77.1``, ``77.1%`` -> 0.77 / 0.771."""
    number = parse_number(token)
    if number is None:
        return None
    if "%" in token or 1.0 < number <= 100.0:
        number /= 100.0
    return number if 0.0 <= number <= 1.0 else None
