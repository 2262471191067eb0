"""The hostile corpus, run for real: every threat is contained, or the run says plainly it was not.

For each notebook of :mod:`tests.hostile` the run must end as expected, with
a clear reason; nothing it should not reach (other submissions, the reference,
the reports, the data store, another run, a host service) may be read or
changed; nothing it started may outlive the run. Where this machine's sandbox
does not enforce the protection a threat needs, the run's findings must name
that protection instead. The batch test runs honest and hostile notebooks side
by side: the honest one grades as it does alone, and no file outside a run's
own folder changes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import multiprocessing
import os
import socket
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.execute import RunOptions
from grader.execute.data import ensure_synthetic
from grader.execute.sandbox.limits import ResourceLimits
from grader.extract.runtime import RunResult
from grader.pipeline import execute_and_extract
from tests.hostile import (
    CORPUS,
    LEAK_MARK,
    SECRET,
    TF_CORPUS,
    Targets,
    Threat,
    honest_notebook,
    make_targets,
)

pytestmark = pytest.mark.slow

MiB = 1024**2
SIZE = (1500, 400)
HOSTILE_LIMITS = ResourceLimits(
    memory_bytes=1024 * MiB,
    address_space_bytes=3 * 1024 * MiB,
    file_bytes=256 * MiB,
    disk_bytes=300 * MiB,
    tmp_bytes=64 * MiB,
    output_bytes=1 * MiB,
    processes=256,
)
needs_tf = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
)


class _Listener:
    """A TCP service on the host's loopback that records who connects."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(1)
            try:
                self.hits.append(conn.recv(100) or b"connected")
            except OSError:
                self.hits.append(b"connected")
            conn.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[_Listener]:
    server = _Listener()
    yield server
    server.sock.close()


def _machine(root: Path, listener: _Listener) -> Targets:
    """A grading machine's layout: data store, other submissions, reference, reports, old runs."""
    spec = ensure_synthetic(root / "home", *SIZE)
    old_run = root / "home" / "runs" / "other-student-run" / "work"
    old_run.mkdir(parents=True)
    (old_run / "notes.txt").write_text(SECRET, encoding="utf-8")
    return make_targets(root, Path(spec.dir), listener.port)


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory, listener: _Listener) -> Targets:
    return _machine(tmp_path_factory.mktemp("machine"), listener)


@pytest.fixture(scope="module")
def bare_machine(tmp_path_factory: pytest.TempPathFactory, listener: _Listener) -> Targets:
    """A machine for runs without a sandbox tool (they may damage it: it is their own)."""
    return _machine(tmp_path_factory.mktemp("bare"), listener)


def _planned(backend: str, t: Targets) -> dict[str, str]:
    """The protections ``backend`` gives on this machine, read without starting a kernel."""
    from grader.execute.sandbox.launch import KernelLaunch
    from grader.execute.sandbox.registry import get_backend

    chosen = get_backend(backend)
    work = t.root / "probe-work"
    work.mkdir(exist_ok=True)
    launch = KernelLaunch(
        python=sys.executable,
        env={},
        spec_dir=t.root / "probe-kernels",
        log_path=t.root / "probe.log",
        workdir=work,
        limits=HOSTILE_LIMITS,
    )
    state = chosen.state(launch)  # type: ignore[attr-defined]
    try:
        return {p.name: p.status for p in state.report.protections}
    finally:
        chosen.finish(launch)  # type: ignore[attr-defined]


def _options(t: Targets, **changes: Any) -> RunOptions:
    base: dict[str, Any] = {
        "home": t.root / "home",
        "data": "synthetic",
        "synthetic_size": SIZE,
        "timeout_cell": 10.0,
        "timeout_run": 40.0,
        "threads": 1,
        "cache": False,
        "limits": HOSTILE_LIMITS,
        "verify": False,
    }
    base.update(changes)
    return RunOptions.model_validate(base)


