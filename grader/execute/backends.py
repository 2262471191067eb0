"""How a run's kernel is launched: a small registry of backends.

A backend turns a :class:`KernelLaunch` (python, environment, working folder,
log file) into a kernel spec folder and a ``jupyter_client`` kernel manager
class that nbclient instantiates and owns (so nbclient also shuts it down).
``local`` starts the kernel as a child process of the harness; a sandboxing
backend (bubblewrap, a container) wraps the same command line and registers
itself here under its own name. The sandboxes (``bwrap``, ``container``,
``none`` and ``auto``, which picks the strongest that works here) live in
:mod:`grader.execute.sandbox` and are imported only when a run asks for one.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.errors import UsageError

__all__ = [
    "BACKENDS",
    "KERNEL_NAME",
    "KernelBackend",
    "KernelHandle",
    "KernelLaunch",
    "LocalBackend",
    "get_backend",
    "register_backend",
]

KERNEL_NAME = "grader-python"


@dataclass
class KernelHandle:
    """Filled in by the kernel manager once the kernel runs: lets the runner read its exit status."""

    manager: Any = None
    process: Any = None
    sandbox: Any = None  # a sandbox backend's per-run state (grader.execute.sandbox.base)

    def exit_code(self) -> int | None:
        proc = self.process
        if proc is None:
            return None
        try:
            return proc.poll() if proc.returncode is None else proc.returncode
        except Exception:
            return None


@dataclass
class KernelLaunch:
    python: str
    env: dict[str, str]
    spec_dir: Path  # a folder of kernel specs that only this run uses
    log_path: Path  # the kernel process's stdout and stderr
    shutdown_wait: float = 3.0
    handle: KernelHandle = field(default_factory=KernelHandle)
    # what a sandbox exposes to the kernel (the local backend ignores these)
    workdir: Path | None = None  # the kernel's working folder (writable)
    readable: list[Path] = field(default_factory=list)  # files and folders it may read
    writable: list[Path] = field(default_factory=list)  # folders it may write besides workdir
    limits: Any = None  # grader.execute.sandbox.ResourceLimits (None: defaults)


class KernelBackend(Protocol):
    name: str

    def command(self, launch: KernelLaunch) -> list[str]:
        """The kernel's command line (with ``{connection_file}``)."""
        ...

    def kernel_manager_class(self, launch: KernelLaunch) -> type[Any]:
        """A jupyter_client KernelManager subclass bound to this launch."""
        ...


class LocalBackend:
    """The kernel is a child process of the harness, with the run's environment."""

    name = "local"

    def command(self, launch: KernelLaunch) -> list[str]:
        return [
            launch.python,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ]

    def kernel_manager_class(self, launch: KernelLaunch) -> type[Any]:
        spec = launch.spec_dir / KERNEL_NAME
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": self.command(launch),
                    "display_name": "Python (grader)",
                    "language": "python",
                    "env": launch.env,
                    "metadata": {"debugger": False},
                },
                indent=1,
            ),
            encoding="utf-8",
        )
        return _manager_class(launch)


def _manager_class(launch: KernelLaunch) -> type[Any]:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault(
                "kernel_spec_manager",
                KernelSpecManager(kernel_dirs=[str(launch.spec_dir)], ensure_native_kernel=False),
            )
            super().__init__(**kwargs)
            self.shutdown_wait_time = launch.shutdown_wait
            launch.handle.manager = self

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            log = launch.log_path.open("ab")
            kw["stdout"] = log
            kw["stderr"] = subprocess.STDOUT
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                log.close()  # the child holds its own copy of the descriptor
            provisioner = getattr(self, "provisioner", None)
            launch.handle.process = getattr(provisioner, "process", None)

    return RunKernelManager


def _sandbox(name: str) -> Callable[[], KernelBackend]:
    def factory() -> KernelBackend:
        from grader.execute.sandbox import make_backend

        return make_backend(name)

    return factory


BACKENDS: dict[str, Callable[[], KernelBackend]] = {
    "local": LocalBackend,
    **{name: _sandbox(name) for name in ("auto", "bwrap", "container", "none")},
}


def register_backend(name: str, factory: Callable[[], KernelBackend]) -> None:
    BACKENDS[name] = factory


def get_backend(name: str) -> KernelBackend:
    try:
        return BACKENDS[name]()
    except KeyError:
        close = difflib.get_close_matches(name, BACKENDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"unknown execution backend {name!r}{hint}; known: {', '.join(BACKENDS)}"
        ) from None


def default_python() -> str:
    return sys.executable
