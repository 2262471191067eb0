"""Intake: turn a file into a normalised nbformat v4 notebook, or refuse it with a reason.

Reads every nbformat version the ``nbformat`` library knows (v3, v4.x),
upgrades to v4, fills in metadata that papermill and the extractors need
(kernelspec, ``language_info``), and refuses what is not a notebook.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import NotANotebookError, UsageError
from grader.i18n import _, ngettext

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "MAX_NOTEBOOK_BYTES",
    "LoadedNotebook",
    "find_notebooks",
    "load_notebook",
    "parse_notebook",
]

MAX_NOTEBOOK_BYTES = 200 * 1024 * 1024  # larger files are refused, not parsed

_SKIP_DIRS = {".ipynb_checkpoints", "__MACOSX", ".git", "__pycache__"}
_DEFAULT_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


@dataclass
class LoadedNotebook:
    """A notebook as read: always nbformat 4 in memory."""

    path: str
    sha256: str
    nb: NotebookNode
    original_version: str
    normalised: list[str] = field(default_factory=list)


def find_notebooks(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders into the notebooks below them; files named explicitly are kept as they are."""
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*.ipynb")):
                if not any(
                    part in _SKIP_DIRS or part.startswith(".")
                    for part in p.relative_to(path).parts[:-1]
                ):
                    yield p
        elif path.exists():
            yield path
        else:
            raise UsageError(_("{path}: no such file or folder").format(path=path))


