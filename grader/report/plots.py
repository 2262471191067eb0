"""Figures for the reports, drawn from the evidence (never copied from the notebook).

Each function returns a ``data:image/svg+xml;base64,...`` URI to put in an
``<img>``, so a report stays one self-contained file. matplotlib is imported
only when a figure is drawn, and only through its object-oriented API with the
Agg/SVG canvases: no pyplot state, no GUI backend. The SVG output is
deterministic (fixed ids, no date), so the same evidence gives the same bytes.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from grader.check.bands import Band
from grader.i18n import N_, _

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "accuracy_by_kind_image",
    "comparison_image",
    "confusion_image",
    "curves_image",
    "points_histogram_image",
]

PALETTE = {
    "train": "#1d4ed8",
    "val": "#ea580c",
    "band": "#16a34a",
    "grid": "#e5e7eb",
    "text": "#1f2937",
    "muted": "#6b7280",
    "bar": "#2563eb",
}

_RC: dict[str, Any] = {
    "svg.hashsalt": "grader-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9.0,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": PALETTE["text"],
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": PALETTE["muted"],
    "ytick.color": PALETTE["muted"],
    "legend.frameon": False,
    "legend.fontsize": 8.0,
}


_Layout = Literal["constrained"] | None


def _figure(width: float, height: float, layout: _Layout) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _render(
    draw: Any, width: float, height: float, *, layout: _Layout = "constrained"
) -> str | None:
    """Draw a figure to an SVG data URI; ``layout=None`` when ``draw`` sets the margins
    itself (half the time of a layout engine, for the figures every report has).

    Without matplotlib installed there are no figures (None); the reports say so.
    """
    try:
        import matplotlib
    except ImportError:
        return None

    with matplotlib.rc_context(cast(Any, _RC)):
        fig = _figure(width, height, layout)
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white")
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _finite(values: Sequence[float]) -> list[float]:
    return [v if isinstance(v, int | float) and math.isfinite(v) else math.nan for v in values]


_PANELS = (
    (N_("Loss"), "loss", "val_loss"),
    (N_("Accuracy"), "accuracy", "val_accuracy"),
)


def curves_image(
    history: Mapping[str, Sequence[float]],
    *,
    band: Band | None = None,
    title: str | None = None,
    first_epoch: int = 1,
) -> str | None:
    """Loss and accuracy per epoch (training and validation), with the reference band.

    Returns None when the history has neither loss nor accuracy.
    """
    panels = [p for p in _PANELS if history.get(p[1]) or history.get(p[2])]
    if not panels:
        return None

    def draw(fig: Figure) -> None:
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (label, train_key, val_key) in zip(axes, panels, strict=True):
            n = 0
            for key, colour, style, name in (
                (train_key, PALETTE["train"], "-", _("training")),
                (val_key, PALETTE["val"], "--", _("validation")),
            ):
                values = _finite(history.get(key) or [])
                if not values:
                    continue
                xs = list(range(first_epoch, first_epoch + len(values)))
                n = max(n, len(values))
                ax.plot(
                    xs,
                    values,
                    style,
                    color=colour,
                    lw=1.8,
                    label=name,
                    marker="o" if len(values) <= 25 else None,
                    ms=3,
                )
            if band is not None:
                for key in (val_key, train_key):
                    cb = band.curves.get(key)
                    if cb is None:
                        continue
                    m = min(len(cb.low), max(n, 1))
                    xs = list(range(first_epoch, first_epoch + m))
                    ax.fill_between(
                        xs,
                        cb.low[:m],
                        cb.high[:m],
                        color=PALETTE["band"],
                        alpha=0.15,
                        lw=0,
                        label=_("reference ({key})").format(key=key),
                    )
                    break
            ax.set_title(_(label))
            ax.set_xlabel(_("epoch"))
            ax.grid(True, color=PALETTE["grid"], lw=0.6)
            ax.set_axisbelow(True)
            if n and n <= 12:
                ax.set_xticks(list(range(first_epoch, first_epoch + n)))
            if train_key == "accuracy":
                top = max(
                    [
                        1.0,
                        *[
                            v
                            for k in (train_key, val_key)
                            for v in _finite(history.get(k) or [])
                            if not math.isnan(v)
                        ],
                    ]
                )
                ax.set_ylim(0, min(top * 1.02, 1.02) if top <= 1.0 else top * 1.05)
            ax.legend(loc="best")
        if title:
            fig.suptitle(title, fontsize=10, color=PALETTE["text"])
        width = 3.6 * len(panels) + 0.4
        fig.subplots_adjust(
            left=0.55 / width,
            right=1 - 0.15 / width,
            bottom=0.17,
            top=0.8 if title else 0.9,
            wspace=0.22 * len(panels),
        )

    return _render(draw, 3.6 * len(panels) + 0.4, 2.8 if not title else 3.1, layout=None)


def confusion_image(
    matrix: Sequence[Sequence[int | float]],
    labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
) -> str | None:
    """A confusion matrix as a heatmap: colour by share of the true class, counts written in."""
    rows = [list(r) for r in matrix]
    n = len(rows)
    if n == 0 or any(len(r) != n for r in rows):
        return None
    names = list(labels) if labels and len(labels) == n else [str(i) for i in range(n)]

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        shares = []
        for r in rows:
            total = sum(r) or 1
            shares.append([v / total for v in r])
        im = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
        size = 8 if n <= 10 else 6
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                text = f"{v:g}" if isinstance(v, float) else str(v)
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=size,
                    color="white" if shares[i][j] > 0.55 else PALETTE["text"],
                )
        ax.set_xticks(
            range(n),
            names,
            rotation=45 if max(len(s) for s in names) > 3 else 0,
            ha="right" if max(len(s) for s in names) > 3 else "center",
        )
        ax.set_yticks(range(n), names)
        ax.set_xlabel(_("predicted"))
        ax.set_ylabel(_("true"))
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        bar.set_label(_("share of the true class"), color=PALETTE["muted"])
        bar.outline.set_visible(False)
        if title:
            ax.set_title(title)

    side = 3.2 + 0.22 * max(0, n - 5)
    return _render(draw, side + 0.9, side + (0.3 if title else 0.0))


def comparison_image(
    names: Sequence[str],
    accuracies: Sequence[float | None],
    *,
    bands: Sequence[tuple[float, float] | None] | None = None,
) -> str | None:
    """Test accuracy of each model as horizontal bars, with the reference range per model."""
    pairs = [
        (n, a, (bands[i] if bands else None))
        for i, (n, a) in enumerate(zip(names, accuracies, strict=True))
        if a is not None
    ]
    if not pairs:
        return None

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        ys = list(range(len(pairs)))[::-1]
        for y, (_name, acc, band) in zip(ys, pairs, strict=True):
            if band is not None:
                ax.barh(
                    y,
                    band[1] - band[0],
                    left=band[0],
                    height=0.86,
                    color=PALETTE["band"],
                    alpha=0.22,
                    lw=0,
                )
            ax.barh(y, acc, height=0.5, color=PALETTE["bar"])
            ax.text(acc + 0.01, y, f"{acc:.1%}", va="center", fontsize=8, color=PALETTE["text"])
        ax.set_yticks(ys, [_short(p[0]) for p in pairs])
        ax.set_xlim(0, 1.08)
        ax.set_xlabel(_("test accuracy"))
        ax.grid(True, axis="x", color=PALETTE["grid"], lw=0.6)
        ax.set_axisbelow(True)

    return _render(draw, 6.4, 0.9 + 0.42 * len(pairs))


def points_histogram_image(points: Sequence[int], max_points: int) -> str | None:
    """How many students earned each number of points."""
    if not points:
        return None
    top = max(max_points, *points)
    counts = [sum(1 for p in points if p == k) for k in range(top + 1)]

    def draw(fig: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = fig.subplots()
        xs = list(range(top + 1))
        bars = ax.bar(xs, counts, width=0.6, color=PALETTE["bar"])
        ax.bar_label(bars, labels=[str(c) for c in counts], padding=2, fontsize=8)
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.set_xlabel(_("points"))
        ax.set_ylabel(_("students"))
        ax.set_ylim(0, max(counts) * 1.2 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, axis="y", color=PALETTE["grid"], lw=0.6)
        ax.set_axisbelow(True)

    return _render(draw, 4.2, 2.6)


def accuracy_by_kind_image(
    values: Mapping[str, Sequence[float]],
    *,
    bands: Mapping[str, tuple[float, float]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> str | None:
    """Test accuracy of every model in the class, one row per model kind, with its band."""
    kinds = [k for k, v in values.items() if v]
    if not kinds:
        return None

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        ys = list(range(len(kinds)))[::-1]
        for y, kind in zip(ys, kinds, strict=True):
            accs = sorted(values[kind])
            band = (bands or {}).get(kind)
            if band is not None:
                ax.fill_betweenx(
                    [y - 0.35, y + 0.35], band[0], band[1], color=PALETTE["band"], alpha=0.18, lw=0
                )
            # a deterministic spread so equal values stay visible
            jitter = [((i * 7919) % 11 - 5) / 20.0 for i in range(len(accs))]
            ax.scatter(
                accs,
                [y + j for j in jitter],
                s=18,
                color=PALETTE["bar"],
                alpha=0.75,
                edgecolors="white",
                linewidths=0.5,
                zorder=3,
            )
            mid = (
                accs[len(accs) // 2]
                if len(accs) % 2
                else (accs[len(accs) // 2 - 1] + accs[len(accs) // 2]) / 2
            )
            ax.plot([mid, mid], [y - 0.38, y + 0.38], color=PALETTE["val"], lw=2, zorder=4)
            ax.text(
                1.01,
                y,
                f"n={len(accs)}",
                va="center",
                fontsize=8,
                color=PALETTE["muted"],
                transform=ax.get_yaxis_transform(),
            )
        names = [(labels or {}).get(k, k) for k in kinds]
        ax.set_yticks(ys, names)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, len(kinds) - 0.4)
        ax.set_xlabel(
            _("test accuracy (orange: median; green: reference band)")
            if bands
            else _("test accuracy (orange: median)")
        )
        ax.grid(True, axis="x", color=PALETTE["grid"], lw=0.6)
        ax.set_axisbelow(True)

    return _render(draw, 6.6, 0.9 + 0.55 * len(kinds))
