"""The class index: who holds which fingerprint, log line, number, figure and model, and
how rare each is (what most of the class shares counts for nothing).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from grader.similarity.features import NotebookFeatures
from grader.similarity.model import (
    Level,
    SimilaritySettings,
)
from grader.similarity.outputs import (
    INK_SIDE,
    THUMB_SIDE,
    ImageFeature,
    ink_distance,
    tone_distance,
)

__all__ = ["ClassIndex", "Entry", "Pair", "Rarity", "Starter", "level_for"]

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


def saturate(x: float, scale: float) -> float:
    return 1.0 - math.exp(-x / scale) if x > 0 else 0.0


def precision(digits: int) -> float:
    """How much a shared printed number says, by its significant digits."""
    return min(1.0, max(0.0, (digits - 2) / 2.0))


def line_weight(digits: int) -> float:
    """How much a shared log line says, by the significant digits of all its numbers."""
    return min(1.0, max(0.0, (digits - 4) / 8.0))


def postings(keysets: Sequence[Iterable[Hashable]]) -> dict[Hashable, list[int]]:
    index: dict[Hashable, list[int]] = defaultdict(list)
    for i, keys in enumerate(keysets):
        for key in keys:
            index[key].append(i)
    return index


def add_pairs(
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
class Starter:
    fingerprints: set[int] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    logs: set[tuple[str, ...]] = field(default_factory=set)
    images: set[str] = field(default_factory=set)
    figures: list[ImageFeature] = field(default_factory=list)
    models: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, starters: Sequence[NotebookFeatures]) -> Starter:
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


class ClassIndex:
    """The class's indexes and weights (built once, read by the pair scoring)."""

    def __init__(
        self,
        entries: Sequence[Entry],
        starter: Starter,
        settings: SimilaritySettings,
    ) -> None:
        self.entries = entries
        self.settings = settings
        self.rarity = Rarity(len(entries), settings)
        self.starter = starter
        feats = [e.features for e in entries]

        # code
        self.fps: list[set[int]] = [f.fingerprints() - starter.fingerprints for f in feats]
        self.fp_index = postings(self.fps)
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
        self.num_index = postings(self.numbers)
        self.log_index = postings(self.logs)

        # images: exact, then near-identical by perceptual signature
        self.images: list[dict[str, ImageFeature]] = []
        for f, skip in zip(feats, gone, strict=True):
            own: dict[str, ImageFeature] = {}
            for im in reversed(f.images):
                if im.cell in skip or im.sha256 in starter.images or self._near_starter(im):
                    continue
                own[im.sha256] = im
            self.images.append(own)
        self.img_index = postings(self.images)
        self.near: dict[Pair, list[tuple[ImageFeature, ImageFeature, float]]] = {}
        self.near_df: dict[tuple[int, str], int] = {}
        self._near_images()

        # models
        self.models = [[m for m in f.models if m.full_key not in starter.models] for f in feats]
        self.full_index = postings([{m.full_key for m in ms} for ms in self.models])
        self.layer_index = postings([{m.layer_key for m in ms} for ms in self.models])

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
