"""Memory and process cgroups for a run, where this machine lets the harness make them.

Two layouts are handled without any service: cgroup v1 hierarchies
(``memory`` and ``pids`` mounted separately) where the harness may create a
child of its own cgroup, and cgroup v2 where the harness's cgroup already
delegates the ``memory`` and ``pids`` controllers to its children. Anything
else (no write access, a systemd-only setup) is reported as unavailable, and
the run says so in its manifest.

A run's cgroup is a child of the harness's own, so the harness's limits still
bound it. After the run every process left in it is killed and it is removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CgroupSet", "CgroupSupport", "create_cgroups", "probe_cgroups", "sweep_stale"]


@dataclass(frozen=True)
class CgroupSupport:
    """Where a run's memory and pids cgroups can be made (None: not possible, and why)."""

    version: int | None = None
    memory_parent: Path | None = None
    pids_parent: Path | None = None
    reason: str = ""


@dataclass
class CgroupSet:
    """The cgroups made for one run."""

    version: int
    folders: list[Path] = field(default_factory=list)
    memory: Path | None = None
    pids: Path | None = None
    memory_limit: int | None = None
    pids_limit: int | None = None

    def describe(self) -> str:
        parts = []
        if self.memory is not None:
            parts.append(f"memory {self.memory}")
        if self.pids is not None and self.pids != self.memory:
            parts.append(f"pids {self.pids}")
        return f"cgroup v{self.version}: " + ", ".join(parts)

    def memory_hit(self) -> bool:
        """Whether the memory limit was reached (an out-of-memory kill in the cgroup)."""
        if self.memory is None:
            return False
        if self.version == 2:
            return _event_count(self.memory / "memory.events", "oom_kill") > 0
        control = self.memory / "memory.oom_control"
        if _has_key(control, "oom_kill"):
            return _event_count(control, "oom_kill") > 0
        return _read_int(self.memory / "memory.failcnt") > 0  # older kernels: limit reached

    def pids_hit(self) -> bool:
        if self.pids is None:
            return False
        return _event_count(self.pids / "pids.events", "max") > 0

    def kill_all(self, wait: float = 5.0) -> int:
        """SIGKILL every process left in the run's cgroups; returns how many were found."""
        found: set[int] = set()
        deadline = time.monotonic() + wait
        while True:
            pids = set()
            for folder in self.folders:
                pids.update(_procs(folder))
            if not pids:
                return len(found)
            found.update(pids)
            if self.version == 2:
                for folder in self.folders:
                    with contextlib.suppress(OSError):
                        (folder / "cgroup.kill").write_text("1")
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return len(found)
            time.sleep(0.05)

    def remove(self) -> None:
        self.kill_all()
        for folder in self.folders:
            for _ in range(40):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _event_count(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                return int(parts[1])
    except (OSError, ValueError):
        pass
    return 0


def _has_key(path: Path, key: str) -> bool:
    try:
        return any(line.split()[:1] == [key] for line in path.read_text().splitlines())
    except OSError:
        return False


def _procs(folder: Path) -> set[int]:
    try:
        return {int(x) for x in (folder / "cgroup.procs").read_text().split()}
    except (OSError, ValueError):
        return set()


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount point, root within the hierarchy, fs type, super options) of cgroup mounts."""
    out: list[tuple[str, str, str, set[str]]] = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) < 5 or len(rest) < 3 or rest[0] not in ("cgroup", "cgroup2"):
            continue
        out.append((fields[4], fields[3], rest[0], set(rest[2].split(","))))
    return out


def _own_paths() -> dict[str, str]:
    """controller (or '' for v2) -> this process's cgroup path."""
    out: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[1] == "":
            out[""] = parts[2]
        for name in parts[1].split(","):
            if name:
                out[name] = parts[2]
    return out


