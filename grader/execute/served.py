"""The data a run was served, read by the harness itself before the kernel starts.

The harness knows the data it served (the synthetic set or CIFAR-10 from its
store) and reads it before the run, so a notebook cannot change what the
harness compares against: the test images and labels, and the per-image
signatures of both splits. :func:`match_test_rows` finds which served test
image each row of a model's inputs is (the basis of the out-of-process
verification, :mod:`grader.execute.reevaluate`, and of the data integrity checks,
:mod:`grader.check.integrity`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from grader.execute.data import DataSpec

__all__ = [
    "ServedData",
    "before_run",
    "load_served",
    "match_test_rows",
    "row_signatures",
    "store_fingerprint",
]

_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def row_signatures(arr: np.ndarray) -> list[str] | None:
    """The capture prelude's per-image signatures, computed here on the harness's own arrays."""
    import numpy as np

    from grader.execute.kernel_prelude import _row_signatures

    return _row_signatures(np, arr)


@dataclass
class ServedData:
    """The dataset a run was served, read by the harness before the run."""

    kind: str
    identity: str
    x_test: np.ndarray
    y_test: np.ndarray  # (n,) int
    test_index: dict[str, list[int]]  # signature -> test rows
    train_signatures: frozenset[str]
    inherent_overlap: float  # share of training images whose signature is also a test image's
    n_train: int
    files: dict[str, str] = field(default_factory=dict)  # array name -> blake2b of its file


def store_fingerprint(folder: Path) -> dict[str, str]:
    """blake2b of each served array file (to tell whether a run changed the store)."""
    out: dict[str, str] = {}
    for name in _ARRAYS:
        digest = hashlib.blake2b(digest_size=16)
        try:
            with (folder / f"{name}.npy").open("rb") as fh:
                while block := fh.read(1 << 22):
                    digest.update(block)
        except OSError:
            out[name] = "unreadable"
            continue
        out[name] = digest.hexdigest()
    return out


@lru_cache(maxsize=4)
def _load(folder: str, kind: str, identity: str, stamp: tuple[float, ...]) -> ServedData | None:
    import numpy as np

    try:
        x_train = np.load(Path(folder) / "x_train.npy", mmap_mode="r", allow_pickle=False)
        x_test = np.load(Path(folder) / "x_test.npy", allow_pickle=False)
        y_test = np.load(Path(folder) / "y_test.npy", allow_pickle=False).reshape(-1)
    except (OSError, ValueError):
        return None
    test_sigs = row_signatures(x_test) or []
    index: dict[str, list[int]] = {}
    for i, sig in enumerate(test_sigs):
        index.setdefault(sig, []).append(i)
    train_sigs = row_signatures(x_train) or []
    overlap = sum(1 for s in train_sigs if s in index)
    return ServedData(
        kind=kind,
        identity=identity,
        x_test=x_test,
        y_test=y_test.astype(np.int64),
        test_index=index,
        train_signatures=frozenset(train_sigs),
        inherent_overlap=overlap / max(1, len(train_sigs)),
        n_train=len(train_sigs),
    )


def load_served(spec: DataSpec | None) -> ServedData | None:
    """The served dataset's test images, labels and signatures (cached per process)."""
    if spec is None:
        return None
    folder = Path(spec.dir)
    try:
        stamp = tuple((folder / f"{n}.npy").stat().st_mtime for n in _ARRAYS)
    except OSError:
        return None
    served = _load(str(folder), spec.kind, spec.identity, stamp)
    return served


def before_run(
    spec: DataSpec | None, backend: str
) -> tuple[ServedData | None, dict[str, str] | None]:
    """Read the served data before the kernel starts; fingerprint the store where it is writable.

    Only the ``none`` and ``local`` backends leave the data store writable to
    the notebook, so only there is it hashed before and after the run.
    """
    served = load_served(spec)
    before = None
    if spec is not None and backend in ("none", "local"):
        before = store_fingerprint(Path(spec.dir))
    return served, before


# ------------------------------------------------------------ matching rows