def _guarded(root: Path) -> dict[str, str]:
    """Hashes of every file on the machine that no run may change (run folders excluded)."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        parts = rel.parts
        if len(parts) >= 2 and parts[:2] in (("home", "cache"),):
            continue
        if len(parts) >= 3 and parts[:2] == ("home", "runs") and parts[2] != "other-student-run":
            continue
        if path.is_symlink() or not path.is_file():
            out[str(rel)] = "link" if path.is_symlink() else "dir"
            continue
        out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _everything_produced(result: RunResult) -> str:
    """The text of every file the run left for the instructor (outputs, logs, records)."""
    texts = []
    for name in ("executed", "output_log", "capture", "evidence", "manifest", "log"):
        value = getattr(result.files, name)
        if value and Path(value).is_file() and not Path(value).is_symlink():
            texts.append(Path(value).read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def _outputs(result: RunResult) -> str:
    if not result.files.executed:
        return ""
    nb = json.loads(Path(result.files.executed).read_text(encoding="utf-8"))
    parts = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append(json.dumps(out.get("data", {})))
    return "\n".join(parts)


def _processes_in(folder: Path) -> list[int]:
    """Processes whose working folder is inside ``folder`` (nothing may outlive a run)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if cwd.startswith(str(folder)):
            found.append(int(entry))
    return found


def _status(result: RunResult) -> dict[str, str]:
    box = result.manifest.sandbox
    assert box is not None, "every run records its sandbox"
    return {p.name: p.status for p in box.protections}


def check_outcome(threat: Threat, result: RunResult, t: Targets, hits: list[bytes]) -> None:
    """The expected outcome of ``threat`` (see :mod:`tests.hostile`)."""
    outcome = result.failure.kind.value if result.failure else "ok"
    assert outcome in threat.outcomes, (threat.name, outcome, result.failure)
    if threat.reason and result.failure is not None:
        said = f"{result.failure.message} {result.failure.evalue or ''}"
        assert any(word in said for word in threat.reason), said
    codes = {f.code for f in (result.evidence.findings if result.evidence else [])}
    assert threat.findings <= codes, (threat.name, codes)
    status = _status(result)
    held = [n for n in threat.contained_by if status.get(n) == "enforced"]
    missing = [n for n in threat.contained_by if status.get(n) != "enforced"]
    if missing:
        weak = [
            f.message
            for f in (result.evidence.findings if result.evidence else [])
            if f.code == "sandbox-weak"
        ]
        if {"read-isolation", "write-isolation", "network"} & set(missing):
            assert weak and all(n in weak[0] for n in missing), (threat.name, missing)
        assert all(p in status for p in missing)
    if not missing:
        assert LEAK_MARK not in _outputs(result), threat.name
        assert SECRET not in _everything_produced(result), threat.name
    if "network" in held:
        assert not hits, hits
    assert not _processes_in(Path(result.files.folder).parent), "processes outlived the run"


# ------------------------------------------------------------------ the corpus


def _skip_if_unbounded(threat: Threat, planned: dict[str, str]) -> None:
    """A fork bomb or memory hog with nothing to stop it would hit the machine running the tests."""
    if threat.name in ("fork_bomb", "memory_hog"):
        need = threat.contained_by[0]
        if planned.get(need) not in ("enforced", "partial"):
            pytest.skip(f"{need} is not limited on this machine ({planned.get(need)})")


@pytest.mark.parametrize("threat", CORPUS, ids=[t.name for t in CORPUS])
def test_hostile_notebook_is_contained(
    threat: Threat, machine: Targets, listener: _Listener, tmp_path: Path
) -> None:
    _skip_if_unbounded(threat, _planned("auto", machine))
    before = _guarded(machine.root)
    path = tmp_path / f"{threat.name}.ipynb"
    nbformat.write(threat.notebook(machine), str(path))
    listener.hits.clear()
    result = execute_and_extract(path, _options(machine))
    check_outcome(threat, result, machine, listener.hits)
    if all(_status(result).get(n) == "enforced" for n in ("write-isolation", "other-runs")):
        assert _guarded(machine.root) == before, threat.name
    executed = Path(result.files.executed or "")
    assert executed.is_file() and not executed.is_symlink()
    assert json.loads(executed.read_text())["cells"], "the executed notebook is the harness's own"


@pytest.mark.parametrize("threat", CORPUS, ids=[t.name for t in CORPUS])
def test_hostile_notebook_without_a_sandbox_tool(
    threat: Threat, bare_machine: Targets, listener: _Listener, tmp_path: Path
) -> None:
    """Forced fallback (resource limits only): the run still ends, and says what was missing."""
    _skip_if_unbounded(threat, _planned("none", bare_machine))
    path = tmp_path / f"{threat.name}.ipynb"
    nbformat.write(threat.notebook(bare_machine), str(path))
    listener.hits.clear()
    result = execute_and_extract(path, _options(bare_machine, backend="none"))
    assert result.manifest.sandbox is not None and result.manifest.sandbox.backend == "none"
    check_outcome(threat, result, bare_machine, listener.hits)
    weak = [
        f for f in (result.evidence.findings if result.evidence else []) if f.code == "sandbox-weak"
    ]
    assert weak and "read-isolation" in weak[0].message and "write-isolation" in weak[0].message


