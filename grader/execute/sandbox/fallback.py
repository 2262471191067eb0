"""The fallback: no sandbox tool here, so resource limits only, announced loudly.

The kernel is started through the launcher (address space, file size, open
files, processes, cgroups where the harness may create them) and, where the
``unshare`` tool works, in its own network and PID namespaces (no network; the
notebook's processes end with the kernel). Where the harness runs as root and
the run's files and the kernel's Python are reachable by other users, the
kernel also runs as a user of its own, which cannot read other runs (their
folders are private) or write anywhere the harness keeps results. Everything
else it could read or change with the harness's rights: each run's manifest
and report say so.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader.execute.sandbox.base import (
    Availability,
    Confinement,
    SandboxBackend,
    SandboxState,
    common_protections,
    kill_user_processes,
    launcher_command,
)
from grader.execute.sandbox.report import Protection

__all__ = ["FallbackBackend", "probe_unshare", "reachable_by_others", "unshare_prefix"]

_UID_BASE = 1_900_000_000  # users of one run: far above any real account


@lru_cache(maxsize=2)
def probe_unshare(root: bool) -> tuple[str, ...]:
    """The ``unshare`` flags that give a network and PID namespace here (empty: none work)."""
    exe = shutil.which("unshare")
    if exe is None:
        return ()
    candidates: list[tuple[str, ...]] = [("--net", "--pid", "--fork", "--kill-child")]
    if not root:
        candidates = [("--user", "--map-current-user", "--net", "--pid", "--fork", "--kill-child")]
        candidates.append(("--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child"))
    for flags in candidates:
        try:
            done = subprocess.run(
                [exe, *flags, "--", "true"], capture_output=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return (exe, *flags)
    return ()


def unshare_prefix() -> tuple[str, ...]:
    return probe_unshare(os.getuid() == 0)


def reachable_by_others(path: Path) -> bool:
    """Whether a user without any group of ours can reach ``path`` (and read it, for a file)."""
    try:
        real = Path(os.path.realpath(path))
        st = real.stat()
    except OSError:
        return False
    if stat.S_ISDIR(st.st_mode):
        if not st.st_mode & stat.S_IXOTH or not st.st_mode & stat.S_IROTH:
            return False
    elif not st.st_mode & stat.S_IROTH:
        return False
    for parent in real.parents:
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _open_run_folder(run: Path) -> None:
    """Let a user of the run's own pass through its folder, and keep the harness's output private.

    The run folder becomes traversable but not listable (0711); its ``out``
    folder (the harness's results) stays the harness's alone (0700); the
    writable folders are handed to the run's user (see ``prepare``).
    """
    out = run / "out"
    if not out.is_dir() or out.is_symlink():
        return  # not a runner's run folder: leave it alone
    with contextlib.suppress(OSError):
        os.chmod(out, 0o700)
        os.chmod(run, 0o711)


class FallbackBackend(SandboxBackend):
    """Resource limits only (see the module docstring)."""

    name = "none"
    private_tmp = False

    def probe(self) -> Availability:
        return Availability(True, "always available", "launcher (rlimits)")

    def user_for(self, conf: Confinement) -> tuple[int | None, int | None, str]:
        if os.getuid() != 0:
            return None, None, f"uid {os.getuid()} (the harness's own: not root, cannot switch)"
        needed = list(conf.readable)
        if conf.workdir is not None:
            needed.append(conf.workdir)
            _open_run_folder(conf.workdir.parent)
        blocked = [p for p in needed if not reachable_by_others(p)]
        if blocked:
            return (
                None,
                None,
                "root (the harness's own): a separate user cannot reach "
                + ", ".join(str(p) for p in blocked[:3]),
            )
        uid = _UID_BASE + secrets.randbelow(1_000_000)
        return uid, uid, f"uid {uid} (a user of this run only)"

    def launcher_spec(self, state: SandboxState) -> dict[str, Any]:
        spec = super().launcher_spec(state)
        spec.pop("uid", None)  # the user changes inside the namespaces (see wrap)
        spec.pop("gid", None)
        spec["env"] = dict(state.confinement.env)  # nothing of the harness's environment
        return spec

    def wrap(self, argv: list[str], conf: Confinement) -> list[str]:
        prefix = list(unshare_prefix())
        spec: dict[str, Any] = {"init": bool(prefix)}  # the kernel must not be PID 1
        if conf.uid is not None:
            spec.update(
                uid=conf.uid,
                gid=conf.gid,
                umask=0o027,
                rlimits={"NPROC": conf.limits.processes},
            )
        inner = launcher_command(spec, list(argv)) if len(spec) > 1 or prefix else list(argv)
        return [*prefix, "--", *inner] if prefix else inner

    def stop_confined(self, state: SandboxState) -> int:
        uid = state.confinement.uid
        return kill_user_processes(uid) if uid is not None else 0

    def protections(self, state: SandboxState) -> list[Protection]:
        conf = state.confinement
        separate = conf.uid is not None
        ns = bool(unshare_prefix())
        unprivileged = separate or os.getuid() != 0
        out = [
            Protection(
                name="network",
                status="enforced" if ns and unprivileged else "partial",
                detail=(
                    "own network namespace (unshare)"
                    if unprivileged
                    else "own network namespace (unshare), but the kernel runs as root and could leave it"
                )
                if ns
                else "proxies point nowhere and Keras downloads are refused inside the kernel, "
                "but the notebook can still open network connections",
            ),
            Protection(
                name="read-isolation",
                status="partial" if separate else "missing",
                detail=f"runs as {state.report.user}: it cannot read private folders, but can "
                "read every world-readable file (other submissions, reference notebooks)"
                if separate
                else "runs with the harness's rights: it can read other submissions, the "
                "reference notebooks and bands, and the reports",
            ),
            Protection(
                name="write-isolation",
                status="partial" if separate else "missing",
                detail="a user of its own: it can write only where every user may (/tmp)"
                if separate
                else "runs with the harness's rights: it can change the reports and other runs",
            ),
            Protection(
                name="other-runs",
                status="enforced" if separate else "missing",
                detail="other runs' folders are private to the harness"
                if separate
                else "other runs' folders are reachable with the harness's rights",
            ),
            Protection(
                name="privileges",
                status="enforced" if separate or os.getuid() != 0 else "missing",
                detail="an unprivileged user" if separate or os.getuid() != 0 else "runs as root",
            ),
            Protection(
                name="leftover-processes",
                status="enforced" if ns or separate or state.cgroups is not None else "partial",
                detail="own PID namespace: every process ends with the kernel"
                if ns
                else "processes are killed by cgroup/user after the run"
                if separate or state.cgroups is not None
                else "the kernel's process group is killed; a process that leaves it survives",
            ),
            Protection(
                name="tmp",
                status="partial",
                detail="TMPDIR points into the run's watched folder, but /tmp itself is the "
                "machine's own (only the file-size limit applies there)",
            ),
        ]
        out += common_protections(
            state, limits_user_is_root=os.getuid() == 0, cgroups=state.cgroups
        )
        return out
