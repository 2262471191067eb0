"""The environment manifest: what a run ran on and with, so it can be repeated and explained.

Package versions come from installed distribution metadata, not from imports,
so writing a manifest never imports TensorFlow into the harness; what only
the kernel knows (TensorFlow's CUDA build) comes from the capture.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from functools import lru_cache
from importlib import metadata

from pydantic import BaseModel, ConfigDict, Field

from grader.execute.data import DataSpec
from grader.execute.profiles import Profile
from grader.execute.reevaluate import VerificationReport
from grader.execute.sandbox.report import SandboxReport

__all__ = [
    "DataUsage",
    "EnvironmentInfo",
    "RunManifest",
    "WeightsRequest",
    "WeightsUsage",
    "environment_info",
    "package_versions",
]

_PACKAGES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"),
    "keras": ("keras",),
    "tf_keras": ("tf-keras", "tf_keras"),
    "numpy": ("numpy",),
    "papermill": ("papermill",),
    "nbclient": ("nbclient",),
    "ipykernel": ("ipykernel",),
    "jupyter_client": ("jupyter_client", "jupyter-client"),
    "scikit-learn": ("scikit-learn",),
    "matplotlib": ("matplotlib",),
    "pandas": ("pandas",),
    "seaborn": ("seaborn",),
    "torch": ("torch",),
}


class EnvironmentInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    python: str
    executable: str
    platform: str
    machine: str
    cpu_model: str | None = None
    cpu_count: int | None = None
    memory_bytes: int | None = None
    packages: dict[str, str | None] = Field(default_factory=dict)
    gpus: list[str] = Field(default_factory=list, description="from nvidia-smi, when present")
    cuda_driver: str | None = None
    tensorflow_cuda: str | None = Field(
        default=None, description="CUDA version TensorFlow was built with"
    )


class DataUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requested: str
    spec: DataSpec | None = None
    served: list[str] = Field(default_factory=list, description="what load_data() returned")
    note: str | None = Field(default=None, description="why this data (fallbacks are spelled out)")


class WeightsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application: str
    weights: str | None = None
    file: str | None = None
    found: bool
    fallback: str | None = None


class WeightsUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dir: str | None = None
    identity: str = "none"
    files: int = 0
    requests: list[WeightsRequest] = Field(default_factory=list)


class RunManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    harness_version: str
    prelude_sha256: str
    notebook: str
    notebook_sha256: str
    profile: Profile
    seed: int | None = None
    deterministic: bool = False
    threads: int | None = None
    timeouts: dict[str, float | None] = Field(default_factory=dict)
    backend: str = "local"
    kernel: str = Field(default="", description="the kernel command line")
    data: DataUsage
    weights: WeightsUsage
    network: str = "blocked: downloads refused inside the kernel, proxies point nowhere"
    network_attempts: list[str] = Field(default_factory=list)
    environment: EnvironmentInfo
    sandbox: SandboxReport | None = Field(
        default=None, description="what isolated the kernel, what was enforced and what was not"
    )
    verification: VerificationReport | None = Field(
        default=None, description="the out-of-process check of the reported test accuracies"
    )
    cache_key: str = ""
    started_at: str = ""
    finished_at: str = ""
    wall_seconds: dict[str, float] = Field(default_factory=dict)


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on (read once per process)."""
    out: dict[str, str | None] = {}
    for key, dists in _PACKAGES.items():
        out[key] = None
        for dist in dists:
            try:
                out[key] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return out


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gpus() -> tuple[list[str], str | None]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return [], None
    try:
        done = subprocess.run(
            [exe, "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return [], None
    names, driver = [], None
    for line in done.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if parts and parts[0]:
            names.append(parts[0])
            driver = parts[1] if len(parts) > 1 else driver
    return names, driver


@lru_cache(maxsize=1)
def environment_info() -> EnvironmentInfo:
    """The harness machine and the packages the kernel will import (local backend)."""
    gpus, driver = _gpus()
    return EnvironmentInfo(
        python=platform.python_version(),
        executable=sys.executable,
        platform=platform.platform(),
        machine=platform.machine(),
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count(),
        memory_bytes=_memory(),
        packages=package_versions(),
        gpus=gpus,
        cuda_driver=driver,
    )
