"""The bubblewrap backend: the kernel in its own namespaces, seeing only what the run needs.

``bwrap`` (Debian package ``bubblewrap``) starts the kernel with every
namespace unshared (no network: the harness talks to the kernel over ``ipc``
sockets in the run's private folder), all capabilities dropped, no further
user namespaces, and a file system made of read-only binds of the system
folders and the kernel's Python, the run's own folders (the only writable
places), a size-capped ``/tmp`` and ``/dev/shm``, and nothing else: other
submissions, the reference notebooks and bands, the reports and other runs
do not exist inside it. ``--die-with-parent`` and the PID namespace end every
process the notebook started when the kernel ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from grader.execute.sandbox.base import (
    Availability,
    Confinement,
    SandboxBackend,
    SandboxState,
    common_protections,
)
from grader.execute.sandbox.report import Protection

__all__ = ["BwrapBackend", "bwrap_arguments", "probe_bwrap"]

_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/fonts",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
    "/etc/matplotlibrc",
)
_SYS = ("/sys/devices/system/cpu", "/sys/devices/system/node")
_STRONG = ("--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL")
_BASIC = ("--unshare-all", "--cap-drop", "ALL")


@lru_cache(maxsize=4)
def probe_bwrap(executable: str | None = None) -> tuple[Availability, tuple[str, ...]]:
    """Whether bwrap starts a process here, and the namespace flags that work."""
    exe = executable or shutil.which("bwrap")
    if exe is None:
        return Availability(False, "bubblewrap is not installed (apt-get install bubblewrap)"), ()
    try:
        version = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Availability(False, f"bwrap does not run: {exc}"), ()
    last = ""
    for flags in (_STRONG, _BASIC):
        cmd = [exe, *flags, "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc"]
        cmd += ["--dev", "/dev", "--", "true"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            last = str(exc)
            continue
        if done.returncode == 0:
            return Availability(True, "bubblewrap works here", version or "bwrap"), flags
        last = (done.stderr or done.stdout).strip()[:300]
    return Availability(False, f"bwrap cannot create namespaces here: {last}", version), ()


def _bind_system(args: list[str], gpu: bool) -> None:
    for path in _SYSTEM:
        p = Path(path)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), path]
        elif p.is_dir():
            args += ["--ro-bind", path, path]
    for path in _ETC:
        args += ["--ro-bind-try", path, path]
    for path in _SYS if not gpu else ("/sys",):
        args += ["--ro-bind-try", path, path]


def bwrap_arguments(
    argv: list[str],
    conf: Confinement,
    *,
    executable: str = "bwrap",
    flags: tuple[str, ...] = _STRONG,
) -> list[str]:
    """The bwrap command line that runs ``argv`` confined by ``conf``."""
    tmp = str(conf.limits.tmp_bytes)
    args = [executable, *flags, "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in sorted(conf.env.items()):
        args += ["--setenv", key, value]
    _bind_system(args, conf.gpu)
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", tmp, "--tmpfs", "/tmp", "--size", tmp, "--tmpfs", "/dev/shm"]
    if conf.gpu:
        for dev in sorted(Path("/dev").glob("nvidia*")):
            args += ["--dev-bind-try", str(dev), str(dev)]
    for path in conf.readable:
        args += ["--ro-bind", str(path), str(path)]
    for path in conf.writable:
        args += ["--bind", str(path), str(path)]
    if conf.workdir is not None:
        args += ["--chdir", str(conf.workdir)]
    return [*args, "--", *argv]


class BwrapBackend(SandboxBackend):
    """Kernels in bubblewrap (see the module docstring)."""

    name = "bwrap"

    def probe(self) -> Availability:
        return probe_bwrap()[0]

    def wrap(self, argv: list[str], conf: Confinement) -> list[str]:
        available, flags = probe_bwrap()
        exe = shutil.which("bwrap") or "bwrap"
        return bwrap_arguments(argv, conf, executable=exe, flags=flags or _STRONG)

    def protections(self, state: SandboxState) -> list[Protection]:
        limits = state.confinement.limits
        cg = state.cgroups
        flags = probe_bwrap()[1]
        out = [
            Protection(
                name="network",
                status="enforced",
                detail="own network namespace (no interfaces but an unconnected loopback)",
            ),
            Protection(
                name="read-isolation",
                status="enforced",
                detail="only the system folders, the kernel's Python, the served data and "
                "the run's own folders are mounted",
            ),
            Protection(
                name="write-isolation",
                status="enforced",
                detail="everything is read-only except the run's work and capture folders "
                "and a private /tmp",
            ),
            Protection(name="other-runs", status="enforced", detail="other runs are not mounted"),
            Protection(
                name="privileges",
                status="enforced" if "--disable-userns" in flags else "partial",
                detail="all capabilities dropped"
                + (", no nested user namespaces" if "--disable-userns" in flags else ""),
            ),
            Protection(
                name="leftover-processes",
                status="enforced",
                detail="own PID namespace and --die-with-parent: every process ends with the kernel",
            ),
            Protection(
                name="tmp",
                status="enforced",
                detail=f"/tmp and /dev/shm are tmpfs of {limits.tmp_bytes / 2**20:.0f} MiB",
            ),
        ]
        out += common_protections(state, limits_user_is_root=os.getuid() == 0, cgroups=cg)
        return out
