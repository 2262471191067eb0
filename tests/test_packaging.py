"""The grader as a student installs it: a wheel in a clean virtual environment, used anywhere.

The wheel is built offline from a copy of the sources (``pip wheel
--no-build-isolation``: the setuptools of this environment, nothing
downloaded), installed with ``--no-deps --no-index`` into a new virtual
environment, and given only the base dependencies (no ``run`` extra: no
papermill, no TensorFlow) by a ``.pth`` file pointing at a folder of links into
this environment. Then ``grader check`` runs from an unrelated folder and must
say what it says from the checkout: the rubric and the reference bands come
inside the package. The checkout's own tests cover the editable install
(``make setup``), which reads the same files from ``rubrics/`` and
``reference/bands/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from grader import bundled
from grader.cli import main
from grader.grade.rubric import default_rubric_path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
GOOD = REPO / "submissions" / "novakova_alice" / "hw5.ipynb"  # meets every requirement
INCOMPLETE = REPO / "submissions" / "cerna_carol" / "ukol5.ipynb"  # misses some


# ------------------------------------------------------------------ the package list


def _catalog_folder(path: Path) -> bool:
    """``grader/locale/<lang>/LC_MESSAGES``: data of the package ``grader.locale``."""
    parts = path.relative_to(REPO / "grader").parts
    return len(parts) >= 2 and parts[0] == "locale"


def _package_folders() -> set[str]:
    root = REPO / "grader"
    folders = {"grader"}
    for path in root.rglob("*"):
        if path.is_dir() and "__pycache__" not in path.parts and not _catalog_folder(path):
            folders.add(".".join(("grader", *path.relative_to(root).parts)))
    return folders


def test_pyproject_lists_every_folder_of_the_package() -> None:
    """``packages`` is a list (find cannot see the mapped data packages): nothing may be missing."""
    mapped = set(SETUPTOOLS["package-dir"])
    listed = set(SETUPTOOLS["packages"]) - mapped
    missing = _package_folders() - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"
    assert listed <= _package_folders(), f"listed but absent: {sorted(listed - _package_folders())}"
    assert mapped == {"grader.bundled.rubrics", "grader.bundled.bands"}
    for folder in SETUPTOOLS["package-dir"].values():
        assert (REPO / folder).is_dir()


def test_the_checkout_reads_the_bundled_files_where_instructors_edit_them() -> None:
    """An editable install (the one the tests run in) cannot map the data packages."""
    assert bundled.checkout_root() == REPO
    assert default_rubric_path() == REPO / "rubrics" / "hw5.yaml"
    assert bundled.rubric_files() == sorted((REPO / "rubrics").glob("*.yaml"))
    assert bundled.bands_folder() == REPO / "reference" / "bands"


# ------------------------------------------------------------------ a clean install


def _base_distributions() -> dict[str, metadata.Distribution]:
    """The distributions ``pip install hw-grader`` (no extra) brings, found in this environment."""
    found: dict[str, metadata.Distribution] = {}
    todo = [(Requirement(r), "") for r in metadata.requires("hw-grader") or []]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        if name in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue  # an optional or platform-specific one this environment lacks
        found[name] = dist
        for wanted in ("", *req.extras):
            todo += [(Requirement(r), wanted) for r in dist.requires or []]
    return found


def _link_dependencies(folder: Path) -> None:
    """A folder of links to the base dependencies' files (and nothing else of this environment)."""
    folder.mkdir()
    for dist in _base_distributions().values():
        site = Path(str(dist.locate_file("")))
        tops = {
            Path(f).parts[0]
            for f in dist.files or []
            if not str(f).startswith("..") and Path(f).parts[0] != "__pycache__"
        }
        for top in tops:
            source = site / top
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)


@dataclass(frozen=True)
class Installed:
    venv: Path
    python: Path
    grader: Path
    wheel: Path


def _run(cmd: list[str | Path], **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1", COLUMNS="200")
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=300, env=env, **kw
    )  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "grader", src / "grader", ignore=ignore)
    for folder in SETUPTOOLS["package-dir"].values():
        shutil.copytree(REPO / folder, src / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip"]
    built = _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", root / "dist", src]
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (root / "dist").glob("hw_grader-*.whl")

    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    done = _run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel])
    assert done.returncode == 0, done.stdout + done.stderr
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    _link_dependencies(root / "deps")
    (site / "base_dependencies.pth").write_text(str(root / "deps") + "\n", encoding="utf-8")
    return Installed(venv, python, venv / "bin" / "grader", wheel)


