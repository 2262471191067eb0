"""``grader ci init``: the workflows parse, and their shell steps run for real in a small repository.

The install step (GitHub: ``id: install``; GitLab: ``before_script``) is the
only one that reaches the network, so it is the one step left out: the grader
of this environment is on ``PATH`` instead. The reference job's step runs with
a stand-in ``grader`` that records its arguments (the real one executes the
reference notebooks with TensorFlow for minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.ci import PROVIDERS, CiOptions, run_pip_spec, workflow_text
from grader.cli import main

REPO = Path(__file__).resolve().parents[1]
GOOD = REPO / "submissions" / "novakova_alice" / "hw5.ipynb"  # meets every requirement
INCOMPLETE = REPO / "submissions" / "cerna_carol" / "ukol5.ipynb"  # misses some
BIN = Path(sys.executable).parent


def _github(options: CiOptions) -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load(workflow_text("github", options))
    return doc


def _gitlab(options: CiOptions) -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load(workflow_text("gitlab", options))
    return doc


@pytest.fixture
def course_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "hw5-student"
    (repo / "notebooks").mkdir(parents=True)
    shutil.copy(GOOD, repo / "notebooks" / "hw5.ipynb")
    shutil.copy(INCOMPLETE, repo / "draft.ipynb")
    (repo / ".ipynb_checkpoints").mkdir()
    (repo / ".ipynb_checkpoints" / "draft-checkpoint.ipynb").write_text("{}")
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def _run(
    script: str, shell: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GITHUB_"))}
    base.update(env)
    base["PATH"] = f"{env.get('PATH_FIRST', BIN)}{os.pathsep}{os.environ.get('PATH', '')}"
    base["COLUMNS"] = "120"
    return subprocess.run(
        [*shell, script], cwd=cwd, env=base, capture_output=True, text=True, timeout=180
    )


def _github_steps(doc: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = doc["jobs"][job]["steps"]
    return steps


# ---------------------------------------------------------------- the files


@pytest.mark.parametrize("reference", [False, True])
def test_github_workflow_parses(reference: bool) -> None:
    doc = _github(CiOptions(reference=reference))
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(on) == {"push", "pull_request", "workflow_dispatch"}
    assert doc["env"]["GRADER_PIP_SPEC"] == "hw-grader"
    assert doc["env"]["GRADER_FAIL_ON_MISSING"] == "true"
    assert set(doc["jobs"]) == ({"check", "reference"} if reference else {"check"})
    steps = _github_steps(doc, "check")
    installs = [s for s in steps if "pip install" in s.get("run", "")]
    assert [s["id"] for s in installs] == ["install"]  # the one step that reaches the network
    assert any(s.get("uses", "").startswith("actions/setup-python") for s in steps)
    if reference:
        ref = _github_steps(doc, "reference")
        assert ref[-1]["run"] == "grader reference verify --profile smoke"
        assert doc["jobs"]["reference"]["env"]["GRADER_RUN_PIP_SPEC"] == "hw-grader[run]"


@pytest.mark.parametrize("reference", [False, True])
def test_gitlab_pipeline_parses_with_a_junit_report(reference: bool) -> None:
    doc = _gitlab(CiOptions(reference=reference))
    job = doc["grader-check"]
    assert job["artifacts"]["reports"]["junit"] == "grader-junit.xml"
    assert job["artifacts"]["when"] == "always"
    assert job["before_script"] == ['python -m pip install "$GRADER_PIP_SPEC"']
    assert not any("pip install" in s for s in job["script"])
    assert doc["variables"]["GRADER_NOTEBOOKS"] == "."
    assert ("grader-reference" in doc) is reference
    if reference:
        assert doc["grader-reference"]["script"] == ["grader reference verify --profile smoke"]


def test_values_are_quoted_so_yaml_reads_them_back() -> None:
    odd = CiOptions(
        pip_spec="hw-grader @ git+https://example.org/course/grader.git@v1#egg=x",
        notebooks="hw5/ notebooks/*.ipynb",
        check_options="--no-hw4 --rubric 'my: rubric.yaml'",
        python="3.12",
    )
    for doc, env in ((_github(odd), "env"), (_gitlab(odd), "variables")):
        assert doc[env]["GRADER_PIP_SPEC"] == odd.pip_spec
        assert doc[env]["GRADER_NOTEBOOKS"] == odd.notebooks
        assert doc[env]["GRADER_CHECK_OPTIONS"] == odd.check_options
    assert _gitlab(odd)["grader-check"]["image"] == "python:3.12"


def test_run_pip_spec_adds_the_run_extra() -> None:
    assert run_pip_spec("hw-grader") == "hw-grader[run]"
    assert run_pip_spec("hw-grader==0.1.0") == "hw-grader[run]==0.1.0"
    assert run_pip_spec("hw-grader[cluster]>=0.1") == "hw-grader[cluster,run]>=0.1"
    assert run_pip_spec("git+https://h/x.git@main") == "hw-grader[run] @ git+https://h/x.git@main"
    assert run_pip_spec("./dist/hw_grader-0.1.0-py3-none-any.whl").endswith(".whl[run]")


# ---------------------------------------------------------------- the steps, for real


def test_github_check_step_fails_on_a_missing_requirement_and_writes_the_summary(
    course_repo: Path, tmp_path: Path
) -> None:
    doc = _github(CiOptions())
    (step,) = [s for s in _github_steps(doc, "check") if s.get("id") == "check"]
    assert step["shell"] == "bash"
    summary = tmp_path / "summary.md"
    env = {**doc["env"], "GITHUB_STEP_SUMMARY": str(summary)}
    run = _run(
        step["run"], ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"], course_repo, env
    )
    assert run.returncode == 1, run.stderr
    text = summary.read_text(encoding="utf-8")
    assert "### notebooks/hw5.ipynb: 2/3 points, requirements met" in text
    assert "### draft.ipynb: 0/3 points, requirements not all met" in text
    assert "2 notebook(s) graded, 1 meet every requirement" in text
    assert "checkpoint" not in text
    assert text in run.stdout  # the log shows it too


def test_github_warn_only_passes_with_a_warning(course_repo: Path, tmp_path: Path) -> None:
    doc = _github(CiOptions(fail_on_missing=False, check_options="--no-hw4"))
    (step,) = [s for s in _github_steps(doc, "check") if s.get("id") == "check"]
    summary = tmp_path / "summary.md"
    env = {**doc["env"], "GITHUB_STEP_SUMMARY": str(summary)}
    run = _run(
        step["run"], ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"], course_repo, env
    )
    assert run.returncode == 0, run.stderr
    assert "::warning::Some notebooks do not meet every requirement" in run.stdout
    assert "hw5.ipynb: 3/3 points" in summary.read_text(encoding="utf-8")  # --no-hw4 passed on


def test_github_check_step_without_notebooks_says_so(tmp_path: Path) -> None:
    doc = _github(CiOptions())
    (step,) = [s for s in _github_steps(doc, "check") if s.get("id") == "check"]
    summary = tmp_path / "summary.md"
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**doc["env"], "GITHUB_STEP_SUMMARY": str(summary)}
    run = _run(step["run"], ["bash", "-eo", "pipefail", "-c"], empty, env)
    assert run.returncode == 2
    assert "could not check the notebooks (exit code 2)" in summary.read_text(encoding="utf-8")
    assert "no notebooks" in run.stderr


def test_gitlab_script_writes_the_junit_report(course_repo: Path) -> None:
    doc = _gitlab(CiOptions())
    job = doc["grader-check"]
    script = "\n".join(job["script"])
    run = _run(script, ["sh", "-e", "-c"], course_repo, dict(doc["variables"]))  # POSIX sh
    assert run.returncode == 1, run.stderr
    for artifact in (*job["artifacts"]["paths"], job["artifacts"]["reports"]["junit"]):
        assert (course_repo / artifact).is_file()
    root = ET.parse(course_repo / "grader-junit.xml").getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"draft.ipynb", "notebooks/hw5.ipynb"}
    assert int(suites["draft.ipynb"].get("failures", 0)) > 0
    failed = suites["notebooks/hw5.ipynb"].findall("testcase/failure")
    assert all(f.get("type") == "points-not-earned" for f in failed)  # requirements all met


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_reference_step_runs_grader_reference_verify(provider: str, tmp_path: Path) -> None:
    fake = tmp_path / "fakebin"
    fake.mkdir()
    record = tmp_path / "argv.txt"
    (fake / "grader").write_text(f'#!/bin/sh\necho "$@" > "{record}"\n')
    (fake / "grader").chmod(0o755)
    options = CiOptions(reference=True)
    if provider == "github":
        doc = _github(options)
        script = _github_steps(doc, "reference")[-1]["run"]
        env = {**doc["env"], **doc["jobs"]["reference"]["env"]}
    else:
        doc = _gitlab(options)
        script = "\n".join(doc["grader-reference"]["script"])
        env = {**doc["variables"], **doc["grader-reference"]["variables"]}
    run = _run(script, ["bash", "-e", "-c"], tmp_path, {**env, "PATH_FIRST": str(fake)})
    assert run.returncode == 0, run.stderr
    assert record.read_text().split() == ["reference", "verify", "--profile", "smoke"]


# ---------------------------------------------------------------- the command


def test_ci_init_writes_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["ci", "init", "--github", "--gitlab", "--repo", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    for provider in PROVIDERS.values():
        assert (tmp_path / provider.path).is_file()
        assert provider.path in out
    gh = tmp_path / PROVIDERS["github"].path
    gh.write_text("# mine\n")
    assert main(args) == 2
    assert "--force" in capsys.readouterr().out
    assert gh.read_text() == "# mine\n"  # nothing was written
    assert main([*args, "--force", "--warn-only", "--check-options=--no-hw4"]) == 0
    written = yaml.safe_load(gh.read_text())
    assert written["env"]["GRADER_FAIL_ON_MISSING"] == "false"
    assert written["env"]["GRADER_CHECK_OPTIONS"] == "--no-hw4"
    assert "grader ci init --github --warn-only" in gh.read_text()


def test_ci_init_needs_a_service_and_can_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ci", "init", "--repo", str(tmp_path)]) == 2
    assert "--github or --gitlab" in capsys.readouterr().out
    assert main(["ci", "init", "--gitlab", "--print", "--repo", str(tmp_path)]) == 0
    assert "grader-check" in yaml.safe_load(capsys.readouterr().out)
    assert not list(tmp_path.iterdir())
