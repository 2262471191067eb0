"""The evidence behind a pair: matching cells, shared log lines and numbers, figures, models.

Everything here is said so an instructor can check it side by side; the words
are "worth a look" and why, never an accusation.
"""

from __future__ import annotations

from collections import defaultdict

from grader.similarity.features import NotebookFeatures
from grader.similarity.index import (
    MAX_CELLS,
    MAX_LOG_LINES,
    MAX_NUMBERS,
    SOURCE_CHARS,
    ClassIndex,
    level_for,
    precision,
)
from grader.similarity.model import (
    ArchitectureMatch,
    CellMatch,
    ChannelScores,
    ImageMatch,
    LogMatch,
    NumberMatch,
    PairEvidence,
)
from grader.similarity.outputs import ImageFeature

__all__ = ["pair_evidence"]


def pair_evidence(
    cls: ClassIndex,
    i: int,
    j: int,
    score: float,
    ch: ChannelScores,
    share_a: float,
    share_b: float,
    cells_of: dict[int, dict[int, list[int]]],
    *,
    with_source: bool,
) -> PairEvidence:
    """Everything two notebooks share, in the words the report shows."""
    ea, eb = cls.entries[i], cls.entries[j]
    matches = _matching_cells(cls, i, j, cells_of, with_source=with_source)
    log_matches, num_keys, number_matches = _logs_and_numbers(cls, i, j)
    image_matches = _image_matches(cls, i, j)
    arch_matches = _architecture_matches(cls, i, j)
    level = level_for(score, cls.settings)
    ev = PairEvidence(
        a=ea.id,
        b=eb.id,
        name_a=ea.name,
        name_b=eb.name,
        score=round(min(1.0, score), 4),
        level=level,
        channels=ch,
        code_share_a=round(share_a, 3),
        code_share_b=round(share_b, 3),
        cells=matches,
        log_lines=log_matches[:MAX_LOG_LINES],
        log_lines_total=len(log_matches),
        numbers=number_matches,
        images=image_matches,
        architectures=arch_matches,
    )
    ev.reasons = _reasons(ev, cls.rarity.n, num_total=len(num_keys))
    return ev


def _image_match(kind: str, a: ImageFeature, b: ImageFeature, dist: float, df: int) -> ImageMatch:
    return ImageMatch(
        kind="identical" if kind == "identical" else "near-identical",
        cell_a=a.cell,
        cell_b=b.cell,
        distance=round(dist, 3),
        sha256_a=a.sha256,
        sha256_b=b.sha256,
        size_a=f"{a.width}x{a.height}",
        size_b=f"{b.width}x{b.height}",
        shared_by=df,
    )


def _clip(source: str) -> str:
    return source if len(source) <= SOURCE_CHARS else source[: SOURCE_CHARS - 1] + "…"


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _rare(shared_by: int, n: int) -> str:
    if shared_by <= 2:
        return "no other notebook in the class has it"
    others = shared_by - 2
    return f"{others} other notebook{'s' if others != 1 else ''} of {n} {'have' if others != 1 else 'has'} it too"


def _cell(i: int) -> str:
    return f"cell {i + 1}"


def _reasons(ev: PairEvidence, n: int, *, num_total: int) -> list[str]:
    """The evidence in short sentences, the strongest kind first."""
    out: list[tuple[float, str]] = []
    ch = ev.channels
    if ch.code >= 0.1 and ev.cells:
        best = ev.cells[0]
        out.append(
            (
                ch.code,
                f"Code: {_pct(ev.code_share_a)} of A's own code and {_pct(ev.code_share_b)} of "
                f"B's is found in the other notebook, names and comments aside; "
                f"{_count(len(ev.cells), 'code cell pair')} match (closest: A "
                f"{_cell(best.cell_a)} and B {_cell(best.cell_b)}, "
                f"{_pct(max(best.share_a, best.share_b))}).",
            )
        )
    if ev.log_lines_total:
        first = ev.log_lines[0]
        line = first.line if len(first.line) <= 100 else first.line[:99] + "…"
        verb = "are" if ev.log_lines_total != 1 else "is"
        out.append(
            (
                ch.logs,
                f"Training logs: {_count(ev.log_lines_total, 'output line')} with several "
                f"numbers {verb} identical in both notebooks (A {_cell(first.cell_a)}, "
                f"B {_cell(first.cell_b)}: \u201c{line}\u201d).",
            )
        )
    if ev.numbers and ch.numbers >= 0.1:
        shown = ", ".join(m.value for m in ev.numbers[:5])
        more = f" and {num_total - 5} more" if num_total > 5 else ""
        out.append(
            (
                ch.numbers,
                f"Printed numbers: {_count(num_total, 'identical value')} with 3 or more "
                f"significant digits ({shown}{more}); the rarest: "
                f"{_rare(ev.numbers[0].shared_by, n)}.",
            )
        )
    if ev.images:
        same = sum(1 for m in ev.images if m.kind == "identical")
        near = len(ev.images) - same
        parts = []
        if same:
            parts.append(f"{same} identical byte for byte")
        if near:
            parts.append(f"{near} nearly identical (the same picture re-encoded or resized)")
        fig = ev.images[0]
        out.append(
            (
                ch.images,
                f"Figures: {' and '.join(parts)} (A {_cell(fig.cell_a)}, B {_cell(fig.cell_b)}); "
                f"{_rare(fig.shared_by, n)}.",
            )
        )
    if ev.architectures and ch.architecture >= 0.05:
        m = ev.architectures[0]
        what = "with the same training settings" if m.hyperparameters else "trained differently"
        out.append(
            (
                ch.architecture,
                f"Model: both build the same {m.layers}-layer model {what} "
                f"(A {_cell(m.cell_a)}, B {_cell(m.cell_b)}); {_rare(m.shared_by, n)}.",
            )
        )
    if not out:
        return ["Nothing beyond what several notebooks of the class share."]
    out.sort(key=lambda t: -t[0])
    return [text for _, text in out]


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}{'s' if k != 1 else ''}"


