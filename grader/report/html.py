"""HTML reports: one self-contained page per student and one dashboard for the class.

The pages carry their CSS and their figures inline (SVG as data URIs), make no
network requests (a Content-Security-Policy forbids them), and print cleanly.
The views are built here from the plain result data by pure functions; the
markup lives in the jinja2 templates next to this module, with autoescaping on,
because everything a student typed (model names, headings) ends up on the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from grader.check.bands import Band
from grader.grade.result import CheckReport
from grader.intake.submission import Submission
from grader.report.dashboard import dashboard_view
from grader.report.results import ClassResults, JobResult
from grader.report.student import student_view
from grader.report.templating import render

if TYPE_CHECKING:
    from grader.similarity.model import SimilarityReport

__all__ = ["render_dashboard", "render_student_report"]


def render_student_report(
    *,
    report: CheckReport | None,
    submission: Submission | None = None,
    result: JobResult | None = None,
    bands: Mapping[str, Band] | None = None,
    links: Sequence[tuple[str, str]] = (),
    rubric_title: str = "",
    generated: str | None = None,
) -> str:
    """The student's report as one self-contained HTML document."""
    view = student_view(
        report=report,
        submission=submission,
        result=result,
        bands=bands,
        links=links,
        rubric_title=rubric_title,
        generated=generated,
    )
    return render("report.html.j2", v=view)


# -------------------------------------------------------------- dashboard


def render_dashboard(
    results: ClassResults,
    *,
    bands: Mapping[str, Band] | None = None,
    generated: str | None = None,
    similarity: SimilarityReport | None = None,
    similarity_problem: str | None = None,
    similarity_page: str | None = None,
) -> str:
    """The class dashboard as one self-contained HTML document.

    ``similarity``: the report of ``grader similarity`` for this class, shown as
    its own section (``similarity_page`` links the full page); without it the
    section says how to make one.
    """
    view = dashboard_view(
        results,
        bands=bands,
        generated=generated,
        similarity=similarity,
        similarity_problem=similarity_problem,
        similarity_page=similarity_page,
    )
    return render("dashboard.html.j2", v=view)
