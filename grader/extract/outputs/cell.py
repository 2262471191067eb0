"""A code cell's stored outputs as the parsers read them: cleaned text segments and their lines.

Consecutive stream outputs are joined per stream before cleaning (a progress
bar line is often split across several outputs); each output becomes a
:class:`Segment`, and all segments' lines one list the parsers index. The
:class:`Cell` also collects what the parsers find, with the position it was
found at, and the lines a parser has *consumed* (explained) so that later
parsers skip them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.extract.facts import (
    AccuracyCandidate,
    ModelSummary,
    OutputFacts,
    PrintedMatrix,
    TableRow,
)
from grader.extract.text import as_text, clean_text, mentions, strip_ansi

__all__ = ["SPANS", "CandidateMethod", "Cell", "Position", "Segment", "build_cell", "clean_label"]

_IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
_MAX_LINES = 6_000  # lines of one output read by the parsers (head and tail kept)
_MAX_HTML = 300_000  # characters of a text/html table worth parsing
_MAX_ROWS = 300  # rows of an HTML table worth parsing (comparison tables are small)

CandidateMethod = Literal[
    "evaluate_result", "print", "classification_report", "accuracy_score", "table"
]
Position = tuple[int, int]  # (line index, column or row): where a fact stands in the cell

#: Runs of text separated by two spaces or more: the columns of an aligned table.
SPANS = re.compile(r"\S+(?: \S+)*")
_LABEL_STRIP = " \t:=|,;>*#-–—•·→'\"`"


def clean_label(text: str) -> str:
    """A label without the punctuation around it."""
    return text.strip(_LABEL_STRIP + "([{").strip()


@dataclass
class Segment:
    """The cleaned text of one output (or one stream run) and where its lines sit."""

    kind: Literal["stdout", "stderr", "plain", "error"]
    result: bool  # an execute_result
    text: str
    html: str | None = None
    start: int = 0
    end: int = 0
    low: str = ""  # the text in lower case, for cheap "is it worth reading" checks


@dataclass
class Cell:
    facts: OutputFacts
    segments: list[Segment]
    lines: list[str]
    consumed: set[int] = field(default_factory=set)
    candidates: list[tuple[Position, AccuracyCandidate]] = field(default_factory=list)
    rows: list[tuple[Position, TableRow]] = field(default_factory=list)
    matrices: list[tuple[Position, PrintedMatrix]] = field(default_factory=list)
    summaries: list[tuple[Position, ModelSummary]] = field(default_factory=list)

    def segment_lines(self, *kinds: str) -> Iterator[tuple[Segment, int]]:
        for seg in self.segments:
            if seg.kind in kinds:
                for i in range(seg.start, seg.end):
                    yield seg, i

    def add_candidate(
        self,
        pos: Position,
        value: float,
        method: CandidateMethod,
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


_FRAME_LINE = re.compile(
    r"^(?:Cell In\[\d*\], line (\d+)|File <timed exec>:(\d+)|-+> ?(\d+) )", re.MULTILINE
)


def _error_line(traceback: Any) -> int | None:
    """The line of the cell a traceback's first frame points at (IPython's formats)."""
    if not isinstance(traceback, list):
        return None
    for frame in traceback[1:4]:
        if not isinstance(frame, str):
            continue
        found = _FRAME_LINE.search(strip_ansi(frame))
        if found:
            number = next(g for g in found.groups() if g)
            return int(number) + (1 if found.group(2) else 0)  # %%time counts from its line
    return None


def build_cell(cell: int, outputs: list[Any]) -> Cell:
    facts = OutputFacts(cell=cell, text="")
    segments: list[Segment] = []
    run: dict[str, list[str]] = {}

    def flush() -> None:
        for name, parts in run.items():
            kind: Literal["stdout", "stderr"] = "stderr" if name == "stderr" else "stdout"
            segments.append(Segment(kind, False, clean_text("".join(parts))))
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
                    Segment("plain", otype == "execute_result", clean_text(text), table_html)
                )
        elif otype == "error":
            ename = strip_ansi(str(out.get("ename") or "")).strip()
            evalue = strip_ansi(str(out.get("evalue") or "")).strip()
            if ename or evalue:
                facts.errors.append((ename, evalue))
                if facts.error_line is None:
                    facts.error_line = _error_line(out.get("traceback"))
                segments.append(Segment("error", False, f"{ename}: {evalue}"))
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
    facts.printed = any(seg.kind in ("stdout", "plain") and seg.text.strip() for seg in segments)
    return Cell(facts, segments, lines)
