"""Preparing a run: what data and weights it gets, and the notebook the kernel will execute.

The first phase of a run (:mod:`grader.execute.runner` chains prepare ->
:mod:`~grader.execute.kernel` -> :mod:`~grader.execute.collect`). It resolves
the dataset the run serves, and writes into the run's private folders the
capture prelude, its configuration, the kernel's environment and a copy of the
notebook with an injected first cell that installs the prelude. Nothing here
starts a process.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.execute.data import DataSpec, ensure_synthetic, find_cifar10, seed_cifar10_archive
from grader.execute.manifest import DataUsage
from grader.execute.profiles import Profile
from grader.execute.records import Progress, RunOptions
from grader.execute.reevaluate import prelude_config
from grader.execute.sandbox.launch import KERNEL_NAME
from grader.execute.sandbox.limits import THREAD_VARIABLES
from grader.execute.weights import WeightsSpec

__all__ = [
    "GRADER_TAG",
    "INJECTED_TAG",
    "DataPlan",
    "ProgressCallback",
    "RunContext",
    "harness_version",
    "prelude_source_path",
    "prepare_notebook",
    "resolve_data",
]

ProgressCallback = Callable[[Progress], None]

INJECTED_TAG = "injected-parameters"
GRADER_TAG = "grader-injected"
_BLOCKED_PROXY = "http://127.0.0.1:9"
_PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
)


def prelude_source_path() -> Path:
    return Path(__file__).with_name("kernel_prelude.py")


def harness_version() -> str:
    from grader.settings import __version__

    return __version__


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- the data served


@dataclass
class DataPlan:
    spec: DataSpec | None
    usage: DataUsage
    missing: str | None  # why load_data() will fail in the kernel

    @property
    def identity(self) -> str:
        return self.spec.identity if self.spec else f"none:{self.usage.requested}"


def resolve_data(options: RunOptions, profile: Profile, home: Path) -> DataPlan:
    """The dataset ``cifar10.load_data()`` will get in the kernel, and why."""
    requested = options.data or "auto"
    n_train, n_test = options.synthetic_size
    howto = (
        "run `grader data cifar10 --archive cifar-10-python.tar.gz` once, or pass --data synthetic"
    )
    spec: DataSpec | None
    if requested == "synthetic":
        spec = ensure_synthetic(home, n_train, n_test)
        return DataPlan(
            spec,
            DataUsage(requested=requested, spec=spec, note="synthetic dataset requested"),
            None,
        )
    if requested in ("cifar10", "auto"):
        spec = find_cifar10(home)
        if spec is not None:
            return DataPlan(
                spec,
                DataUsage(requested=requested, spec=spec, note="CIFAR-10 from the data store"),
                None,
            )
        if requested == "auto" and profile.synthetic_fallback:
            spec = ensure_synthetic(home, n_train, n_test)
            note = f"CIFAR-10 is not in the data store, so the {profile.name} profile serves the synthetic dataset"
            return DataPlan(spec, DataUsage(requested=requested, spec=spec, note=note), None)
        missing = f"CIFAR-10 is not in the grader's data store ({home / 'data'}); {howto}"
        return DataPlan(None, DataUsage(requested=requested, note=missing), missing)
    path = Path(requested).expanduser()
    if path.is_file():
        spec = seed_cifar10_archive(path, home)
        return DataPlan(
            spec,
            DataUsage(requested=str(path), spec=spec, note="CIFAR-10 from the given archive"),
            None,
        )
    if (path / "dataset.json").is_file():
        try:
            spec = DataSpec.model_validate_json((path / "dataset.json").read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(f"{path}: not a prepared dataset folder ({exc})") from None
        return DataPlan(
            spec, DataUsage(requested=str(path), spec=spec, note="prepared dataset folder"), None
        )
    raise UsageError(
        f"--data {requested!r}: expected 'synthetic', 'cifar10', a cifar-10-python.tar.gz file "
        "or a prepared dataset folder"
    )


# ---------------------------------------------------------------- one run's state


@dataclass
class RunContext:
    """What every phase of one run shares: its settings, folders, log and progress display."""

    path: Path
    sha: str
    options: RunOptions
    profile: Profile
    data: DataPlan
    weights: WeightsSpec
    seed: int | None
    key: str
    tmp: Path
    backend: Any  # the kernel backend of this run (a sandbox, or local)
    progress: ProgressCallback | None
    log_lines: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=now)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def out(self) -> Path:
        return self.tmp / "out"

    @property
    def work(self) -> Path:
        """The kernel's working folder."""
        return self.tmp / "work"

    @property
    def harness(self) -> Path:
        """The harness's own files for this run (prelude, config), out of the kernel's reach."""
        return self.tmp / "harness"

    @property
    def capture_dir(self) -> Path:
        return self.harness / "capture"

    @property
    def python(self) -> str:
        import sys

        return self.options.python or sys.executable

    def log(self, message: str) -> None:
        self.log_lines.append(f"{time.monotonic() - self.t0:8.2f}s  {message}")

    def elapsed(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def emit(self, **fields: Any) -> None:
        if self.progress is None:
            return
        with self.lock:
            try:
                self.progress(Progress(elapsed=self.elapsed(), **fields))
            except Exception as exc:  # a broken progress display must not stop the run
                self.log(f"progress callback failed: {exc}")


# ---------------------------------------------------------------- the kernel's files


def _config(ctx: RunContext) -> dict[str, Any]:
    spec = ctx.data.spec
    return {
        "capture_dir": str(ctx.capture_dir),
        "profile": ctx.profile.model_dump(),
        "seed": ctx.seed,
        "deterministic": ctx.options.deterministic,
        "data": None
        if spec is None
        else {"kind": spec.kind, "identity": spec.identity, "dir": spec.dir},
        "data_missing": ctx.data.missing,
        "weights_dir": ctx.weights.dir,
        "max_hashes": 100000,
        "verify": prelude_config(ctx.options.verify),
        "max_events": 20000,
    }


def kernel_env(ctx: RunContext, keras_home: Path) -> dict[str, str]:
    """The kernel's environment: offline, seeded, the run's share of the threads."""
    env = {
        "KERAS_HOME": str(keras_home),
        "TF_CPP_MIN_LOG_LEVEL": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "no_proxy": "",
        "NO_PROXY": "",
    }
    env.update(dict.fromkeys(_PROXY_VARIABLES, _BLOCKED_PROXY))
    if ctx.seed is not None:
        env["PYTHONHASHSEED"] = str(ctx.seed)
    if ctx.options.threads:
        env.update(dict.fromkeys(THREAD_VARIABLES, str(ctx.options.threads)))
    return env


def _injected_source(prelude: Path, config: Path, ctx: RunContext) -> str:
    served = ctx.data.spec.kind if ctx.data.spec else "none"
    return "\n".join(
        [
            "# Injected by grader (not part of the submission): installs the capture prelude.",
            f"# profile={ctx.profile.name} seed={ctx.seed} data={served}",
            "import importlib.util as _grader_util, sys as _grader_sys",
            f"_grader_spec = _grader_util.spec_from_file_location('_grader_capture', {str(prelude)!r})",
            "_grader_mod = _grader_util.module_from_spec(_grader_spec)",
            "_grader_sys.modules['_grader_capture'] = _grader_mod",
            "_grader_spec.loader.exec_module(_grader_mod)",
            f"_grader_mod.install({str(config)!r})",
            "del _grader_util, _grader_sys, _grader_spec, _grader_mod",
        ]
    )


def prepare_notebook(ctx: RunContext, nb: Any) -> tuple[Path, dict[int, int]]:
    """Write the prelude, its configuration and the notebook to execute (injected cell first).

    Returns the notebook's path and, for each code cell of it (by index in the
    executed notebook, the injected cell being 0), its number among the code cells.
    """
    import nbformat

    prelude_path = ctx.harness / "prelude.py"
    shutil.copyfile(prelude_source_path(), prelude_path)
    config_path = ctx.harness / "config.json"
    config_path.write_text(json.dumps(_config(ctx), indent=1), encoding="utf-8")
    prepared = copy.deepcopy(nb)
    prepared.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python (grader)",
        "language": "python",
    }
    language_info = dict(prepared.metadata.get("language_info") or {})
    language_info["name"] = "python"
    prepared.metadata["language_info"] = language_info
    # the stored outputs say which run made them (see grader.evidence.ExecutedBy)
    prepared.metadata["grader"] = {
        "profile": ctx.profile.name,
        "data": ctx.data.spec.kind if ctx.data.spec else None,
    }
    cell = nbformat.v4.new_code_cell(_injected_source(prelude_path, config_path, ctx))
    cell.metadata["tags"] = [INJECTED_TAG, GRADER_TAG]
    prepared.cells.insert(0, cell)
    code_numbers: dict[int, int] = {}
    for i, c in enumerate(prepared.cells):
        if i > 0 and c.get("cell_type") == "code" and (c.get("source") or "").strip():
            code_numbers[i] = len(code_numbers) + 1
    target = ctx.harness / f"{ctx.path.stem}.ipynb"  # out of the kernel's reach
    nbformat.write(prepared, str(target))
    return target, code_numbers
