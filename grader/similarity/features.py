"""One notebook's comparable features: code fingerprints per cell, outputs, models.

:func:`extract_features` is pure (a notebook in, plain data out) and picklable
both ways, so a class can be read in worker processes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.similarity.architecture import ModelSignature, extract_models
from grader.similarity.fingerprints import fingerprint
from grader.similarity.normalise import imported_names, normalise_cell, python_source
from grader.similarity.outputs import (
    ImageFeature,
    LogLineFeature,
    NumberFeature,
    image_feature,
    output_texts,
    read_lines,
)

__all__ = ["CodeCell", "NotebookFeatures", "extract_features"]

_IMAGE_TYPES = ("image/png", "image/jpeg")


@dataclass(frozen=True)
class CodeCell:
    index: int  # position among all cells
    execution_count: int | None
    source: str
    tokens: int
    fingerprints: frozenset[int]


@dataclass
class NotebookFeatures:
    cells: int = 0
    code: list[CodeCell] = field(default_factory=list)
    numbers: list[NumberFeature] = field(default_factory=list)
    log_lines: list[LogLineFeature] = field(default_factory=list)
    images: list[ImageFeature] = field(default_factory=list)
    models: list[ModelSignature] = field(default_factory=list)

    def fingerprints(self) -> set[int]:
        out: set[int] = set()
        for cell in self.code:
            out |= cell.fingerprints
        return out


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(map(str, value))
    return value if isinstance(value, str) else ""


def extract_features(
    nb: Mapping[str, Any],
    *,
    k: int = 12,
    window: int = 8,
    min_tokens: int = 8,
    numbers: bool = True,
) -> NotebookFeatures:
    """Features of a notebook (an nbformat v4 dict or ``NotebookNode``)."""
    cells: Sequence[Any] = nb.get("cells") or []
    feats = NotebookFeatures(cells=len(cells))
    code_cells = [
        (i, c)
        for i, c in enumerate(cells)
        if isinstance(c, Mapping) and c.get("cell_type") == "code"
    ]
    sources = [(i, _text(c.get("source", ""))) for i, c in code_cells]
    imports = imported_names(src for _, src in sources)
    for (i, cell), (_, src) in zip(code_cells, sources, strict=True):
        tokens = normalise_cell(src, imports, numbers=numbers)
        count = cell.get("execution_count")
        feats.code.append(
            CodeCell(
                index=i,
                execution_count=count if isinstance(count, int) else None,
                source=src,
                tokens=len(tokens),
                fingerprints=frozenset(
                    fingerprint(tokens, k=k, window=window, min_tokens=min_tokens)
                ),
            )
        )
        outputs = cell.get("outputs") or []
        for out in outputs:
            if not isinstance(out, Mapping):
                continue
            for text in output_texts(out):
                printed, logs = read_lines(text, i)
                feats.numbers.extend(printed)
                feats.log_lines.extend(logs)
            data = out.get("data")
            if isinstance(data, Mapping):
                for mime in _IMAGE_TYPES:
                    if mime in data:
                        image = image_feature(data[mime], i)
                        if image is not None:
                            feats.images.append(image)
    feats.models = extract_models([(i, python_source(src)) for i, src in sources])
    return feats
