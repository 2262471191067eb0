"""The HTML pages, the exports and the LMS feedback in Czech and in English.

The student report, the class dashboard and the similarity page say every word
of their own in the language in use (``<html lang>`` included) and none in the
other; what the student wrote and what the data says is left as it is. The
"What to improve" list follows the grade's advice, the most points at stake
first, the LMS feedback in the same order. What scripts read (CSV headers,
flags, codes, JSON keys) stays English in every language.

Czech pages are also opened in headless Chromium (skipped without
``/usr/bin/chromium``); ``GRADER_SCREENSHOTS=<folder>`` keeps the screenshots.
"""

from __future__ import annotations

import csv
import html as htmlmod
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from grader.grade.result import Advice, CheckReport
from grader.i18n import _, use_language
from grader.report.exports import GRADEBOOK_COLUMNS, gradebook_csv, gradescope_results
from grader.report.html import render_dashboard, render_student_report
from grader.report.lms.feedback import feedback_for
from grader.report.results import ClassResults, JobResult
from grader.report.similarity import render_similarity
from grader.report.student import feedback_items
from tests.test_batch_exports import _class
from tests.test_batch_support import make_report

babel_extract = pytest.importorskip("babel.messages.extract")

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "grader" / "report"
TEMPLATES = ["report.html.j2", "dashboard.html.j2", "similarity.html.j2"]
MODULES = ["student.py", "dashboard.py", "similarity.py", "words.py", "decisions.py", "plots.py"]
TITLE = "Homework 5: transfer learning and advanced CNN architectures"
#: words the same in both languages
SAME_IN_CZECH = {"Notebook A", "Notebook B"}


def _marked() -> set[str]:
    """The English messages the pages and their view builders mark (every form)."""
    found: set[str] = set()

    def add(message: str | tuple[str | None, ...]) -> None:
        forms = (message,) if isinstance(message, str) else message
        found.update(f for f in forms if f)

    for name in MODULES:
        for _line, message, _c, _ctx in babel_extract.extract_from_file("python", REPORT / name):
            add(message)
    for name in TEMPLATES:
        for _line, message, _c, _ctx in babel_extract.extract_from_file(
            "jinja2.ext:babel_extract",
            REPORT / "templates" / name,
            options={"extensions": "jinja2.ext.i18n", "trim_blocks": "1", "lstrip_blocks": "1"},
        ):
            add(message)
    return found


def _labels() -> list[str]:
    """Marked headings and labels of two words or more, without placeholders or markup."""
    return sorted(
        m
        for m in _marked()
        if len(m.split()) >= 2
        and not re.search(r"\{\w+\}|%\(\w+\)|<", m)
        and m not in SAME_IN_CZECH
    )


def _visible(page: str) -> str:
    """The text a reader sees, element by element: the body without scripts and styles, and
    the alt, title, placeholder and aria-label attributes."""
    text = re.sub(r"<(script|style|head)\b.*?</\1>", " ", page, flags=re.DOTALL)
    attrs = re.findall(r'\s(?:alt|title|placeholder|aria-label)="([^"]*)"', text)
    # each element's text on its own: a heading does not run into the next one
    text = re.sub(r"<[^>]+>", " ¦ ", text) + " ¦ " + " ¦ ".join(attrs)
    return re.sub(r"\s+", " ", htmlmod.unescape(text))


def _data_of(reports: Iterable[CheckReport | None]) -> list[str]:
    """What the grade and the evidence say in their own words (not the page's)."""
    data: list[str] = []
    for r in reports:
        if r is None:
            continue
        g = r.grade
        data += [c.title for c in g.criteria] + [c.reason for c in g.criteria]
        data += [c.missing for c in g.criteria if c.missing]
        data += g.notes + [a.text for a in g.advice] + [f.message for f in r.findings]
        for m in r.models:
            data += m.kind_reasons + m.stage_change
        for o in g.overrides:
            data += [o.title, o.reason, o.note or ""]
    return sorted((d for d in data if d), key=len, reverse=True)


def _english_left(page: str, data: list[str]) -> list[str]:
    text = _visible(page)
    for d in data:
        if d.strip():
            text = text.replace(d, " ")
    return [m for m in _labels() if re.search(rf"(?<!\w){re.escape(m)}(?!\w)", text)]


def _advised() -> CheckReport:
    report = make_report(summary=False)
    report.grade.advice = [
        Advice(
            criterion="summary",
            points=2,
            text="Write a summary that compares the models.",
            cells=[29],
        ),
        Advice(criterion="variants", points=1, text="Discuss the fine-tuned variant.", cells=[]),
        Advice(
            criterion="curves",
            points=0,
            text="Label the axes of the curves.",
            cells=[4, 8],
        ),
    ]
    return report


def _student_page(report: CheckReport | None = None) -> str:
    return render_student_report(
        report=report or _advised(),
        result=JobResult(submission="x", state="done", status="graded", points=0, max_points=3),
        rubric_title=TITLE,
        generated="2025-11-18 08:00",
    )


