"""The words and number formats the reports use for kinds, statuses and outcomes."""

from __future__ import annotations

import math

from grader.evidence import ModelKind
from grader.grade.result import Status

__all__ = [
    "FAILURE_ADVICE",
    "KIND_LABELS",
    "RESULT_LABELS",
    "SHORT_KIND_LABELS",
    "STATUS_LABELS",
    "count",
    "duration",
    "pct",
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

FAILURE_ADVICE: dict[str, str] = {
    "not-a-notebook": "Hand in the .ipynb file itself, saved from Jupyter or Colab "
    "(File → Download → .ipynb), not a PDF, an HTML export or a renamed file.",
    "no-notebook": "No notebook (.ipynb) was found in what you handed in. Upload the notebook "
    "file itself.",
    "infrastructure": "The grader could not run your notebook for a reason that is not yours; "
    "the instructor will look at it.",
    "error": "The grader failed on your notebook; the instructor will look at it.",
}


def pct(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:.{digits}f} %"


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}".replace(",", "\u202f")
