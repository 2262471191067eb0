"""The class dashboard as plain values: what :func:`dashboard_view` returns, the template draws."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grader.check.bands import Band
from grader.evidence import ModelKind, Severity
from grader.grade.result import Status
from grader.i18n import _
from grader.report import plots
from grader.report.decisions import EVIDENCE_CHANGED, decision_view
from grader.report.results import ClassResults, StudentRow, late_note
from grader.report.words import (
    LEVEL_LABELS,
    SEVERITY_LABELS,
    SHORT_KIND_LABELS,
    flag_label,
    kind_label,
    label,
    result_label,
    short_kind_label,
)

if TYPE_CHECKING:
    from grader.similarity.model import SimilarityReport

__all__ = ["DashboardView", "dashboard_view"]


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
    decisions: list[dict[str, Any]] = field(default_factory=list)
    similarity: dict[str, Any] | None = None
    similarity_hint: str = ""


def _row(row: StudentRow) -> dict[str, Any]:
    words, css = result_label(row.status)
    if row.state == "graded" and row.report is not None and not row.report.grade.requirements_met:
        words, css = _("incomplete"), "warn"
    models = []
    if row.report is not None:
        for m in row.report.models:
            models.append(
                {
                    "kind": m.kind.value,
                    "label": kind_label(m.kind.value),
                    "short": short_kind_label(m.kind.value),
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
        "status_label": words,
        "status_class": css,
        "points": row.points,
        "max_points": row.max_points,
        "counted": row.counted,
        "flags": row.flags,
        "flag_labels": [(f, flag_label(f)) for f in row.flags],
        "models": models,
        "best": best,
        "href": row.report_href,
        "submitted_at": (row.submitted_at or "")[:16].replace("T", " "),
        "late": row.late,
        "reason": row.reason,
    }


def dashboard_view(
    results: ClassResults,
    *,
    bands: Mapping[str, Band] | None = None,
    generated: str | None = None,
    similarity: SimilarityReport | None = None,
    similarity_problem: str | None = None,
    similarity_page: str | None = None,
) -> DashboardView:
    """Everything the class dashboard shows, as plain values (figures already drawn).

    ``similarity`` is the report ``grader similarity`` left in the folder (its
    page ``similarity_page``); without one the section says how to make it.
    """
    bands = bands or {}
    rows = results.rows
    graded = [r for r in rows if r.report is not None]
    points = [r.points for r in graded if r.points is not None]
    review_rows = [
        r
        for r in rows
        if r.needs_review
        or r.state == "failed"
        or {"unknown submitter", "duplicate", "identical", "evidence changed"} & set(r.flags)
        or _unverified(r)
    ]
    by_kind = _accuracies_by_kind(graded)
    kind_bands = {k: b.test_accuracy for k, b in bands.items() if b.test_accuracy is not None}
    return DashboardView(
        title=results.title,
        rubric=results.rubric,
        profile=results.profile,
        max_points=results.max_points,
        source=results.intake.source,
        generated=generated,
        cards=_cards(results, graded, points, review_rows),
        rows=[_row(r) for r in rows],
        histogram=plots.points_histogram_image(points, results.max_points),
        by_kind=plots.accuracy_by_kind_image(
            {k: v for k, v in by_kind.items() if v},
            bands=kind_bands,
            labels={k: short_kind_label(k) for k in SHORT_KIND_LABELS},
        ),
        kind_table=_kind_table(by_kind, kind_bands),
        items=_item_analysis(graded),
        failures=_failures(rows),
        review=[{"name": r.name, "href": r.report_href, "why": _why(r)} for r in review_rows],
        problems=[
            {
                "kind": p.kind,
                "severity": p.severity,
                "severity_label": label(SEVERITY_LABELS, p.severity),
                "message": p.message,
                "origin": p.origin or "",
            }
            for p in sorted(
                results.intake.problems,
                key=lambda p: ({"error": 0, "warning": 1, "info": 2}[p.severity], p.kind),
            )
        ],
        missing=[
            {"student_id": r.student_id or "", "name": r.name} for r in rows if r.state == "missing"
        ],
        has_times=any(r.submitted_at for r in rows),
        decisions=_decisions(rows),
        similarity=_similarity(similarity, rows, similarity_page) if similarity else None,
        similarity_hint=similarity_problem
        or _(
            "No similarity report in this folder yet. Run `grader similarity OUT` with this "
            "output folder (the one holding this page) as OUT: the pairs of notebooks that share "
            "material rare in this class will be listed here with the reasons, as a prompt to "
            "look, never as a verdict."
        ),
    )


def _unverified(r: StudentRow) -> list[str]:
    """Test accuracies the harness could not re-check: its points stand, an eye is due."""
    if r.report is None:
        return []
    return [f.message for f in r.report.findings if f.code == "unverified-accuracy"]


def _cards(
    results: ClassResults,
    graded: list[StudentRow],
    points: list[int],
    review_rows: list[StudentRow],
) -> list[tuple[str, str, str]]:
    rows = results.rows
    failed = [r for r in rows if r.state == "failed"]
    missing = [r for r in rows if r.state == "missing"]
    pending = [r for r in rows if r.state == "pending"]
    mean = sum(points) / len(points) if points else None
    unknown = [r for r in rows if not r.in_roster and r.state != "missing"]
    if results.intake.roster:
        first = [(_("On the roster"), str(len(results.intake.students)), "")]
        if unknown:
            first.append((_("Not on the roster"), str(len(unknown)), "warn"))
    else:
        first = [(_("Submissions"), str(len(rows)), "")]
    cards = [
        *first,
        (_("Graded"), str(len(graded)), "ok"),
        (_("Failed"), str(len(failed)), "bad" if failed else ""),
        (_("Missing"), str(len(missing)), "warn" if missing else ""),
        (_("Needs review"), str(len(review_rows)), "warn" if review_rows else ""),
        (
            _("Mean points"),
            f"{mean:.2f} / {results.max_points}" if mean is not None else "—",
            "",
        ),
    ]
    if pending:
        cards.insert(3, (_("Pending"), str(len(pending)), "info"))
    runs = [r.result.run for r in rows if r.result is not None and r.result.run is not None]
    exposed = [run for run in runs if run.sandbox and run.unprotected]
    if exposed:
        cards.append((_("Runs not isolated"), str(len(exposed)), "bad"))
    forged = [run for run in runs if any(c.status == "forged" for c in run.verification)]
    if forged:
        cards.append((_("Forged accuracies"), str(len(forged)), "bad"))
    decided = [o for r in rows for o in r.overrides]
    if decided:
        cards.append((_("Decided by hand"), str(len(decided)), "info"))
    changed = [o for o in decided if o.evidence_changed]
    if changed:
        cards.append((_("Decisions on old evidence"), str(len(changed)), "bad"))
    return cards


def _accuracies_by_kind(graded: list[StudentRow]) -> dict[str, list[float]]:
    """Test accuracies across the class, by model kind."""
    by_kind: dict[str, list[float]] = {k.value: [] for k in ModelKind}
    for r in graded:
        assert r.report is not None
        for m in r.report.models:
            if m.test_accuracy is not None:
                by_kind[m.kind.value].append(m.test_accuracy)
    return by_kind


def _kind_table(
    by_kind: dict[str, list[float]], kind_bands: Mapping[str, tuple[float, float]]
) -> list[dict[str, Any]]:
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
                "label": short_kind_label(kind),
                "n": len(s),
                "min": s[0],
                "median": median,
                "max": s[-1],
                "band": band,
                "below": sum(1 for a in s if band is not None and a < band[0]),
            }
        )
    return kind_table


def _item_analysis(graded: list[StudentRow]) -> list[dict[str, Any]]:
    """Which criteria are missed most often."""
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
    return items


def _failures(rows: list[StudentRow]) -> list[dict[str, Any]]:
    failures = []
    for r in rows:
        run = r.result.run if r.result is not None else None
        if r.state in ("failed", "run-failed"):
            words, css = result_label(r.status, "bad")
            failures.append(
                {
                    "name": r.name,
                    "href": r.report_href,
                    "status": words,
                    "status_class": css,
                    "reason": (run.failure if run is not None and run.failure else r.reason) or "",
                    "cell": run.failure_cell if run is not None else None,
                }
            )
    return failures


def _why(r: StudentRow) -> list[str]:
    """Why a submission is on the review list."""
    why: list[str] = []
    if r.report is not None:
        why += [
            _("{criterion}: {reason}").format(criterion=c.title, reason=c.reason)
            for c in r.report.grade.criteria
            if c.status == Status.needs_review
        ]
        late = late_note(r)
        why += [late] if late else []
        why += [f.message for f in r.report.findings if f.severity == Severity.error]
    if r.state == "failed":
        why.append(r.reason or r.status)
    if r.state == "run-failed":
        why.append(_("the run stopped before the end; graded on what ran"))
    if "unknown submitter" in r.flags:
        why.append(_("not on the roster"))
    if "duplicate" in r.flags:
        why.append(_("handed in more than once"))
    if "identical" in r.flags:
        why.append(_("a notebook byte-identical to another student's"))
    why += _unverified(r)
    why += [
        _("decision on {title} ({criterion}): {changed}").format(
            title=o.title, criterion=o.criterion, changed=_(EVIDENCE_CHANGED)
        )
        for o in r.overrides
        if o.evidence_changed
    ]
    return why


def _decisions(rows: list[StudentRow]) -> list[dict[str, Any]]:
    """Every decision made by hand, student by student, with what the harness found."""
    out = []
    for r in rows:
        for o in r.overrides:
            out.append({"name": r.name, "key": r.key, "href": r.report_href, **decision_view(o)})
    return out


def _similarity(
    report: SimilarityReport, rows: list[StudentRow], page: str | None, top: int = 10
) -> dict[str, Any]:
    """The pairs worth a look and the similar ones, highest first, for the dashboard."""
    from grader.report.similarity import LEVEL_CLASSES

    hrefs = {r.key: r.report_href for r in rows}
    pairs: list[dict[str, Any]] = []
    for rank, p in enumerate(report.pairs, start=1):
        if p.level == "nothing notable" or len(pairs) >= top:
            continue
        pairs.append(
            {
                "rank": rank,
                "a": p.name_a,
                "b": p.name_b,
                "href_a": hrefs.get(p.a),
                "href_b": hrefs.get(p.b),
                "score": p.score,
                "level": p.level,
                "level_label": label(LEVEL_LABELS, p.level),
                "level_class": LEVEL_CLASSES.get(p.level, "muted"),
                "reasons": list(p.reasons[:3]),
                "more": max(0, len(p.reasons) - 3),
                "href": f"{page}#pair-{rank}" if page and rank <= 20 else page,
            }
        )
    return {
        "generated": report.generated,
        "class_size": report.class_size,
        "worth": report.count("worth a look"),
        "similar": report.count("similar"),
        "pairs": pairs,
        "page": page,
        "skipped": len(report.skipped),
    }
