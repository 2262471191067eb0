"""Collecting what a run left: the executed notebook, the cell map, the manifest, the files.

The last phase of a run: the executed notebook is read back (without the
injected cell and papermill's banners), kernel execution counts are mapped to
the submitted notebook's cells, the environment manifest is written, and the
run's files (``capture.json``, ``manifest.json``, logs) are put in its output
folder.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from grader.execute.capture import (
    ApplicationEvent,
    CaptureRecord,
    DataLoadEvent,
    NetworkEvent,
    TensorflowEvent,
)
from grader.execute.classify import ErrorFacts, classify_failure
from grader.execute.manifest import RunManifest, WeightsRequest, WeightsUsage, environment_info
from grader.execute.prepare import (
    GRADER_TAG,
    INJECTED_TAG,
    RunContext,
    harness_version,
    now,
    prelude_source_path,
)
from grader.execute.records import CellMap, RunFailure, RunFiles
from grader.execute.reevaluate import VerificationReport
from grader.execute.sandbox.report import SandboxReport

__all__ = [
    "GRADER_TAG",
    "PAPERMILL_ERROR_TAG",
    "build_manifest",
    "cell_map",
    "clean_executed",
    "read_executed",
    "stopped_early",
    "write_files",
]

PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"


def read_executed(executed_path: Path, fallback: Path) -> Any:
    """The executed notebook as papermill saved it (or the prepared one, when none was saved)."""
    import nbformat

    for candidate in (executed_path, fallback):
        try:
            return nbformat.read(str(candidate), as_version=4)
        except Exception:  # a half-written or missing file: try the next one
            continue
    return nbformat.v4.new_notebook()


def clean_executed(nb: Any) -> Any:
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


def stopped_early(nb: Any) -> RunFailure | None:
    """A notebook that ended without an error but did not run every cell (``sys.exit()``)."""
    cells = clean_executed(nb).cells
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


def cell_map(capture: CaptureRecord, injected_count: int | None, running: int | None) -> CellMap:
    """How the capture's execution counts map to cells.

    The kernel's counter during a cell minus the count the notebook shows for
    it: IPython kernels differ in when they advance the counter, and the
    prelude's session event is recorded inside the injected cell, whose shown
    count is known.
    """
    session = capture.session()
    offset = 0
    if session is not None and session.cell is not None and injected_count is not None:
        offset = session.cell - int(injected_count)
    return CellMap(offset=offset, running=running)


def build_manifest(
    ctx: RunContext,
    capture: CaptureRecord,
    kernel_cmd: str,
    sandbox: SandboxReport | None,
    verification: VerificationReport | None,
) -> RunManifest:
    """The environment manifest: versions, hardware, data and weights used, limits, times."""
    env = environment_info().model_copy(deep=True)
    for ev in capture.of_type(TensorflowEvent):
        env.tensorflow_cuda = ev.cuda
    requests = [
        WeightsRequest(
            application=app.application,
            weights=app.weights,
            file=app.weights_file,
            found=bool(app.weights_loaded),
            fallback=app.fallback or app.error,
        )
        for app in capture.of_type(ApplicationEvent)
    ]
    served = [e.served for e in capture.of_type(DataLoadEvent) if e.served]
    usage = ctx.data.usage.model_copy(update={"served": served})
    import hashlib

    return RunManifest(
        harness_version=harness_version(),
        prelude_sha256=hashlib.sha256(prelude_source_path().read_bytes()).hexdigest(),
        notebook=str(ctx.path),
        notebook_sha256=ctx.sha,
        profile=ctx.profile,
        seed=ctx.seed,
        deterministic=ctx.options.deterministic,
        threads=ctx.options.threads,
        timeouts={"cell": ctx.options.timeout_cell, "run": ctx.options.timeout_run},
        backend=ctx.backend.name,
        kernel=kernel_cmd,
        data=usage,
        weights=WeightsUsage(
            dir=ctx.weights.dir,
            identity=ctx.weights.identity,
            files=len(ctx.weights.files),
            requests=requests,
        ),
        network_attempts=sorted({e.url for e in capture.of_type(NetworkEvent)})[:50],
        environment=env,
        sandbox=sandbox,
        verification=verification,
        cache_key=ctx.key,
        started_at=ctx.started_at,
        finished_at=now(),
        wall_seconds={"total": ctx.elapsed()},
    )


def write_files(
    ctx: RunContext,
    files: RunFiles,
    capture: CaptureRecord,
    manifest: RunManifest,
    evidence_json: str | None,
    failure: RunFailure | None,
) -> None:
    """Put the run's record files and logs into its output folder."""
    out = ctx.out
    files.capture = str(out / "capture.json")
    Path(files.capture).write_text(capture.model_dump_json(), encoding="utf-8")
    if evidence_json is not None:
        files.evidence = str(out / "evidence.json")
        Path(files.evidence).write_text(evidence_json, encoding="utf-8")
    files.manifest = str(out / "manifest.json")
    Path(files.manifest).write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
    if failure is not None:
        ctx.log(f"FAILED ({failure.kind.value}): {failure.message}")
    else:
        ctx.log("finished")
    for name in ("output_log", "kernel_log"):
        p = getattr(files, name)
        if p and not Path(p).exists():
            Path(p).write_text("", encoding="utf-8")
    Path(files.log or "").write_text("\n".join(ctx.log_lines) + "\n", encoding="utf-8")
