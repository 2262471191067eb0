"""The summaries a student reads after ``grader check`` and ``grader.selfcheck()``: readable at any
width (a CI log, a file, an 80-column terminal: nothing cut), the same content as Markdown, what
to improve first by the points at stake, and the words in Czech or English.

The Czech tests read the project's catalog (``grader/locale``)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from grader import i18n
from grader.grade.result import Advice, CheckReport, Status
from grader.i18n import use_language
from grader.jupyter import _language, run_selfcheck
from grader.jupyter.frontends import NotebookNotFound, Surroundings, locate_notebook
from grader.pipeline import check_notebook
from grader.report.junit import check_junit
from grader.report.markdown import Checked, check_markdown, md_escape, status_text
from grader.report.terminal import choose_layout, print_refused, print_report

REPO = Path(__file__).resolve().parents[1]
#: misses requirements and points: every part of the summary has something to say
INCOMPLETE = REPO / "submissions" / "cerna_carol" / "ukol5.ipynb"
#: meets every requirement, misses a point
BOB = REPO / "submissions" / "brown_bob" / "homework5.ipynb"
TABLE_BORDERS = re.compile("[┃│┏┡└╭]")
#: a word cut short: a letter or digit right before an ellipsis
CUT = re.compile(r"\w…")


@cache
def _report(path: Path = INCOMPLETE) -> CheckReport:
    return check_notebook(path)


def _fresh(path: Path = INCOMPLETE) -> CheckReport:
    return _report(path).model_copy(deep=True)


def _console(width: int, *, terminal: bool) -> Console:
    return Console(
        width=width, file=io.StringIO(), force_terminal=terminal, color_system=None, emoji=False
    )


def _printed(report: CheckReport, width: int = 80, *, terminal: bool = False, **kw: str) -> str:
    console = _console(width, terminal=terminal)
    print_report(console, report, **kw)  # type: ignore[arg-type]
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def _flat(text: str) -> str:
    """The printed text as one line: wrapped lines joined again, indentation gone."""
    return " ".join(text.split())


def _start(title: str, limit: int = 35) -> str:
    """The first words of a title, about ``limit`` characters of them."""
    words, out = title.split(), ""
    for w in words:
        if out and len(out) + 1 + len(w) > limit:
            break
        out = f"{out} {w}".strip()
    return out


# ---------------------------------------------------------------- 80 columns, no terminal


def test_eighty_columns_without_a_terminal_cuts_nothing() -> None:
    report = _report()
    text = _printed(report)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert not TABLE_BORDERS.search(text), "a log or a file gets the stacked layout"
    assert not [line for line in lines if CUT.search(line)], "a word cut short with …"
    flat = _flat(text)
    for m in report.models:
        assert any(m.name in line.split() for line in lines), m.name  # whole, on one line
        assert m.test_accuracy is not None and f"{m.test_accuracy:.4f}" in text
        prov = m.test_accuracy_provenance
        assert prov is not None and f"from cell {prov.cell}" in flat
    for c in report.grade.criteria:
        # each criterion starts its own line: status, points, title
        (line,) = [x for x in lines if _start(c.title) in x and status_text(c.status) in x]
        if c.kind == "points":
            assert f"{c.points}/{c.max_points}" in line
        else:
            assert "required" in line
        assert _flat(c.reason) in flat  # the reason whole, wrapped not cut
        if c.missing and c.status != Status.met:
            assert _flat("→ " + c.missing) in flat  # the fix whole, on its own lines
    fixes = [x for x in lines if x.strip().startswith("→ ")]
    assert fixes and all(x.startswith(" " * 8) for x in fixes)  # indented under the criterion
    assert f"Points: {report.grade.points}/{report.grade.max_points}" in text


def test_a_long_model_name_stays_whole() -> None:
    report = _fresh()
    name = "my_transfer_learning_model_on_mobilenet_v2_with_two_dense_layers_v3"
    report.models[0].name = name
    for width, terminal in ((80, False), (100, True), (140, True), (200, True)):
        text = _printed(report, width, terminal=terminal)
        assert any(name in line for line in text.splitlines()), width  # whole, on one line
        assert not CUT.search(text)
    assert TABLE_BORDERS.search(text)  # wide enough for the tables with the name whole
    narrow = _printed(report, 50)  # longer than the line: folded onto the next, not cut
    assert name not in narrow and name in "".join(narrow.split()) and not CUT.search(narrow)


def test_findings_and_the_refused_get_a_line_each() -> None:
    report = _fresh()
    from grader.evidence import Finding, Severity

    report.findings = [
        Finding(code="a", severity=Severity.warning, message="The first finding says a lot " * 5),
        Finding(code="b", severity=Severity.info, message="The second finding.", cell=7),
    ]
    lines = _printed(report).splitlines()
    (first,) = [x for x in lines if "warning" in x and "The first finding" in x]
    assert any("info" in x and "The second finding. (cell 7)" in x for x in lines)
    assert lines.index(first) < next(i for i, x in enumerate(lines) if "The second" in x)
    console = _console(80, terminal=False)
    print_refused(console, "x.ipynb", "not a notebook (empty file)")
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "x.ipynb: not graded" in out and "not a notebook (empty file)" in out
    assert not TABLE_BORDERS.search(out)


# ---------------------------------------------------------------- which layout


def test_a_wide_terminal_keeps_the_tables() -> None:
    report = _report()
    text = _printed(report, 140, terminal=True)
    assert TABLE_BORDERS.search(text)
    assert "Models trained" in text and "Rubric" in text and "What to improve" in text
    for m in report.models:
        assert m.name in text
    assert not CUT.search(text)


def test_the_layout_follows_the_console_unless_chosen() -> None:
    assert choose_layout(_console(140, terminal=True)) == "wide"
    assert choose_layout(_console(99, terminal=True)) == "stacked"
    assert choose_layout(_console(160, terminal=False)) == "stacked"
    assert choose_layout(_console(60, terminal=False), "wide") == "wide"
    assert choose_layout(_console(140, terminal=True), "stacked") == "stacked"
    report = _report()
    assert not TABLE_BORDERS.search(_printed(report, 160))  # a wide file: still stacked
    assert not TABLE_BORDERS.search(_printed(report, 140, terminal=True, layout="stacked"))
    assert TABLE_BORDERS.search(_printed(report, 120, layout="wide"))


# ---------------------------------------------------------------- what to improve


def _advised() -> CheckReport:
    report = _fresh()
    report.grade.advice = [
        Advice(criterion="hygiene", points=0, text="Restart and run all cells.", cells=[]),
        Advice(criterion="variants", points=2, text="Fine-tune the top blocks.", cells=[12]),
        Advice(criterion="summary", points=1, text="Plot the validation curves.", cells=[3, 4]),
    ]
    return report


def test_what_to_improve_comes_most_points_first_with_its_cells() -> None:
    for text in (_flat(_printed(_advised())), _flat(_printed(_advised(), 140, terminal=True))):
        assert "What to improve" in text
        first = text.index("To get the next point: Fine-tune the top blocks. (cell 12)")
        second = text.index("Plot the validation curves. (cells 3, 4)")
        third = text.index("Restart and run all cells.")
        assert first < second < third
        assert "2 points at stake" in text and "1 point at stake" in text
    markdown = check_markdown([Checked("a.ipynb", _advised())])
    items = [line for line in markdown.splitlines() if re.match(r"\d+\. ", line)]
    assert items[0].startswith("1. **To get the next point**: Fine-tune the top blocks. (cell 12)")
    assert items[1].startswith("2. Plot the validation curves. (cells 3, 4)")
    assert items[2].startswith("3. Restart and run all cells.")


def test_no_heading_when_the_first_item_is_worth_no_point() -> None:
    report = _fresh()
    report.grade.advice = [Advice(criterion="x", points=0, text="Save with outputs.", cells=[])]
    text = _printed(report)
    assert "Save with outputs." in text and "To get the next point" not in text


def test_without_advice_the_criteria_say_what_is_missing() -> None:
    report = _fresh()
    report.grade.advice = []
    flat = _flat(_printed(report))
    section = flat[flat.index("What to improve") : flat.index("Points:")]
    missing = [c for c in report.grade.criteria if c.status == Status.not_met and c.missing]
    assert missing
    for c in missing:
        assert _flat(c.missing or "") in section
    worth = [c for c in missing if c.kind == "points"]
    assert section.index(_flat(worth[0].missing or "")) < section.index(
        _flat(next(c for c in missing if c.kind == "requirement").missing or "")
    )
    assert section.startswith("What to improve 1. To get the next point: ")


# ---------------------------------------------------------------- Markdown


def test_markdown_is_headings_and_lists_with_the_same_content() -> None:
    report = _report()
    text = check_markdown([Checked("ukol5.ipynb", report), Checked("x.ipynb", error="empty")])
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [
        (tok.tag, tokens[i + 1].content)
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open"
    ]
    assert headings[0] == ("h3", "ukol5.ipynb: 0/3 points, requirements not all met")
    h4 = [content for tag, content in headings if tag == "h4"]
    assert h4[:3] == ["Models trained", "Rubric", "What to improve"]
    assert ("h3", "x.ipynb: not graded") in headings
    types = {tok.type for tok in tokens}
    assert {"bullet_list_open", "ordered_list_open", "list_item_open"} <= types
    assert "table_open" not in types
    items = [tok.content for tok in tokens if tok.type == "inline"]
    for m in report.models:
        assert any(md_escape(m.name) in item and m.id in item for item in items), m.name
        assert any(f"{m.test_accuracy:.4f} from cell" in item for item in items)
    for c in report.grade.criteria:
        assert any(item.endswith(f"**{md_escape(c.title)}**") for item in items), c.title
    assert text.rstrip().endswith("**1 notebook(s) graded, 0 meet every requirement, 1 refused**")


# ---------------------------------------------------------------- the self-check's language


def test_selfcheck_speaks_the_language_asked_for(tmp_path: Path) -> None:
    env = Surroundings(cwd=REPO)
    english = run_selfcheck(INCOMPLETE, env=env, lang="en")
    assert english.language == "en" and 'lang="en"' in english.html
    assert "What to do next" in english.html
    unknown = run_selfcheck(INCOMPLETE, env=env, lang="de")
    assert unknown.report is None and unknown.problem and "'de'" in unknown.problem


def test_selfcheck_language_comes_from_grader_lang_then_the_rubric(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Declared:
        language = "cs"

    for name in ("GRADER_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert _language(None, None) == "en"
    assert _language(None, Declared()) == "cs"  # type: ignore[arg-type]
    assert _language("en", Declared()) == "en"  # type: ignore[arg-type]
    monkeypatch.setenv("GRADER_LANG", "en")
    assert _language(None, Declared()) == "en"  # type: ignore[arg-type]


def test_junit_says_what_to_do() -> None:
    root = ET.fromstring(check_junit([Checked("ukol5.ipynb", _report())]))
    failures = [f.text or "" for f in root.iter("failure")]
    assert failures and any("\nTo do: " in f for f in failures)


# ---------------------------------------------------------------- in Czech


@pytest.fixture
def czech() -> Iterator[str]:
    i18n._catalog.cache_clear()
    with use_language("cs") as language:
        yield language
    i18n._catalog.cache_clear()


@pytest.mark.usefixtures("czech")
def test_the_stacked_summary_in_czech() -> None:
    report = _advised()
    text = _printed(report)
    assert f"Body: {report.grade.points}/{report.grade.max_points}" in text
    for czech_word in ("Natrénované modely", "Co zlepšit", "testovací přesnost", "Pro další bod"):
        assert czech_word in _flat(text), czech_word
    for english in ("Models trained", "What to improve", "Points:", "Rubric"):
        assert english not in text, english
    assert not [x for x in text.splitlines() if x.strip().startswith("test accuracy:")]
    assert not [line for line in text.splitlines() if CUT.search(line) or len(line) > 80]
    lines = text.splitlines()
    for c in report.grade.criteria:
        assert [x for x in lines if _start(c.title) in x and status_text(c.status) in x]


@pytest.mark.usefixtures("czech")
def test_the_wide_summary_markdown_and_junit_in_czech() -> None:
    report = _report()
    wide = _printed(report, 140, terminal=True)
    assert "Natrénované modely" in wide and "Models trained" not in wide
    markdown = check_markdown([Checked("ukol5.ipynb", report), Checked("x.ipynb", error="e")])
    assert "#### Hodnoticí kritéria" in markdown and "#### Rubric" not in markdown
    assert "### x.ipynb: nehodnoceno" in markdown
    assert "**Body: 0/3**" in markdown and "Points" not in markdown
    junit = check_junit([Checked("ukol5.ipynb", report)])
    assert "Co udělat: " in junit and "To do:" not in junit


@pytest.mark.usefixtures("czech")
def test_the_self_check_in_czech(tmp_path: Path) -> None:
    result = run_selfcheck(INCOMPLETE, env=Surroundings(cwd=REPO), lang="cs")
    assert result.language == "cs" and 'lang="cs"' in result.html
    assert "Co udělat dál" in result.html and "Nalezené modely" in result.html
    assert "What to do next" not in result.html and "Models found" not in result.html
    console = _console(80, terminal=False)
    result.print(console)
    assert "Body: " in console.file.getvalue()  # type: ignore[attr-defined]
    with pytest.raises(NotebookNotFound, match="Mimo notebook"):
        locate_notebook(None, Surroundings(cwd=tmp_path))


def test_the_self_check_in_czech_without_a_notebook(tmp_path: Path) -> None:
    i18n._catalog.cache_clear()
    result = run_selfcheck(None, env=Surroundings(cwd=tmp_path), lang="cs")
    assert result.problem is not None and "Mimo notebook" in result.problem
    assert "Kontrolu nebylo možné spustit." in result.html
    assert result.language == "cs" and "nelze spustit" in repr(result)
