"""What a run's sandbox enforced and what it could not.

A :class:`SandboxReport` goes into every run's manifest. Each
:class:`Protection` names one defence (network, file system, processes,
memory...) with its status and how it is enforced or why it is missing, so
the instructor can read off what a run on this machine was protected against.
:func:`grader.check.sandbox.sandbox_findings` turns a weak sandbox into findings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.execute.sandbox.limits import EffectiveLimits

__all__ = ["PROTECTIONS", "OutputStats", "Protection", "SandboxReport"]

# name -> what it protects against, as a reader of the report needs it
PROTECTIONS: dict[str, str] = {
    "network": "no network access from the notebook",
    "read-isolation": "cannot read other submissions, the reference notebooks, bands or reports",
    "write-isolation": "can write only into its own run folder",
    "other-runs": "cannot see or change other runs",
    "processes": "process/thread limit (fork bombs)",
    "memory": "memory limit for the kernel and its children",
    "address-space": "per-process address-space limit",
    "file-size": "largest file it can write",
    "disk": "total bytes and files it can write",
    "tmp": "size-capped private /tmp",
    "output": "cell output kept (gigabytes of printing)",
    "wall-time": "per-cell and whole-run time limits",
    "leftover-processes": "processes it started are killed when the run ends",
    "privileges": "no capabilities, no new privileges",
}


class Protection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    status: Literal["enforced", "partial", "missing"]
    detail: str


class OutputStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kept_bytes: int = 0
    dropped_bytes: int = 0
    dropped_messages: int = 0
    truncated: bool = False


class SandboxReport(BaseModel):
    """The sandbox of one run, as recorded in its manifest."""

    model_config = ConfigDict(extra="forbid")

    requested: str = Field(description="what was asked for: auto, bwrap, container, none, local")
    backend: str = Field(description="what ran the kernel")
    reason: str = Field(default="", description="why this backend (auto selection)")
    tool: str | None = Field(default=None, description="the sandbox tool and its version")
    protections: list[Protection] = Field(default_factory=list)
    limits: EffectiveLimits | None = None
    cgroup: str | None = Field(default=None, description="the run's cgroups, or why there are none")
    user: str | None = Field(default=None, description="the user the kernel ran as")
    output: OutputStats = Field(default_factory=OutputStats)
    stopped_because: str | None = Field(
        default=None, description="a limit that stopped the kernel (disk, memory, processes)"
    )
    memory_limit_hit: bool = Field(
        default=False, description="the memory cgroup killed a process of the run"
    )
    leftover_processes: int = Field(default=0, description="processes killed after the run")
    removed_links: list[str] = Field(
        default_factory=list, description="entries planted in the harness's output folder"
    )
    notes: list[str] = Field(default_factory=list)

    def missing(self) -> list[Protection]:
        return [p for p in self.protections if p.status != "enforced"]

    def weak(self) -> bool:
        """True when the run was not isolated (no file-system or network isolation)."""
        status = {p.name: p.status for p in self.protections}
        return any(
            status.get(name, "missing") != "enforced"
            for name in ("network", "read-isolation", "write-isolation")
        )
