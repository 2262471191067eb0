"""The student's report as plain values: what :func:`student_view` returns, the template draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.check.bands import Band
from grader.evidence import ModelRun, Severity
from grader.grade.result import Advice, CheckReport, Status
from grader.i18n import N_, _, ngettext
from grader.intake.submission import Submission
from grader.report import plots
from grader.report.decisions import decision_view
from grader.report.results import JobResult, RunInfo
from grader.report.words import (
    DATASET_LABELS,
    SEVERITY_LABELS,
    VERIFICATION_LABELS,
    cells_text,
    count,
    failure_advice,
    kind_label,
    label,
    pct,
    result_label,
    short_kind_label,
    status_label,
    weights_label,
)

__all__ = [
    "FeedbackItem",
    "ModelView",
    "StudentView",
    "feedback_items",
    "improvement_items",
    "student_view",
]


@dataclass(frozen=True)
class FeedbackItem:
    """One thing to improve: what to do, an optional heading (the next point), where."""

    text: str
    head: str | None = None
    cells: list[int] = field(default_factory=list)
    points: int = 0

    def line(self) -> str:
        """The item in one line of text (LMS feedback, the notebook's inline report)."""
        text = self.text
        if self.cells:
            text = _("{text} ({cells})").format(text=text.rstrip(), cells=cells_text(self.cells))
        if self.head:
            text = _("{head}: {text}").format(head=self.head, text=text)
        return text

    @property
    def where(self) -> str:
        """``cell 12``, or nothing when the item has no cells."""
        return cells_text(self.cells) if self.cells else ""

    def __str__(self) -> str:
        return self.line()


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
    feedback: list[FeedbackItem]
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


def _advice_items(advice: Sequence[Advice]) -> list[FeedbackItem]:
    """The grade's advice, most points at stake first; the first one heads the list."""
    items = []
    for i, a in enumerate(advice):
        head = _("To get the next point") if i == 0 and a.points > 0 else None
        items.append(FeedbackItem(text=a.text, head=head, cells=list(a.cells), points=a.points))
    return items


def improvement_items(report: CheckReport) -> list[FeedbackItem]:
    """What the student should do, one item each: the grade's advice (most points at stake
    first) or else the missing criteria, then the findings, then how the notebook was saved."""
    items: list[FeedbackItem] = _advice_items(report.grade.advice)
    seen = {i.text for i in items}

    def add(text: str) -> None:
        if text not in seen:
            seen.add(text)
            items.append(FeedbackItem(text=text))

    if not items:
        for c in report.grade.criteria:
            if c.status in (Status.not_met, Status.needs_review) and c.missing:
                add(_("{criterion}: {missing}").format(criterion=c.title, missing=c.missing))
    for f in report.findings:
        if f.severity in (Severity.error, Severity.warning):
            add(f.message)
    if not report.hygiene.has_outputs:
        add(
            _(
                "The notebook was saved without outputs; run all cells and save it with the "
                "outputs so that your results can be checked."
            )
        )
    elif not report.hygiene.in_order:
        add(
            _(
                "Some cells ran out of order; restart the kernel and run all cells from the top "
                "before saving."
            )
        )
    return items


def feedback_items(report: CheckReport) -> list[str]:
    """What the student should do, one sentence each (see :func:`improvement_items`)."""
    return [i.line() for i in improvement_items(report)]


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
        kind_label=kind_label(m.kind.value),
        kind_short=short_kind_label(m.kind.value),
        claimed=kind_label(m.claimed_kind.value) if m.claimed_kind is not None else None,
        base=m.base,
        weights=weights_label(m.weights),
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
        if cell is not None:
            view.confusion_note = _(
                "The confusion matrix is shown as a figure in cell {cell}; the numbers were not "
                "printed, so it is not redrawn here."
            ).format(cell=cell)
        else:
            view.confusion_note = _(
                "The confusion matrix is shown as a figure; the numbers were not printed, so it "
                "is not redrawn here."
            )
    return view


_SUBMITTED_SOURCES = {
    "roster": N_("roster"),
    "lms": N_("LMS archive"),
    "file": N_("file time"),
}
_RUN_STATUSES = {"ok": N_("finished"), "failed": N_("stopped")}
_GRADED_FROM = {
    "static": N_("stored outputs"),
    "runtime": N_("a fresh run"),
    "merged": N_("a fresh run and the stored outputs"),
}


def _submitted(sub: Submission) -> str:
    assert sub.submitted_at is not None
    when = sub.submitted_at.strftime("%Y-%m-%d %H:%M")
    source = label(_SUBMITTED_SOURCES, sub.submitted_at_source or "")
    if sub.late:
        return _("{when} ({source}) — late").format(when=when, source=source)
    return _("{when} ({source})").format(when=when, source=source)


def _data_fact(report: CheckReport) -> str | None:
    d = report.data
    if not (d.dataset or d.n_classes):
        return None
    parts = [label(DATASET_LABELS, d.dataset) if d.dataset else _("dataset")]
    if d.n_classes:
        parts.append(ngettext("{n} class", "{n} classes", d.n_classes).format(n=d.n_classes))
    sizes = [
        text.format(n=count(n))
        for text, n in (
            (_("training {n}"), d.train_size),
            (_("validation {n}"), d.val_size),
            (_("test {n}"), d.test_size),
        )
        if n
    ]
    if sizes:
        parts.append(", ".join(sizes))
    return " · ".join(parts)


def _facts(sub: Submission | None, report: CheckReport | None) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if sub is not None:
        if sub.student_id:
            facts.append((_("Student ID"), sub.student_id))
        if sub.notebook is not None:
            facts.append((_("Notebook"), sub.notebook.origin))
        if sub.submitted_at is not None:
            facts.append((_("Submitted"), _submitted(sub)))
    if report is not None:
        facts.append((_("Framework"), report.framework.value))
        data = _data_fact(report)
        if data:
            facts.append((_("Data"), data))
        facts.append((_("Graded from"), label(_GRADED_FROM, report.source)))
        facts.append(("sha256", report.notebook.sha256[:16] + "…"))
    return facts


def _hygiene(report: CheckReport) -> list[str]:
    h = report.hygiene
    lines = [
        ngettext(
            "{done} of {n} code cell has been run",
            "{done} of {n} code cells have been run",
            h.code_cells,
        ).format(done=h.executed_cells, n=h.code_cells)
    ]
    if not h.has_outputs:
        lines.append(_("saved without outputs: nothing could be verified from the stored notebook"))
    if not h.in_order:
        cells = ", ".join(str(c) for c in h.out_of_order_cells[:12])
        lines.append(_("cells run out of order: {cells}").format(cells=cells))
    if h.error_cells:
        cells = ", ".join(str(c) for c in h.error_cells[:12])
        lines.append(_("cells with errors in their output: {cells}").format(cells=cells))
    if report.notebook.normalised:
        lines.append(
            _("repaired on reading: {repairs}").format(
                repairs="; ".join(report.notebook.normalised)
            )
        )
    return lines


def _discussion(report: CheckReport) -> list[tuple[str, bool]]:
    d = report.discussion
    if d.language:
        written = ngettext(
            "written discussion ({n} word, {language})",
            "written discussion ({n} words, {language})",
            d.words,
        ).format(n=d.words, language=d.language)
    else:
        written = ngettext(
            "written discussion ({n} word)", "written discussion ({n} words)", d.words
        ).format(n=d.words)
    return [
        (written, d.present),
        (_("compares the models"), d.compares_models),
        (_("says which model generalises best"), d.names_best_model),
        (_("discusses generalisation / overfitting"), d.discusses_generalisation),
        (_("discusses training time"), d.discusses_training_time),
        (_("discusses the additional variants"), d.mentions_variants),
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
    words, css = result_label(status)
    name = (
        submission.name
        if submission is not None
        else (Path(report.notebook.path).stem if report is not None else _("submission"))
    )
    view = StudentView(
        title=f"{name} — {rubric_title}" if rubric_title else name,
        rubric_title=rubric_title,
        student=name,
        student_id=submission.student_id if submission is not None else None,
        notebook=submission.notebook.origin if submission and submission.notebook else None,
        status=status,
        status_label=words,
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
                _("handed in more than once: {entries}").format(
                    entries=", ".join(submission.entries)
                )
            )
    if result is not None and result.run is not None:
        view.run = _run_view(result.run)
    if report is None:
        advice = failure_advice(status)
        if view.reason:
            view.feedback.append(FeedbackItem(text=view.reason))
        if advice:
            view.feedback.append(FeedbackItem(text=advice))
        return view
    g = report.grade
    view.points, view.max_points = g.points, g.max_points
    view.potential_points, view.counted = g.potential_points, g.counted
    view.requirements_met, view.needs_review = g.requirements_met, g.needs_review
    view.notes = list(g.notes)
    view.decisions = [decision_view(o) for o in g.overrides]
    by_criterion = {d["criterion"]: d for d in view.decisions}
    view.criteria = [_criterion_view(c, by_criterion.get(c.id)) for c in g.criteria]
    view.feedback = improvement_items(report)
    if result is not None and result.run is not None and result.run.failure:
        failure = result.run.failure
        view.feedback = [f for f in view.feedback if f.text not in failure]
        view.feedback.insert(
            0, FeedbackItem(text=_("The run stopped: {failure}").format(failure=failure))
        )
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
            "severity_label": label(SEVERITY_LABELS, f.severity.value),
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
        "status_label": label(_RUN_STATUSES, run.status),
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
                "status_label": label(VERIFICATION_LABELS, c.status),
                "claimed": pct(c.claimed),
                "verified": pct(c.verified),
                "reason": c.reason,
            }
            for c in run.verification
        ],
        "verification_note": run.verification_note,
    }


def _criterion_view(c: Any, decision: dict[str, Any] | None = None) -> dict[str, Any]:
    slabel, scss = status_label(c.status.value)
    return {
        "decision": decision,
        "id": c.id,
        "title": c.title,
        "kind": "requirement" if c.kind == "requirement" else "points",
        "kind_label": _("requirement") if c.kind == "requirement" else _("points"),
        "status": c.status.value,
        "status_label": slabel,
        "status_class": scss,
        "points": c.points,
        "max_points": c.max_points,
        "reason": c.reason,
        "missing": c.missing,
        "cells": c.cells,
        "where": cells_text(c.cells) if c.cells else "",
    }
