"""What a notebook's stored outputs show: printed numbers, training-log lines, figures.

* Text outputs are cleaned the way a terminal shows them (ANSI colours
  dropped, a carriage return rewrites its line, a backspace deletes), then
  read line by line. Only decimal numbers with at least 3 significant digits
  count (``0.8234``, ``1.0456``, ``123.45``): integers (batch sizes, epochs,
  steps, image counts) and short numbers (0.1, 0.25) are shared by everyone.
  A line with several such numbers (an epoch of a training log, an evaluate
  result) is a *log line* and is compared whole; a line with one is a
  *number* (a printed accuracy). Model summaries (parameter counts) are
  skipped: they follow from the architecture, which is compared on its own.
* Figures (PNG, JPEG) get the SHA-256 of their bytes and, when Pillow can
  read them, a perceptual signature (:func:`perceptual`): a re-saved,
  re-encoded or rescaled copy has a close one, a chart of other curves in
  the same layout does not. (A plain difference hash cannot tell those
  apart: matplotlib charts of different runs differ in about as many bits
  as a JPEG copy of one chart.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "ImageFeature",
    "LogLineFeature",
    "NumberFeature",
    "clean_text",
    "image_feature",
    "ink_distance",
    "output_texts",
    "perceptual",
    "read_lines",
    "significant_digits",
    "tone_distance",
]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)(?![\w.])")
# model summaries (Keras 3 box drawing, parameter counts) and bare progress bars
_SKIP_LINE = re.compile(r"params|[│┃║┆┊]|═|─{3}|━{3}.*━{3}$", re.IGNORECASE)
MIN_SIGNIFICANT = 3
INK_SIDE = 48
THUMB_SIDE = 16
MIN_IMAGE_SIDE = 8
MIN_INK_CELLS = 12
_INK_LUT = [255 if v < 200 else 0 for v in range(256)]  # a dark pixel is ink
_CELL_LUT = [255 if v > 12 else 0 for v in range(256)]  # a cell with ~5% ink pixels


@dataclass(frozen=True)
class NumberFeature:
    key: str  # the value normalised (0.7230 -> 0.723)
    text: str  # as printed
    digits: int  # significant digits
    cell: int
    line: str


@dataclass(frozen=True)
class LogLineFeature:
    key: tuple[str, ...]  # the numbers of the line, normalised
    digits: int  # significant digits, all numbers together
    cell: int
    line: str


@dataclass(frozen=True)
class ImageFeature:
    sha256: str
    ink: int | None  # INK_SIDE**2-bit ink mask; None: too small, blank or not readable
    thumb: bytes | None  # THUMB_SIDE**2 grey levels
    width: int
    height: int
    cell: int


def clean_text(text: str) -> str:
    """Text as a terminal would show it: colours gone, ``\\r`` and ``\\b`` applied."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\b" in text:
        text = _apply_backspaces(text)
    if "\r" in text:
        lines = []
        for line in text.split("\n"):
            if "\r" in line:
                parts = [p for p in line.split("\r") if p.strip()]
                line = parts[-1] if parts else ""
            lines.append(line)
        text = "\n".join(lines)
    return text


def _apply_backspaces(text: str) -> str:
    """Each backspace deletes the character before it on its line (Keras 2 progress bars)."""
    lines = []
    for line in text.split("\n"):
        if "\b" in line:
            parts = line.split("\b")
            buf = list(parts[0])
            for part in parts[1:]:
                if buf:
                    buf.pop()
                buf.extend(part)
            line = "".join(buf)
        lines.append(line)
    return "\n".join(lines)


def significant_digits(number: str) -> int:
    """Significant digits of a printed decimal (``0.7230`` -> 3, ``1.2345e-03`` -> 5)."""
    mantissa = re.split(r"[eE]", number.lstrip("+-"), maxsplit=1)[0]
    digits = mantissa.replace(".", "").lstrip("0").rstrip("0")
    return len(digits)


