"""How a run's kernel is launched: the launch description and the kernel manager.

A backend (the ``local`` one, or a sandbox) turns a :class:`KernelLaunch`
(python, environment, working folder, log file) into a kernel spec folder and
a ``jupyter_client`` kernel manager class that nbclient instantiates and owns
(so nbclient also shuts it down). The backends register by name in
:mod:`grader.execute.sandbox.registry`.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "KERNEL_NAME",
    "KernelBackend",
    "KernelHandle",
    "KernelLaunch",
    "kernel_manager_base",
    "write_kernel_spec",
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


def write_kernel_spec(launch: KernelLaunch, spec: dict[str, Any]) -> None:
    """Write the run's own kernel spec (``kernel.json``) where its kernel manager looks."""
    folder = launch.spec_dir / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")


def kernel_manager_base(launch: KernelLaunch) -> type[Any]:
    """A kernel manager that finds the run's kernel spec and logs the kernel's output."""
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
