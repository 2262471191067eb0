"""Confusion matrices printed as arrays: ``[[812  45 ...] [ 30 871 ...] ...]``.

Only square integer matrices that look like counts (not one-hot blocks, every
true class present) count; :func:`plausible_matrix` is shared with the tables
(a matrix printed as a DataFrame).
"""

from __future__ import annotations

import re

from grader.extract.facts import PrintedMatrix
from grader.extract.outputs.cell import Cell

__all__ = ["MATRIX_TOKEN", "parse_array_matrices", "plausible_matrix"]

MATRIX_TOKEN = re.compile(r"^\d+\.?0*$")


def _int_matrix(body: str) -> list[list[int]] | None:
    if "..." in body or "[[[" in body:
        return None
    rows = re.findall(r"\[([^\[\]]*)\]", body)
    if not 2 <= len(rows) <= 20:
        return None
    matrix: list[list[int]] = []
    for row in rows:
        tokens = [t for t in re.split(r"[\s,]+", row.strip()) if t]
        if len(tokens) != len(rows) or not all(MATRIX_TOKEN.match(t) for t in tokens):
            return None
        matrix.append([int(float(t)) for t in tokens])
    if not plausible_matrix(matrix):
        return None
    return matrix


def plausible_matrix(matrix: list[list[int]]) -> bool:
    """Counts of a confusion matrix: not a one-hot block, every true class present."""
    values = {v for row in matrix for v in row}
    return bool(values - {0, 1}) and all(sum(row) > 0 for row in matrix)


def parse_array_matrices(c: Cell) -> None:
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
