"""Reading what a run left behind without trusting it: no links followed, sizes capped.

Everything under a run's writable folders was written by the student's code,
which may have put symbolic links there (to other students' files, to the
reports) or swapped files while the harness reads them. These helpers open
files relative to a folder descriptor with ``O_NOFOLLOW`` at every step, read
at most a given number of bytes, and never descend through links.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FolderUsage",
    "UnsafePath",
    "folder_usage",
    "open_no_follow",
    "read_no_follow",
    "scrub_folder",
]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class UnsafePath(OSError):
    """A path that is a link, not a regular file, or over its size limit."""


def _open_dir_chain(base: Path, parts: tuple[str, ...]) -> int:
    fd = os.open(str(base), os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    try:
        for part in parts:
            if part in ("", ".", ".."):
                raise UnsafePath(f"{part!r} is not a plain name")
            nxt = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_no_follow(base: Path, relative: str) -> int:
    """A read-only descriptor of the regular file ``base/relative``, links refused at every step."""
    parts = tuple(Path(relative).parts)
    if not parts or Path(relative).is_absolute():
        raise UnsafePath(f"{relative!r} is not a relative path")
    dir_fd = _open_dir_chain(base, parts[:-1])
    try:
        if parts[-1] in ("", ".", ".."):
            raise UnsafePath(f"{parts[-1]!r} is not a plain name")
        fd = os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafePath(f"{relative}: not a regular file")
    return fd


def read_no_follow(base: Path, relative: str, limit: int) -> bytes:
    """The bytes of ``base/relative`` (a regular file reached without links), at most ``limit``."""
    fd = open_no_follow(base, relative)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafePath(f"{relative}: over the limit of {limit} bytes")
    return data


@dataclass
class FolderUsage:
    bytes: int = 0
    files: int = 0
    complete: bool = True  # False when the walk stopped at its entry budget


def _walk(fd: int, budget: list[int]) -> Iterator[os.stat_result]:
    with os.scandir(fd) as entries:
        for entry in entries:
            if budget[0] <= 0:
                return
            budget[0] -= 1
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            yield st
            if stat.S_ISDIR(st.st_mode):
                try:
                    sub = os.open(
                        entry.name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd
                    )
                except OSError:
                    continue
                try:
                    yield from _walk(sub, budget)
                finally:
                    os.close(sub)


def folder_usage(folders: list[Path], max_entries: int = 1_000_000) -> FolderUsage:
    """Bytes allocated on disk and entries under ``folders`` (links are counted, never followed)."""
    usage = FolderUsage()
    budget = [max_entries]
    for folder in folders:
        try:
            fd = os.open(str(folder), os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError:
            continue
        try:
            for st in _walk(fd, budget):
                usage.files += 1
                usage.bytes += getattr(st, "st_blocks", 0) * 512 or st.st_size
        finally:
            os.close(fd)
    usage.complete = budget[0] > 0
    return usage


def scrub_folder(folder: Path, keep: set[str]) -> list[str]:
    """Remove from ``folder`` every entry that is not a regular file named in ``keep``.

    Used on the harness's output folder after the kernel has stopped, before the
    harness writes its own files there: a link planted by the notebook would
    otherwise send those writes elsewhere. Returns what was removed.
    """
    removed: list[str] = []
    try:
        fd = os.open(str(folder), os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    except OSError:
        return removed
    try:
        with os.scandir(fd) as entries:
            names = [(e.name, e.is_file(follow_symlinks=False)) for e in entries]
        for name, regular in names:
            if regular and name in keep:
                continue
            removed.append(name)
            with contextlib.suppress(OSError):
                try:
                    os.unlink(name, dir_fd=fd)
                except IsADirectoryError:
                    import shutil

                    shutil.rmtree(os.path.join(str(folder), name), ignore_errors=True)
    finally:
        os.close(fd)
    return removed