def _as_nhwc(arr: np.ndarray) -> np.ndarray | None:
    if arr.ndim == 2 and arr.shape[1] == 3072:
        arr = arr.reshape(-1, 32, 32, 3)
    if arr.ndim != 4:
        return None
    if arr.shape[-1] not in (1, 3) and arr.shape[1] in (1, 3):
        arr = arr.transpose(0, 2, 3, 1)
    return arr


def _affine_ok(x: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: whether ``x`` is a per-channel affine image of ``ref`` (channels maybe reversed).

    Returns (ok, scale, offset) with scale/offset per row and channel of the
    better of the two channel orders.
    """
    import numpy as np

    n = len(x)
    best_ok = np.zeros(n, dtype=bool)
    best_a = np.zeros((n, x.shape[-1]))
    best_b = np.zeros((n, x.shape[-1]))
    xf = x.reshape(n, -1, x.shape[-1]).astype(np.float64)
    for order in (slice(None), slice(None, None, -1)):
        rf = ref[..., order].reshape(n, -1, ref.shape[-1]).astype(np.float64)
        rm, xm = rf.mean(axis=1, keepdims=True), xf.mean(axis=1, keepdims=True)
        rc, xc = rf - rm, xf - xm
        var = (rc * rc).sum(axis=1)
        a = np.where(var > 0, (rc * xc).sum(axis=1) / np.where(var > 0, var, 1.0), 0.0)
        b = xm[:, 0, :] - a * rm[:, 0, :]
        resid = np.abs(xf - (a[:, None, :] * rf + b[:, None, :])).max(axis=(1, 2))
        scale = np.abs(xf).max(axis=(1, 2)) + 1e-12
        ok = (resid <= 1e-5 * scale) & (a > 0).all(axis=1)
        take = ok & ~best_ok
        best_a[take], best_b[take] = a[take], b[take]
        best_ok |= ok
    return best_ok, best_a, best_b


def match_test_rows(inputs: np.ndarray, served: ServedData) -> np.ndarray | None:
    """For each row of ``inputs``, the served test image it is (-1 when none), or None.

    A row matches when its signature names a test image and it is that image
    under one per-channel affine preprocessing shared by the rows (``x/255``,
    normalisation, ``preprocess_input``), or per-image standardisation. Any
    other change (resizing outside the model, noise, a hidden mark) does not
    match, so a notebook cannot feed the check images that carry their label.
    """
    import numpy as np

    arr = _as_nhwc(inputs)
    ref_all = _as_nhwc(served.x_test)
    if arr is None or ref_all is None or arr.shape[1:] != ref_all.shape[1:]:
        return None
    sigs = row_signatures(arr)
    if sigs is None:
        return None
    index = np.full(len(arr), -1, dtype=np.int64)
    for i, sig in enumerate(sigs):
        hits = served.test_index.get(sig)
        if hits:
            index[i] = hits[0]
    rows = np.nonzero(index >= 0)[0]
    if len(rows) == 0:
        return index
    for start in range(0, len(rows), 2048):
        part = rows[start : start + 2048]
        ok, a, b = _affine_ok(np.asarray(arr[part]), np.asarray(ref_all[index[part]]))
        index[part[~ok]] = -1
    kept = np.nonzero(index >= 0)[0]
    if len(kept) == 0:
        return index
    _, a, b = _affine_ok(np.asarray(arr[kept]), np.asarray(ref_all[index[kept]]))
    med_a, med_b = np.median(a, axis=0), np.median(b, axis=0)
    span = np.abs(med_a) * 255.0 + np.abs(med_b) + 1e-12
    shared = (np.abs(a - med_a) <= 1e-4 * np.abs(med_a) + 1e-12).all(axis=1) & (
        np.abs(b - med_b) <= 1e-4 * span
    ).all(axis=1)
    flat = np.asarray(arr[kept], dtype=np.float64).reshape(len(kept), -1)
    standardised = (np.abs(flat.mean(axis=1)) < 1e-3) & (np.abs(flat.std(axis=1) - 1.0) < 1e-2)
    index[kept[~(shared | standardised)]] = -1
    return index
