"""Execute one notebook with papermill, capture what it does, and turn that into evidence.

:func:`run_notebook` is the library entry point the CLI, the batch and the
tests call. A run:

1. resolves the profile, data, weights and the cache key; a cache hit returns
   the stored :class:`RunResult` without executing;
2. prepares a private working folder: a copy of the notebook with an injected
   first cell (the capture prelude, data/weights provisioning, seeds), a
   kernel spec for this run (the harness's Python, an offline environment),
   and a ``KERAS_HOME`` seeded with the data archive and weight files;
3. executes it with ``papermill.execute_notebook`` (engine nbclient) under a
   per-cell and a whole-run time limit, reporting progress;
4. classifies any failure, validates the capture, extracts static evidence
   from the executed notebook, merges the runtime capture into it, and writes
   the executed notebook, ``capture.json``, ``evidence.json``,
   ``manifest.json``, ``result.json`` and logs into the output folder.

A notebook that fails is a result with a classified failure, never an
exception of the tool. papermill and nbclient are imported only here, when a
run starts.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import NotANotebookError, UsageError
from grader.evidence import Evidence, NotebookInfo
from grader.execute.backends import KERNEL_NAME, KernelLaunch, get_backend
from grader.execute.cache import CacheStore, cache_key
from grader.execute.capture import (
    ApplicationEvent,
    CaptureRecord,
    DataLoadEvent,
    NetworkEvent,
    TensorflowEvent,
    load_capture,
)
from grader.execute.classify import ErrorFacts, classify_failure
from grader.execute.data import (
    DataSpec,
    ensure_synthetic,
    find_cifar10,
    seed_cifar10_archive,
    seed_keras_home,
)
from grader.execute.manifest import (
    DataUsage,
    RunManifest,
    WeightsRequest,
    WeightsUsage,
    environment_info,
    package_versions,
)
from grader.execute.profiles import Profile, get_profile
from grader.execute.records import (
    FailureKind,
    Progress,
    RunFailure,
    RunFiles,
    RunOptions,
    RunResult,
)
from grader.execute.verify import prelude_config
from grader.execute.weights import WeightsSpec, scan_weights
from grader.extract.runtime import MergeContext, merge_evidence

__all__ = ["ProgressCallback", "default_home", "prelude_source_path", "run_notebook"]

ProgressCallback = Callable[[Progress], None]

INJECTED_TAG = "injected-parameters"
GRADER_TAG = "grader-injected"
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
_BLOCKED_PROXY = "http://127.0.0.1:9"


def default_home() -> Path:
    env = os.environ.get("GRADER_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader"


def prelude_source_path() -> Path:
    return Path(__file__).with_name("kernel_prelude.py")


def _harness_version() -> str:
    from grader import __version__

    return __version__


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- resolution


@dataclass
class _DataPlan:
    spec: DataSpec | None
    usage: DataUsage
    missing: str | None  # why load_data() will fail in the kernel

    @property
    def identity(self) -> str:
        return self.spec.identity if self.spec else f"none:{self.usage.requested}"


def _resolve_data(options: RunOptions, profile: Profile, home: Path) -> _DataPlan:
    requested = options.data or "auto"
    n_train, n_test = options.synthetic_size
    howto = (
        "run `grader data cifar10 --archive cifar-10-python.tar.gz` once, or pass --data synthetic"
    )
    spec: DataSpec | None
    if requested == "synthetic":
        spec = ensure_synthetic(home, n_train, n_test)
        return _DataPlan(
            spec,
            DataUsage(requested=requested, spec=spec, note="synthetic dataset requested"),
            None,
        )
    if requested in ("cifar10", "auto"):
        spec = find_cifar10(home)
        if spec is not None:
            return _DataPlan(
                spec,
                DataUsage(requested=requested, spec=spec, note="CIFAR-10 from the data store"),
                None,
            )
        if requested == "auto" and profile.synthetic_fallback:
            spec = ensure_synthetic(home, n_train, n_test)
            note = f"CIFAR-10 is not in the data store, so the {profile.name} profile serves the synthetic dataset"
            return _DataPlan(spec, DataUsage(requested=requested, spec=spec, note=note), None)
        missing = f"CIFAR-10 is not in the grader's data store ({home / 'data'}); {howto}"
        return _DataPlan(None, DataUsage(requested=requested, note=missing), missing)
    path = Path(requested).expanduser()
    if path.is_file():
        spec = seed_cifar10_archive(path, home)
        return _DataPlan(
            spec,
            DataUsage(requested=str(path), spec=spec, note="CIFAR-10 from the given archive"),
            None,
        )
    if (path / "dataset.json").is_file():
        try:
            spec = DataSpec.model_validate_json((path / "dataset.json").read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(f"{path}: not a prepared dataset folder ({exc})") from None
        return _DataPlan(
            spec, DataUsage(requested=str(path), spec=spec, note="prepared dataset folder"), None
        )
    raise UsageError(
        f"--data {requested!r}: expected 'synthetic', 'cifar10', a cifar-10-python.tar.gz file "
        "or a prepared dataset folder"
    )


def _environment_key() -> dict[str, Any]:
    env = environment_info()
    return {"python": env.python, "machine": env.machine, "packages": dict(package_versions())}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------- the run


def run_notebook(
    path: Path, options: RunOptions | None = None, progress: ProgressCallback | None = None
) -> RunResult:
    """Run one notebook (or return its cached result) and return what came of it."""
    options = options or RunOptions()
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such notebook file")
    profile = get_profile(options.profile)
    backend = get_backend(options.backend)
    home = (options.home or default_home()).expanduser()
    raw = path.read_bytes()
    sha = _sha256(raw)
    data = _resolve_data(options, profile, home)
    weights = scan_weights(options.weights)
    seed = options.seed if options.seed is not None else (0 if options.deterministic else None)
    prelude = prelude_source_path().read_bytes()
    timeouts = {"cell": options.timeout_cell, "run": options.timeout_run}
    key = cache_key(
        notebook_sha256=sha,
        profile=profile.model_dump(),
        data_identity=data.identity,
        weights_identity=weights.identity,
        harness_version=_harness_version(),
        prelude_sha256=_sha256(prelude),
        environment=_environment_key(),
        seed=seed,
        deterministic=options.deterministic,
        threads=options.threads,
        timeouts=timeouts,
        backend=f"{backend.name}:{options.python or 'harness'}"
        + ("" if backend.name == "local" else f":{options.limits.model_dump_json()}")
        + (":verify" if options.verify else ""),
    )
    store = CacheStore(home / "cache")
    if options.cache and not options.force:
        cached = store.load(key)
        if cached is not None:
            result = cached.model_copy(update={"from_cache": True})
            if options.out is not None:
                result = _copy_out(result, options.out)
            if progress is not None:
                progress(
                    Progress(
                        phase="cached", message=f"served from the cache ({result.files.folder})"
                    )
                )
            return result

    (home / "runs").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{path.stem[:40]}-", dir=home / "runs"))
    try:
        run = _Run(
            path=path,
            raw=raw,
            sha=sha,
            options=options,
            profile=profile,
            data=data,
            weights=weights,
            seed=seed,
            key=key,
            tmp=tmp,
            backend_name=backend.name,
            progress=progress,
            backend=backend,
        )
        result = run.execute()
        if options.cache:
            entry = store.store(key, Path(result.files.folder))
            result.files = result.files.moved(entry)
        else:
            final = home / "runs" / f"{path.stem[:40]}-{key[:12]}"
            if final.exists():
                shutil.rmtree(final)
            os.replace(result.files.folder, final)
            result.files = result.files.moved(final)
        _write_result(result)
        if options.out is not None:
            result = _copy_out(result, options.out)
        return result
    finally:
        if not options.keep_workdir:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_result(result: RunResult) -> None:
    folder = Path(result.files.folder)
    result.files.result = str(folder / "result.json")
    (folder / "result.json").write_text(result.model_dump_json(indent=1), encoding="utf-8")


def _copy_out(result: RunResult, out: Path) -> RunResult:
    out.mkdir(parents=True, exist_ok=True)
    src = Path(result.files.folder)
    if src.resolve() != out.resolve():
        for item in src.iterdir():
            if item.is_file():
                shutil.copy2(item, out / item.name)
    return result.model_copy(update={"files": result.files.moved(out)})


@dataclass
class _Run:
    path: Path
    raw: bytes
    sha: str
    options: RunOptions
    profile: Profile
    data: _DataPlan
    weights: WeightsSpec
    seed: int | None
    key: str
    tmp: Path
    backend_name: str
    progress: ProgressCallback | None
    log_lines: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=_now)
    current_cell: int | None = None  # index in the executed notebook (injected cell = 0)
    cells_started: int = 0
    limit_hit: str | None = None
    limit_seconds: float | None = None
    code_numbers: dict[int, int] = field(default_factory=dict)
    injected_count: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    backend: Any = None  # the kernel backend chosen for this run (a sandbox, or local)
    sandbox: Any = None  # what the sandbox did (grader.execute.sandbox.SandboxReport)
    verification: Any = None  # grader.execute.verify.VerificationReport

    # --- small helpers

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

    # --- the run

    def execute(self) -> RunResult:
        out = self.tmp / "out"
        work = self.tmp / "work"
        harness = self.tmp / "harness"
        capture_dir = harness / "capture"
        for folder in (out, work, harness, capture_dir):
            folder.mkdir(parents=True, exist_ok=True)
        files = RunFiles(
            folder=str(out),
            log=str(out / "run.log"),
            output_log=str(out / "output.log"),
            kernel_log=str(out / "kernel.log"),
        )
        self.log(f"notebook {self.path} sha256 {self.sha}")
        self.log(
            f"profile {self.profile.name}; data {self.data.usage.note}; weights {self.weights.dir or 'none'}"
        )
        self.log(f"cache key {self.key}")
        self.emit(phase="starting", message="preparing the run")

        from grader.execute.integrity import before_run

        served, store_before = before_run(self.data.spec, self.backend_name)
        loaded = None
        failure: RunFailure | None = None
        try:
            from grader.intake.notebook import parse_notebook

            loaded = parse_notebook(self.raw, str(self.path))
        except NotANotebookError as exc:
            failure = RunFailure(
                kind=FailureKind.cannot_start,
                message=f"the file is not a runnable notebook: {exc.message}",
            )
            self.log(failure.message)

        capture = CaptureRecord()
        evidence: Evidence | None = None
        manifest_data: dict[str, Any] = {}
        kernel_cmd = ""
        if loaded is not None:
            info = NotebookInfo(
                path=str(self.path),
                sha256=self.sha,
                nbformat=loaded.original_version,
                cells=len(loaded.nb.cells),
                normalised=loaded.normalised,
            )
            executed_path = out / f"{self.path.stem}.executed.ipynb"
            files.executed = str(executed_path)
            kernel_cmd, failure, clean_nb = self._papermill(
                loaded.nb,
                executed_path,
                work,
                harness,
                capture_dir,
                Path(files.output_log or ""),
                Path(files.kernel_log or ""),
            )
            capture = load_capture(capture_dir)
            exec_map = {
                int(c["execution_count"]): i
                for i, c in enumerate(clean_nb.cells)
                if c.get("cell_type") == "code" and c.get("execution_count") is not None
            }
            offset = _count_offset(capture, self.injected_count)
            inflight = self._original_index(self.current_cell)
            known = set(exec_map)

            def cell_of(count: int | None) -> int | None:
                if count is None:
                    return None
                count -= offset
                if count in exec_map:
                    return exec_map[count]
                if known and count > max(known):
                    return inflight
                return inflight if not known else None

            if failure is not None:
                failure.models_captured = sum(1 for f in capture.fits if f.status == "finished")
            static_exec = _extract(clean_nb, info, self.log)
            static_orig = _extract(loaded.nb, info, self.log)
            context = MergeContext(
                profile=self.profile.name,
                data_kind=self.data.spec.kind if self.data.spec else None,
                repro_tolerance=self.options.repro_tolerance,
                failed=failure is not None,
                failure_message=failure.message if failure else None,
                failure_cell=failure.cell if failure else None,
            )
            fit_models: dict[str, str] = {}
            try:
                evidence = merge_evidence(
                    static_exec,
                    capture,
                    info,
                    cell_of,
                    context,
                    original=static_orig,
                    fit_models=fit_models,
                )
            except Exception as exc:  # a merge bug must not lose a finished run
                self.log(f"merging the capture failed: {type(exc).__name__}: {exc}")
                evidence = static_exec
            if evidence is not None:
                from grader.execute.verify import check_run

                found, self.verification = check_run(
                    capture=capture,
                    capture_dir=capture_dir,
                    evidence=evidence,
                    fit_models=fit_models,
                    served=served,
                    backend=self.backend or get_backend(self.backend_name),
                    python=self.options.python or _python(),
                    work=self.tmp / "verify",
                    limits=self.options.limits,
                    verify=self.options.verify,
                    printed=static_exec if self.profile.name == "full" else None,
                    sandbox=self.sandbox,
                    store_before=store_before,
                    store_dir=Path(self.data.spec.dir) if self.data.spec else None,
                    log=self.log,
                    profile=self.profile.name,
                    threads=self.options.threads,
                )
                evidence.findings.extend(found)
            manifest_data["served"] = [e.served for e in capture.of_type(DataLoadEvent) if e.served]

        manifest = self._manifest(capture, kernel_cmd, manifest_data)
        files.capture = str(out / "capture.json")
        Path(files.capture).write_text(capture.model_dump_json(), encoding="utf-8")
        if evidence is not None:
            files.evidence = str(out / "evidence.json")
            Path(files.evidence).write_text(evidence.model_dump_json(indent=1), encoding="utf-8")
        files.manifest = str(out / "manifest.json")
        Path(files.manifest).write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
        if failure is not None:
            self.log(f"FAILED ({failure.kind.value}): {failure.message}")
        else:
            self.log("finished")
        for name in ("output_log", "kernel_log"):
            p = getattr(files, name)
            if p and not Path(p).exists():
                Path(p).write_text("", encoding="utf-8")
        Path(files.log or "").write_text("\n".join(self.log_lines) + "\n", encoding="utf-8")
        self.emit(phase="finished", message=failure.message if failure else "finished")
        return RunResult(
            status="failed" if failure else "ok",
            failure=failure,
            notebook=str(self.path),
            sha256=self.sha,
            profile=self.profile.name,
            cache_key=self.key,
            wall_seconds=self.elapsed(),
            files=files,
            capture=capture,
            manifest=manifest,
            evidence=evidence,
        )

    def _original_index(self, executed_index: int | None) -> int | None:
        if executed_index is None or executed_index < 1:
            return None
        return executed_index - 1

    # --- preparing and executing

    def _config(self, capture_dir: Path) -> dict[str, Any]:
        spec = self.data.spec
        return {
            "capture_dir": str(capture_dir),
            "profile": self.profile.model_dump(),
            "seed": self.seed,
            "deterministic": self.options.deterministic,
            "data": None
            if spec is None
            else {"kind": spec.kind, "identity": spec.identity, "dir": spec.dir},
            "data_missing": self.data.missing,
            "weights_dir": self.weights.dir,
            "max_hashes": 100000,
            "verify": prelude_config(self.options.verify),
            "max_events": 20000,
        }

    def _kernel_env(self, keras_home: Path) -> dict[str, str]:
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
        for name in (
            "http_proxy",
            "https_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ):
            env[name] = _BLOCKED_PROXY
        if self.seed is not None:
            env["PYTHONHASHSEED"] = str(self.seed)
        if self.options.threads:
            from grader.execute.sandbox.limits import THREAD_VARIABLES

            env.update(dict.fromkeys(THREAD_VARIABLES, str(self.options.threads)))
        return env

    def _prepare(self, nb: Any, work: Path, harness: Path, capture_dir: Path) -> Path:
        prelude_path = harness / "prelude.py"
        shutil.copyfile(prelude_source_path(), prelude_path)
        config_path = harness / "config.json"
        config_path.write_text(json.dumps(self._config(capture_dir), indent=1), encoding="utf-8")
        import nbformat

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
            "profile": self.profile.name,
            "data": self.data.spec.kind if self.data.spec else None,
        }
        cell = nbformat.v4.new_code_cell(
            _injected_source(prelude_path, config_path, self.profile.name, self.seed, self.data)
        )
        cell.metadata["tags"] = [INJECTED_TAG, GRADER_TAG]
        prepared.cells.insert(0, cell)
        number = 0
        for i, c in enumerate(prepared.cells):
            if i > 0 and c.get("cell_type") == "code" and (c.get("source") or "").strip():
                number += 1
                self.code_numbers[i] = number
        target = harness / f"{self.path.stem}.ipynb"  # out of the kernel's reach
        nbformat.write(prepared, str(target))
        return target

    def _papermill(
        self,
        nb: Any,
        executed_path: Path,
        work: Path,
        harness: Path,
        capture_dir: Path,
        output_log: Path,
        kernel_log: Path,
    ) -> tuple[str, RunFailure | None, Any]:
        keras_home = self.tmp / "keras_home"
        seed_keras_home(keras_home, self.data.spec, self.weights.paths())
        source = self._prepare(nb, work, harness, capture_dir)
        backend = self.backend or get_backend(self.backend_name)
        spec = self.data.spec
        launch = KernelLaunch(
            python=self.options.python or _python(),
            env=self._kernel_env(keras_home),
            spec_dir=self.tmp / "kernels",
            log_path=kernel_log,
            workdir=work,
            readable=[harness / "prelude.py", harness / "config.json"]
            + ([Path(spec.dir)] if spec else [])
            + [Path(p).resolve() for p in self.weights.paths().values()],
            writable=[capture_dir, keras_home],  # Keras ignores a cache folder it cannot write
            limits=self.options.limits,
        )
        manager_class = backend.kernel_manager_class(launch)
        kernel_cmd = " ".join(backend.command(launch))
        code_cells = len(self.code_numbers)
        deadline = self.t0 + self.options.timeout_run if self.options.timeout_run else None

        def timeout_func(cell: Any) -> float | None:
            per = self.options.timeout_cell
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if per is None or remaining < per:
                    self.limit_hit, self.limit_seconds = "run", self.options.timeout_run
                    return max(remaining, 0.5)
            self.limit_hit, self.limit_seconds = ("cell", per) if per else (None, None)
            return per

        def on_cell_start(cell: Any = None, cell_index: int | None = None, **_: Any) -> None:
            self.current_cell = cell_index
            self.cells_started += 1
            if cell_index and cell_index in self.code_numbers:
                original = self._original_index(cell_index)
                self.log(
                    f"cell {original} started ({self.code_numbers[cell_index]} of {code_cells})"
                )
                self.emit(
                    phase="cell",
                    cell=original,
                    cell_number=self.code_numbers[cell_index],
                    code_cells=code_cells,
                    message=f"cell {self.code_numbers[cell_index]} of {code_cells}",
                )

        tail = _ProgressTail(capture_dir / "events.jsonl", self)
        failure: RunFailure | None = None
        import papermill as pm
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from papermill.exceptions import PapermillExecutionError

        self.log(f"kernel: {kernel_cmd}")
        tail.start()
        error: BaseException | None = None
        handler = _LogHandler(self.log)
        pm_logger = logging.getLogger("papermill")
        pm_logger.addHandler(handler)
        try:
            with output_log.open("w", encoding="utf-8") as out_fh:
                pm.execute_notebook(
                    str(source),
                    str(executed_path),
                    kernel_name=KERNEL_NAME,
                    language="python",
                    progress_bar=False,
                    log_output=False,
                    stdout_file=out_fh,
                    stderr_file=out_fh,
                    start_timeout=int(self.options.start_timeout),
                    request_save_on_cell_execute=True,
                    timeout_func=timeout_func,
                    kernel_manager_class=manager_class,
                    resources={"metadata": {"path": str(work)}},
                    on_cell_start=on_cell_start,
                    interrupt_on_timeout=False,
                    shutdown_kernel="graceful",
                )
        except Exception as exc:  # every failure of the notebook becomes a classified result
            error = exc
        finally:
            tail.stop()
            pm_logger.removeHandler(handler)
            from grader.execute.sandbox import finish_sandbox

            self.sandbox = finish_sandbox(
                backend,
                launch,
                executed_path.parent,
                {executed_path.name, output_log.name, kernel_log.name},
                self.log,
            )
        seconds = self.elapsed()
        if error is not None:
            failure = self._classify(
                error,
                seconds,
                launch,
                kernel_log,
                PapermillExecutionError,
                CellTimeoutError,
                DeadKernelError,
            )
        executed = _read_executed(executed_path, source)
        for cell in executed.cells:
            if GRADER_TAG in cell.get("metadata", {}).get("tags", []):
                self.injected_count = cell.get("execution_count")
        if failure is None:
            failure = _stopped_early(executed)
            if failure is not None:
                failure.seconds = seconds
        from grader.execute.sandbox import apply_verdict

        failure = apply_verdict(failure, self.sandbox, error)
        return kernel_cmd, failure, _clean(executed)

    def _classify(
        self,
        error: BaseException,
        seconds: float,
        launch: KernelLaunch,
        kernel_log: Path,
        execution_error: type[BaseException],
        timeout_error: type[BaseException],
        dead_error: type[BaseException],
    ) -> RunFailure:
        log_tail = _tail_text(kernel_log)
        facts = ErrorFacts(
            error_type=type(error).__name__,
            message=str(error),
            seconds=seconds,
            kernel_log_tail=log_tail,
        )
        if isinstance(error, execution_error):
            index = getattr(error, "cell_index", None)
            facts.cell = self._original_index(index)
            facts.injected = index == 0
            facts.execution_count = getattr(error, "exec_count", None)
            facts.ename = getattr(error, "ename", None)
            facts.evalue = getattr(error, "evalue", None)
            facts.traceback = tuple(getattr(error, "traceback", None) or ())
        elif isinstance(error, timeout_error):
            facts.error_type = "CellTimeoutError"
            facts.cell = self._original_index(self.current_cell)
            facts.injected = self.current_cell == 0
            facts.limit_hit = self.limit_hit or "cell"
            facts.limit_seconds = self.limit_seconds
        elif isinstance(error, dead_error):
            facts.error_type = "DeadKernelError"
            facts.cell = self._original_index(self.current_cell)
            facts.injected = self.current_cell == 0
            facts.exit_code = _wait_exit(launch)
        else:
            if self.cells_started == 0:
                facts.error_type = "KernelStartError"
                facts.exit_code = launch.handle.exit_code()
                if log_tail:
                    facts.message = f"{error} (kernel output: {log_tail[-400:]})"
            else:
                facts.cell = self._original_index(self.current_cell)
                facts.ename = type(error).__name__
                facts.evalue = str(error)
        failure = classify_failure(facts)
        self.log(f"execution stopped: {type(error).__name__}: {str(error)[:300]}")
        return failure

    # --- manifest

    def _manifest(
        self, capture: CaptureRecord, kernel_cmd: str, extra: dict[str, Any]
    ) -> RunManifest:
        env = environment_info().model_copy(deep=True)
        for ev in capture.of_type(TensorflowEvent):
            env.tensorflow_cuda = ev.cuda
        requests = []
        for app in capture.of_type(ApplicationEvent):
            requests.append(
                WeightsRequest(
                    application=app.application,
                    weights=app.weights,
                    file=app.weights_file,
                    found=bool(app.weights_loaded),
                    fallback=app.fallback or app.error,
                )
            )
        usage = self.data.usage.model_copy(update={"served": list(extra.get("served", []))})
        return RunManifest(
            harness_version=_harness_version(),
            prelude_sha256=_sha256(prelude_source_path().read_bytes()),
            notebook=str(self.path),
            notebook_sha256=self.sha,
            profile=self.profile,
            seed=self.seed,
            deterministic=self.options.deterministic,
            threads=self.options.threads,
            timeouts={"cell": self.options.timeout_cell, "run": self.options.timeout_run},
            backend=self.backend_name,
            kernel=kernel_cmd,
            data=usage,
            weights=WeightsUsage(
                dir=self.weights.dir,
                identity=self.weights.identity,
                files=len(self.weights.files),
                requests=requests,
            ),
            network_attempts=sorted({e.url for e in capture.of_type(NetworkEvent)})[:50],
            environment=env,
            sandbox=self.sandbox,
            verification=self.verification,
            cache_key=self.key,
            started_at=self.started_at,
            finished_at=_now(),
            wall_seconds={"total": self.elapsed()},
        )


def _python() -> str:
    import sys

    return sys.executable


def _injected_source(
    prelude: Path, config: Path, profile: str, seed: int | None, data: _DataPlan
) -> str:
    served = data.spec.kind if data.spec else "none"
    return "\n".join(
        [
            "# Injected by grader (not part of the submission): installs the capture prelude.",
            f"# profile={profile} seed={seed} data={served}",
            "import importlib.util as _grader_util, sys as _grader_sys",
            f"_grader_spec = _grader_util.spec_from_file_location('_grader_capture', {str(prelude)!r})",
            "_grader_mod = _grader_util.module_from_spec(_grader_spec)",
            "_grader_sys.modules['_grader_capture'] = _grader_mod",
            "_grader_spec.loader.exec_module(_grader_mod)",
            f"_grader_mod.install({str(config)!r})",
            "del _grader_util, _grader_sys, _grader_spec, _grader_mod",
        ]
    )


def _count_offset(capture: CaptureRecord, injected_count: int | None) -> int:
    """Kernel execution counter during a cell minus the count the notebook shows for it.

    IPython kernels differ in when they advance the counter; the prelude's
    session event is recorded inside the injected cell, whose shown count is known.
    """
    session = capture.session()
    if session is None or session.cell is None or injected_count is None:
        return 0
    return session.cell - int(injected_count)


def _read_executed(executed_path: Path, fallback: Path) -> Any:
    import nbformat

    for candidate in (executed_path, fallback):
        try:
            return nbformat.read(str(candidate), as_version=4)
        except Exception:  # a half-written or missing file: try the next one
            continue
    return nbformat.v4.new_notebook()


def _clean(nb: Any) -> Any:
    """The executed notebook without the injected cell and papermill's error banners."""
    out = copy.deepcopy(nb)
    out.cells = [
        c
        for c in out.cells
        if not (
            {INJECTED_TAG, GRADER_TAG, PAPERMILL_ERROR_TAG}
            & set(c.get("metadata", {}).get("tags", []))
        )
    ]
    return out


