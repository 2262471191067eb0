"""Compare a class: read the notebooks, extract their features, score the pairs.

:func:`analyse_class` is what ``grader similarity`` calls (disk in, report
out); :func:`compare_notebooks` does the same on notebooks already in memory
and touches no disk (tests and the class dashboard can call it directly).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from grader.errors import GraderError, UsageError
from grader.intake.notebook import load_notebook
from grader.similarity.features import NotebookFeatures, extract_features
from grader.similarity.inputs import NotebookSource, read_class
from grader.similarity.model import SimilarityReport, SimilaritySettings, SkippedNotebook
from grader.similarity.score import Entry, Progress, score_class

__all__ = ["NotebookRef", "analyse_class", "compare_notebooks", "load_starters"]

# below this many notebooks a worker pool costs more than it saves
_PARALLEL_FROM = 40


@dataclass(frozen=True)
class NotebookRef:
    """Who a notebook in memory belongs to."""

    id: str
    name: str
    origin: str = ""
    path: str = ""


def load_starters(paths: Sequence[Path]) -> list[Any]:
    """The instructor's starter notebooks; a path that is not a notebook is a usage error."""
    out = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"starter notebook {path}: no such file")
        try:
            out.append(load_notebook(path).nb)
        except GraderError as exc:
            reason = getattr(exc, "reason", "") or "unreadable"
            raise UsageError(
                f"starter notebook {path} is not a notebook ({reason}): {exc.message}"
            ) from exc
    return out


def compare_notebooks(
    notebooks: Sequence[tuple[NotebookRef, Mapping[str, Any]]],
    *,
    starters: Sequence[Mapping[str, Any]] = (),
    settings: SimilaritySettings | None = None,
    progress: Progress | None = None,
    source: str = "",
    skipped: Sequence[SkippedNotebook] = (),
    generated: str | None = None,
) -> SimilarityReport:
    """Compare notebooks held in memory (nbformat v4 dicts); pure: no disk."""
    settings = settings or SimilaritySettings()
    entries = []
    for n, (ref, nb) in enumerate(notebooks):
        entries.append(_entry(ref, _features(nb, settings)))
        if progress:
            progress("read", n + 1, len(notebooks))
    return _report(entries, starters, settings, progress, source, list(skipped), generated)


def analyse_class(
    source: Path,
    *,
    starters: Sequence[Path] = (),
    settings: SimilaritySettings | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    generated: str | None = None,
) -> SimilarityReport:
    """Compare every pair of notebooks of a class folder, zip or batch output folder.

    Raises :class:`UsageError` for a path that does not exist, a folder
    without notebooks or a starter that is not a notebook. A notebook that
    cannot be read is listed in the report's ``skipped`` with the reason.
    """
    settings = (settings or SimilaritySettings()).model_copy(
        update={"starters": [str(p) for p in starters]}
    )
    starter_nbs = load_starters(starters)
    with TemporaryDirectory(prefix="grader-similarity-") as tmp:
        cls = read_class(source, staging=Path(tmp))
        skipped = list(cls.skipped)
        total = len(cls.notebooks)
        if progress:
            progress("read", 0, total)
        results = _read_all(cls.notebooks, settings, progress, workers)
    entries: list[Entry] = []
    for nbs, result in zip(cls.notebooks, results, strict=True):
        if isinstance(result, str):
            skipped.append(
                SkippedNotebook(id=nbs.id, name=nbs.name, origin=nbs.origin, reason=result)
            )
        else:
            entries.append(Entry(nbs.id, nbs.name, nbs.origin, str(nbs.path), result))
    return _report(entries, starter_nbs, settings, progress, str(source), skipped, generated)


def _options(settings: SimilaritySettings) -> tuple[int, int, int, bool]:
    return (settings.k, settings.window, settings.min_cell_tokens, settings.code_numbers)


def _features(nb: Mapping[str, Any], settings: SimilaritySettings) -> NotebookFeatures:
    k, window, min_tokens, numbers = _options(settings)
    return extract_features(nb, k=k, window=window, min_tokens=min_tokens, numbers=numbers)


def _entry(ref: NotebookRef, feats: NotebookFeatures) -> Entry:
    return Entry(ref.id, ref.name, ref.origin or ref.id, ref.path, feats)


def _read_one(
    path: str, k: int, window: int, min_tokens: int, numbers: bool
) -> NotebookFeatures | str:
    """Features of the notebook at ``path``, or why it cannot be read (runs in a worker)."""
    try:
        loaded = load_notebook(Path(path))
    except GraderError as exc:
        return exc.message
    try:
        return extract_features(
            loaded.nb, k=k, window=window, min_tokens=min_tokens, numbers=numbers
        )
    except RecursionError:
        return f"{path}: the notebook's code is nested too deeply to read"


def _read_all(
    notebooks: Sequence[NotebookSource],
    settings: SimilaritySettings,
    progress: Progress | None,
    workers: int | None,
) -> list[NotebookFeatures | str]:
    args = _options(settings)
    n = len(notebooks)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if n >= _PARALLEL_FROM else 1
    if workers <= 1 or n < 2:
        out: list[NotebookFeatures | str] = []
        for done, nbs in enumerate(notebooks, start=1):
            out.append(_read_one(str(nbs.path), *args))
            if progress:
                progress("read", done, n)
        return out
    results: list[NotebookFeatures | str] = ["not read"] * n
    # spawn, not fork: the caller may run threads (a progress display), and a forked
    # child of a threaded process can deadlock
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {
                pool.submit(_read_one, str(nbs.path), *args): idx
                for idx, nbs in enumerate(notebooks)
            }
            for done, fut in enumerate(as_completed(futures), start=1):
                results[futures[fut]] = fut.result()
                if progress:
                    progress("read", done, n)
    except (BrokenProcessPool, OSError, RuntimeError):
        # no worker processes here (a restricted sandbox, an embedding without a main
        # guard): read in this process instead
        return _read_all(notebooks, settings, progress, 1)
    return results


def _report(
    entries: list[Entry],
    starters: Sequence[Mapping[str, Any]],
    settings: SimilaritySettings,
    progress: Progress | None,
    source: str,
    skipped: list[SkippedNotebook],
    generated: str | None,
) -> SimilarityReport:
    starter_feats = [_features(nb, settings) for nb in starters]
    scored = score_class(entries, starter_feats, settings, progress)
    return SimilarityReport(
        source=source,
        generated=generated,
        class_size=len(entries),
        settings=settings,
        submissions=scored.submissions,
        skipped=skipped,
        pairs=scored.pairs,
        pairs_scored=scored.pairs_scored,
        notes=scored.notes,
    )
