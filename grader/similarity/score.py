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
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from grader.similarity.features import NotebookFeatures
from grader.similarity.model import (
    ArchitectureMatch,
    CellMatch,
    ChannelScores,
    ImageMatch,
    Level,
    LogMatch,
    NumberMatch,
    PairEvidence,
    SimilaritySettings,
    SubmissionInfo,
)
from grader.similarity.outputs import (
    INK_SIDE,
    THUMB_SIDE,
    ImageFeature,
    ink_distance,
    tone_distance,
)

__all__ = ["Entry", "Progress", "Rarity", "ScoredClass", "level_for", "score_class"]

Progress = Callable[[str, int, int], None]
Pair = tuple[int, int]

CODE_AMOUNT = 50.0  # weighted shared fingerprints for strength 1 - 1/e
CODE_SHARE = 0.6  # mean share of own code that counts fully
CODE_SHARE_DAMP = 10.0
LOG_SCALE = 2.0
NUMBER_SCALE = 4.0
IMAGE_SCALE = 1.0
NEAR_IMAGE = 0.8
ARCH_CAP = 0.6
MAX_CELLS = 15
MAX_NUMBERS = 20
MAX_LOG_LINES = 10
SOURCE_CHARS = 4000
STARTER_CELL = 0.9  # share of a cell's fingerprints in the starter that makes it a starter cell
FEWER_THAN_TWO = "Fewer than two readable notebooks: there is nothing to compare."


@dataclass
class Entry:
    """A notebook to compare."""

    id: str
    name: str
    origin: str
    path: str
    features: NotebookFeatures


@dataclass
class ScoredClass:
    pairs: list[PairEvidence]
    submissions: list[SubmissionInfo]
    pairs_scored: int
    notes: list[str] = field(default_factory=list)


class Rarity:
    """The weight of material ``df`` notebooks of a class of ``n`` have."""

    def __init__(self, n: int, settings: SimilaritySettings) -> None:
        self.n = n
        self.judged = n >= settings.min_class_for_rarity
        self.cap = max(2.0, settings.common_share * n)

    def __call__(self, df: int) -> float:
        if not self.judged or df <= 2:
            return 1.0
        if df >= self.cap:
            return 0.0
        return max(0.0, min(1.0, math.log(self.cap / df) / math.log(self.cap / 2.0)))


def level_for(score: float, settings: SimilaritySettings) -> Level:
    if score >= settings.worth_a_look:
        return "worth a look"
    if score >= settings.similar:
        return "similar"
    return "nothing notable"


def _saturate(x: float, scale: float) -> float:
    return 1.0 - math.exp(-x / scale) if x > 0 else 0.0


def _precision(digits: int) -> float:
    """How much a shared printed number says, by its significant digits."""
    return min(1.0, max(0.0, (digits - 2) / 2.0))


def _line_weight(digits: int) -> float:
    """How much a shared log line says, by the significant digits of all its numbers."""
    return min(1.0, max(0.0, (digits - 4) / 8.0))


def _postings(keysets: Sequence[Iterable[Hashable]]) -> dict[Hashable, list[int]]:
    index: dict[Hashable, list[int]] = defaultdict(list)
    for i, keys in enumerate(keysets):
        for key in keys:
            index[key].append(i)
    return index


def _add_pairs(
    index: dict[Hashable, list[int]],
    weight: Callable[[Hashable, int], float],
    into: dict[Pair, float],
    combine: str = "sum",
) -> None:
    for key, holders in index.items():
        if len(holders) < 2:
            continue
        w = weight(key, len(holders))
        if w <= 0:
            continue
        for x in range(len(holders)):
            a = holders[x]
            for b in holders[x + 1 :]:
                pair = (a, b)
                if combine == "sum":
                    into[pair] = into.get(pair, 0.0) + w
                elif w > into.get(pair, 0.0):
                    into[pair] = w


@dataclass
class _Starter:
    fingerprints: set[int] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    logs: set[tuple[str, ...]] = field(default_factory=set)
    images: set[str] = field(default_factory=set)
    figures: list[ImageFeature] = field(default_factory=list)
    models: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, starters: Sequence[NotebookFeatures]) -> _Starter:
        s = cls()
        for f in starters:
            s.fingerprints |= f.fingerprints()
            s.numbers |= {n.key for n in f.numbers}
            s.logs |= {ln.key for ln in f.log_lines}
            s.images |= {im.sha256 for im in f.images}
            s.figures += [im for im in f.images if im.ink is not None]
            for m in f.models:
                s.models |= {m.full_key, m.layer_key}
        return s


