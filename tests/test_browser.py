"""The reports in a real browser: headless Chromium renders them without console errors,
every figure loads, and clicking a column heading sorts the dashboard's table.

Skipped where Debian's ``chromium`` is not installed (``apt-get install chromium``).
Set ``GRADER_SCREENSHOTS=<folder>`` to keep the screenshots for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.report.html import render_dashboard, render_student_report
from grader.report.results import JobResult
from tests.test_batch_exports import _class
from tests.test_batch_support import make_report

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

_PROBE = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = {
    images: imgs.length,
    loaded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    widths: imgs.map(function (i) { return i.naturalWidth; })
  };
  var table = document.getElementById("students");
  if (table) {
    var order = function () {
      return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
        return r.getAttribute("data-key");
      });
    };
    var headers = table.tHead.rows[0].cells;
    var byText = function (text) {
      return Array.prototype.filter.call(headers, function (h) {
        return h.textContent.trim() === text;
      })[0];
    };
    out.initial = order();
    byText("Points").querySelector("button").click();
    out.points_ascending = order();
    out.points_aria = byText("Points").getAttribute("aria-sort");
    byText("Points").querySelector("button").click();
    out.points_descending = order();
    byText("Student").querySelector("button").click();
    out.by_name = order();
  }
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _console_problems(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if re.search(r"Uncaught|Refused to|Failed to load resource|net::ERR_", line)
    ]


def _probe(tmp_path: Path, html: str, name: str) -> dict[str, object]:
    """Open a copy of the page with a script that reports what the browser sees."""
    relaxed = re.sub(r"script-src '[^']+'", "script-src 'unsafe-inline'", html)
    copy = tmp_path / f"{name}-probe.html"
    copy.write_text(relaxed.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    run = _chromium(tmp_path, copy, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert not _console_problems(run.stderr), _console_problems(run.stderr)
    match = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.DOTALL)
    assert match, "the probe did not run"
    data: dict[str, object] = json.loads(
        match.group(1).replace("&quot;", '"').replace("&amp;", "&")
    )
    return data


def _screenshot(tmp_path: Path, page: Path, name: str, height: int) -> Path:
    png = tmp_path / f"{name}.png"
    run = _chromium(tmp_path, page, f"--screenshot={png}", f"--window-size=1280,{height}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert not _console_problems(run.stderr), _console_problems(run.stderr)
    assert png.is_file() and png.stat().st_size > 20_000  # more than a blank page
    keep = os.environ.get("GRADER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)
    return png


def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The check below would see an error: a page that throws is caught."""
    page = tmp_path / "throws.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>throw new Error('boom')</script>")
    assert _console_problems(_chromium(tmp_path, page, "--dump-dom").stderr)


def test_student_report_in_chromium(tmp_path: Path) -> None:
    html = render_student_report(
        report=make_report(),
        result=JobResult(submission="x", state="done", status="graded", points=2, max_points=3),
        links=[("class dashboard", "../../index.html")],
        rubric_title="Homework 5: transfer learning and advanced CNN architectures",
        generated="2025-11-18 08:00",
    )
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    _screenshot(tmp_path, page, "report", 3600)
    probe = _probe(tmp_path, html, "report")
    assert probe["images"] == 8
    assert probe["loaded"] == 8
    assert all(int(w) > 100 for w in probe["widths"])  # type: ignore[attr-defined]


def test_dashboard_in_chromium_sorts_by_column(tmp_path: Path) -> None:
    results, _ = _class()
    html = render_dashboard(results, generated="2025-11-18 08:00")
    page = tmp_path / "index.html"
    page.write_text(html, encoding="utf-8")
    _screenshot(tmp_path, page, "dashboard", 2400)
    probe = _probe(tmp_path, html, "dashboard")
    assert probe["images"] == 2 and probe["loaded"] == 2
    assert probe["initial"] == ["xa", "xb", "xc", "missing:xd", "zed"]
    # points: xa 2, xb 2, zed 1, xc and xd none (sorted first as -1); ties keep their order
    assert probe["points_ascending"] == ["xc", "missing:xd", "zed", "xa", "xb"]
    assert probe["points_aria"] == "ascending"
    assert probe["points_descending"] == ["xa", "xb", "zed", "xc", "missing:xd"]
    assert probe["by_name"] == ["xb", "xa", "xc", "missing:xd", "zed"]


