"""HTML reports: one self-contained page per student and one dashboard for the class.

The pages carry their CSS and their figures inline (SVG as data URIs), make no
network requests (a Content-Security-Policy forbids them), and print cleanly.
The views are built here from the plain result data by pure functions; the
markup lives in the jinja2 templates next to this module, with autoescaping on,
because everything a student typed (model names, headings) ends up on the page.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from grader.check.bands import Band
from grader.evidence import ModelKind, ModelRun, Severity
from grader.grade.result import CheckReport, Status
from grader.intake.submission import Submission
from grader.report import plots
from grader.report.results import ClassResults, JobResult, StudentRow

__all__ = [
    "KIND_LABELS",
    "SHORT_KIND_LABELS",
    "dashboard_view",
    "feedback_items",
    "render_dashboard",
    "render_student_report",
    "student_view",
]

KIND_LABELS: dict[str, str] = {
    ModelKind.scratch_cnn.value: "CNN from scratch",
    ModelKind.custom_residual.value: "custom residual CNN (ResNet-like)",
    ModelKind.custom_xception.value: "custom Xception-like CNN",
    ModelKind.transfer_frozen.value: "transfer learning (frozen base)",
    ModelKind.fine_tuned.value: "fine-tuned pretrained CNN",
    ModelKind.other.value: "other",
}

SHORT_KIND_LABELS: dict[str, str] = {
    ModelKind.scratch_cnn.value: "scratch CNN",
    ModelKind.custom_residual.value: "ResNet-like",
    ModelKind.custom_xception.value: "Xception-like",
    ModelKind.transfer_frozen.value: "transfer (frozen)",
    ModelKind.fine_tuned.value: "fine-tuned",
    ModelKind.other.value: "other",
}

STATUS_LABELS: dict[str, tuple[str, str]] = {
    Status.met.value: ("met", "ok"),
    Status.not_met.value: ("not met", "bad"),
    Status.needs_review.value: ("needs review", "warn"),
    Status.not_applicable.value: ("not applicable", "muted"),
    Status.conditional.value: ("conditional", "info"),
}

RESULT_LABELS: dict[str, tuple[str, str]] = {
    "graded": ("graded", "ok"),
    "run-failed": ("run failed", "warn"),
    "not-a-notebook": ("not a notebook", "bad"),
    "no-notebook": ("no notebook", "bad"),
    "infrastructure": ("grader could not run it", "bad"),
    "error": ("grader error", "bad"),
    "missing": ("missing", "muted"),
    "pending": ("pending", "info"),
}

_FAILURE_ADVICE: dict[str, str] = {
    "not-a-notebook": "Hand in the .ipynb file itself, saved from Jupyter or Colab "
    "(File → Download → .ipynb), not a PDF, an HTML export or a renamed file.",
    "no-notebook": "No notebook (.ipynb) was found in what you handed in. Upload the notebook "
    "file itself.",
    "infrastructure": "The grader could not run your notebook for a reason that is not yours; "
    "the instructor will look at it.",
    "error": "The grader failed on your notebook; the instructor will look at it.",
}


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["duration"] = _duration
    env.filters["count"] = _count
    return env


def _pct(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:.{digits}f} %"


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}".replace(",", "\u202f")


# ---------------------------------------------------------------- student


@dataclass
class ModelView:
    id: str
    name: str
    kind: str
    kind_label: str
    kind_short: str
    claimed: str | None
    base: str | None
    weights: str | None
    continues: str | None
    stage_change: list[str]
    epochs: int | None
    test_accuracy: float | None
    test_accuracy_cell: int | None
    band: tuple[float, float] | None
    in_band: bool | None
    params_total: int | None
    params_trainable: int | None
    fit_seconds: float | None
    curves_shown: bool
    cm_shown: bool
    reasons: list[str]
    curves: str | None = None
    confusion: str | None = None
    confusion_classes: int = 0
    confusion_note: str | None = None


@dataclass
class StudentView:
    title: str
    rubric_title: str
    student: str
    student_id: str | None
    notebook: str | None
    status: str
    status_label: str
    status_class: str
    reason: str | None
    points: int | None
    max_points: int | None
    potential_points: int | None
    counted: bool | None
    requirements_met: bool | None
    needs_review: bool
    notes: list[str]
    facts: list[tuple[str, str]]
    criteria: list[dict[str, Any]]
    feedback: list[str]
    models: list[ModelView]
    comparison: str | None
    findings: list[dict[str, Any]]
    hygiene: list[str]
    discussion: list[tuple[str, bool]]
    run: dict[str, Any] | None
    links: list[tuple[str, str]]
    generated: str | None
    submission_notes: list[str] = field(default_factory=list)


def feedback_items(report: CheckReport) -> list[str]:
    """What the student should do, one sentence each: missing criteria first, then findings."""
    items: list[str] = []
    for c in report.grade.criteria:
        if c.status in (Status.not_met, Status.needs_review) and c.missing:
            text = f"{c.title}: {c.missing}"
            if text not in items:
                items.append(text)
    for f in report.findings:
        if f.severity in (Severity.error, Severity.warning) and f.message not in items:
            items.append(f.message)
    if not report.hygiene.has_outputs:
        items.append(
            "The notebook was saved without outputs; run all cells and save it with the "
            "outputs so that your results can be checked."
        )
    elif not report.hygiene.in_order:
        items.append(
            "Some cells ran out of order; restart the kernel and run all cells from the top "
            "before saving."
        )
    return items


def _model_view(m: ModelRun, report: CheckReport, bands: Mapping[str, Band]) -> ModelView:
    band = bands.get(m.kind.value)
    acc_band = band.test_accuracy if band is not None else None
    in_band = None
    if acc_band is not None and m.test_accuracy is not None:
        in_band = acc_band[0] <= m.test_accuracy <= acc_band[1]
    view = ModelView(
        id=m.id,
        name=m.name,
        kind=m.kind.value,
        kind_label=KIND_LABELS.get(m.kind.value, m.kind.value),
        kind_short=SHORT_KIND_LABELS.get(m.kind.value, m.kind.value),
        claimed=KIND_LABELS.get(m.claimed_kind.value, m.claimed_kind.value)
        if m.claimed_kind is not None
        else None,
        base=m.base,
        weights=m.weights,
        continues=m.continues,
        stage_change=m.stage_change,
        epochs=m.epochs,
        test_accuracy=m.test_accuracy,
        test_accuracy_cell=m.test_accuracy_provenance.cell if m.test_accuracy_provenance else None,
        band=acc_band,
        in_band=in_band,
        params_total=m.params_total,
        params_trainable=m.params_trainable,
        fit_seconds=m.fit_seconds,
        curves_shown=m.curves_shown,
        cm_shown=m.confusion_matrix_shown,
        reasons=m.kind_reasons,
    )
    if m.history:
        view.curves = plots.curves_image(m.history, band=band)
    if m.confusion is not None and m.confusion.matrix:
        labels = m.confusion.labels or report.data.classes
        view.confusion = plots.confusion_image(m.confusion.matrix, labels)
        view.confusion_classes = len(m.confusion.matrix)
    elif m.confusion_matrix_shown:
        cell = m.confusion.provenance.cell if m.confusion is not None else None
        where = f" in cell {cell}" if cell is not None else ""
        view.confusion_note = (
            f"shown as a figure{where}; the numbers were not printed, so it is not redrawn here"
        )
    return view


def _facts(sub: Submission | None, report: CheckReport | None) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if sub is not None:
        if sub.student_id:
            facts.append(("Student ID", sub.student_id))
        if sub.notebook is not None:
            facts.append(("Notebook", sub.notebook.origin))
        if sub.submitted_at is not None:
            source = {"roster": "roster", "lms": "LMS archive", "file": "file time"}.get(
                sub.submitted_at_source or "", ""
            )
            when = sub.submitted_at.strftime("%Y-%m-%d %H:%M")
            late = " — late" if sub.late else ""
            facts.append(("Submitted", f"{when} ({source}){late}"))
    if report is not None:
        facts.append(("Framework", report.framework.value))
        d = report.data
        if d.dataset or d.n_classes:
            parts = [d.dataset or "dataset"]
            if d.n_classes:
                parts.append(f"{d.n_classes} classes")
            sizes = [
                f"{name} {n:,}"
                for name, n in (("train", d.train_size), ("val", d.val_size), ("test", d.test_size))
                if n
            ]
            if sizes:
                parts.append(", ".join(sizes))
            facts.append(("Data", " · ".join(parts)))
        facts.append(
            (
                "Graded from",
                {
                    "static": "stored outputs",
                    "runtime": "a fresh run",
                    "merged": "a fresh run and the stored outputs",
                }[report.source],
            )
        )
        facts.append(("sha256", report.notebook.sha256[:16] + "…"))
    return facts


def _hygiene(report: CheckReport) -> list[str]:
    h = report.hygiene
    lines = [f"{h.executed_cells} of {h.code_cells} code cells have been run"]
    if not h.has_outputs:
        lines.append("saved without outputs: nothing could be verified from the stored notebook")
    if not h.in_order:
        cells = ", ".join(str(c) for c in h.out_of_order_cells[:12])
        lines.append(f"cells run out of order: {cells}")
    if h.error_cells:
        lines.append(
            "cells with errors in their output: " + ", ".join(str(c) for c in h.error_cells[:12])
        )
    if report.notebook.normalised:
        lines.append("repaired on reading: " + "; ".join(report.notebook.normalised))
    return lines


def _discussion(report: CheckReport) -> list[tuple[str, bool]]:
    d = report.discussion
    return [
        (
            f"written discussion ({d.words} words"
            + (f", {d.language}" if d.language else "")
            + ")",
            d.present,
        ),
        ("compares the models", d.compares_models),
        ("says which model generalises best", d.names_best_model),
        ("discusses generalisation / overfitting", d.discusses_generalisation),
        ("discusses training time", d.discusses_training_time),
        ("discusses the additional variants", d.mentions_variants),
    ]


def student_view(
    *,
    report: CheckReport | None,
    submission: Submission | None = None,
    result: JobResult | None = None,
    bands: Mapping[str, Band] | None = None,
    links: Sequence[tuple[str, str]] = (),
    rubric_title: str = "",
    generated: str | None = None,
) -> StudentView:
    """Everything the student report shows, as plain values (figures already drawn)."""
    bands = bands or {}
    status = result.status if result is not None else ("graded" if report else "pending")
    label, css = RESULT_LABELS.get(status, (status, "info"))
    name = (
        submission.name
        if submission is not None
        else (Path(report.notebook.path).stem if report is not None else "submission")
    )
    view = StudentView(
        title=f"{name} — {rubric_title}" if rubric_title else name,
        rubric_title=rubric_title,
        student=name,
        student_id=submission.student_id if submission is not None else None,
        notebook=submission.notebook.origin if submission and submission.notebook else None,
        status=status,
        status_label=label,
        status_class=css,
        reason=result.reason if result is not None else None,
        points=None,
        max_points=result.max_points if result is not None else None,
        potential_points=None,
        counted=None,
        requirements_met=None,
        needs_review=False,
        notes=[],
        facts=_facts(submission, report),
        criteria=[],
        feedback=[],
        models=[],
        comparison=None,
        findings=[],
        hygiene=[],
        discussion=[],
        run=None,
        links=list(links),
        generated=generated,
    )
    if submission is not None:
        if submission.choice:
            view.submission_notes.append(submission.choice)
        if len(submission.entries) > 1:
            view.submission_notes.append(
                "handed in more than once: " + ", ".join(submission.entries)
            )
    if result is not None and result.run is not None:
        run = result.run
        view.run = {
            "profile": run.profile,
            "status": run.status,
            "failure": run.failure,
            "cell": run.failure_cell,
            "cached": run.cached,
            "seconds": run.seconds,
            "sandbox": run.sandbox,
            "sandbox_reason": run.sandbox_reason,
            "unprotected": run.unprotected,
            "verification": [
                {
                    "model": c.model,
                    "status": c.status,
                    "claimed": _pct(c.claimed),
                    "verified": _pct(c.verified),
                    "reason": c.reason,
                }
                for c in run.verification
            ],
            "verification_note": run.verification_note,
        }
    if report is None:
        advice = _FAILURE_ADVICE.get(status)
        if view.reason:
            view.feedback.append(view.reason)
        if advice:
            view.feedback.append(advice)
        return view
    g = report.grade
    view.points, view.max_points = g.points, g.max_points
    view.potential_points, view.counted = g.potential_points, g.counted
    view.requirements_met, view.needs_review = g.requirements_met, g.needs_review
    view.notes = list(g.notes)
    for c in g.criteria:
        slabel, scss = STATUS_LABELS.get(c.status.value, (c.status.value, "info"))
        view.criteria.append(
            {
                "id": c.id,
                "title": c.title,
                "kind": "requirement" if c.kind == "requirement" else "points",
                "status": c.status.value,
                "status_label": slabel,
                "status_class": scss,
                "points": c.points,
                "max_points": c.max_points,
                "reason": c.reason,
                "missing": c.missing,
                "cells": c.cells,
            }
        )
    view.feedback = feedback_items(report)
    if result is not None and result.run is not None and result.run.failure:
        failure = result.run.failure
        view.feedback = [f for f in view.feedback if f not in failure]
        view.feedback.insert(0, f"The run stopped: {failure}")
    view.models = [_model_view(m, report, bands) for m in report.models]
    view.comparison = plots.comparison_image(
        [f"{m.name} ({m.id})" for m in report.models],
        [m.test_accuracy for m in report.models],
        bands=[
            (bands[m.kind.value].test_accuracy if m.kind.value in bands else None)
            for m in report.models
        ],
    )
    order = {Severity.error: 0, Severity.warning: 1, Severity.info: 2}
    for f in sorted(report.findings, key=lambda f: order.get(f.severity, 3)):
        view.findings.append(
            {
                "code": f.code,
                "severity": f.severity.value,
                "message": f.message,
                "cell": f.cell,
                "model": f.model,
            }
        )
    view.hygiene = _hygiene(report)
    view.discussion = _discussion(report)
    return view


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
    return _env().get_template("report.html.j2").render(v=view)


# -------------------------------------------------------------- dashboard


@dataclass
class DashboardView:
    title: str
    rubric: str
    profile: str
    max_points: int
    source: str
    generated: str | None
    cards: list[tuple[str, str, str]]
    rows: list[dict[str, Any]]
    histogram: str | None
    by_kind: str | None
    kind_table: list[dict[str, Any]]
    items: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    review: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    missing: list[dict[str, Any]]
    has_times: bool


def _row(row: StudentRow) -> dict[str, Any]:
    label, css = RESULT_LABELS.get(row.status, (row.status, "info"))
    if row.state == "graded" and row.report is not None and not row.report.grade.requirements_met:
        label, css = "incomplete", "warn"
    models = []
    if row.report is not None:
        for m in row.report.models:
            models.append(
                {
                    "kind": m.kind.value,
                    "label": KIND_LABELS.get(m.kind.value, m.kind.value),
                    "short": SHORT_KIND_LABELS.get(m.kind.value, m.kind.value),
                    "base": m.base,
                    "acc": m.test_accuracy,
                }
            )
    best = max((m["acc"] for m in models if m["acc"] is not None), default=None)
    return {
        "key": row.key,
        "student_id": row.student_id or "",
        "name": row.name,
        "state": row.state,
        "status_label": label,
        "status_class": css,
        "points": row.points,
        "max_points": row.max_points,
        "counted": row.counted,
        "flags": row.flags,
        "models": models,
        "best": best,
        "href": row.report_href,
        "submitted_at": (row.submitted_at or "")[:16].replace("T", " "),
        "late": row.late,
        "reason": row.reason,
    }


def dashboard_view(
    results: ClassResults, *, bands: Mapping[str, Band] | None = None, generated: str | None = None
) -> DashboardView:
    """Everything the class dashboard shows, as plain values (figures already drawn)."""
    bands = bands or {}
    rows = results.rows
    graded = [r for r in rows if r.report is not None]
    points = [r.points for r in graded if r.points is not None]
    failed = [r for r in rows if r.state == "failed"]
    missing = [r for r in rows if r.state == "missing"]
    pending = [r for r in rows if r.state == "pending"]

    def unverified(r: Any) -> list[str]:
        """Test accuracies the harness could not re-check: its points stand, an eye is due."""
        if r.report is None:
            return []
        return [f.message for f in r.report.findings if f.code == "unverified-accuracy"]

    review_rows = [
        r
        for r in rows
        if r.needs_review
        or r.state == "failed"
        or {"unknown submitter", "duplicate", "identical"} & set(r.flags)
        or unverified(r)
    ]
    mean = sum(points) / len(points) if points else None
    unknown = [r for r in rows if not r.in_roster and r.state != "missing"]
    if results.intake.roster:
        first = [("On the roster", str(len(results.intake.students)), "")]
        if unknown:
            first.append(("Not on the roster", str(len(unknown)), "warn"))
    else:
        first = [("Submissions", str(len(rows)), "")]
    cards = [
        *first,
        ("Graded", str(len(graded)), "ok"),
        ("Failed", str(len(failed)), "bad" if failed else ""),
        ("Missing", str(len(missing)), "warn" if missing else ""),
        ("Needs review", str(len(review_rows)), "warn" if review_rows else ""),
        ("Mean points", f"{mean:.2f} / {results.max_points}" if mean is not None else "—", ""),
    ]
    if pending:
        cards.insert(3, ("Pending", str(len(pending)), "info"))
    runs = [r.result.run for r in rows if r.result is not None and r.result.run is not None]
    exposed = [run for run in runs if run.sandbox and run.unprotected]
    if exposed:
        cards.append(("Runs not isolated", str(len(exposed)), "bad"))
    forged = [run for run in runs if any(c.status == "forged" for c in run.verification)]
    if forged:
        cards.append(("Forged accuracies", str(len(forged)), "bad"))

    # accuracy by model kind across the class
    by_kind: dict[str, list[float]] = {k.value: [] for k in ModelKind}
    for r in graded:
        assert r.report is not None
        for m in r.report.models:
            if m.test_accuracy is not None:
                by_kind[m.kind.value].append(m.test_accuracy)
    kind_bands = {k: b.test_accuracy for k, b in bands.items() if b.test_accuracy is not None}
    kind_table = []
    for kind, accs in by_kind.items():
        if not accs:
            continue
        s = sorted(accs)
        median = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
        band = kind_bands.get(kind)
        kind_table.append(
            {
                "kind": kind,
                "label": SHORT_KIND_LABELS.get(kind, kind),
                "n": len(s),
                "min": s[0],
                "median": median,
                "max": s[-1],
                "band": band,
                "below": sum(1 for a in s if band is not None and a < band[0]),
            }
        )

    # item analysis: which criteria are missed most often
    tally: dict[str, Counter[str]] = {}
    titles: dict[str, tuple[str, str]] = {}
    for r in graded:
        assert r.report is not None
        for c in r.report.grade.criteria:
            tally.setdefault(c.id, Counter())[c.status.value] += 1
            titles[c.id] = (c.title, c.kind)
    items: list[dict[str, Any]] = []
    for cid, counts in tally.items():
        applicable = sum(counts.values()) - counts[Status.not_applicable.value]
        missed = counts[Status.not_met.value]
        items.append(
            {
                "id": cid,
                "title": titles[cid][0],
                "kind": titles[cid][1],
                "met": counts[Status.met.value] + counts[Status.conditional.value],
                "not_met": missed,
                "review": counts[Status.needs_review.value],
                "na": counts[Status.not_applicable.value],
                "missed_share": missed / applicable if applicable else 0.0,
            }
        )
    items.sort(key=lambda i: (-i["missed_share"], -i["review"], i["id"]))

    failures = []
    for r in rows:
        run = r.result.run if r.result is not None else None
        if r.state in ("failed", "run-failed"):
            label, css = RESULT_LABELS.get(r.status, (r.status, "bad"))
            failures.append(
                {
                    "name": r.name,
                    "href": r.report_href,
                    "status": label,
                    "status_class": css,
                    "reason": (run.failure if run is not None and run.failure else r.reason) or "",
                    "cell": run.failure_cell if run is not None else None,
                }
            )

    review = []
    for r in review_rows:
        why: list[str] = []
        if r.report is not None:
            why += [
                f"{c.title}: {c.reason}"
                for c in r.report.grade.criteria
                if c.status == Status.needs_review
            ]
            why += [n for n in r.report.grade.notes if "late" in n]
            why += [f.message for f in r.report.findings if f.severity == Severity.error]
        if r.state == "failed":
            why.append(r.reason or r.status)
        if r.state == "run-failed":
            why.append("the run stopped before the end; graded on what ran")
        if "unknown submitter" in r.flags:
            why.append("not on the roster")
        if "duplicate" in r.flags:
            why.append("handed in more than once")
        if "identical" in r.flags:
            why.append("a notebook byte-identical to another student's")
        why += unverified(r)
        review.append({"name": r.name, "href": r.report_href, "why": why})

    problems = [
        {
            "kind": p.kind,
            "severity": p.severity,
            "message": p.message,
            "origin": p.origin or "",
        }
        for p in sorted(
            results.intake.problems,
            key=lambda p: ({"error": 0, "warning": 1, "info": 2}[p.severity], p.kind),
        )
    ]
    missing_rows = [{"student_id": r.student_id or "", "name": r.name} for r in missing]

    return DashboardView(
        title=results.title,
        rubric=results.rubric,
        profile=results.profile,
        max_points=results.max_points,
        source=results.intake.source,
        generated=generated,
        cards=cards,
        rows=[_row(r) for r in rows],
        histogram=plots.points_histogram_image(points, results.max_points),
        by_kind=plots.accuracy_by_kind_image(
            {k: v for k, v in by_kind.items() if v}, bands=kind_bands, labels=SHORT_KIND_LABELS
        ),
        kind_table=kind_table,
        items=items,
        failures=failures,
        review=review,
        problems=problems,
        missing=missing_rows,
        has_times=any(r.submitted_at for r in rows),
    )


def render_dashboard(
    results: ClassResults, *, bands: Mapping[str, Band] | None = None, generated: str | None = None
) -> str:
    """The class dashboard as one self-contained HTML document."""
    view = dashboard_view(results, bands=bands, generated=generated)
    return _env().get_template("dashboard.html.j2").render(v=view)