@needs_tf
@pytest.mark.parametrize("threat", TF_CORPUS, ids=[t.name for t in TF_CORPUS])
def test_forged_results_are_caught(
    threat: Threat, machine: Targets, listener: _Listener, tmp_path: Path
) -> None:
    path = tmp_path / f"{threat.name}.ipynb"
    nbformat.write(threat.notebook(machine), str(path))
    result = execute_and_extract(
        path,
        _options(
            machine,
            verify=True,
            limits=ResourceLimits(),
            timeout_cell=300.0,
            timeout_run=600.0,
            seed=0,
        ),
    )
    check_outcome(threat, result, machine, listener.hits)
    assert result.evidence is not None
    model = result.evidence.models[0]
    forged = [f for f in result.evidence.findings if f.code in threat.findings]
    assert forged and forged[0].model == model.id
    assert "0.99" in forged[0].message
    check = result.manifest.verification
    assert check is not None and check.checks[0].status in ("forged", "unverified")
    if check.checks[0].status == "forged":
        assert check.checks[0].verified is not None and check.checks[0].verified < 0.9
        graded = _grade(result)
        assert graded["points"] == 0 and graded["criteria"]["test_accuracy"] == "not_met"


# ------------------------------------------------------------------- batch


def _run(path: str, options: str) -> str:
    """One submission in a worker process (as the batch runs them)."""
    result = execute_and_extract(Path(path), RunOptions.model_validate_json(options))
    return result.model_dump_json()


def _grade(result: RunResult) -> dict[str, Any]:
    from grader.grade.rubric import load_rubric

    assert result.evidence is not None
    grade = load_rubric().grade(result.evidence)
    return {
        "points": grade.points,
        "requirements_met": grade.requirements_met,
        "criteria": {c.id: c.status.value for c in grade.criteria},
        "kinds": sorted(m.kind.value for m in result.evidence.models),
    }


@needs_tf
def test_honest_work_grades_the_same_next_to_hostile_notebooks(
    machine: Targets, tmp_path: Path
) -> None:
    from tests.hostile import FORGES_CAPTURE, MEMORY_HOG, READS, WRITES

    honest = tmp_path / "honest.ipynb"
    nbformat.write(honest_notebook(), str(honest))
    options = _options(
        machine,
        verify=True,
        seed=0,
        timeout_cell=300.0,
        timeout_run=900.0,
        limits=ResourceLimits(memory_bytes=3 * 1024 * MiB),
    )
    alone = execute_and_extract(honest, options)
    assert alone.status == "ok", alone.failure
    expected = _grade(alone)
    assert expected["points"] >= 1 and expected["requirements_met"], expected
    checks = alone.manifest.verification
    assert checks is not None and {c.status for c in checks.checks} == {"verified"}

    hostile = [FORGES_CAPTURE, MEMORY_HOG, READS, WRITES]
    paths = []
    for threat in hostile:
        path = tmp_path / f"{threat.name}.ipynb"
        nbformat.write(threat.notebook(machine), str(path))
        paths.append(path)
    before = _guarded(machine.root)
    jobs = [(honest, options)] + [
        (
            p,
            _options(
                machine,
                verify=True,
                limits=ResourceLimits(memory_bytes=1024 * MiB),
                timeout_cell=300.0,
                timeout_run=600.0,
            ),
        )
        for p in paths
    ]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        futures = [pool.submit(_run, str(p), o.model_dump_json()) for p, o in jobs]
        results = [RunResult.model_validate_json(f.result()) for f in futures]
    graded = _grade(results[0])
    assert graded == expected
    for threat, result in zip(hostile, results[1:], strict=True):
        check_outcome(threat, result, machine, [])
        if result.evidence is not None:
            assert _grade(result)["points"] == 0, threat.name
    status = _status(results[0])
    if status.get("write-isolation") == "enforced":
        assert _guarded(machine.root) == before


def test_the_python_running_the_tests_is_the_kernels() -> None:
    # the workers above start kernels with this interpreter; a mismatch would test nothing
    assert Path(sys.executable).exists()