class _Class:
    """The class's indexes and weights (built once, read by the pair scoring)."""

    def __init__(
        self,
        entries: Sequence[Entry],
        starter: _Starter,
        settings: SimilaritySettings,
    ) -> None:
        self.entries = entries
        self.settings = settings
        self.rarity = Rarity(len(entries), settings)
        self.starter = starter
        feats = [e.features for e in entries]

        # code
        self.fps: list[set[int]] = [f.fingerprints() - starter.fingerprints for f in feats]
        self.fp_index = _postings(self.fps)
        self.fp_df = {h: len(v) for h, v in self.fp_index.items()}
        self.fp_weight = {h: self.rarity(df) for h, df in self.fp_df.items()}
        self.own = [sum(self.fp_weight[h] for h in fp) for fp in self.fps]

        # outputs: first occurrence of each key per notebook. A cell whose code is the
        # starter's prints and draws the same for everyone who runs it: its outputs are
        # starter material too.
        gone = [self._starter_cells(f) for f in feats]
        self.numbers = [
            {
                n.key: n
                for n in reversed(f.numbers)
                if n.key not in starter.numbers and n.cell not in skip
            }
            for f, skip in zip(feats, gone, strict=True)
        ]
        self.logs = [
            {
                ln.key: ln
                for ln in reversed(f.log_lines)
                if ln.key not in starter.logs and ln.cell not in skip
            }
            for f, skip in zip(feats, gone, strict=True)
        ]
        self.num_index = _postings(self.numbers)
        self.log_index = _postings(self.logs)

        # images: exact, then near-identical by perceptual signature
        self.images: list[dict[str, ImageFeature]] = []
        for f, skip in zip(feats, gone, strict=True):
            own: dict[str, ImageFeature] = {}
            for im in reversed(f.images):
                if im.cell in skip or im.sha256 in starter.images or self._near_starter(im):
                    continue
                own[im.sha256] = im
            self.images.append(own)
        self.img_index = _postings(self.images)
        self.near: dict[Pair, list[tuple[ImageFeature, ImageFeature, float]]] = {}
        self.near_df: dict[tuple[int, str], int] = {}
        self._near_images()

        # models
        self.models = [[m for m in f.models if m.full_key not in starter.models] for f in feats]
        self.full_index = _postings([{m.full_key for m in ms} for ms in self.models])
        self.layer_index = _postings([{m.layer_key for m in ms} for ms in self.models])

    def _starter_cells(self, f: NotebookFeatures) -> set[int]:
        """Cells (by notebook index) whose code is the instructor's starter code."""
        given = self.starter.fingerprints
        if not given:
            return set()
        return {
            c.index
            for c in f.code
            if c.fingerprints and len(c.fingerprints & given) >= STARTER_CELL * len(c.fingerprints)
        }

    def _near(self, a: ImageFeature, b: ImageFeature) -> float | None:
        """The ink distance of two figures if they are near-identical, else None."""
        if a.ink is None or b.ink is None or a.thumb is None or b.thumb is None:
            return None
        dist = ink_distance(a.ink, b.ink)
        if dist > self.settings.image_distance:
            return None
        if tone_distance(a.thumb, b.thumb) > self.settings.image_tone:
            return None
        return dist

    def _near_starter(self, im: ImageFeature) -> bool:
        return any(self._near(im, s) is not None for s in self.starter.figures)

    def _near_images(self) -> None:
        flat = [
            (i, im)
            for i, ims in enumerate(self.images)
            for im in ims.values()
            if im.ink is not None
        ]
        holders: dict[int, set[int]] = {x: {i} for x, (i, _) in enumerate(flat)}
        found: list[tuple[int, int, float]] = []
        if len(flat) > 1:
            import numpy as np

            words = (INK_SIDE * INK_SIDE + 63) // 64
            mask = (1 << 64) - 1
            arr = np.array(
                [[(im.ink or 0) >> (64 * w) & mask for w in range(words)] for _, im in flat],
                dtype=np.uint64,
            )
            ones = np.bitwise_count(arr).sum(axis=1)
            thumbs = np.array(
                [np.frombuffer(im.thumb or bytes(THUMB_SIDE**2), dtype=np.uint8) for _, im in flat],
                dtype=np.int16,
            )
            limit = self.settings.image_distance
            tone = self.settings.image_tone
            for x in range(len(flat) - 1):
                rest = arr[x + 1 :]
                diff = np.bitwise_count(rest ^ arr[x]).sum(axis=1)
                # |A xor B| <= limit * |A or B|, and |A or B| = (|A| + |B| + |A xor B|) / 2
                union = (ones[x + 1 :] + ones[x] + diff) / 2.0
                close = np.nonzero(diff <= limit * union)[0]
                if not len(close):
                    continue
                tones = np.abs(thumbs[x + 1 + close] - thumbs[x]).mean(axis=1)
                for off, t, d, u in zip(
                    close.tolist(),
                    tones.tolist(),
                    diff[close].tolist(),
                    union[close].tolist(),
                    strict=True,
                ):
                    y = x + 1 + off
                    (i, a), (j, b) = flat[x], flat[y]
                    if i == j or a.sha256 == b.sha256 or t > tone:
                        continue
                    found.append((x, y, d / u if u else 0.0))
                    holders[x].add(j)
                    holders[y].add(i)
        for x, (i, im) in enumerate(flat):
            exact = len(self.img_index.get(im.sha256, [i]))
            self.near_df[(i, im.sha256)] = max(len(holders[x]), exact)
        for x, y, dist in found:
            (i, a), (j, b) = flat[x], flat[y]
            if i > j:
                i, j, a, b = j, i, b, a
            self.near.setdefault((i, j), []).append((a, b, dist))

    def fp_cells(self, i: int) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for pos, cell in enumerate(self.entries[i].features.code):
            for h in cell.fingerprints:
                if self.fp_weight.get(h, 0.0) > 0:
                    out[h].append(pos)
        return out


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
    starter = _Starter.of(starters)
    cls = _Class(entries, starter, settings)
    rarity = cls.rarity
    for e, info, own in zip(entries, infos, cls.own, strict=True):
        total = len(e.features.fingerprints())
        info.own_code = round(own / total, 3) if total else 0.0
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

    code: dict[Pair, float] = {}
    logs: dict[Pair, float] = {}
    numbers: dict[Pair, float] = {}
    images: dict[Pair, float] = {}
    arch: dict[Pair, float] = {}
    steps = 6
    if progress:
        progress("compare", 0, steps)
    _add_pairs(cls.fp_index, lambda h, df: cls.fp_weight[h], code)
    if progress:
        progress("compare", 1, steps)

    def log_w(key: Hashable, df: int) -> float:
        holder = cls.log_index[key][0]
        return rarity(df) * _line_weight(cls.logs[holder][key].digits)  # type: ignore[index]

    def num_w(key: Hashable, df: int) -> float:
        holder = cls.num_index[key][0]
        return rarity(df) * _precision(cls.numbers[holder][key].digits)  # type: ignore[index]

    _add_pairs(cls.log_index, log_w, logs)
    _add_pairs(cls.num_index, num_w, numbers)
    if progress:
        progress("compare", 2, steps)
    _add_pairs(cls.img_index, lambda key, df: rarity(df), images)
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

    _add_pairs(cls.full_index, model_w(cls.full_index, 1.0), arch, combine="max")
    _add_pairs(cls.layer_index, model_w(cls.layer_index, 0.5), arch, combine="max")
    if progress:
        progress("compare", 4, steps)

    candidates = set(code) | set(logs) | set(numbers) | set(images) | set(arch)
    scored: list[tuple[float, Pair, ChannelScores, float, float]] = []
    for pair in candidates:
        i, j = pair
        w = code.get(pair, 0.0)
        share_a = w / cls.own[i] if cls.own[i] else 0.0
        share_b = w / cls.own[j] if cls.own[j] else 0.0
        mean_share = min(1.0, (share_a + share_b) / 2.0)
        s_code = max(
            _saturate(w, CODE_AMOUNT),
            min(1.0, mean_share / CODE_SHARE) * _saturate(w, CODE_SHARE_DAMP),
        )
        ch = ChannelScores(
            code=round(s_code, 4),
            logs=round(_saturate(logs.get(pair, 0.0), LOG_SCALE), 4),
            numbers=round(_saturate(numbers.get(pair, 0.0), NUMBER_SCALE), 4),
            images=round(_saturate(images.get(pair, 0.0), IMAGE_SCALE), 4),
            architecture=round(min(ARCH_CAP, arch.get(pair, 0.0)), 4),
        )
        rest = 1.0
        for s in (ch.code, ch.logs, ch.numbers, ch.images, ch.architecture):
            rest *= 1.0 - s
        scored.append((1.0 - rest, pair, ch, min(1.0, share_a), min(1.0, share_b)))
    scored.sort(key=lambda t: (-t[0], entries[t[1][0]].id, entries[t[1][1]].id))
    if progress:
        progress("compare", 5, steps)

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
            _evidence(
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
        progress("compare", steps, steps)
    return ScoredClass(pairs, infos, len(scored), notes)


# ----------------------------------------------------------------- evidence


def _evidence(
    cls: _Class,
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
    ea, eb = cls.entries[i], cls.entries[j]
    fa, fb = ea.features, eb.features
    rarity = cls.rarity

    # matching cells
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

    # log lines and numbers
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
        if rarity(len(cls.num_index[k])) * _precision(cls.numbers[i][k].digits) > 0
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

    # figures
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

    # models
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
