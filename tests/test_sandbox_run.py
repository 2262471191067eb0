"""Runs through the sandbox backends (kernels without TensorFlow): what each enforces and reports."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.cli import main
from grader.execute import RunOptions
from grader.execute.sandbox import bwrap, container
from grader.extract.runtime import RunResult
from grader.pipeline import execute_and_extract

pytestmark = pytest.mark.slow

_LOOK = """\
import os, socket, json
seen = {
    'root': sorted(os.listdir('/')),
    'home_runs': sorted(os.listdir(os.path.dirname(os.path.dirname(os.getcwd())))),
    'uid': os.getuid(),
    'env': sorted(os.environ),
}
try:
    socket.create_connection(('1.1.1.1', 80), timeout=2)
    seen['net'] = 'open'
except OSError as exc:
    seen['net'] = type(exc).__name__
print(json.dumps(seen))
"""


def _notebook(path: Path, *cells: str) -> Path:
    nb = new_notebook()
    nb.cells = [new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))
    return path


def _run(tmp_path: Path, backend: str, *cells: str) -> RunResult:
    path = _notebook(tmp_path / f"look-{backend}.ipynb", *cells)
    options = RunOptions.model_validate(
        {
            "home": tmp_path / "home",
            "data": "synthetic",
            "synthetic_size": (200, 50),
            "timeout_cell": 60.0,
            "timeout_run": 120.0,
            "threads": 1,
            "cache": False,
            "backend": backend,
        }
    )
    return execute_and_extract(path, options)


def _seen(result: RunResult) -> dict[str, object]:
    nb = json.loads(Path(result.files.executed or "").read_text())
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", ""))
            if text.startswith("{"):
                return json.loads(text)  # type: ignore[no-any-return]
    raise AssertionError("no output")


@pytest.mark.skipif(not bwrap.probe_bwrap()[0].ok, reason="bubblewrap does not work here")
def test_bwrap_kernel_sees_only_its_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_TOKEN", "not for students")
    (tmp_path / "home" / "runs" / "someone-else").mkdir(parents=True)
    result = _run(tmp_path, "bwrap", _LOOK)
    assert result.status == "ok", result.failure
    seen = _seen(result)
    assert seen["net"] != "open"
    assert "someone-else" not in seen["home_runs"]  # other runs are not mounted
    assert "HARNESS_TOKEN" not in seen["env"]  # the harness's environment stays outside
    box = result.manifest.sandbox
    assert box is not None and box.backend == "bwrap" and box.requested == "bwrap"
    status = {p.name: p.status for p in box.protections}
    for name in ("network", "read-isolation", "write-isolation", "other-runs", "tmp", "output"):
        assert status[name] == "enforced", name
    assert result.evidence is not None
    assert not [f for f in result.evidence.findings if f.code == "sandbox-weak"]
    assert "bwrap" in result.manifest.kernel and "--unshare-all" in result.manifest.kernel


def test_without_bubblewrap_the_harness_still_grades_and_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine without bubblewrap or a container engine: auto falls back, loudly."""
    real_which = bwrap.shutil.which
    monkeypatch.setattr(
        bwrap.shutil, "which", lambda name: None if name == "bwrap" else real_which(name)
    )
    monkeypatch.setattr(container.shutil, "which", lambda name: None)
    bwrap.probe_bwrap.cache_clear()
    container.probe_container.cache_clear()
    try:
        result = _run(tmp_path, "auto", _LOOK, "print('graded')")
    finally:
        bwrap.probe_bwrap.cache_clear()
        container.probe_container.cache_clear()
    assert result.status == "ok", result.failure
    box = result.manifest.sandbox
    assert box is not None and box.backend == "none" and box.requested == "auto"
    assert "bubblewrap is not installed" in box.reason
    missing = {p.name for p in box.protections if p.status != "enforced"}
    assert {"read-isolation", "write-isolation", "other-runs"} <= missing
    assert result.evidence is not None
    weak = [f for f in result.evidence.findings if f.code == "sandbox-weak"]
    assert len(weak) == 1 and weak[0].severity.value == "warning"
    for name in ("read-isolation", "write-isolation", "other-runs"):
        assert name in weak[0].message
    saved = json.loads(Path(result.files.manifest or "").read_text())
    assert saved["sandbox"]["backend"] == "none"
    assert any(p["status"] != "enforced" for p in saved["sandbox"]["protections"])


def test_local_backend_is_reported_as_no_sandbox(tmp_path: Path) -> None:
    result = _run(tmp_path, "local", "print(1)")
    assert result.status == "ok"
    box = result.manifest.sandbox
    assert box is not None and box.backend == "local" and box.weak()
    assert result.evidence is not None
    assert any("NO SANDBOX" in f.message for f in result.evidence.findings)


def test_cli_names_the_sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _notebook(tmp_path / "nb.ipynb", "print(42)")
    home = str(tmp_path / "home")
    args = ["run", str(path), "--home", home, "--data", "synthetic", "--no-cache"]
    code = main([*args, "--sandbox", "none", "--memory", "2G", "--no-verify"])
    out = capsys.readouterr()
    assert code == 0, out
    assert "sandbox: none" in out.out and "read-isolation" in out.out
    assert main([*args, "--memory", "lots"]) == 2
    assert "--memory" in capsys.readouterr().err