def _stopped_early(nb: Any) -> RunFailure | None:
    """A notebook that ended without an error but did not run every cell (``sys.exit()``)."""
    cells = _clean(nb).cells
    for i, c in enumerate(cells):
        status = c.get("metadata", {}).get("papermill", {}).get("status")
        if status == "failed":
            for o in c.get("outputs", []):
                if o.get("output_type") == "error":
                    return classify_failure(
                        ErrorFacts(
                            error_type="stopped",
                            cell=i,
                            ename=o.get("ename"),
                            evalue=o.get("evalue"),
                            traceback=tuple(o.get("traceback") or ()),
                        )
                    )
            return classify_failure(
                ErrorFacts(error_type="stopped", cell=i, message="the cell failed")
            )
    return None


def _tail_text(path: Path, size: int = 4000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            n = fh.tell()
            fh.seek(max(0, n - size))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _wait_exit(launch: KernelLaunch, wait: float = 3.0) -> int | None:
    proc = launch.handle.process
    if proc is None:
        return None
    try:
        return int(proc.wait(timeout=wait))
    except Exception:
        return launch.handle.exit_code()


def _extract(nb: Any, info: NotebookInfo, log: Callable[[str], None]) -> Evidence | None:
    try:
        from grader.extract import extract_evidence

        return extract_evidence(nb, info)
    except Exception as exc:  # static extraction must not lose the run
        log(f"static extraction failed: {type(exc).__name__}: {exc}")
        return None


class _LogHandler(logging.Handler):
    """Sends papermill's and nbclient's warnings to the run log instead of the terminal."""

    def __init__(self, log: Callable[[str], None]) -> None:
        super().__init__(level=logging.WARNING)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._log(f"papermill: {record.getMessage()[:500]}")
        except Exception:  # logging must never raise
            self.handleError(record)


class _ProgressTail:
    """Follows the prelude's events file and reports epochs as they end."""

    def __init__(self, path: Path, run: _Run, interval: float = 0.5) -> None:
        self.path = path
        self.run = run
        self.interval = interval
        self.offset = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="grader-progress", daemon=True)

    def start(self) -> None:
        if self.run.progress is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._poll()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def _poll(self) -> None:
        if self.run.progress is None:
            return
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read(1 << 20)
        except OSError:
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        for line in chunk[: end + 1].splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if not isinstance(ev, dict) or ev.get("type") != "progress":
                continue
            epoch, epochs = ev.get("epoch"), ev.get("epochs")
            self.run.emit(
                phase="epoch",
                cell=self.run._original_index(self.run.current_cell),
                model=str(ev.get("model") or "")[:100] or None,
                epoch=epoch if isinstance(epoch, int) else None,
                epochs=epochs if isinstance(epochs, int) else None,
                message=f"{ev.get('model')}: epoch {epoch}/{epochs}",
            )