def _feedback_list(page: str) -> list[str]:
    section = page[page.index('id="feedback"') :]
    section = section[: section.index("</ol>")]
    return [
        re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", "", li))).strip()
        for li in re.findall(r"<li[^>]*>(.*?)</li>", section, flags=re.DOTALL)
    ]


# ------------------------------------------------------------------ the student report


def test_the_pages_mark_their_words() -> None:
    labels = _labels()
    assert len(labels) > 100
    assert {"What to improve", "Models compared", "Distribution of points"} <= set(labels)


def test_student_report_in_english() -> None:
    page = _student_page()
    assert '<html lang="en">' in page
    for heading in (
        "What to improve",
        "Rubric",
        "Models compared",
        "Reproducibility and integrity",
    ):
        assert f"<h2>{heading}" in page


def test_student_report_in_czech() -> None:
    report = _advised()
    with use_language("cs"):
        page = _student_page(report)
    assert '<html lang="cs">' in page
    for heading in (
        "Co zlepšit",
        "Hodnoticí kritéria",
        "Porovnání modelů",
        "Reprodukovatelnost a integrita",
    ):
        assert f"<h2>{heading}" in page, heading
    assert "Písemné shrnutí" in page and "Křivky učení a matice záměn" in page
    assert "vytvořil grader" in page
    left = _english_left(page, _data_of([report]))
    assert not left, f"English left on the Czech page: {left}"
    # the check sees English where there is some
    assert len(_english_left(_student_page(report), _data_of([report]))) > 30


def test_the_advice_leads_the_list_most_points_first() -> None:
    items = _feedback_list(_student_page())
    assert items[:3] == [
        "To get the next point: Write a summary that compares the models. (cell 29)",
        "Discuss the fine-tuned variant.",
        "Label the axes of the curves. (cells 4, 8)",
    ]
    # the integrity finding still follows the advice
    assert any("Xception" in i for i in items[3:])
    # the same order and words in one line each (the notebook's report, the LMS)
    assert feedback_items(_advised())[:3] == items[:3]
    with use_language("cs"):
        czech = _feedback_list(_student_page())
    assert czech[0] == "Pro další bod: Write a summary that compares the models. (buňka 29)"
    assert czech[2] == "Label the axes of the curves. (buňky 4, 8)"


def test_without_points_at_stake_the_list_has_no_heading() -> None:
    report = _advised()
    report.grade.advice = [report.grade.advice[2]]
    items = _feedback_list(_student_page(report))
    assert items[0] == "Label the axes of the curves. (cells 4, 8)"
    assert not any("next point" in i for i in items)


def test_without_advice_the_list_names_the_missing_criteria() -> None:
    report = _advised()
    report.grade.advice = []
    items = _feedback_list(_student_page(report))
    assert items[0].startswith("Written summary") and "next point" not in items[0]


def test_a_submission_that_could_not_be_graded_is_told_what_to_do_in_czech() -> None:
    with use_language("cs"):
        page = render_student_report(
            report=None,
            result=JobResult(
                submission="x",
                state="failed",
                status="not-a-notebook",
                reason="hw5.pdf: not JSON",
                max_points=3,
            ),
            rubric_title=TITLE,
        )
    assert "není notebook" in page and "Odevzdejte samotný soubor .ipynb" in page
    assert "hw5.pdf: not JSON" in page


# ------------------------------------------------------------------ the dashboard


def _decided() -> tuple[ClassResults, object]:
    from tests.test_browser import _decided_class

    results, similarity = _decided_class()
    assert isinstance(results, ClassResults)
    return results, similarity


def test_dashboard_in_english_and_czech() -> None:
    results, similarity = _decided()
    kwargs = {"generated": "2025-11-20 10:20", "similarity": similarity}
    english = render_dashboard(results, **kwargs)  # type: ignore[arg-type]
    assert '<html lang="en">' in english and "<h2>Students" in english
    with use_language("cs"):
        page = render_dashboard(results, **kwargs)  # type: ignore[arg-type]
    assert '<html lang="cs">' in page
    for heading in (
        "Studenti",
        "Rozložení bodů",
        "Nejčastěji nesplněná kritéria",
        "Rozhodnuto ručně",
    ):
        assert f"<h2>{heading}" in page, heading
    assert "Přehled třídy" in page and "stojí za pohled" in page
    # the flags are codes in the markup (CSS, sorting) and words on the page
    assert 'class="flag unknown-submitter">neznámý odevzdávající<' in page
    data = _data_of(r.report for r in results.rows)
    data += [r.name for r in results.rows] + [r.reason or "" for r in results.rows]
    data += [p.message for p in results.intake.problems]
    for pair in similarity.pairs:  # type: ignore[attr-defined]
        data += pair.reasons
    data = sorted(data, key=len, reverse=True)
    left = _english_left(page, data)
    assert not left, f"English left on the Czech dashboard: {left}"
    assert len(_english_left(english, data)) > 30