def test_the_wheel_carries_the_rubric_the_bands_and_the_templates(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for name in (
        "grader/py.typed",
        "grader/bundled/__init__.py",
        "grader/bundled/rubrics/hw5.yaml",
        "grader/bundled/bands/smoke.json",
        "grader/report/templates/selfcheck.html.j2",
        "grader/ci/templates/github.yml.j2",
        "grader/locale/cs/LC_MESSAGES/grader.mo",
    ):
        assert name in names
    assert not any(n.startswith(("rubrics/", "reference/", "tests/")) for n in names)
    folders = {".".join(Path(n).parent.parts) for n in names if n.startswith("grader/")}
    assert _package_folders() <= folders  # every folder of the package, with its files


def test_installed_grader_checks_from_another_folder_as_the_checkout_does(
    installed: Installed,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    shutil.copy(INCOMPLETE, elsewhere / "my_hw5.ipynb")

    probe = _run(
        [
            installed.python,
            "-c",
            "import grader, importlib.util as u; print(grader.__file__); "
            "print(u.find_spec('papermill'), u.find_spec('tensorflow'))",
        ],
        cwd=elsewhere,
    )
    assert probe.returncode == 0, probe.stderr
    where, heavy = probe.stdout.splitlines()
    assert Path(where).is_relative_to(installed.venv)  # not the checkout
    assert heavy == "None None"  # installed without the run extra

    run = _run([installed.grader, "check", "my_hw5.ipynb", "--json"], cwd=elsewhere)
    assert run.returncode == 1, run.stderr  # requirements not met: the same exit code
    monkeypatch.chdir(elsewhere)
    assert main(["check", "my_hw5.ipynb", "--json"]) == 1
    from_checkout = json.loads(capsys.readouterr().out)
    assert json.loads(run.stdout) == from_checkout
    codes = {f["code"] for f in from_checkout["findings"]}
    assert "reference-band" in codes  # compared with the bands the grader comes with

    czech = _run(
        [installed.grader, "check", "my_hw5.ipynb", "--json", "--lang", "cs"], cwd=elsewhere
    )
    doc = json.loads(czech.stdout)  # the catalog ships in the wheel: the texts are Czech
    assert doc["grade"]["language"] == "cs" and any(ch in czech.stdout for ch in "čěřšůž")
    assert [c["status"] for c in doc["grade"]["criteria"]] == [
        c["status"] for c in from_checkout["grade"]["criteria"]
    ]
    assert doc["grade"]["criteria"][0]["title"] != from_checkout["grade"]["criteria"][0]["title"]

    listed = _run([installed.grader, "rubric", "list"], cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^hw5 \(the default\): Homework 5", listed.stdout, re.M)
    path = Path(listed.stdout.split("\n")[1].strip())
    assert path.is_relative_to(installed.venv) and path.name == "hw5.yaml"

    mine = elsewhere / "mine.yaml"
    mine.write_text(path.read_text(encoding="utf-8").replace("max_points: 3", "max_points: 4"))
    custom = _run(
        [installed.grader, "check", "my_hw5.ipynb", "--json", "--rubric", mine], cwd=elsewhere
    )
    assert json.loads(custom.stdout)["grade"]["max_points"] == 4


def test_installed_selfcheck_runs_without_tensorflow(installed: Installed, tmp_path: Path) -> None:
    shutil.copy(GOOD, tmp_path / "my_hw5.ipynb")
    code = (
        "import sys, grader\n"
        "r = grader.selfcheck('my_hw5.ipynb')\n"
        "print(repr(r))\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'papermill', 'IPython') if m in sys.modules))\n"
    )
    run = _run([installed.python, "-c", code], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "[]"
    assert lines[-2].startswith("<SelfCheck my_hw5.ipynb: ") and "requirements met" in lines[-2]
    assert "Points: " in run.stdout  # the terminal summary is printed outside a notebook
