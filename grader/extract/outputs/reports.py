"""Classification reports: the ``accuracy`` row of sklearn's ``classification_report``.

The title printed above a report (``"Test set:"``) says which split it measures.
"""

from __future__ import annotations

import re

from grader.extract.outputs.cell import Cell
from grader.extract.text import mentions

__all__ = ["parse_reports"]

_REPORT_HEADER = re.compile(r"^\s*precision\s+recall\s+f1-score\s+support\s*$")
_REPORT_ACCURACY = re.compile(r"^\s*accuracy\s+(\d*\.\d+|\d+)\s+(\d+)\s*$")
_REPORT_ROW = re.compile(r"^\s*\S.*?\s+(?:\d*\.\d+\s+){1,3}\d+\s*$")


def parse_reports(c: Cell) -> None:
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
