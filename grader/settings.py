"""Settings shared by every stage: default limits, where the grader keeps its data, and
the "did you mean" used by every registry and configuration file.

A foundation module: it imports nothing from the rest of the package.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path

from grader.i18n import _

__all__ = [
    "__version__",
    "DEFAULT_TIMEOUT_CELL",
    "DEFAULT_TIMEOUT_RUN",
    "DEFAULT_TIMEOUT_VERIFY",
    "default_home",
    "did_you_mean",
    "suggest",
]

__version__ = "0.1.0"

#: seconds one cell of a notebook may run
DEFAULT_TIMEOUT_CELL = 900.0
#: seconds a whole notebook may run
DEFAULT_TIMEOUT_RUN = 3600.0
#: seconds the out-of-process re-evaluation of a run's models may take
DEFAULT_TIMEOUT_VERIFY = 900.0


def default_home() -> Path:
    """The data store and run cache: ``$GRADER_HOME``, else ``$XDG_CACHE_HOME/grader``
    (``~/.cache/grader``)."""
    env = os.environ.get("GRADER_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader"


def suggest(word: str, known: Iterable[str]) -> str | None:
    """The known word closest to ``word``, when one is close enough to be a typo."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return close[0] if close else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a typo of a known word, else an empty string."""
    close = suggest(word, known)
    return _(" (did you mean {word!r}?)").format(word=close) if close else ""
