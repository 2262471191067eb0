"""Weights, pair scores, ranking and the evidence behind each pair.

Rarity. Everything two notebooks can share (a code fingerprint, a printed
number, a log line, a figure, a model) is weighted by how many notebooks of
the class have it, ``df``: 1 for material at most two notebooks have, falling
like an inverse document frequency, ``log(cap / df) / log(cap / 2)``, to 0 at
``cap = common_share * class size`` (what most of the class shares: the
starter notebook, the lecture's textbook model). What an instructor-supplied
starter notebook contains weighs 0 whatever its frequency, and so do the
outputs of a student's cell whose code is the starter's (the same code
prints and draws the same for everyone). In a class smaller
than ``min_class_for_rarity`` rarity cannot be judged and everything weighs 1.

Index. Each kind of material has an inverted index (key -> notebooks that
have it); only keys with a weight above 0 are expanded into pairs, so only
pairs that share something rare are ever scored.

Channels. A pair gets a strength in [0, 1] per kind of evidence:

* code: from the weighted fingerprints the two share, both as an amount
  (``1 - exp(-W / 50)``) and as a share of each one's own code (damped when
  there is little of it);
* logs: identical output lines with several precise numbers;
* numbers: identical printed numbers with at least 3 significant digits
  (a number with 3 digits counts half: values like 0.723 recur by chance);
* images: identical figures (same bytes) and near-identical ones;
* architecture: the same model (layers and training settings), scaled by how
  much design the model carries; capped, since students do converge on designs.

The score is ``1 - prod(1 - strength)``: independent kinds of evidence add up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from grader.similarity.evidence import pair_evidence
from grader.similarity.features import NotebookFeatures
from grader.similarity.index import (
    ARCH_CAP,
    CODE_AMOUNT,
    CODE_SHARE,
    CODE_SHARE_DAMP,
    FEWER_THAN_TWO,
    IMAGE_SCALE,
    LOG_SCALE,
    NEAR_IMAGE,
    NUMBER_SCALE,
    ClassIndex,
    Entry,
    Pair,
    Rarity,
    Starter,
    add_pairs,
    level_for,
    line_weight,
    precision,
    saturate,
)
from grader.similarity.model import (
    ChannelScores,
    PairEvidence,
    SimilaritySettings,
    SubmissionInfo,
)

__all__ = ["Entry", "Progress", "Rarity", "ScoredClass", "level_for", "score_class"]

Progress = Callable[[str, int, int], None]


@dataclass
class ScoredClass:
    pairs: list[PairEvidence]
    submissions: list[SubmissionInfo]
    pairs_scored: int
    notes: list[str] = field(default_factory=list)


def _class_notes(
    rarity: Rarity,
    settings: SimilaritySettings,
    starter: Starter,
    starters: Sequence[NotebookFeatures],
    n: int,
) -> list[str]:
    notes: list[str] = []
    if not rarity.judged:
        notes.append(
            f"With fewer than {settings.min_class_for_rarity} notebooks, how common something "
            "is in the class cannot be judged: everything two notebooks share counts, starter "
            "code included unless the starter notebook is given (--starter)."
        )
    else:
        notes.append(
            f"Material found in at least {math.ceil(rarity.cap)} of the {n} notebooks "
            f"({settings.common_share:.0%}) counts for nothing; the fewer notebooks share "
            "something, the more it counts."
        )
    if starters:
        notes.append(
            f"The starter code given ({len(settings.starters) or len(starters)} notebook(s), "
            f"{len(starter.fingerprints)} fingerprints) is left out of every comparison, "
            "with its outputs and models."
        )

    return notes


def _channels(
    cls: ClassIndex, progress: Progress | None
) -> tuple[
    dict[Pair, float], dict[Pair, float], dict[Pair, float], dict[Pair, float], dict[Pair, float]
]:
    """Per pair, what it shares of each kind: code, log lines, numbers, figures, models."""
    rarity = cls.rarity
    code: dict[Pair, float] = {}
    logs: dict[Pair, float] = {}
    numbers: dict[Pair, float] = {}
    images: dict[Pair, float] = {}
    arch: dict[Pair, float] = {}
    steps = 6
    if progress:
        progress("compare", 0, steps)
    add_pairs(cls.fp_index, lambda h, df: cls.fp_weight[h], code)
    if progress:
        progress("compare", 1, steps)

    def log_w(key: Hashable, df: int) -> float:
        holder = cls.log_index[key][0]
        return rarity(df) * line_weight(cls.logs[holder][key].digits)  # type: ignore[index]

    def num_w(key: Hashable, df: int) -> float:
        holder = cls.num_index[key][0]
        return rarity(df) * precision(cls.numbers[holder][key].digits)  # type: ignore[index]

    add_pairs(cls.log_index, log_w, logs)
    add_pairs(cls.num_index, num_w, numbers)
    if progress:
        progress("compare", 2, steps)
    add_pairs(cls.img_index, lambda key, df: rarity(df), images)
    for (i, j), found in cls.near.items():
        for a, b, _dist in found:
            df = max(cls.near_df[(i, a.sha256)], cls.near_df[(j, b.sha256)])
            images[(i, j)] = images.get((i, j), 0.0) + NEAR_IMAGE * rarity(df)
    if progress:
        progress("compare", 3, steps)

    def model_w(
        index: dict[Hashable, list[int]], factor: float
    ) -> Callable[[Hashable, int], float]:
        def weight(key: Hashable, df: int) -> float:
            holder = index[key][0]
            complexity = max(
                (m.complexity for m in cls.models[holder] if key in (m.full_key, m.layer_key)),
                default=0.0,
            )
            return factor * rarity(df) * complexity

        return weight

    add_pairs(cls.full_index, model_w(cls.full_index, 1.0), arch, combine="max")
    add_pairs(cls.layer_index, model_w(cls.layer_index, 0.5), arch, combine="max")
    if progress:
        progress("compare", 4, steps)

    return code, logs, numbers, images, arch


def _ranked(
    cls: ClassIndex,
    entries: Sequence[Entry],
    code: dict[Pair, float],
    logs: dict[Pair, float],
    numbers: dict[Pair, float],
    images: dict[Pair, float],
    arch: dict[Pair, float],
) -> list[tuple[float, Pair, ChannelScores, float, float]]:
    """Every pair that shares something, scored and ranked (highest first)."""
    candidates = set(code) | set(logs) | set(numbers) | set(images) | set(arch)
    scored: list[tuple[float, Pair, ChannelScores, float, float]] = []
    for pair in candidates:
        i, j = pair
        w = code.get(pair, 0.0)
        share_a = w / cls.own[i] if cls.own[i] else 0.0
        share_b = w / cls.own[j] if cls.own[j] else 0.0
        mean_share = min(1.0, (share_a + share_b) / 2.0)
        s_code = max(
            saturate(w, CODE_AMOUNT),
            min(1.0, mean_share / CODE_SHARE) * saturate(w, CODE_SHARE_DAMP),
        )
        ch = ChannelScores(
            code=round(s_code, 4),
            logs=round(saturate(logs.get(pair, 0.0), LOG_SCALE), 4),
            numbers=round(saturate(numbers.get(pair, 0.0), NUMBER_SCALE), 4),
            images=round(saturate(images.get(pair, 0.0), IMAGE_SCALE), 4),
            architecture=round(min(ARCH_CAP, arch.get(pair, 0.0)), 4),
        )
        rest = 1.0
        for s in (ch.code, ch.logs, ch.numbers, ch.images, ch.architecture):
            rest *= 1.0 - s
        scored.append((1.0 - rest, pair, ch, min(1.0, share_a), min(1.0, share_b)))
    scored.sort(key=lambda t: (-t[0], entries[t[1][0]].id, entries[t[1][1]].id))

    return scored


def score_class(
    entries: Sequence[Entry],
    starters: Sequence[NotebookFeatures],
    settings: SimilaritySettings,
    progress: Progress | None = None,
) -> ScoredClass:
    """Score every pair that shares rare material, rank them, and gather the evidence."""
    notes: list[str] = []
    n = len(entries)
    infos = [
        SubmissionInfo(
            id=e.id,
            name=e.name,
            origin=e.origin,
            path=e.path,
            cells=e.features.cells,
            code_cells=len(e.features.code),
        )
        for e in entries
    ]
    if n < 2:
        notes.append(FEWER_THAN_TWO)
        return ScoredClass([], infos, 0, notes)
    starter = Starter.of(starters)
    cls = ClassIndex(entries, starter, settings)
    rarity = cls.rarity
    for e, info, own in zip(entries, infos, cls.own, strict=True):
        total = len(e.features.fingerprints())
        info.own_code = round(own / total, 3) if total else 0.0
    notes += _class_notes(rarity, settings, starter, starters, n)

    channels = _channels(cls, progress)
    scored = _ranked(cls, entries, *channels)
    if progress:
        progress("compare", 5, 6)

    for score, (i, j), _ch, _sa, _sb in scored:
        for me, other in ((i, j), (j, i)):
            if score > infos[me].top_score:
                infos[me].top_score = round(score, 4)
                infos[me].top_level = level_for(score, settings)
                infos[me].top_partner = entries[other].id

    listed = [t for t in scored if t[0] >= settings.report_floor][: settings.max_pairs]
    pairs: list[PairEvidence] = []
    cells_of: dict[int, dict[int, list[int]]] = {}
    for rank, (score, (i, j), ch, share_a, share_b) in enumerate(listed):
        for x in (i, j):
            if x not in cells_of:
                cells_of[x] = cls.fp_cells(x)
        pairs.append(
            pair_evidence(
                cls,
                i,
                j,
                score,
                ch,
                share_a,
                share_b,
                cells_of,
                with_source=rank < settings.detail_pairs,
            )
        )
    if progress:
        progress("compare", 6, 6)
    return ScoredClass(pairs, infos, len(scored), notes)
