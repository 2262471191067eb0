"""Pretrained weights from a local folder of Keras application weight files.

The folder holds files under the names Keras downloads them as (for example
``mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5``). Each
run's ``KERAS_HOME/models`` links to them, so Keras finds them in its cache
and checks their hashes itself; anything missing is refused inside the kernel
(smoke: random initialisation, recorded; full: the run fails with the name of
the missing file).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from grader.errors import UsageError

__all__ = ["WEIGHT_SUFFIXES", "WeightsSpec", "scan_weights"]

WEIGHT_SUFFIXES = (".h5", ".keras", ".weights.h5", ".pth", ".pt", ".npz")


class WeightsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dir: str | None
    files: dict[str, int]  # file name -> size in bytes
    identity: str  # changes when a file is added, removed, replaced or resized

    def paths(self) -> dict[str, str]:
        if self.dir is None:
            return {}
        return {name: str(Path(self.dir) / name) for name in self.files}


def scan_weights(folder: Path | None) -> WeightsSpec:
    """Describe a weights folder (``None``: no weights, every pretrained request is missing)."""
    if folder is None:
        return WeightsSpec(dir=None, files={}, identity="none")
    if not folder.is_dir():
        raise UsageError(f"{folder}: the weights folder does not exist")
    files: dict[str, int] = {}
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not path.name.endswith(WEIGHT_SUFFIXES):
            continue
        stat = path.stat()
        files[path.name] = stat.st_size
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return WeightsSpec(dir=str(folder.resolve()), files=files, identity=digest.hexdigest()[:32])
