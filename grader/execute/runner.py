"""Execute one notebook with papermill and record what ran.

:func:`run_notebook` is the execution stage's entry point; the pipeline
(:mod:`grader.pipeline`), ``grader run`` and the reference runs call it. A run:

1. resolves the profile, data, weights and the cache key; a cache hit returns
   the stored :class:`~grader.execute.records.RunRecord` without executing;
2. prepares a private working folder (:mod:`~grader.execute.prepare`): a copy
   of the notebook with an injected first cell (the capture prelude,
   data/weights provisioning, seeds), a kernel spec for this run, and a
   ``KERAS_HOME`` seeded with the data archive and weight files;
3. executes it (:mod:`~grader.execute.kernel`) under a per-cell and a
   whole-run time limit, reporting progress;
4. collects (:mod:`~grader.execute.collect`) the executed notebook, the
   validated capture and the manifest, calls the caller's ``inspect`` hook
   while the capture folder still holds the models saved for verification, and
   writes ``capture.json``, ``manifest.json``, ``result.json`` and logs (and
   ``evidence.json`` when the hook returns evidence) into the output folder.

A notebook that fails is a record with a classified failure, never an
exception of the tool. Turning what ran into evidence is the extraction
stage's work (:func:`grader.extract.runtime.extract_run`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from grader.errors import NotANotebookError, UsageError
from grader.execute.cache import CacheStore, cache_key
from grader.execute.capture import CaptureRecord, load_capture
from grader.execute.collect import build_manifest, cell_map, write_files
from grader.execute.kernel import KernelRun
from grader.execute.manifest import environment_info, package_versions
from grader.execute.prepare import (
    ProgressCallback,
    RunContext,
    harness_version,
    prelude_source_path,
    resolve_data,
)
from grader.execute.profiles import get_profile
from grader.execute.records import (
    CellMap,
    FailureKind,
    Inspect,
    KernelOutcome,
    Progress,
    RunFailure,
    RunFiles,
    RunOptions,
    RunRecord,
)
from grader.execute.sandbox.registry import get_backend
from grader.execute.served import before_run, store_fingerprint
from grader.execute.weights import scan_weights
from grader.intake.notebook import LoadedNotebook, load_notebook
from grader.settings import default_home

__all__ = ["ProgressCallback", "prelude_source_path", "run_notebook"]


def _environment_key() -> dict[str, Any]:
    env = environment_info()
    return {"python": env.python, "machine": env.machine, "packages": dict(package_versions())}


def run_notebook(
    notebook: Path | LoadedNotebook,
    options: RunOptions | None = None,
    progress: ProgressCallback | None = None,
    *,
    inspect: Inspect | None = None,
) -> RunRecord:
    """Run one notebook (or return its cached record) and record what ran.

    ``notebook`` is a path, or a notebook the intake already read (it is then
    not read again). ``inspect`` is called once the kernel has stopped, with
    what ran (:class:`~grader.execute.records.KernelOutcome`); the evidence it
    returns is saved with the run. A cached record is returned without calling it.
    """
    options = options or RunOptions()
    path = Path(notebook.path) if isinstance(notebook, LoadedNotebook) else Path(notebook)
    loaded: LoadedNotebook | NotANotebookError
    if isinstance(notebook, LoadedNotebook):
        loaded = notebook
    else:
        if not path.is_file():
            raise UsageError(f"{path}: no such notebook file")
        try:
            loaded = load_notebook(path)
        except NotANotebookError as exc:
            loaded = exc
    sha = (
        loaded.sha256
        if isinstance(loaded, LoadedNotebook)
        else hashlib.sha256(path.read_bytes()).hexdigest()
    )
    profile = get_profile(options.profile)
    backend = get_backend(options.backend)
    home = (options.home or default_home()).expanduser()
    data = resolve_data(options, profile, home)
    weights = scan_weights(options.weights)
    seed = options.seed if options.seed is not None else (0 if options.deterministic else None)
    prelude = prelude_source_path().read_bytes()
    key = cache_key(
        notebook_sha256=sha,
        profile=profile.model_dump(),
        data_identity=data.identity,
        weights_identity=weights.identity,
        harness_version=harness_version(),
        prelude_sha256=hashlib.sha256(prelude).hexdigest(),
        environment=_environment_key(),
        seed=seed,
        deterministic=options.deterministic,
        threads=options.threads,
        timeouts={"cell": options.timeout_cell, "run": options.timeout_run},
        backend=f"{backend.name}:{options.python or 'harness'}"
        + ("" if backend.name == "local" else f":{options.limits.model_dump_json()}")
        + (":verify" if options.verify else ""),
    )
    store = CacheStore(home / "cache")
    if options.cache and not options.force:
        cached = store.load(key)
        if cached is not None:
            record = cached.model_copy(update={"from_cache": True})
            if options.out is not None:
                record = _copy_out(record, options.out)
            if progress is not None:
                folder = record.files.folder
                progress(Progress(phase="cached", message=f"served from the cache ({folder})"))
            return record

    (home / "runs").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{path.stem[:40]}-", dir=home / "runs"))
    try:
        ctx = RunContext(
            path=path,
            sha=sha,
            options=options,
            profile=profile,
            data=data,
            weights=weights,
            seed=seed,
            key=key,
            tmp=tmp,
            backend=backend,
            progress=progress,
        )
        record = _execute(ctx, loaded, inspect)
        if options.cache:
            entry = store.store(key, Path(record.files.folder))
            record.files = record.files.moved(entry)
        else:
            final = home / "runs" / f"{path.stem[:40]}-{key[:12]}"
            if final.exists():
                shutil.rmtree(final)
            os.replace(record.files.folder, final)
            record.files = record.files.moved(final)
        _write_record(record)
        if options.out is not None:
            record = _copy_out(record, options.out)
        return record
    finally:
        if not options.keep_workdir:
            shutil.rmtree(tmp, ignore_errors=True)


def _execute(
    ctx: RunContext, loaded: LoadedNotebook | NotANotebookError, inspect: Inspect | None
) -> RunRecord:
    """Prepare, execute and collect one run in ``ctx.tmp``."""
    for folder in (ctx.out, ctx.work, ctx.harness, ctx.capture_dir):
        folder.mkdir(parents=True, exist_ok=True)
    out = ctx.out
    files = RunFiles(
        folder=str(out),
        log=str(out / "run.log"),
        output_log=str(out / "output.log"),
        kernel_log=str(out / "kernel.log"),
    )
    ctx.log(f"notebook {ctx.path} sha256 {ctx.sha}")
    ctx.log(
        f"profile {ctx.profile.name}; data {ctx.data.usage.note}; weights {ctx.weights.dir or 'none'}"
    )
    ctx.log(f"cache key {ctx.key}")
    ctx.emit(phase="starting", message="preparing the run")
    served, store_before = before_run(ctx.data.spec, ctx.backend.name)

    capture = CaptureRecord()
    cells = CellMap()
    store_changed: list[str] = []
    kernel = KernelRun(
        ctx,
        executed_path=out / f"{ctx.path.stem}.executed.ipynb",
        output_log=Path(files.output_log or ""),
        kernel_log=Path(files.kernel_log or ""),
    )
    evidence_json: str | None = None
    verification = None
    failure: RunFailure | None
    if isinstance(loaded, NotANotebookError):
        failure = RunFailure(
            kind=FailureKind.cannot_start,
            message=f"the file is not a runnable notebook: {loaded.message}",
        )
        ctx.log(failure.message)
    else:
        files.executed = str(kernel.executed_path)
        failure, executed = kernel.execute(loaded.nb)
        capture = load_capture(ctx.capture_dir)
        cells = cell_map(capture, kernel.injected_count, kernel.running_cell)
        if failure is not None:
            failure.models_captured = sum(1 for f in capture.fits if f.status == "finished")
        if store_before is not None and ctx.data.spec is not None:
            after = store_fingerprint(Path(ctx.data.spec.dir))
            store_changed = [k for k, v in store_before.items() if after.get(k) != v]
        outcome = KernelOutcome(
            notebook=loaded,
            executed=executed,
            capture=capture,
            cells=cells,
            failure=failure,
            profile=ctx.profile.name,
            data=ctx.data.spec,
            served=served,
            sandbox=kernel.sandbox,
            store_changed=store_changed,
            verifier=_verifier(ctx, capture, served),
        )
        if inspect is not None:
            evidence = inspect(outcome)
            evidence_json = evidence.model_dump_json(indent=1) if evidence is not None else None
        verification = outcome.verification
    manifest = build_manifest(ctx, capture, kernel.kernel_cmd, kernel.sandbox, verification)
    write_files(ctx, files, capture, manifest, evidence_json, failure)
    ctx.emit(phase="finished", message=failure.message if failure else "finished")
    return RunRecord(
        status="failed" if failure else "ok",
        failure=failure,
        notebook=str(ctx.path),
        sha256=ctx.sha,
        profile=ctx.profile.name,
        cache_key=ctx.key,
        wall_seconds=ctx.elapsed(),
        files=files,
        capture=capture,
        manifest=manifest,
        cells=cells,
        store_changed=store_changed,
    )


def _verifier(ctx: RunContext, capture: CaptureRecord, served: Any) -> Any:
    """Re-checks claimed accuracies out of process, confined like the run (None when off)."""

    def verify(evidence: Any, fit_models: dict[str, str]) -> Any:
        if not ctx.options.verify:
            return None
        from grader.execute.reevaluate import verify_claims

        return verify_claims(
            capture=capture,
            capture_dir=ctx.capture_dir,
            evidence=evidence,
            fit_models=fit_models,
            served=served,
            backend=ctx.backend,
            python=ctx.python,
            work=ctx.tmp / "verify",
            limits=ctx.options.limits,
            log=ctx.log,
            profile=ctx.profile.name,
            threads=ctx.options.threads,
        )

    return verify


def _write_record(record: RunRecord) -> None:
    folder = Path(record.files.folder)
    record.files.result = str(folder / "result.json")
    (folder / "result.json").write_text(record.model_dump_json(indent=1), encoding="utf-8")


def _copy_out(record: RunRecord, out: Path) -> RunRecord:
    out.mkdir(parents=True, exist_ok=True)
    src = Path(record.files.folder)
    if src.resolve() != out.resolve():
        for item in src.iterdir():
            if item.is_file():
                shutil.copy2(item, out / item.name)
    return record.model_copy(update={"files": record.files.moved(out)})