def test_similarity_page_in_czech() -> None:
    _, similarity = _decided()
    with use_language("cs"):
        page = render_similarity(similarity)  # type: ignore[arg-type]
    assert '<html lang="cs">' in page
    assert "<h2>Jak tuto stránku číst" in page and "Podobnost v rámci třídy" in page
    assert 'data-level="worth a look"' in page  # the level's code stays
    data = [r for p in similarity.pairs for r in p.reasons]  # type: ignore[attr-defined]
    left = _english_left(page, data + ["Alice Adams"])
    assert not left, f"English left on the Czech similarity page: {left}"


# ------------------------------------------------------------------ exports and the LMS


def test_gradebook_keeps_its_columns_and_codes_and_speaks_in_its_notes() -> None:
    with use_language("cs"):
        results, _reports = _class()
        text = gradebook_csv(results)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == GRADEBOOK_COLUMNS
    assert rows[0]["counted"] == "yes" and rows[1]["counted"] == "no"
    assert rows[3]["status"] == "missing" and rows[3]["note"] == "nic neodevzdáno"
    assert "unknown-submitter" in rows[4]["flags"]


def test_gradescope_output_speaks_the_language_and_keeps_its_keys() -> None:
    report = make_report()
    result = JobResult(submission="x", state="done", status="graded", points=2, max_points=3)
    english = gradescope_results(report, result, max_points=3)
    with use_language("cs"):
        czech = gradescope_results(report, result, max_points=3)
    assert english.keys() == czech.keys()
    assert [t["status"] for t in english["tests"]] == [t["status"] for t in czech["tests"]]
    assert czech["output"].startswith(f"{report.grade.points} z 3 bodů.")
    json.dumps(czech)


def test_lms_feedback_follows_the_advice_in_the_language_in_use() -> None:
    results, _reports = _class()
    row = next(r for r in results.rows if r.report is not None)
    assert row.report is not None
    row.report.grade.advice = _advised().grade.advice
    english = feedback_for(row, rubric_title="HW5", held=None, report_link="r.html")
    assert english.improve[:2] == [
        "To get the next point: Write a summary that compares the models. (cell 29)",
        "Discuss the fine-tuned variant",
    ]
    assert "What to improve:" in english.text() and "Full report: r.html." in english.text()
    with use_language("cs"):
        czech = feedback_for(row, rubric_title="HW5", held="late", report_link="r.html")
    assert czech.improve[0].startswith("Pro další bod: Write a summary")
    assert czech.head.startswith(f"HW5: {row.report.grade.points} z 3 bodů (předběžně")
    assert "<p>Co zlepšit:</p>" in czech.html() and "Celá zpráva: r.html." in czech.text()
    assert _("What to improve:") == "What to improve:"  # the language was only the block's


# ------------------------------------------------------------------ in a browser

CHROMIUM = Path("/usr/bin/chromium")

_PROBE = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = {
    lang: document.documentElement.lang,
    headings: Array.prototype.map.call(document.querySelectorAll("h2"), function (h) {
      return h.firstChild.textContent.trim();
    }),
    images: imgs.length,
    loaded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length
  };
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _probe_czech(tmp_path: Path, page: str, name: str) -> dict[str, object]:
    from tests.test_browser import _chromium, _console_problems

    relaxed = re.sub(r"script-src '[^']+'", "script-src 'unsafe-inline'", page)
    copy = tmp_path / f"{name}-probe.html"
    copy.write_text(relaxed.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    run = _chromium(tmp_path, copy, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert not _console_problems(run.stderr), _console_problems(run.stderr)
    match = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.DOTALL)
    assert match, "the probe did not run"
    data: dict[str, object] = json.loads(htmlmod.unescape(match.group(1)))
    return data


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_czech_pages_in_chromium(tmp_path: Path) -> None:
    from tests.test_browser import _screenshot

    results, similarity = _decided()
    with use_language("cs"):
        report = render_student_report(
            report=_advised(),
            result=JobResult(submission="x", state="done", status="graded", points=0, max_points=3),
            links=[("přehled třídy", "../../index.html")],
            rubric_title="Domácí úkol 5: přenos učení a pokročilé architektury CNN",
            generated="2025-11-18 08:00",
        )
        dashboard = render_dashboard(
            results,
            generated="2025-11-20 10:20",
            similarity=similarity,  # type: ignore[arg-type]
            similarity_page="similarity.html",
        )
    for name, page, height, headings, images in (
        ("report-cs", report, 3800, ["Co zlepšit", "Hodnoticí kritéria", "Porovnání modelů"], 8),
        (
            "dashboard-cs",
            dashboard,
            3400,
            ["Studenti", "Rozložení bodů", "Podobnost v rámci třídy"],
            2,
        ),
    ):
        path = tmp_path / f"{name}.html"
        path.write_text(page, encoding="utf-8")
        _screenshot(tmp_path, path, name, height)
        probe = _probe_czech(tmp_path, page, name)
        assert probe["lang"] == "cs"
        # the diacritics arrive as the characters they are (UTF-8 read as UTF-8)
        seen = probe["headings"]
        assert isinstance(seen, list) and set(headings) <= set(seen), seen
        assert probe["images"] == images and probe["loaded"] == images
