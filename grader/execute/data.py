"""Offline datasets for runs: CIFAR-10 from a local archive, or a synthetic CIFAR-like set.

Both live in a shared data store (``<home>/data``), prepared once and read-only
for runs: four ``.npy`` files (``x_train``, ``y_train``, ``x_test``,
``y_test``) that the capture prelude serves to ``cifar10.load_data()`` inside
the kernel, plus the layouts Keras' own ``get_file`` looks for, so a notebook
that bypasses ``load_data`` still finds the archive without a download.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from grader.errors import GraderError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CIFAR10_ARCHIVE_NAME",
    "CIFAR10_SHA256",
    "SYNTHETIC_VERSION",
    "DataError",
    "DataSpec",
    "ensure_synthetic",
    "find_cifar10",
    "seed_cifar10_archive",
    "seed_keras_home",
    "sha256_file",
    "synthetic_cifar",
]

CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_ARCHIVE_NAME = "cifar-10-python.tar.gz"
SYNTHETIC_VERSION = "1"
_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
_CIFAR_MEMBERS = {f"data_batch_{i}" for i in range(1, 6)} | {"test_batch", "batches.meta"}


class DataError(GraderError):
    """A dataset that cannot be provisioned (bad archive, wrong checksum, unreadable store)."""


class DataSpec(BaseModel):
    """A prepared dataset in the store; what the prelude serves and the manifest records."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["cifar10", "synthetic"]
    identity: str  # archive sha256, or the synthetic generator's version and parameters
    dir: str  # folder holding x_train.npy, y_train.npy, x_test.npy, y_test.npy
    n_train: int
    n_test: int
    archive: str | None = None  # the checked archive in the store (CIFAR-10)
    extracted: str | None = None  # the extracted cifar-10-batches-py folder (CIFAR-10)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------- synthetic

# ten clearly different colours (RGB) and five shapes: class c draws shape c % 5
# in colour c on a background tinted by c // 5, so colour and shape both carry
# the label and a small CNN learns it within a couple of epochs.
_COLOURS = (
    (220, 40, 40),
    (40, 200, 60),
    (40, 80, 230),
    (230, 210, 40),
    (200, 60, 200),
    (40, 210, 210),
    (240, 140, 30),
    (140, 90, 40),
    (250, 250, 250),
    (110, 110, 110),
)


