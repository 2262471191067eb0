"""The student's report as plain values: what :func:`student_view` returns, the template draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.check.bands import Band
from grader.evidence import ModelRun, Severity
from grader.grade.result import CheckReport, Status
from grader.intake.submission import Submission
from grader.report import plots
from grader.report.decisions import decision_view
from grader.report.results import JobResult, RunInfo
from grader.report.words import (
    FAILURE_ADVICE,
    KIND_LABELS,
    RESULT_LABELS,
    SHORT_KIND_LABELS,
    STATUS_LABELS,
    pct,
)

__all__ = ["ModelView", "StudentView", "feedback_items", "student_view"]


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
    decisions: list[dict[str, Any]] = field(default_factory=list)


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
        view.run = _run_view(result.run)
    if report is None:
        advice = FAILURE_ADVICE.get(status)
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
    view.decisions = [decision_view(o) for o in g.overrides]
    by_criterion = {d["criterion"]: d for d in view.decisions}
    view.criteria = [_criterion_view(c, by_criterion.get(c.id)) for c in g.criteria]
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
    view.findings = [
        {
            "code": f.code,
            "severity": f.severity.value,
            "message": f.message,
            "cell": f.cell,
            "model": f.model,
        }
        for f in sorted(report.findings, key=lambda f: order.get(f.severity, 3))
    ]
    view.hygiene = _hygiene(report)
    view.discussion = _discussion(report)
    return view


def _run_view(run: RunInfo) -> dict[str, Any]:
    return {
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
                "claimed": pct(c.claimed),
                "verified": pct(c.verified),
                "reason": c.reason,
            }
            for c in run.verification
        ],
        "verification_note": run.verification_note,
    }


def _criterion_view(c: Any, decision: dict[str, Any] | None = None) -> dict[str, Any]:
    slabel, scss = STATUS_LABELS.get(c.status.value, (c.status.value, "info"))
    return {
        "decision": decision,
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
