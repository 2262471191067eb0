"""The pytest plugin: course staff's reference notebooks as tests (kernels run, no TensorFlow)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

PLUGIN = "grader.reference.pytest_plugin"


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "full"\nSEED = 0')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def _plugin_args() -> list[str]:
    """``-p`` for the plugin unless the installed package already registers it."""
    registered = any(
        ep.value.split(":")[0] == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11")
    )
    return [] if registered else ["-p", PLUGIN]


def test_reference_folder_and_fixture_run_as_tests(tmp_path: Path) -> None:
    refs = tmp_path / "refs"
    refs.mkdir()
    _notebook(refs / "plain.ipynb", "print('profile', PROFILE, 'seed', SEED)")
    _notebook(refs / "claims.ipynb", "x = 1")
    (refs / "expected.yaml").write_text(
        textwrap.dedent(
            """
            notebooks:
              - {path: plain.ipynb, points: 0, requirements_met: false}
              - {path: claims.ipynb, points: 1, requirements_met: false}
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "test_mine.py").write_text(
        textwrap.dedent(
            """
            def test_plain(reference_verifier):
                verdict = reference_verifier.verify(
                    "refs/plain.ipynb", points=0, requirements_met=False
                )
                assert verdict.ok, verdict.problems

            def test_wrong_expectation(reference_verifier):
                verdict = reference_verifier.verify(
                    "refs/plain.ipynb", points=0,
                    models=[{"label": "my CNN", "kind": "scratch_cnn"}],
                )
                assert not verdict.ok
                text = "\\n".join(verdict.problems)
                assert "my CNN (scratch_cnn) is missing" in text
                assert "requirement" in text
            """
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *_plugin_args(),
            "-p",
            "no:cacheprovider",
            "-rA",
            "--reference-home",
            str(tmp_path / "home"),
            "--reference-profile",
            "smoke",
            "refs",
            "test_mine.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "PASSED refs/expected.yaml::plain.ipynb" in out
    assert "FAILED refs/expected.yaml::claims.ipynb" in out
    assert "reference notebook claims.ipynb broke" in out
    assert "claims.ipynb: earned 0 of 3 points, expected 1" in out
    assert "PASSED test_mine.py::test_plain" in out
    assert "PASSED test_mine.py::test_wrong_expectation" in out
    assert "no band file" not in out  # a folder without bands/: models and points only


def test_plugin_imports_only_pytest() -> None:
    code = (
        "import sys, grader.reference.pytest_plugin as p; "
        "heavy = [m for m in ('tensorflow', 'papermill', 'pandas', 'grader.execute', "
        "'grader.reference.verify') if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