def synthetic_cifar(
    n_train: int = 50000, n_test: int = 10000, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A deterministic CIFAR-like dataset: uint8 images (N, 32, 32, 3), uint8 labels (N, 1).

    Ten classes in shuffled order, about equally frequent. Each image shows one
    shape (disc, square, horizontal bar, vertical bar, cross) in its class's
    colour at a jittered place and size on a noisy, tinted background.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    total = n_train + n_test
    labels = (np.arange(total) % 10).astype(np.uint8)
    rng.shuffle(labels)
    images = np.empty((total, 32, 32, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    colours = np.asarray(_COLOURS, dtype=np.int16)
    chunk = 5000
    for start in range(0, total, chunk):
        lab = labels[start : start + chunk]
        n = len(lab)
        cy = rng.uniform(10, 22, n).astype(np.float32)[:, None, None]
        cx = rng.uniform(10, 22, n).astype(np.float32)[:, None, None]
        size = rng.uniform(5, 9, n).astype(np.float32)[:, None, None]
        dy, dx = yy[None] - cy, xx[None] - cx
        shape = (lab % 5)[:, None, None]
        disc = dy**2 + dx**2 <= size**2
        square = (np.abs(dy) <= size * 0.85) & (np.abs(dx) <= size * 0.85)
        hbar = (np.abs(dy) <= size * 0.35) & (np.abs(dx) <= size * 1.4)
        vbar = (np.abs(dx) <= size * 0.35) & (np.abs(dy) <= size * 1.4)
        cross = ((np.abs(dy) <= 1.5) | (np.abs(dx) <= 1.5)) & (
            np.abs(dy) + np.abs(dx) <= size * 1.6
        )
        mask = np.select(
            [shape == 0, shape == 1, shape == 2, shape == 3], [disc, square, hbar, vbar], cross
        )
        tint = np.where((lab // 5)[:, None] == 0, 60, 150).astype(np.int16)
        background = tint + rng.integers(-40, 41, (n, 3), dtype=np.int16)
        fg = colours[lab] + rng.integers(-30, 31, (n, 3), dtype=np.int16)
        img = np.where(mask[..., None], fg[:, None, None, :], background[:, None, None, :])
        img += rng.integers(-32, 33, img.shape, dtype=np.int16)
        np.clip(img, 0, 255, out=img)
        images[start : start + n] = img
    y = labels.reshape(-1, 1)
    return (images[:n_train], y[:n_train]), (images[n_train:], y[n_train:])


def _synthetic_identity(n_train: int, n_test: int, seed: int) -> str:
    return f"synthetic-v{SYNTHETIC_VERSION}-train{n_train}-test{n_test}-seed{seed}"


def ensure_synthetic(
    home: Path, n_train: int = 50000, n_test: int = 10000, seed: int = 0
) -> DataSpec:
    """The synthetic dataset in the store, generated on first use."""
    identity = _synthetic_identity(n_train, n_test, seed)
    folder = home / "data" / identity
    spec = DataSpec(
        kind="synthetic", identity=identity, dir=str(folder), n_train=n_train, n_test=n_test
    )
    if _complete(folder):
        return spec
    # parallel runs on a fresh machine all ask for it: one generates, the others wait
    with _store_lock(home / "data" / f".{identity}.lock"):
        if not _complete(folder):
            (x_train, y_train), (x_test, y_test) = synthetic_cifar(n_train, n_test, seed)
            arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
            with _staged(folder) as tmp:
                _save_arrays(tmp, arrays, spec)
    return spec


@contextlib.contextmanager
def _store_lock(path: Path) -> Iterator[None]:
    """One process at a time prepares a dataset in the store (an exclusive file lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _complete(folder: Path) -> bool:
    return (folder / "dataset.json").is_file() and all(
        (folder / f"{n}.npy").is_file() for n in _ARRAYS
    )


@contextlib.contextmanager
def _staged(folder: Path) -> Iterator[Path]:
    """A temporary sibling of ``folder`` that replaces it when the block ends well (atomic)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        yield tmp
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _save_arrays(folder: Path, arrays: dict[str, np.ndarray], spec: DataSpec) -> None:
    import numpy as np

    for name, arr in arrays.items():
        np.save(folder / f"{name}.npy", arr)
    (folder / "dataset.json").write_text(spec.model_dump_json(indent=2), encoding="utf-8")


# --------------------------------------------------------------------- CIFAR-10


def find_cifar10(home: Path) -> DataSpec | None:
    """The CIFAR-10 dataset seeded into the store, if any."""
    manifest = home / "data" / "cifar10" / "dataset.json"
    if not manifest.is_file():
        return None
    try:
        spec = DataSpec.model_validate_json(manifest.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return spec if _complete(Path(spec.dir)) else None


def seed_cifar10_archive(
    archive: Path, home: Path, *, expected_sha256: str = CIFAR10_SHA256
) -> DataSpec:
    """Check ``cifar-10-python.tar.gz`` and prepare it in the store for every later run."""
    if not archive.is_file():
        raise DataError(f"{archive}: no such file", path=str(archive))
    digest = sha256_file(archive)
    if digest != expected_sha256:
        raise DataError(
            f"{archive}: sha256 {digest} does not match CIFAR-10's {expected_sha256} "
            "(a different or damaged file)",
            path=str(archive),
            sha256=digest,
        )
    with _store_lock(home / "data" / ".cifar10.lock"):
        existing = find_cifar10(home)
        if existing is not None and existing.identity == digest:
            return existing
        return _seed_cifar10(archive, home, digest)


def _seed_cifar10(archive: Path, home: Path, digest: str) -> DataSpec:
    folder = home / "data" / "cifar10"
    with _staged(folder) as tmp:
        stored = tmp / CIFAR10_ARCHIVE_NAME
        shutil.copyfile(archive, stored)
        arrays = _read_cifar_batches(_extract_cifar(stored, tmp))
        spec = DataSpec(
            kind="cifar10",
            identity=digest,
            dir=str(folder),
            n_train=int(arrays["x_train"].shape[0]),
            n_test=int(arrays["x_test"].shape[0]),
            archive=str(folder / CIFAR10_ARCHIVE_NAME),
            extracted=str(folder / "cifar-10-batches-py"),
        )
        _save_arrays(tmp, arrays, spec)
    return spec


def _extract_cifar(archive: Path, dest: Path) -> Path:
    """Extract only the CIFAR-10 batch files, refusing anything else in the archive."""
    target = dest / "cifar-10-batches-py"
    target.mkdir()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if not member.isfile() or name not in _CIFAR_MEMBERS:
                    continue
                src = tar.extractfile(member)
                if src is None:
                    continue
                with src, (target / name).open("wb") as out:
                    shutil.copyfileobj(src, out)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{archive}: cannot be extracted ({exc})", path=str(archive)) from exc
    missing = sorted(_CIFAR_MEMBERS - {p.name for p in target.iterdir()})
    if missing:
        raise DataError(f"{archive}: batch files missing: {', '.join(missing)}", path=str(archive))
    return target


def _read_cifar_batches(folder: Path) -> dict[str, np.ndarray]:
    """Decode the pickled batches of the (checksum-verified) archive into uint8 arrays."""
    import numpy as np

    def batch(name: str) -> tuple[np.ndarray, np.ndarray]:
        with (folder / name).open("rb") as fh:
            # the archive's sha256 was checked against the published one before this point
            d = pickle.load(fh, encoding="bytes")  # noqa: S301
        x = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        y = np.asarray(d[b"labels"], dtype=np.uint8).reshape(-1, 1)
        return x, y

    parts = [batch(f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = batch("test_batch")
    return {
        "x_train": np.ascontiguousarray(np.concatenate([p[0] for p in parts])),
        "y_train": np.concatenate([p[1] for p in parts]),
        "x_test": np.ascontiguousarray(x_test),
        "y_test": y_test,
    }


def seed_keras_home(keras_home: Path, data: DataSpec | None, weights_files: dict[str, str]) -> None:
    """Lay out a per-run ``KERAS_HOME`` so Keras' own cache lookups succeed offline.

    * Keras 3 (``get_file(..., extract=True)``): ``datasets/cifar-10-batches-py-target_archive``;
    * Keras 2 / tf_keras (``untar=True``): ``datasets/cifar-10-batches-py.tar.gz`` and the
      extracted ``datasets/cifar-10-batches-py`` folder;
    * application weights: ``models/<file name>`` for every file of the weights folder.
    """
    datasets = keras_home / "datasets"
    models = keras_home / "models"
    datasets.mkdir(parents=True, exist_ok=True)
    models.mkdir(parents=True, exist_ok=True)
    if data is not None and data.kind == "cifar10" and data.archive and data.extracted:
        _link(Path(data.archive), datasets / "cifar-10-batches-py-target_archive")
        _link(Path(data.archive), datasets / "cifar-10-batches-py.tar.gz")
        _link(Path(data.extracted), datasets / "cifar-10-batches-py")
    for name, path in weights_files.items():
        _link(Path(path), models / name)


def _link(src: Path, dst: Path) -> None:
    if dst.exists() or dst.is_symlink():
        return
    try:
        dst.symlink_to(src)
    except OSError:
        if src.is_file():
            shutil.copyfile(src, dst)
