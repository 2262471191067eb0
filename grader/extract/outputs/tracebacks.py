"""Errors printed to stderr: the exception a traceback ends with."""

from __future__ import annotations

import re

from grader.extract.outputs.cell import Cell

__all__ = ["parse_tracebacks"]

_EXCEPTION_LINE = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Iteration|Failure|Warning))(?::\s?(.*))?$"
)


def parse_tracebacks(c: Cell) -> None:
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
