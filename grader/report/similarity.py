"""The similarity report as one self-contained HTML page, and its JSON beside it.

The view is built here from :class:`~grader.similarity.model.SimilarityReport`
by pure functions; the markup is ``templates/similarity.html.j2`` (autoescaped:
student code and outputs end up on the page). The page makes no network
request and runs no script (a Content-Security-Policy forbids both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.i18n import N_, _, ngettext
from grader.report.templating import render
from grader.report.words import LEVEL_LABELS, label
from grader.similarity.model import ChannelScores, PairEvidence, SimilarityReport

__all__ = [
    "LEVEL_CLASSES",
    "read_similarity",
    "render_similarity",
    "similarity_view",
    "write_similarity",
]

# "worth a look" is a prompt to check, not a verdict: amber, never red
LEVEL_CLASSES: dict[str, str] = {
    "worth a look": "warn",
    "similar": "info",
    "nothing notable": "muted",
}
CHANNEL_LABELS: dict[str, str] = {
    "code": N_("code"),
    "logs": N_("training logs"),
    "numbers": N_("printed numbers"),
    "images": N_("figures"),
    "architecture": N_("model"),
}
#: how two figures match (a stable code) as words
IMAGE_MATCHES: dict[str, str] = {
    "identical": N_("identical"),
    "near-identical": N_("near-identical"),
}


@dataclass
class CellView:
    label_a: str
    label_b: str
    share_a: float
    share_b: float
    source_a: str | None
    source_b: str | None


@dataclass
class PairView:
    rank: int
    anchor: str
    name_a: str
    name_b: str
    id_a: str
    id_b: str
    score: float
    level: str
    level_label: str
    level_class: str
    reasons: list[str]
    channels: list[tuple[str, float]]
    code_share_a: float
    code_share_b: float
    cells: list[CellView]
    log_lines: list[dict[str, object]]
    log_more: int
    numbers: list[dict[str, object]]
    images: list[dict[str, object]]
    architectures: list[dict[str, object]]


@dataclass
class SimilarityView:
    title: str
    source: str
    generated: str | None
    class_size: int
    pairs_scored: int
    worth_a_look: int
    similar: int
    skipped: list[dict[str, str]]
    notes: list[str]
    rows: list[PairView]
    details: list[PairView]
    shown: int
    listed: int
    settings: list[tuple[str, str]]
    submissions: list[dict[str, object]] = field(default_factory=list)


def _cell_label(index: int, count: int | None) -> str:
    if count is None:
        return _("cell {cell}").format(cell=index + 1)
    return _("cell {cell} · In [{count}]").format(cell=index + 1, count=count)


def _channels(ch: ChannelScores) -> list[tuple[str, float]]:
    values = ch.model_dump()
    return [(label(CHANNEL_LABELS, k), float(v)) for k, v in values.items() if v >= 0.05]


def _pair_view(rank: int, p: PairEvidence) -> PairView:
    return PairView(
        rank=rank,
        anchor=f"pair-{rank}",
        name_a=p.name_a,
        name_b=p.name_b,
        id_a=p.a,
        id_b=p.b,
        score=p.score,
        level=p.level,
        level_label=label(LEVEL_LABELS, p.level),
        level_class=LEVEL_CLASSES.get(p.level, "muted"),
        reasons=list(p.reasons),
        channels=_channels(p.channels),
        code_share_a=p.code_share_a,
        code_share_b=p.code_share_b,
        cells=[
            CellView(
                label_a=_cell_label(c.cell_a, c.exec_a),
                label_b=_cell_label(c.cell_b, c.exec_b),
                share_a=c.share_a,
                share_b=c.share_b,
                source_a=c.source_a,
                source_b=c.source_b,
            )
            for c in p.cells
        ],
        log_lines=[
            {
                "line": m.line,
                "cell_a": m.cell_a + 1,
                "cell_b": m.cell_b + 1,
                "shared_by": m.shared_by,
            }
            for m in p.log_lines
        ],
        log_more=max(0, p.log_lines_total - len(p.log_lines)),
        numbers=[
            {
                "value": m.value,
                "cell_a": m.cell_a + 1,
                "cell_b": m.cell_b + 1,
                "line_a": m.line_a,
                "line_b": m.line_b,
                "shared_by": m.shared_by,
            }
            for m in p.numbers
        ],
        images=[
            {
                "kind": m.kind,
                "kind_label": label(IMAGE_MATCHES, m.kind),
                "cell_a": m.cell_a + 1,
                "cell_b": m.cell_b + 1,
                "size_a": m.size_a,
                "size_b": m.size_b,
                "distance": m.distance,
                "shared_by": m.shared_by,
                "sha": m.sha256_a[:12],
            }
            for m in p.images
        ],
        architectures=[
            {
                "description": m.description,
                "layers": m.layers,
                "hyperparameters": m.hyperparameters,
                "cell_a": m.cell_a + 1,
                "cell_b": m.cell_b + 1,
                "shared_by": m.shared_by,
            }
            for m in p.architectures
        ],
    )


def similarity_view(report: SimilarityReport, *, top: int = 20) -> SimilarityView:
    """What the page shows: the ``top`` pairs in the table, those worth a look in detail."""
    top = max(0, top)
    rows = [_pair_view(i + 1, p) for i, p in enumerate(report.pairs[:top])]
    details = [r for r in rows if r.level != "nothing notable"]
    s = report.settings
    common = _("what at least {share} of the class shares").format(share=f"{s.common_share:.0%}")
    if s.starters:
        common = ngettext(
            "{common}, and the starter notebook: {starters}",
            "{common}, and the starter notebooks: {starters}",
            len(s.starters),
        ).format(common=common, starters=", ".join(s.starters))
    settings = [
        (
            _("Code k-grams"),
            _("{k} tokens, winnowing window {window}").format(k=s.k, window=s.window),
        ),
        (_("Counts for nothing"), common),
        (
            _("Levels"),
            _("worth a look from {worth}, similar from {similar}").format(
                worth=f"{s.worth_a_look:.2f}", similar=f"{s.similar:.2f}"
            ),
        ),
        (
            _("Near-identical figures"),
            _("ink masks within {distance}, tones within {tone} grey levels").format(
                distance=f"{s.image_distance:.2f}", tone=f"{s.image_tone:.1f}"
            ),
        ),
    ]
    return SimilarityView(
        title=_("Similarity across the class"),
        source=report.source,
        generated=report.generated,
        class_size=report.class_size,
        pairs_scored=report.pairs_scored,
        worth_a_look=report.count("worth a look"),
        similar=report.count("similar"),
        skipped=[{"name": k.name, "origin": k.origin, "reason": k.reason} for k in report.skipped],
        notes=list(report.notes),
        rows=rows,
        details=details,
        shown=len(rows),
        listed=len(report.pairs),
        settings=settings,
        submissions=[
            {
                "id": sub.id,
                "name": sub.name,
                "top_score": sub.top_score,
                "top_level": sub.top_level,
                "top_level_label": label(LEVEL_LABELS, sub.top_level),
                "level_class": LEVEL_CLASSES.get(sub.top_level, "muted"),
                "top_partner": sub.top_partner,
                "own_code": sub.own_code,
            }
            for sub in sorted(report.submissions, key=lambda x: (-x.top_score, x.id))
        ],
    )


def render_similarity(report: SimilarityReport, *, top: int = 20) -> str:
    """The page, as a string of HTML."""
    return render("similarity.html.j2", v=similarity_view(report, top=top))


def write_similarity(report: SimilarityReport, out: Path, *, top: int = 20) -> dict[str, Path]:
    """Write ``similarity.html`` and ``similarity.json`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"html": out / "similarity.html", "json": out / "similarity.json"}
    for kind, text in (
        ("html", render_similarity(report, top=top)),
        ("json", report.model_dump_json(indent=1)),
    ):
        tmp = files[kind].with_name(files[kind].name + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(files[kind])
    return files


def read_similarity(out: Path) -> SimilarityReport | None:
    """The report :func:`write_similarity` left in ``out``, or None if there is none.

    For the class dashboard: ``grader similarity BATCH_OUT`` writes into the
    batch folder, next to ``index.html``.
    """
    path = out / "similarity.json"
    if not path.is_file():
        return None
    return SimilarityReport.model_validate_json(path.read_bytes())
