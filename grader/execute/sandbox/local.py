"""The ``local`` backend: the kernel is a child process of the harness (trusted notebooks only)."""

from __future__ import annotations

from typing import Any

from grader.execute.sandbox.launch import KernelLaunch, kernel_manager_base, write_kernel_spec

__all__ = ["LocalBackend"]


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
        write_kernel_spec(
            launch,
            {
                "argv": self.command(launch),
                "display_name": "Python (grader)",
                "language": "python",
                "env": launch.env,
                "metadata": {"debugger": False},
            },
        )
        return kernel_manager_base(launch)