def _matching_cells(
    cls: ClassIndex,
    i: int,
    j: int,
    cells_of: dict[int, dict[int, list[int]]],
    *,
    with_source: bool,
) -> list[CellMatch]:
    """Cells of the two notebooks that share rare code, each with its closest partner."""
    fa, fb = cls.entries[i].features, cls.entries[j].features
    acc: dict[tuple[int, int], float] = defaultdict(float)
    cells_a, cells_b = cells_of[i], cells_of[j]
    for h, pos_a in cells_a.items():
        pos_b = cells_b.get(h)
        if not pos_b:
            continue
        w = cls.fp_weight[h]
        for pa in pos_a:
            for pb in pos_b:
                acc[(pa, pb)] += w

    def cell_total(f: NotebookFeatures, pos: int) -> float:
        return sum(cls.fp_weight.get(h, 0.0) for h in f.code[pos].fingerprints)

    matches: list[CellMatch] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    for (pa, pb), w in sorted(acc.items(), key=lambda t: (-t[1], t[0])):
        if pa in used_a or pb in used_b:
            continue  # each cell once, with its closest partner
        ta, tb = cell_total(fa, pa), cell_total(fb, pb)
        sa = w / ta if ta else 0.0
        sb = w / tb if tb else 0.0
        if w < 1.5 or max(sa, sb) < 0.2:
            continue
        ca, cb = fa.code[pa], fb.code[pb]
        used_a.add(pa)
        used_b.add(pb)
        matches.append(
            CellMatch(
                cell_a=ca.index,
                cell_b=cb.index,
                exec_a=ca.execution_count,
                exec_b=cb.execution_count,
                share_a=round(min(1.0, sa), 3),
                share_b=round(min(1.0, sb), 3),
                weight=round(w, 2),
                source_a=_clip(ca.source) if with_source else None,
                source_b=_clip(cb.source) if with_source else None,
            )
        )
        if len(matches) >= MAX_CELLS:
            break
    return matches


def _logs_and_numbers(
    cls: ClassIndex, i: int, j: int
) -> tuple[list[LogMatch], list[str], list[NumberMatch]]:
    """Rare log lines and precise numbers both notebooks show."""
    rarity = cls.rarity
    log_keys = [
        k for k in cls.logs[i].keys() & cls.logs[j].keys() if rarity(len(cls.log_index[k])) > 0
    ]
    log_keys.sort(key=lambda k: (cls.logs[i][k].cell, cls.logs[i][k].line))
    log_matches = [
        LogMatch(
            line=cls.logs[i][k].line,
            cell_a=cls.logs[i][k].cell,
            cell_b=cls.logs[j][k].cell,
            shared_by=len(cls.log_index[k]),
        )
        for k in log_keys
    ]
    num_keys = [
        k
        for k in cls.numbers[i].keys() & cls.numbers[j].keys()
        if rarity(len(cls.num_index[k])) * precision(cls.numbers[i][k].digits) > 0
    ]
    num_keys.sort(key=lambda k: (len(cls.num_index[k]), -cls.numbers[i][k].digits, k))
    number_matches = [
        NumberMatch(
            value=cls.numbers[i][k].text,
            cell_a=cls.numbers[i][k].cell,
            cell_b=cls.numbers[j][k].cell,
            line_a=cls.numbers[i][k].line,
            line_b=cls.numbers[j][k].line,
            shared_by=len(cls.num_index[k]),
        )
        for k in num_keys[:MAX_NUMBERS]
    ]
    return log_matches, num_keys, number_matches


def _image_matches(cls: ClassIndex, i: int, j: int) -> list[ImageMatch]:
    """Figures both notebooks show, identical or nearly."""
    rarity = cls.rarity
    image_matches: list[ImageMatch] = []
    for sha in sorted(cls.images[i].keys() & cls.images[j].keys()):
        df = len(cls.img_index[sha])
        if rarity(df) <= 0:
            continue
        a, b = cls.images[i][sha], cls.images[j][sha]
        image_matches.append(_image_match("identical", a, b, 0, df))
    for a, b, dist in cls.near.get((i, j), []):
        df = max(cls.near_df[(i, a.sha256)], cls.near_df[(j, b.sha256)])
        if rarity(df) <= 0:
            continue
        image_matches.append(_image_match("near-identical", a, b, dist, df))
    return image_matches


def _architecture_matches(cls: ClassIndex, i: int, j: int) -> list[ArchitectureMatch]:
    """Models of the same architecture (and, first, the same hyper-parameters)."""
    rarity = cls.rarity
    arch_matches: list[ArchitectureMatch] = []
    seen: set[str] = set()
    for full in (True, False):
        for ma in cls.models[i]:
            key = ma.full_key if full else ma.layer_key
            index = cls.full_index if full else cls.layer_index
            if ma.layer_key in seen or ma.complexity <= 0:
                continue
            mb = next(
                (m for m in cls.models[j] if (m.full_key if full else m.layer_key) == key), None
            )
            if mb is None or rarity(len(index[key])) <= 0:
                continue
            seen.add(ma.layer_key)
            arch_matches.append(
                ArchitectureMatch(
                    description=ma.description() if full else " → ".join(ma.layers),
                    layers=ma.layer_count,
                    hyperparameters=full,
                    cell_a=ma.cell,
                    cell_b=mb.cell,
                    shared_by=len(index[key]),
                )
            )
    return arch_matches