def load_notebook(path: Path, *, max_bytes: int = MAX_NOTEBOOK_BYTES) -> LoadedNotebook:
    """Read ``path`` and return the normalised notebook; raise NotANotebookError otherwise."""
    where = str(path)
    try:
        if path.is_dir():
            raise NotANotebookError(
                _("{path}: is a folder, not a notebook").format(path=where),
                path=where,
                reason="folder",
            )
        size = path.stat().st_size
    except OSError as exc:
        raise NotANotebookError(
            _("{path}: cannot be read ({error})").format(path=where, error=exc.strerror or exc),
            path=where,
            reason="unreadable",
        ) from exc
    if size > max_bytes:
        raise NotANotebookError(
            _("{path}: {size} MB is over the {limit} MB limit for a notebook").format(
                path=where, size=f"{size / 1e6:.0f}", limit=f"{max_bytes / 1e6:.0f}"
            ),
            path=where,
            reason="oversized",
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise NotANotebookError(
            _("{path}: cannot be read ({error})").format(path=where, error=exc.strerror or exc),
            path=where,
            reason="unreadable",
        ) from exc
    return parse_notebook(data, where)


def parse_notebook(data: bytes, where: str = "<notebook>") -> LoadedNotebook:
    """Parse notebook bytes (pure: no disk)."""
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise NotANotebookError(
            _("{path}: the file is empty").format(path=where), path=where, reason="empty"
        )
    if b"\x00" in data[:8192]:
        raise NotANotebookError(
            _("{path}: binary data, not a notebook (a notebook is JSON text)").format(path=where),
            path=where,
            reason="binary",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotANotebookError(
            _("{path}: not UTF-8 text at byte {byte}; a notebook is JSON text").format(
                path=where, byte=exc.start
            ),
            path=where,
            reason="binary",
        ) from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotANotebookError(
            _("{path}: not valid JSON ({error} at line {line}, column {column})").format(
                path=where, error=exc.msg, line=exc.lineno, column=exc.colno
            ),
            path=where,
            reason="invalid-json",
        ) from exc
    if not isinstance(raw, dict):
        raise NotANotebookError(
            _(
                "{path}: JSON but not a notebook (the top level is a {type}, a notebook is an "
                "object with 'cells')"
            ).format(path=where, type=type(raw).__name__),
            path=where,
            reason="not-a-notebook",
        )
    if "cells" not in raw and "worksheets" not in raw:
        raise NotANotebookError(
            _("{path}: JSON but not a notebook (no 'cells' list)").format(path=where),
            path=where,
            reason="not-a-notebook",
        )
    major = raw.get("nbformat", 4 if "cells" in raw else 3)
    minor = raw.get("nbformat_minor", 0)
    if not isinstance(major, int) or major not in (3, 4):
        raise NotANotebookError(
            _("{path}: nbformat {version} is not supported (3 and 4.x are)").format(
                path=where, version=repr(major)
            ),
            path=where,
            reason="unsupported-version",
        )
    raw.setdefault("nbformat", major)
    raw.setdefault("nbformat_minor", minor if isinstance(minor, int) else 0)
    raw.setdefault("metadata", {})
    normalised: list[str] = []
    try:
        if major == 4:
            # the common case, read without importing nbformat (the static check stays fast)
            nb = _node(raw)
        else:
            import nbformat

            with warnings.catch_warnings():
                # nbformat warns about missing cell ids and similar; the intake repairs those
                warnings.simplefilter("ignore")
                nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # nbformat raises several kinds on malformed structure
        raise NotANotebookError(
            _("{path}: notebook structure is broken ({error})").format(
                path=where, error=_short(exc)
            ),
            path=where,
            reason="bad-structure",
        ) from exc
    _repair_cells(nb, normalised, where)
    _normalise_metadata(nb, normalised)
    return LoadedNotebook(
        path=where,
        sha256=sha,
        nb=nb,
        original_version=f"{major}.{raw.get('nbformat_minor', 0)}",
        normalised=normalised,
    )


class _Node(dict[str, Any]):
    """A dict with attribute access, like ``nbformat.NotebookNode`` (which it stands in for)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


def _node(value: Any) -> Any:
    if isinstance(value, dict):
        return _Node((k, _node(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_node(v) for v in value]
    return value


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _repair_cells(nb: NotebookNode, normalised: list[str], where: str) -> None:
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotANotebookError(
            _("{path}: notebook structure is broken ('cells' is not a list)").format(path=where),
            path=where,
            reason="bad-structure",
        )
    fixed = 0
    needs_ids = (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5)
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise NotANotebookError(
                _("{path}: notebook structure is broken (a cell is not an object)").format(
                    path=where
                ),
                path=where,
                reason="bad-structure",
            )
        if "cell_type" not in cell:
            cell["cell_type"] = "raw"
            fixed += 1
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = _Node()
        if needs_ids and not isinstance(cell.get("id"), str):
            cell["id"] = f"cell-{index}"
            fixed += 1
        src = cell.get("source", "")
        if isinstance(src, list):
            # how notebooks are stored on disk: a list of lines
            cell["source"] = "".join(str(s) for s in src)
        elif not isinstance(src, str):
            cell["source"] = ""
            fixed += 1
        if cell["cell_type"] == "code":
            if not isinstance(cell.get("outputs"), list):
                cell["outputs"] = []
                fixed += 1
            cell["outputs"] = [_fix_output(o) for o in cell["outputs"] if isinstance(o, dict)]
            cell.setdefault("execution_count", None)
    if fixed:
        normalised.append(
            ngettext("repaired {n} cell field", "repaired {n} cell fields", fixed).format(n=fixed)
        )


def _fix_output(out: dict[str, Any]) -> dict[str, Any]:
    if "text" in out and isinstance(out["text"], list):
        out["text"] = "".join(str(t) for t in out["text"])
    data = out.get("data")
    if isinstance(data, dict):
        for key, value in list(data.items()):
            if isinstance(value, list):
                data[key] = "".join(str(v) for v in value)
    return out


def _normalise_metadata(nb: NotebookNode, normalised: list[str]) -> None:
    meta = nb.setdefault("metadata", _Node())
    ks = meta.get("kernelspec")
    if not isinstance(ks, dict) or not ks.get("name"):
        meta["kernelspec"] = _Node(_DEFAULT_KERNELSPEC)
        normalised.append(_("added kernelspec (python3)"))
    else:
        ks.setdefault("language", "python")
        ks.setdefault("display_name", ks.get("name", "Python 3"))
    li = meta.get("language_info")
    if not isinstance(li, dict) or not li.get("name"):
        meta["language_info"] = _Node({"name": "python"})
        normalised.append(_("added language_info (python)"))
