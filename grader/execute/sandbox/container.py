"""The container backend: the kernel in a docker or podman container, where an engine answers.

The container has no network (``--network none``), no capabilities, no new
privileges, a read-only root, a size-capped ``/tmp``, memory, process and
file-size limits, and read-only binds of the kernel's Python and the served
data; the run's own folders are its only writable places. It runs as an
unprivileged user. The harness talks to the kernel over ``ipc`` sockets in a
bound private folder. The image (``GRADER_CONTAINER_IMAGE``, default
``debian:bookworm-slim``) must be present already: nothing is pulled, and it
must be able to run the harness's Python (the same distribution as the host,
or an image with the grading environment inside at the same path).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from functools import lru_cache
from typing import Any

from grader.execute.sandbox.base import (
    Availability,
    Confinement,
    SandboxBackend,
    SandboxState,
    common_protections,
)
from grader.execute.sandbox.report import Protection

__all__ = ["ContainerBackend", "container_arguments", "default_image", "probe_container"]

_NOBODY = 65534


def default_image() -> str:
    return os.environ.get("GRADER_CONTAINER_IMAGE") or "debian:bookworm-slim"


@lru_cache(maxsize=4)
def probe_container(image: str) -> tuple[Availability, str | None]:
    """(availability, engine) for the first of docker/podman whose engine answers and has ``image``."""
    reasons = []
    for engine in ("docker", "podman"):
        exe = shutil.which(engine)
        if exe is None:
            reasons.append(f"{engine}: not installed")
            continue
        try:
            info = subprocess.run(
                [exe, "info", "--format", "{{.ServerVersion}}"]
                if engine == "docker"
                else [exe, "info", "--format", "{{.Version.Version}}"],
                capture_output=True,
                text=True,
                timeout=15,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{engine}: {exc}")
            continue
        if info.returncode != 0:
            first = (info.stderr or info.stdout).strip().splitlines()
            reasons.append(f"{engine}: no engine answers ({first[0][:200] if first else 'failed'})")
            continue
        try:
            has = subprocess.run(
                [exe, "image", "inspect", image], capture_output=True, timeout=15, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{engine}: {exc}")
            continue
        if has.returncode != 0:
            reasons.append(f"{engine}: image {image} is not present (nothing is pulled)")
            continue
        version = info.stdout.strip()
        return Availability(True, f"{engine} {version} with {image}", f"{engine} {version}"), exe
    return Availability(False, "; ".join(reasons)), None


def container_arguments(
    argv: list[str],
    conf: Confinement,
    *,
    engine: str = "docker",
    image: str = "debian:bookworm-slim",
    user: str = f"{_NOBODY}:{_NOBODY}",
) -> list[str]:
    """The ``docker run`` (or ``podman run``) command line that runs ``argv`` confined by ``conf``."""
    limits = conf.limits
    args = [
        engine,
        "run",
        "--rm",
        "--interactive",
        "--init",
        "--name",
        conf.name,
        "--network",
        "none",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--read-only",
        "--user",
        user,
        "--pids-limit",
        str(limits.processes),
        "--ulimit",
        f"fsize={limits.file_bytes}:{limits.file_bytes}",
        "--ulimit",
        f"nofile={limits.open_files}:{limits.open_files}",
        "--ulimit",
        "core=0:0",
        "--tmpfs",
        f"/tmp:rw,nosuid,nodev,size={limits.tmp_bytes},mode=1777",
        "--shm-size",
        str(limits.tmp_bytes),
    ]
    if limits.memory_bytes:
        args += ["--memory", str(limits.memory_bytes), "--memory-swap", str(limits.memory_bytes)]
    if limits.address_space_bytes:
        space = limits.address_space_bytes
        args += ["--ulimit", f"as={space}:{space}"]
    if conf.gpu:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
        args += ["--gpus", f"device={visible}" if visible else "all"]
    for key, value in sorted(conf.env.items()):
        args += ["--env", f"{key}={value}"]
    for path in conf.readable:
        args += ["--mount", f"type=bind,source={path},target={path},readonly"]
    for path in conf.writable:
        args += ["--mount", f"type=bind,source={path},target={path}"]
    if conf.workdir is not None:
        args += ["--workdir", str(conf.workdir)]
    return [*args, image, *argv]


class ContainerBackend(SandboxBackend):
    """Kernels in a container (see the module docstring)."""

    name = "container"
    uses_cgroups = False  # the engine limits the container itself

    def __init__(self, image: str | None = None) -> None:
        self.image = image or default_image()

    def probe(self) -> Availability:
        return probe_container(self.image)[0]

    def user_for(self, conf: Confinement) -> tuple[int | None, int | None, str]:
        if os.getuid() == 0:
            return _NOBODY, _NOBODY, f"uid {_NOBODY} inside the container"
        return None, None, f"uid {os.getuid()} inside the container (the harness's own)"

    def launcher_spec(self, state: SandboxState) -> dict[str, Any]:
        spec = super().launcher_spec(state)
        spec.pop("uid", None)  # the engine client keeps the harness's user
        spec.pop("gid", None)
        spec["rlimits"] = {"CORE": 0}
        return spec

    def wrap(self, argv: list[str], conf: Confinement) -> list[str]:
        engine = probe_container(self.image)[1] or "docker"
        uid = conf.uid if conf.uid is not None else os.getuid()
        gid = conf.gid if conf.gid is not None else os.getgid()
        return container_arguments(argv, conf, engine=engine, image=self.image, user=f"{uid}:{gid}")

    def stop_confined(self, state: SandboxState) -> int:
        engine = probe_container(self.image)[1]
        if engine is None:
            return 0
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(
                [engine, "rm", "--force", state.confinement.name],
                capture_output=True,
                timeout=30,
                check=False,
            )
            return 1 if done.returncode == 0 and done.stdout.strip() else 0
        return 0

    def protections(self, state: SandboxState) -> list[Protection]:
        limits = state.confinement.limits
        out = [
            Protection(name="network", status="enforced", detail="--network none"),
            Protection(
                name="read-isolation",
                status="enforced",
                detail="only the image, the kernel's Python, the served data and the run's "
                "folders are mounted",
            ),
            Protection(
                name="write-isolation",
                status="enforced",
                detail="--read-only root; the run's folders and a private /tmp are writable",
            ),
            Protection(name="other-runs", status="enforced", detail="not mounted"),
            Protection(
                name="privileges",
                status="enforced",
                detail="--cap-drop ALL, no-new-privileges, an unprivileged user",
            ),
            Protection(
                name="leftover-processes",
                status="enforced",
                detail="the container is removed when the run ends",
            ),
            Protection(
                name="tmp", status="enforced", detail=f"tmpfs of {limits.tmp_bytes / 2**20:.0f} MiB"
            ),
            Protection(
                name="processes", status="enforced", detail=f"--pids-limit {limits.processes}"
            ),
            Protection(
                name="memory",
                status="enforced" if limits.memory_bytes else "missing",
                detail=f"--memory {(limits.memory_bytes or 0) / 2**30:.1f} GiB"
                if limits.memory_bytes
                else "no memory limit set",
            ),
        ]
        out += [
            p
            for p in common_protections(state, limits_user_is_root=False, cgroups=None)
            if p.name not in ("processes", "memory")
        ]
        return out
