"""End-to-end runs through papermill and a real kernel, with notebooks that do not need TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.cli import main
from grader.errors import UsageError
from grader.execute import FailureKind, Progress, RunOptions
from grader.extract.runtime import RunResult
from grader.pipeline import execute_and_extract
from tests import notebooks_exec as scen


def _options(tmp_path: Path, **changes: object) -> RunOptions:
    base: dict[str, object] = {
        "home": tmp_path / "home",
        "data": "synthetic",
        "synthetic_size": (300, 100),
        "timeout_cell": 60.0,
        "timeout_run": 120.0,
        "threads": 1,
    }
    base.update(changes)
    return RunOptions.model_validate(base)


def _run(tmp_path: Path, nb_name: str, **changes: object) -> RunResult:
    path = scen.save(getattr(scen, nb_name)(), tmp_path / f"{nb_name}.ipynb")
    return execute_and_extract(path, _options(tmp_path, **changes))


def _files_exist(result: RunResult) -> None:
    for name in ("executed", "capture", "manifest", "log", "output_log", "kernel_log", "result"):
        value = getattr(result.files, name)
        assert value and Path(value).is_file(), name


def test_exception_in_student_code(tmp_path: Path) -> None:
    seen: list[Progress] = []
    path = scen.save(scen.plain_raises(), tmp_path / "raises.ipynb")
    result = execute_and_extract(path, _options(tmp_path), progress=seen.append)
    assert result.status == "failed" and result.failure is not None
    f = result.failure
    assert f.kind == FailureKind.exception and f.cell == 2 and f.ename == "KeyError"
    assert "KeyError" in f.message and f.seconds is not None
    assert any("missing" in line for line in f.traceback)
    _files_exist(result)
    assert result.evidence is not None
    assert any(x.code == "run-failed" and x.cell == 2 for x in result.evidence.findings)
    executed = json.loads(Path(result.files.executed or "").read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
    phases = [p.phase for p in seen]
    assert phases[0] == "starting" and phases[-1] == "finished"
    cells = [p for p in seen if p.phase == "cell"]
    assert [p.cell for p in cells] == [1, 2] and cells[0].code_cells == 3
    saved = RunResult.model_validate_json(Path(result.files.result or "").read_text())
    assert saved.failure == result.failure


def test_cell_timeout(tmp_path: Path) -> None:
    result = _run(tmp_path, "endless", timeout_cell=3.0)
    assert result.failure is not None and result.failure.kind == FailureKind.cell_timeout
    assert result.failure.cell == 1 and "3 s" in result.failure.message
    assert result.wall_seconds < 30


def test_whole_run_timeout(tmp_path: Path) -> None:
    result = _run(tmp_path, "endless", timeout_cell=60.0, timeout_run=4.0)
    assert result.failure is not None and result.failure.kind == FailureKind.run_timeout
    assert result.failure.cell == 1


def test_kernel_that_ends_itself(tmp_path: Path) -> None:
    result = _run(tmp_path, "kills_kernel")
    assert result.failure is not None and result.failure.kind == FailureKind.kernel_died
    assert result.failure.cell == 1 and result.failure.exit_code == 1


def test_notebook_without_kernel_metadata_runs(tmp_path: Path) -> None:
    result = _run(tmp_path, "no_metadata")
    assert result.status == "ok" and result.failure is None
    assert result.evidence is not None and result.evidence.hygiene.executed_cells == 2
    executed = json.loads(Path(result.files.executed or "").read_text())
    assert "".join(executed["cells"][-1]["outputs"][0]["text"]) == "42\n"


def test_missing_package_is_named(tmp_path: Path) -> None:
    result = _run(tmp_path, "missing_package")
    f = result.failure
    assert f is not None and f.kind == FailureKind.missing_package
    assert f.package == "definitely_not_installed_pkg" and f.cell == 1


def test_sys_exit_stops_the_run(tmp_path: Path) -> None:
    result = _run(tmp_path, "sys_exit_zero")
    assert result.failure is not None and result.failure.cell == 1
    assert result.failure.ename == "SystemExit"


def test_file_that_is_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": ')
    result = execute_and_extract(path, _options(tmp_path))
    assert result.failure is not None and result.failure.kind == FailureKind.cannot_start
    assert result.evidence is None and Path(result.files.manifest or "").is_file()
    with pytest.raises(UsageError):
        execute_and_extract(tmp_path / "nope.ipynb", _options(tmp_path))


def test_cache_hit_force_and_out(tmp_path: Path) -> None:
    path = scen.save(scen.no_metadata(), tmp_path / "nb.ipynb")
    first = execute_and_extract(path, _options(tmp_path))
    assert not first.from_cache
    events: list[Progress] = []
    second = execute_and_extract(path, _options(tmp_path), progress=events.append)
    assert second.from_cache and second.cache_key == first.cache_key
    assert [e.phase for e in events] == ["cached"]
    assert second.evidence == first.evidence
    out = tmp_path / "out"
    third = execute_and_extract(path, _options(tmp_path, out=out))
    assert third.from_cache and Path(third.files.folder) == out
    assert (out / "evidence.json").is_file() and (out / "manifest.json").is_file()
    forced = execute_and_extract(path, _options(tmp_path, force=True))
    assert not forced.from_cache
    other = execute_and_extract(path, _options(tmp_path, seed=3))
    assert not other.from_cache and other.cache_key != first.cache_key
    assert other.manifest.seed == 3


def test_manifest_records_the_environment(tmp_path: Path) -> None:
    result = _run(tmp_path, "no_metadata", seed=5, deterministic=True)
    m = result.manifest
    assert m.seed == 5 and m.deterministic and m.profile.name == "smoke"
    assert m.environment.python and m.environment.packages["papermill"]
    assert m.data.spec is not None and m.data.spec.kind == "synthetic"
    assert m.weights.identity == "none" and "blocked" in m.network
    assert m.wall_seconds["total"] > 0 and m.cache_key == result.cache_key


def test_cli_run_and_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scen.save(scen.plain_raises(), tmp_path / "raises.ipynb")
    home = str(tmp_path / "home")
    code = main(["data", "synthetic", "--train", "200", "--test", "50", "--home", home])
    assert code == 0
    spec = json.loads(capsys.readouterr().out)
    assert spec["kind"] == "synthetic" and spec["n_train"] == 200
    code = main(
        ["run", str(path), "--home", home, "--data", "synthetic", "--json", "--timeout-cell", "60"]
    )
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "failed" and doc["failure"]["kind"] == "exception"
    assert "capture" not in doc
    code = main(["run", str(path), "--home", home, "--data", "synthetic", "--timeout-cell", "60"])
    assert code == 1
    assert "KeyError" in capsys.readouterr().out
    assert main(["run", str(tmp_path / "missing.ipynb"), "--home", home]) == 2
    assert main(["data", "cifar10", "--archive", str(path), "--home", home]) == 2


def test_kernel_that_cannot_start(tmp_path: Path) -> None:
    result = _run(tmp_path, "no_metadata", start_timeout=20.0, python="/bin/false")
    assert result.failure is not None and result.failure.kind == FailureKind.cannot_start
    assert result.failure.cell is None and "could not be started" in result.failure.message
