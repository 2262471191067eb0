"""``grader batch --static`` end to end: the real static pipeline, the CLI, the outputs."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from grader.cli.batch import register
from tests.test_batch_support import realistic_notebook

ROSTER = """student_id,name,hw4,consultation
xnovak,Jan Novák,no,yes
xsvob,Petra Svobodová,yes,yes
xdvor,Karel Dvořák,yes,yes
"""


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """grader"""

    register(app)
    return app


@pytest.fixture
def class_folder(tmp_path: Path) -> Path:
    cls = tmp_path / "class"
    cls.mkdir()
    realistic_notebook().write(cls / "novak_jan_hw5.ipynb")
    realistic_notebook((0.55, 0.6, 0.7), variants=False).write(cls / "svobodova.ipynb")
    (tmp_path / "roster.csv").write_text(ROSTER)
    return cls


def test_static_batch_through_the_cli(tmp_path: Path, class_folder: Path) -> None:
    out = tmp_path / "reports"
    args = ["batch", str(class_folder), "--static", "--roster", str(tmp_path / "roster.csv")]
    result = CliRunner().invoke(_app(), [*args, "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "dashboard:" in result.output and "index.html" in result.output
    with (out / "gradebook.csv").open(newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert rows["xnovak"]["status"] == "graded" and rows["xnovak"]["points"] == "3"
    assert rows["xsvob"]["status"] == "graded" and rows["xsvob"]["points"] == "1"
    assert rows["xdvor"]["status"] == "missing"
    report = (out / "submissions" / "xnovak" / "report.html").read_text()
    assert "MobileNetV2" in report and "fine-tuned" in report
    assert report.count("<img ") >= 6  # curves and matrices redrawn from the evidence

    again = CliRunner().invoke(_app(), [*args, "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "0 graded now, 2 already done" in again.output


def test_failed_submissions_give_exit_code_1(tmp_path: Path, class_folder: Path) -> None:
    (class_folder / "dvorak.ipynb").write_text("not a notebook")
    result = CliRunner().invoke(
        _app(),
        [
            "batch",
            str(class_folder),
            "--static",
            "--roster",
            str(tmp_path / "roster.csv"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "1 failed" in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--static", "--profile", "smoke"], "exclude each other"),
        (["--static", "--roster", "/no/such/roster.csv"], "cannot read the roster"),
        (["--profile", "smoke", "--sandbox", "jail"], "choose one of auto, bwrap"),
        (["--profile", "smoke", "--memory", "lots"], "is not a size"),
        (["--profile", "smoke", "--memory", "1M"], "at least 64M"),
        (["--static", "--bands", "/no/such/bands"], "no such band file or folder"),
        (["--profile", "smoke", "--timeout-cell", "0"], "expected a positive number of seconds"),
    ],
)
def test_bad_input_gives_exit_code_2(
    tmp_path: Path, class_folder: Path, extra: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        _app(), ["batch", str(class_folder), "--out", str(tmp_path / "out"), *extra]
    )
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_missing_source_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["batch", str(tmp_path / "nope"), "--static", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "no such file or folder" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_smoke_profile_batch_runs_each_notebook_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("papermill")
    from tests.notebooks_exec import raises_halfway, save, three_models

    monkeypatch.setenv("GRADER_HOME", str(tmp_path / "home"))
    cls = tmp_path / "class"
    cls.mkdir()
    save(three_models(), cls / "alice.ipynb")
    save(raises_halfway(), cls / "bob.ipynb")
    out = tmp_path / "out"
    args = ["batch", str(cls), "--profile", "smoke", "--workers", "2", "--out", str(out)]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    with (out / "gradebook.csv").open(newline="") as fh:
        rows = {r["name"]: r for r in csv.DictReader(fh)}
    assert rows["alice"]["status"] == "graded"
    assert rows["bob"]["status"] == "run-failed" and "NameError" in rows["bob"]["note"]
    for student in ("alice", "bob"):
        folder = out / "submissions" / student
        report = (folder / "report.html").read_text()
        links = re.findall(r'href="(run/[^"]+)"', report)
        assert any(link.endswith(".executed.ipynb") for link in links)
        assert all((folder / link).is_file() for link in links)
    assert "The run stopped" in (out / "submissions" / "bob" / "report.html").read_text()
    again = CliRunner().invoke(_app(), args)
    assert again.exit_code == 0 and "0 graded now, 2 already done" in again.output
