"""``grader check --format markdown`` and ``--junit FILE`` (for CI), and ``grader rubric list``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.pipeline import check_notebook
from grader.report.junit import check_junit
from grader.report.markdown import Checked, check_markdown, md_escape
from tests.scenarios import keras3_complete, misleading_heading


def _write(tmp_path: Path, name: str, builder) -> Path:  # type: ignore[no-untyped-def]
    nb, _ = builder()
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def test_md_escape_keeps_student_text_from_becoming_markup() -> None:
    assert md_escape("model_a | <script>x</script> *b* [l](u)") == (
        "model\\_a \\| \\<script\\>x\\</script\\> \\*b\\* \\[l\\](u)"
    )
    assert md_escape("two\nlines") == "two<br>lines"
    assert md_escape("") == ""


def test_markdown_says_what_the_terminal_says(tmp_path: Path) -> None:
    report = check_notebook(_write(tmp_path, "bob.ipynb", misleading_heading))
    text = check_markdown([Checked("bob.ipynb", report)], totals=False)
    assert text.startswith("### bob.ipynb: ")
    assert "#### Models trained" in text and "#### Rubric" in text
    assert f"**Points: {report.grade.points}/{report.grade.max_points}**" in text
    lines = text.splitlines()
    for c in report.grade.criteria:  # one list item per criterion, with its status
        (item,) = [line for line in lines if line.endswith(f"**{md_escape(c.title)}**")]
        assert item.startswith("- ")
        if c.missing and c.status.value != "met":
            assert md_escape(c.missing) in text
    assert "❌ not met" in text
    assert not [line for line in lines if line.startswith("| ")]  # lists, no tables
    assert "notebook(s) graded" not in text


def test_markdown_of_several_notebooks_ends_with_the_totals(tmp_path: Path) -> None:
    report = check_notebook(_write(tmp_path, "a.ipynb", keras3_complete))
    text = check_markdown(
        [Checked("a.ipynb", report), Checked("b.ipynb", error="b.ipynb: not a notebook (empty)")]
    )
    assert "### b.ipynb: not graded" in text
    assert text.rstrip().endswith("**1 notebook(s) graded, 1 meet every requirement, 1 refused**")


def test_junit_has_a_case_per_requirement_and_criterion(tmp_path: Path) -> None:
    good = check_notebook(_write(tmp_path, "good.ipynb", keras3_complete))
    bad = check_notebook(_write(tmp_path, "bad.ipynb", misleading_heading))
    xml = check_junit(
        [Checked("good.ipynb", good), Checked("bad.ipynb", bad), Checked("x.ipynb", None, "empty")]
    )
    root = ET.fromstring(xml)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["good.ipynb", "bad.ipynb", "x.ipynb"]
    n = len(good.grade.criteria)
    assert [int(s.get("tests", 0)) for s in suites] == [n, n, 1]
    assert root.get("tests") == str(2 * n + 1)
    failed = [c for c in suites[1].iter("testcase") if c.find("failure") is not None]
    not_met = [c for c in bad.grade.criteria if c.status.value == "not_met"]
    assert len(failed) == len(not_met) == int(suites[1].get("failures", 0))
    assert suites[2].find("testcase/error") is not None and root.get("errors") == "1"
    names = [c.get("name") for c in suites[0].iter("testcase")]
    assert names[0].startswith("requirement ") and any(x.startswith("points ") for x in names)


def test_junit_survives_control_characters() -> None:
    xml = check_junit([Checked("a\x07b.ipynb", None, "bad \x00 byte")])
    assert ET.fromstring(xml).find("testsuite").get("name") == "a\ufffdb.ipynb"  # type: ignore[union-attr]


def test_check_format_markdown_and_junit_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "good.ipynb", keras3_complete)
    _write(tmp_path, "bad.ipynb", misleading_heading)
    junit = tmp_path / "out" / "junit.xml"
    code = main(["check", str(tmp_path), "--format", "markdown", "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    headings = [line for line in out.splitlines() if line.startswith("### ")]
    assert len(headings) == 2 and "notebook(s) graded, 1 meet every requirement" in out
    assert "╭" not in out  # no terminal panel
    assert len(ET.parse(junit).getroot().findall("testsuite")) == 2


def test_check_format_json_is_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "good.ipynb", keras3_complete)
    assert main(["check", str(path), "--format", "json", "--no-hw4"]) == 0
    assert json.loads(capsys.readouterr().out)["grade"]["points"] == 3


def test_json_and_another_format_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "good.ipynb", keras3_complete)
    assert main(["check", str(path), "--json", "--format", "markdown"]) == 2
    assert "give one" in capsys.readouterr().err


def test_junit_file_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "good.ipynb", keras3_complete)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["check", str(path), "--junit", str(blocker / "junit.xml")]) == 2
    assert "--junit" in capsys.readouterr().out


def test_rubric_list_shows_the_bundled_rubric(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rubric", "list"]) == 0
    out = capsys.readouterr().out
    assert "hw5 (the default): Homework 5" in out
    assert str(Path(__file__).resolve().parents[1] / "rubrics" / "hw5.yaml") in out
    assert "--rubric FILE" in out
