"""The run cache: a finished run's files and result, keyed by everything that decides them.

The key covers the notebook's bytes, the profile (with its caps), the data and
weights identities, the harness and prelude versions, the environment the
kernel runs in (Python and package versions, machine), the seed and
determinism, the thread count and the time limits. The rubric is not part of
it: regrading after a rubric change never re-executes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from grader.execute.records import RunRecord

__all__ = ["CacheStore", "cache_key"]

CACHE_FORMAT = "1"


def cache_key(
    *,
    notebook_sha256: str,
    profile: dict[str, Any],
    data_identity: str,
    weights_identity: str,
    harness_version: str,
    prelude_sha256: str,
    environment: dict[str, Any],
    seed: int | None,
    deterministic: bool,
    threads: int | None,
    timeouts: dict[str, float | None],
    backend: str,
) -> str:
    """A sha256 over a canonical JSON of every input that changes a run's outcome."""
    payload = {
        "format": CACHE_FORMAT,
        "notebook": notebook_sha256,
        "profile": profile,
        "data": data_identity,
        "weights": weights_identity,
        "harness": harness_version,
        "prelude": prelude_sha256,
        "environment": environment,
        "seed": seed,
        "deterministic": deterministic,
        "threads": threads,
        "timeouts": timeouts,
        "backend": backend,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class CacheStore:
    """``<root>/<key>/`` holds a run's output files and ``result.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def entry(self, key: str) -> Path:
        return self.root / key

    def load(self, key: str) -> RunRecord | None:
        """The stored result, when complete and valid; None otherwise (a miss)."""
        path = self.entry(key) / "result.json"
        try:
            result = RunRecord.model_validate_json(path.read_bytes())
        except (OSError, ValidationError, ValueError):
            return None
        if result.cache_key != key or not Path(result.files.folder).is_dir():
            return None
        return result

    def store(self, key: str, folder: Path) -> Path:
        """Move a finished run's output folder into the cache (replacing an older entry)."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.entry(key)
        if target.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".old-{key[:12]}-", dir=self.root))
            os.replace(target, trash / "entry")
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.replace(folder, target)
        except OSError:
            shutil.copytree(folder, target)
            shutil.rmtree(folder, ignore_errors=True)
        return target