# ------------------------------------------------------------ decisions and similarity


def _decided_class() -> tuple[object, object]:
    """The exports' class with a decision on one student and a similarity report."""
    from datetime import UTC, datetime

    from grader.grade.overrides import Override, apply_overrides
    from grader.grade.rubric import load_rubric
    from grader.report.results import ClassResults, build_rows
    from grader.similarity.model import ChannelScores, PairEvidence, SimilarityReport

    results, reports = _class()
    assert isinstance(results, ClassResults)
    decided = apply_overrides(
        reports["xa"],
        [
            Override(
                student="xa",
                criterion="variants",
                status="not_met",
                reason="the variant is only mentioned, never discussed",
                by="jdoe",
                at=datetime(2025, 11, 20, 10, 15, tzinfo=UTC),
                sha256="f" * 64,  # made on an earlier notebook
                machine="met",
            )
        ],
        rubric=load_rubric(),
    )
    reports = {**reports, "xa": decided}
    by_id = {r.key: r.result for r in results.rows if r.result is not None}
    rows = build_rows(
        results.intake,
        by_id,
        reports,
        report_href={"xa": "submissions/xa/report.html", "xb": "submissions/xb/report.html"},
    )
    results = results.model_copy(update={"rows": rows})
    pair = PairEvidence(
        a="xa",
        b="xb",
        name_a="Alice Adams",
        name_b="=cmd|' /C calc'!A0",
        score=0.71,
        level="worth a look",
        reasons=[
            "78 % of A's own code is in B (cells 4-9)",
            "12 identical lines of training log (epochs 1-12)",
            "the same confusion matrix printed in both",
            "the same residual CNN, trained with the same settings",
        ],
        channels=ChannelScores(code=0.78, logs=0.6, architecture=0.4),
    )
    similar = pair.model_copy(
        update={
            "b": "zed",
            "name_b": "zed",
            "score": 0.31,
            "level": "similar",
            "reasons": ["the same MobileNetV2 head"],
        }
    )
    similarity = SimilarityReport(
        source="out",
        generated="2025-11-20 09:00",
        class_size=4,
        pairs=[pair, similar],
        pairs_scored=3,
    )
    return results, similarity


def test_dashboard_with_decisions_and_similarity_in_chromium(tmp_path: Path) -> None:
    results, similarity = _decided_class()
    html = render_dashboard(
        results,  # type: ignore[arg-type]
        generated="2025-11-20 10:20",
        similarity=similarity,  # type: ignore[arg-type]
        similarity_page="similarity.html",
    )
    assert 'id="overrides"' in html and 'data-criterion="variants"' in html
    assert "Evidence changed since the decision:</strong> it was made on notebook" in html
    assert "worth a look" in html and 'href="similarity.html#pair-1"' in html
    assert "a reason to look, never a verdict" in html
    assert "=cmd|" in html and "<script>alert" not in html
    page = tmp_path / "index.html"
    page.write_text(html, encoding="utf-8")
    _screenshot(tmp_path, page, "dashboard-decisions", 3400)
    probe = _probe(tmp_path, html, "dashboard-decisions")
    assert probe["images"] == 2 and probe["loaded"] == 2
    assert probe["initial"] == ["xa", "xb", "xc", "missing:xd", "zed"]


def test_dashboard_without_similarity_says_how_to_make_it() -> None:
    results, _ = _class()
    html = render_dashboard(results, generated="2025-11-20 10:20")
    assert "No similarity report in this folder yet. Run `grader similarity OUT`" in html
    assert "No decisions made by hand." in html


def test_student_report_with_a_decision_in_chromium(tmp_path: Path) -> None:
    results, _ = _decided_class()
    row = results.rows[0]  # type: ignore[attr-defined]
    html = render_student_report(
        report=row.report,
        submission=row.submission,
        result=row.result,
        links=[("class dashboard", "../../index.html")],
        rubric_title="Homework 5: transfer learning and advanced CNN architectures",
        generated="2025-11-20 10:20",
    )
    assert 'id="decisions"' in html and "the variant is only mentioned" in html
    assert "the grader found: met" in html and "decided by the instructor" in html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    _screenshot(tmp_path, page, "report-decision", 3800)
    probe = _probe(tmp_path, html, "report-decision")
    assert probe["images"] == probe["loaded"]
