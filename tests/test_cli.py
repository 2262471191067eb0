"""The command line as a user meets it: exit codes, JSON, folders with bad files, import weight."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main
from tests.scenarios import keras3_complete, misleading_heading


def _write(tmp_path: Path, name: str, builder) -> Path:  # type: ignore[no-untyped-def]
    import nbformat

    nb, _ = builder()
    p = tmp_path / name
    nbformat.write(nb, str(p))
    return p


def test_check_json_single_notebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write(tmp_path, "alice.ipynb", keras3_complete)
    code = main(["check", str(p), "--json", "--no-hw4"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in (
        "framework",
        "models",
        "has_curves",
        "has_confusion_matrix",
        "has_written_summary",
        "findings",
        "grade",
    ):
        assert key in doc
    assert doc["grade"]["points"] == 3
    m = doc["models"][0]
    for key in (
        "name",
        "kind",
        "base",
        "test_accuracy",
        "epochs",
        "history",
        "curves_shown",
        "confusion_matrix_shown",
    ):
        assert key in m


def test_exit_code_says_requirements_are_not_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = _write(tmp_path, "bob.ipynb", misleading_heading)
    assert main(["check", str(p)]) == 1
    out = capsys.readouterr().out
    assert "not met" in out


def test_folder_with_bad_files_is_graded_without_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "good.ipynb", keras3_complete)
    (tmp_path / "empty.ipynb").write_bytes(b"")
    (tmp_path / "broken.ipynb").write_text("{oops")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "good-checkpoint.ipynb").write_text("{}")
    code = main(["check", str(tmp_path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    reasons = {Path(d["notebook"]["path"]).name: d.get("reason") for d in doc["notebooks"]}
    assert reasons == {"broken.ipynb": "invalid-json", "empty.ipynb": "empty", "good.ipynb": None}


def test_single_bad_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "x.ipynb"
    p.write_text("[]")
    assert main(["check", str(p)]) == 2
    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2


def test_schema_command_prints_a_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "grade" in schema["properties"] and "models" in schema["properties"]


def test_static_check_imports_neither_tensorflow_nor_papermill(tmp_path: Path) -> None:
    p = _write(tmp_path, "alice.ipynb", keras3_complete)
    code = (
        "import sys\nfrom grader.cli import main\nmain(['check', sys.argv[1], '--json'])\n"
        "heavy = [m for m in ('tensorflow', 'papermill', 'keras', 'torch', 'pandas', 'nbclient') if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120
    )
    assert "HEAVY=" in proc.stderr
    assert proc.stderr.split("HEAVY=")[-1].strip() == ""