def _join(mount: str, root: str, path: str) -> Path | None:
    if root != "/" and not (path == root or path.startswith(root.rstrip("/") + "/")):
        return None
    rel = path[len(root) :] if root != "/" else path
    return Path(mount) / rel.lstrip("/")


def _writable_dir(path: Path | None) -> bool:
    return path is not None and path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def probe_cgroups() -> CgroupSupport:
    """Where this process may create memory and pids cgroups for its runs."""
    mounts = _mounts()
    own = _own_paths()
    v1_memory = v1_pids = None
    for point, root, kind, opts in mounts:
        if kind != "cgroup":
            continue
        if "memory" in opts and "memory" in own:
            v1_memory = _join(point, root, own["memory"])
        if "pids" in opts and "pids" in own:
            v1_pids = _join(point, root, own["pids"])
    v1_memory = v1_memory if _writable_dir(v1_memory) else None
    v1_pids = v1_pids if _writable_dir(v1_pids) else None
    if v1_memory is not None or v1_pids is not None:
        return CgroupSupport(version=1, memory_parent=v1_memory, pids_parent=v1_pids)
    for point, root, kind, _opts in mounts:
        if kind != "cgroup2" or "" not in own:
            continue
        here = _join(point, root, own[""])
        if here is None or not _writable_dir(here):
            continue
        try:
            delegated = set((here / "cgroup.subtree_control").read_text().split())
        except OSError:
            continue
        if {"memory", "pids"} & delegated:
            return CgroupSupport(
                version=2,
                memory_parent=here if "memory" in delegated else None,
                pids_parent=here if "pids" in delegated else None,
            )
        return CgroupSupport(
            reason=f"cgroup v2: {here} does not delegate the memory and pids controllers "
            "to the harness (run the grader under `systemd-run --user --scope -p Delegate=yes` "
            "or in a container with its own cgroup namespace)"
        )
    if not mounts:
        return CgroupSupport(reason="no cgroup file system is mounted")
    return CgroupSupport(reason="the harness may not create cgroups here (no write access)")


def sweep_stale(support: CgroupSupport, prefix: str = "grader-", age: float = 900.0) -> int:
    """Remove empty run cgroups left by a harness that was killed (older than ``age`` seconds).

    A run's cgroup gets its kernel within seconds of being made, so an empty
    one that old belongs to no running run. Returns how many were removed.
    """
    removed = 0
    now = time.time()
    for parent in {p for p in (support.memory_parent, support.pids_parent) if p is not None}:
        try:
            children = [c for c in parent.iterdir() if c.name.startswith(prefix)]
        except OSError:
            continue
        for child in children:
            try:
                if now - child.stat().st_mtime < age or _procs(child):
                    continue
                child.rmdir()
                removed += 1
            except OSError:
                continue
    return removed


def create_cgroups(
    support: CgroupSupport, name: str, *, memory: int | None, pids: int | None
) -> CgroupSet | None:
    """Make the run's cgroups with their limits; None when nothing could be made."""
    if support.version is None:
        return None
    sweep_stale(support)
    made = CgroupSet(version=support.version)
    try:
        if support.memory_parent is not None and memory:
            folder = support.memory_parent / name
            folder.mkdir(exist_ok=True)
            made.folders.append(folder)
            if support.version == 2:
                (folder / "memory.max").write_text(str(memory))
                with contextlib.suppress(OSError):
                    (folder / "memory.swap.max").write_text("0")
            else:
                (folder / "memory.limit_in_bytes").write_text(str(memory))
                with contextlib.suppress(OSError):
                    (folder / "memory.memsw.limit_in_bytes").write_text(str(memory))
            made.memory, made.memory_limit = folder, memory
        if support.pids_parent is not None and pids:
            folder = support.pids_parent / name
            folder.mkdir(exist_ok=True)
            if folder not in made.folders:
                made.folders.append(folder)
            (folder / "pids.max").write_text(str(pids))
            made.pids, made.pids_limit = folder, pids
    except OSError:
        made.remove()
        return None
    return made if made.folders else None