def _key(number: str) -> str:
    try:
        value = Decimal(number).normalize()
    except InvalidOperation:
        return number
    return format(value, "f")


def output_texts(output: Mapping[str, Any]) -> Iterable[str]:
    """The plain text of one output (stream text, or a result's text/plain)."""
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        yield text if isinstance(text, str) else "".join(map(str, text))
    elif kind in ("execute_result", "display_data"):
        data = output.get("data")
        if isinstance(data, Mapping):
            text = data.get("text/plain")
            if isinstance(text, list):
                text = "".join(map(str, text))
            if isinstance(text, str) and not text.startswith("<Figure"):
                yield text


def read_lines(text: str, cell: int) -> tuple[list[NumberFeature], list[LogLineFeature]]:
    """The numbers and log lines of one output's text."""
    numbers: list[NumberFeature] = []
    logs: list[LogLineFeature] = []
    for raw in clean_text(text).split("\n"):
        if not _NUMBER.search(raw) or _SKIP_LINE.search(raw):
            continue
        line = raw.strip()
        found = [(m.group(), significant_digits(m.group())) for m in _NUMBER.finditer(line)]
        found = [(t, d) for t, d in found if d >= MIN_SIGNIFICANT]
        if not found:
            continue
        shown = line if len(line) <= 240 else line[:237] + "..."
        if len(found) == 1:
            text_, digits = found[0]
            numbers.append(NumberFeature(_key(text_), text_, digits, cell, shown))
        else:
            key = tuple(_key(t) for t, _ in found)
            logs.append(LogLineFeature(key, sum(d for _, d in found), cell, shown))
    return numbers, logs


def perceptual(data: bytes) -> tuple[int | None, bytes | None, int, int]:
    """(ink mask, grey thumbnail, width, height) of an image's bytes; (None, None, ...) if unreadable.

    The *ink mask* is a 48 x 48 grid of bits: whether a cell of the image holds
    any dark pixel (lines, text, markers). Two line charts with the same
    layout but other curves differ in the cells their curves pass through; a
    re-saved, re-encoded or rescaled copy differs only at the edges of lines.
    For images that are mostly ink (photos, heat maps) the mask says little,
    so the 16 x 16 grey *thumbnail* must be close too.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return None, None, 0, 0
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if min(width, height) < MIN_IMAGE_SIDE:
                return None, None, width, height
            im.draft("RGB", (INK_SIDE * 4, INK_SIDE * 4))  # JPEG: decode at a smaller scale
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                grey = Image.alpha_composite(white, rgba).convert("L")
            else:
                grey = im.convert("L")
            ink = grey.point(_INK_LUT).resize((INK_SIDE, INK_SIDE), Image.Resampling.BOX)
            mask = ink.point(_CELL_LUT).convert("1").tobytes()
            thumb = grey.resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX).tobytes()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, None, 0, 0
    bits = int.from_bytes(mask, "big")
    if bits.bit_count() < MIN_INK_CELLS:
        return None, thumb, width, height  # a blank figure: nothing to recognise it by
    return bits, thumb, width, height


def ink_distance(a: int, b: int) -> float:
    """Jaccard distance of two ink masks: 0 the same cells, 1 no cell in common."""
    union = (a | b).bit_count()
    return (a ^ b).bit_count() / union if union else 0.0


def tone_distance(a: bytes, b: bytes) -> float:
    """Mean absolute difference of two grey thumbnails (0-255)."""
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / max(1, len(a))


def image_feature(payload: object, cell: int) -> ImageFeature | None:
    """The feature of one base64 image payload of an output, or None if it is not an image."""
    if isinstance(payload, list):
        payload = "".join(map(str, payload))
    if not isinstance(payload, str):
        return None
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None
    if not data:
        return None
    ink, thumb, width, height = perceptual(data)
    return ImageFeature(hashlib.sha256(data).hexdigest(), ink, thumb, width, height, cell)
