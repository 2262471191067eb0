"""Model summaries: ``model.summary()`` (Keras 2 and 3), torchinfo and torchsummary tables.

Reads the model's name, total / trainable / non-trainable parameter counts
and the layer types in order into a :class:`~grader.extract.facts.ModelSummary`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from grader.extract.facts import ModelSummary
from grader.extract.outputs.cell import SPANS, Cell, Position

__all__ = ["parse_summaries"]

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
    pos: Position
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


def parse_summaries(c: Cell) -> None:
    if not any(
        "params:" in seg.low or "layer (type" in seg.low
        for seg in c.segments
        if seg.kind != "error"
    ):
        return
    reader = _SummaryReader(c)
    for _seg, i in c.segment_lines("stdout", "plain"):
        reader.line(i, c.lines[i])
    reader.finish()


class _SummaryReader:
    """Reads summaries line by line: a name, a table of layers, the parameter counts."""

    def __init__(self, c: Cell) -> None:
        self.c = c
        self.draft: _SummaryDraft | None = None
        self.table: Literal["none", "box", "ascii"] = "none"
        self.param_col = -1  # the Param # column of a box table
        self.ascii_cols: Position = (0, 0)  # start of Output Shape and of Param #
        self.joiner = ""  # how a layer's first column continued on the next line is joined

    def finish(self) -> None:
        draft = self.draft
        if draft is not None and (draft.total is not None or draft.layers):
            types = [t for t in (_layer_type(text) for text in draft.layers) if t]
            summary = ModelSummary(
                name=draft.name,
                total=draft.total,
                trainable=draft.trainable,
                non_trainable=draft.non_trainable,
                layer_types=types,
                order=0,
            )
            self.c.summaries.append((draft.pos, summary))
        self.draft = None
        self.table = "none"

    def line(self, i: int, line: str) -> None:
        c = self.c
        name = _MODEL_NAME.match(line)
        if name:
            self.finish()
            self.draft = _SummaryDraft((i, 0), name=name.group(1))
            c.consumed.add(i)
            return
        if "Layer (type" in line:
            self.header(i, line)
            return
        total = _TOTAL.match(line)
        if total:
            if self.draft is None or self.draft.total is not None:
                self.finish()
                self.draft = _SummaryDraft((i, 0))
            self.draft.total = _int(total.group(1))
            self.table = "none"
            c.consumed.add(i)
            return
        draft = self.draft
        trainable = _TRAINABLE.match(line)
        if trainable and draft is not None:
            draft.trainable = _int(trainable.group(1))
            c.consumed.add(i)
            return
        non_trainable = _NON_TRAINABLE.match(line)
        if non_trainable and draft is not None:
            draft.non_trainable = _int(non_trainable.group(1))
            c.consumed.add(i)
            self.finish()
            return
        if draft is None:
            return
        if self.table == "box":
            self.box_row(draft, i, line)
        elif self.table == "ascii":
            self.ascii_row(draft, i, line)

    def header(self, i: int, line: str) -> None:
        """The ``Layer (type)  Output Shape  Param #`` header of a table."""
        draft = self.draft
        if draft is None or draft.layers or draft.total is not None:
            self.finish()
            self.draft = _SummaryDraft((i, 0))
        self.c.consumed.add(i)
        if "┃" in line:
            cells = [cell.strip() for cell in line.strip().strip("┃").split("┃")]
            self.table = "box"
            self.param_col = next((k for k, cell in enumerate(cells) if "Param" in cell), -1)
            self.joiner = " "
        else:
            self.table = "ascii"
            shape_at = line.find("Output Shape")
            param_at = line.find("Param #")
            self.ascii_cols = (shape_at if shape_at > 0 else 30, param_at)
            self.joiner = ""

    def box_row(self, draft: _SummaryDraft, i: int, line: str) -> None:
        """A row of Keras 3's box-drawn table."""
        self.c.consumed.add(i)
        stripped = line.strip()
        if stripped.startswith("└"):
            self.table = "none"
            return
        if not stripped.startswith("│"):
            return
        cells = stripped.strip("│").split("│")
        first = cells[0].strip()
        param_col = self.param_col
        param = cells[param_col].strip() if 0 <= param_col < len(cells) else ""
        if param and _PARAM_CELL.match(param):
            draft.layers.append(first)
        elif draft.layers and first:
            draft.layers[-1] += self.joiner + first

    def ascii_row(self, draft: _SummaryDraft, i: int, line: str) -> None:
        """A row of Keras 2's, torchinfo's or torchsummary's text table."""
        stripped = line.strip()
        if not stripped:
            return
        if stripped.startswith(("Total params", "Trainable", "Non-trainable")):
            return
        self.c.consumed.add(i)
        if set(stripped) <= set("=_-"):
            if stripped[0] == "=" and draft.layers:
                self.table = "none"  # the rule under the last layer
            return
        shape_at, param_at = self.ascii_cols
        spans = [(m.start(), m.group()) for m in SPANS.finditer(line)]
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
            draft.layers[-1] += self.joiner + first
