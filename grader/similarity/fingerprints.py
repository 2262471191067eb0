"""k-grams of normalised tokens, winnowed to fingerprints (Schleimer, Wilkerson, Aiken 2003).

Each run of ``k`` consecutive tokens is hashed; of every ``window``
consecutive k-gram hashes the smallest is kept (the rightmost one on a tie).
That guarantees that any match of at least ``window + k - 1`` tokens shares a
fingerprint, while keeping about ``2 / (window + 1)`` of the hashes. This is
how MOSS and Dolos find copied code: two cells share fingerprints when they
share token runs, wherever in the cell the runs are.

Hashes are stable across processes and runs (a token's CRC-32, then Python's
hash of a tuple of integers, which is not randomised), so a parallel read of
the class and a second run give the same fingerprints.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["fingerprint", "kgram_hashes", "token_ids", "winnow"]


@lru_cache(maxsize=65536)
def _token_id(token: str) -> int:
    return zlib.crc32(token.encode("utf-8"))


def token_ids(tokens: Sequence[str]) -> list[int]:
    """A stable integer per token."""
    return [_token_id(t) for t in tokens]


def kgram_hashes(ids: Sequence[int], k: int) -> list[int]:
    """The hash of every run of ``k`` consecutive token ids."""
    t = tuple(ids)
    return [hash(t[i : i + k]) for i in range(len(t) - k + 1)]


def winnow(hashes: Sequence[int], window: int) -> list[int]:
    """The hashes winnowing keeps, in order of position (each position once)."""
    n = len(hashes)
    if n == 0:
        return []
    if n <= window:
        return [min(hashes)]
    kept: list[int] = []
    last = -1
    for start in range(n - window + 1):
        chunk = hashes[start : start + window]
        low = min(chunk)
        # rightmost minimum: the position that stays selected longest as the window moves
        pos = start + window - 1 - list(reversed(chunk)).index(low)
        if pos != last:
            kept.append(low)
            last = pos
    return kept


def fingerprint(tokens: Sequence[str], *, k: int, window: int, min_tokens: int) -> set[int]:
    """The set of fingerprints of one cell's tokens.

    A cell shorter than ``k`` tokens (but at least ``min_tokens``) is one
    fingerprint of all its tokens; a shorter one has none.
    """
    if len(tokens) < min_tokens:
        return set()
    ids = token_ids(tokens)
    if len(ids) < k:
        return {hash(tuple(ids))}
    return set(winnow(kgram_hashes(ids, k), window))
