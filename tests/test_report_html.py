"""Per-student reports and the class dashboard: self-contained, escaped, complete."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.check.bands import load_bands, parse_band
from grader.evidence import ModelKind
from grader.intake.submission import NotebookFile, Submission
from grader.report import plots
from grader.report.html import render_dashboard, render_student_report
from grader.report.results import JobResult, RunInfo, VerifiedAccuracy
from grader.report.student import feedback_items
from tests.test_batch_exports import _class
from tests.test_batch_support import make_report

_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _images(html: str) -> list[str]:
    return re.findall(r'<img src="(data:image/svg\+xml;base64,[^"]+)"', html)


def _svg_ok(uri: str) -> bool:
    data = base64.b64decode(uri.split(",", 1)[1])
    return ET.fromstring(data).tag.endswith("svg")


def _self_contained(html: str) -> None:
    assert not _EXTERNAL.search(html), "a link or image that needs the network"
    assert "<link" not in html and "<script src" not in html and "@import" not in html
    assert "Content-Security-Policy" in html


def _sub(name: str = "Jan Novák") -> Submission:
    nb = NotebookFile(
        path="/x/hw5.ipynb",
        origin="Jan Novak/hw5.ipynb",
        name="hw5.ipynb",
        size=1,
        sha256="0" * 64,
        is_notebook=True,
    )
    return Submission(
        id="xnovak",
        student_id="xnovak",
        name=name,
        in_roster=True,
        notebook=nb,
        files=[nb],
        entries=["Jan Novak"],
    )


def test_student_report_is_self_contained_and_complete() -> None:
    report = make_report()
    html = render_student_report(
        report=report,
        submission=_sub(),
        result=JobResult(
            submission="xnovak", state="done", status="graded", points=2, max_points=3
        ),
        links=[("executed notebook", "run/executed.ipynb"), ("log", "run/run.log")],
        rubric_title="Homework 5",
    )
    _self_contained(html)
    assert "Jan Novák" in html and 'id="points">2<small> / 3' in html
    for c in report.grade.criteria:  # every criterion with its reason
        assert f'data-criterion="{c.id}"' in html
    for m in report.models:
        assert f'id="model-{m.id}"' in html
    images = _images(html)
    # curves for the 4 models, confusion matrices for the 3 printed ones, one comparison
    assert len(images) == 4 + 3 + 1
    assert all(_svg_ok(u) for u in images)
    assert "MobileNetV2" in html and "2\u202f261\u202f827" in html  # base and parameters
    assert "not redrawn here" in html  # the fine-tuned model's matrix was only an image
    assert 'href="run/executed.ipynb"' in html and 'href="run/run.log"' in html
    assert "the heading says" in html  # the integrity finding
    assert "@media print" in html


def test_student_text_is_escaped() -> None:
    report = make_report()
    report.models[0].name = "<script>alert(1)</script>"
    html = render_student_report(report=report, submission=_sub('Eve "<b>"'))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html.split("<body>", 1)[1].split("</header>", 1)[0]


def test_failed_submission_report_says_what_to_do() -> None:
    html = render_student_report(
        report=None,
        submission=_sub(),
        result=JobResult(
            submission="xnovak",
            state="failed",
            status="not-a-notebook",
            reason="hw5.ipynb: the file is empty",
            max_points=3,
        ),
        rubric_title="Homework 5",
    )
    _self_contained(html)
    assert "not a notebook" in html and "the file is empty" in html
    assert "File → Download → .ipynb" in html
    assert _images(html) == []


def test_run_failure_is_shown() -> None:
    html = render_student_report(
        report=make_report(),
        result=JobResult(
            submission="x",
            state="done",
            status="run-failed",
            points=1,
            max_points=3,
            run=RunInfo(
                profile="smoke",
                status="failed",
                failure="NameError: x_tset",
                failure_cell=14,
                seconds=61.0,
            ),
        ),
    )
    assert "The run stopped: NameError: x_tset" in html and "(cell 14)" in html
    assert "profile <strong>smoke</strong>" in html


def _protected_run(sandbox: str, unprotected: list[str], forged: bool) -> RunInfo:
    return RunInfo(
        profile="smoke",
        status="ok",
        sandbox=sandbox,
        sandbox_reason="requested",
        unprotected=unprotected,
        verification=[
            VerifiedAccuracy(
                model="model_cnn",
                status="forged" if forged else "verified",
                claimed=0.99,
                verified=0.61 if forged else 0.99,
                reason="re-evaluated out of process on 300 test images",
            )
        ],
    )


def test_sandbox_and_verification_are_shown() -> None:
    html = render_student_report(
        report=make_report(),
        result=JobResult(
            submission="x",
            state="done",
            status="graded",
            points=1,
            max_points=3,
            run=_protected_run(
                "none", ["network (missing): the kernel can reach the network"], True
            ),
        ),
    )
    assert "Sandbox: <strong>none</strong>" in html and "not isolated" in html
    assert "the kernel can reach the network" in html
    assert 'id="verification"' in html and ">forged</span>" in html and "61.0 %" in html
    html = render_student_report(
        report=make_report(),
        result=JobResult(
            submission="x",
            state="done",
            status="graded",
            run=_protected_run("bwrap", [], False),
        ),
    )
    assert "Every protection was enforced" in html and "not isolated" not in html


def test_dashboard_counts_runs_not_isolated_and_forged_accuracies() -> None:
    results, _ = _class()
    row = next(r for r in results.rows if r.result is not None)
    assert row.result is not None
    row.result = row.result.model_copy(
        update={"run": _protected_run("none", ["network (missing): open"], True)}
    )
    html = render_dashboard(results)
    assert "Runs not isolated" in html and "Forged accuracies" in html
    assert "Runs not isolated" not in render_dashboard(_class()[0])


def test_an_unverified_accuracy_is_on_the_review_list() -> None:
    from grader.evidence import Finding, Severity

    results, _ = _class()
    row = next(r for r in results.rows if r.report is not None and not r.needs_review)
    assert row.report is not None
    row.report.findings.append(
        Finding(
            code="unverified-accuracy",
            severity=Severity.warning,
            message="model_tl: test accuracy 0.9900 could not be verified: inputs resized",
        )
    )
    html = render_dashboard(results)
    review = html[html.index('id="review"') :]
    assert row.name in review and "could not be verified: inputs resized" in review


def test_feedback_lists_missing_work_first() -> None:
    report = make_report(summary=False)
    items = feedback_items(report)
    # the grade's advice for the summary (most points at stake), or the criterion itself
    assert items and ("summary" in items[0].lower() or "compares the models" in items[0])
    assert any("Xception" in i for i in items)  # the warning finding


def test_bands_are_drawn_when_given(tmp_path: Path) -> None:
    (tmp_path / "scratch.json").write_text(
        json.dumps(
            {
                "kind": "scratch_cnn",
                "test_accuracy": {"low": 0.55, "high": 0.68},
                "curves": {
                    "val_accuracy": {
                        "low": [0.3, 0.4, 0.45, 0.5, 0.52, 0.55],
                        "high": [0.4, 0.5, 0.55, 0.6, 0.62, 0.66],
                    }
                },
            }
        )
    )
    (tmp_path / "many.json").write_text(
        json.dumps(
            {
                "bands": [
                    {"kind": "transfer_frozen", "test_accuracy": [0.9, 0.95]},
                    {"no": "kind"},
                ]
            }
        )
    )
    (tmp_path / "broken.json").write_text("{")
    bands = load_bands(tmp_path)
    assert set(bands) == {"scratch_cnn", "transfer_frozen"}
    assert bands["scratch_cnn"].curves["val_accuracy"].high[-1] == 0.66
    html = render_student_report(report=make_report(), bands=bands)
    assert "55 %–68 %" in html
    assert "outside" in html  # the transfer model (84 %) is below its band
    assert "what the reference solutions reach" in html
    with_band = plots.curves_image(make_report().models[0].history, band=bands["scratch_cnn"])
    without = plots.curves_image(make_report().models[0].history)
    assert with_band != without
    assert load_bands(None) == {} and load_bands(tmp_path / "absent") == {}
    assert parse_band({"kind": "x", "test_accuracy": "high"}) is not None


def test_plots_are_deterministic_and_tolerate_odd_input() -> None:
    history = {"loss": [2.0, 1.5, float("nan")], "accuracy": [0.3, 0.5, 0.6]}
    assert plots.curves_image(history) == plots.curves_image(history)
    assert plots.curves_image({"lr": [0.1]}) is None
    assert plots.confusion_image([[1, 2], [3]]) is None
    assert plots.confusion_image([]) is None
    assert plots.points_histogram_image([], 3) is None
    assert plots.accuracy_by_kind_image({}) is None
    assert plots.comparison_image(["a"], [None]) is None
    big = [[(i == j) * 90 + 1 for j in range(10)] for i in range(10)]
    assert _svg_ok(plots.confusion_image(big, [f"class {i}" for i in range(10)]) or "")


@pytest.fixture
def dashboard() -> str:
    results, _ = _class()
    return render_dashboard(results, generated="2025-11-18 08:00")


def test_dashboard_is_self_contained_and_sortable(dashboard: str) -> None:
    _self_contained(dashboard)
    assert '<table class="sortable" id="students">' in dashboard
    assert dashboard.count('<button type="button">') >= 6
    assert 'addEventListener("click"' in dashboard
    images = _images(dashboard)
    assert len(images) == 2 and all(_svg_ok(u) for u in images)


def test_dashboard_sections(dashboard: str) -> None:
    # every student row, missing students and unknown submitters included
    for key in ("xa", "xb", "xc", "missing:xd", "zed"):
        assert f'data-key="{key}"' in dashboard
    assert 'id="items"' in dashboard and "Written summary" in dashboard  # item analysis
    assert 'id="kinds"' in dashboard and "scratch CNN" in dashboard
    assert 'id="failures"' in dashboard and "the file is empty" in dashboard
    assert 'id="review"' in dashboard
    assert 'data-missing="xd"' in dashboard
    assert "=cmd|&#39; /C calc&#39;!A0" in dashboard  # escaped, never markup


def test_dashboard_of_an_empty_class() -> None:
    from grader.intake.submission import ClassIntake
    from grader.report.results import ClassResults

    html = render_dashboard(
        ClassResults(
            title="HW5",
            rubric="hw5",
            max_points=3,
            intake=ClassIntake(source="empty"),
            rows=[],
            profile="static",
        )
    )
    _self_contained(html)
    assert "Nothing graded yet" in html


def test_kind_labels_cover_every_kind() -> None:
    from grader.report.words import KIND_LABELS, SHORT_KIND_LABELS

    assert set(KIND_LABELS) == set(SHORT_KIND_LABELS) == {k.value for k in ModelKind}
