"""The words and number formats the reports use for kinds, statuses and outcomes.

The tables hold English labels marked with :func:`~grader.i18n.N_` under stable
keys (a model kind, a criterion's status, a result's status); the functions
below give them in the language in use, so a page drawn in Czech says Czech.
"""

from __future__ import annotations

import math

from grader.evidence import ModelKind
from grader.extract.architecture import RANDOM_FALLBACK
from grader.grade.result import Status
from grader.i18n import N_, _, ngettext

__all__ = [
    "DATASET_LABELS",
    "FAILURE_ADVICE",
    "FLAG_LABELS",
    "KIND_LABELS",
    "LEVEL_LABELS",
    "RESULT_LABELS",
    "RUN_FILE_LABELS",
    "SEVERITY_LABELS",
    "SHORT_KIND_LABELS",
    "STATUS_LABELS",
    "VERIFICATION_LABELS",
    "cells_text",
    "count",
    "duration",
    "failure_advice",
    "flag_label",
    "kind_label",
    "label",
    "pct",
    "result_label",
    "short_kind_label",
    "status_label",
    "weights_label",
]

KIND_LABELS: dict[str, str] = {
    ModelKind.scratch_cnn.value: N_("CNN from scratch"),
    ModelKind.custom_residual.value: N_("custom residual CNN (ResNet-like)"),
    ModelKind.custom_xception.value: N_("custom Xception-like CNN"),
    ModelKind.transfer_frozen.value: N_("transfer learning (frozen base)"),
    ModelKind.fine_tuned.value: N_("fine-tuned pretrained CNN"),
    ModelKind.other.value: N_("other"),
}

SHORT_KIND_LABELS: dict[str, str] = {
    ModelKind.scratch_cnn.value: N_("scratch CNN"),
    ModelKind.custom_residual.value: N_("ResNet-like"),
    ModelKind.custom_xception.value: N_("Xception-like"),
    ModelKind.transfer_frozen.value: N_("transfer (frozen)"),
    ModelKind.fine_tuned.value: N_("fine-tuned"),
    ModelKind.other.value: N_("other"),
}

STATUS_LABELS: dict[str, tuple[str, str]] = {
    Status.met.value: (N_("met"), "ok"),
    Status.not_met.value: (N_("not met"), "bad"),
    Status.needs_review.value: (N_("needs review"), "warn"),
    Status.not_applicable.value: (N_("not applicable"), "muted"),
    Status.conditional.value: (N_("conditional"), "info"),
}

RESULT_LABELS: dict[str, tuple[str, str]] = {
    "graded": (N_("graded"), "ok"),
    "run-failed": (N_("run failed"), "warn"),
    "not-a-notebook": (N_("not a notebook"), "bad"),
    "no-notebook": (N_("no notebook"), "bad"),
    "infrastructure": (N_("grader could not run it"), "bad"),
    "error": (N_("grader error"), "bad"),
    "missing": (N_("missing"), "muted"),
    "pending": (N_("pending"), "info"),
}

FAILURE_ADVICE: dict[str, str] = {
    "not-a-notebook": N_(
        "Hand in the .ipynb file itself, saved from Jupyter or Colab "
        "(File → Download → .ipynb), not a PDF, an HTML export or a renamed file."
    ),
    "no-notebook": N_(
        "No notebook (.ipynb) was found in what you handed in. Upload the notebook file itself."
    ),
    "infrastructure": N_(
        "The grader could not run your notebook for a reason that is not yours; "
        "the instructor will look at it."
    ),
    "error": N_("The grader failed on your notebook; the instructor will look at it."),
}

#: the flags of a class row (stable codes: the gradebook's ``flags`` column) as words
FLAG_LABELS: dict[str, str] = {
    "late": N_("late"),
    "identical": N_("identical"),
    "unknown submitter": N_("unknown submitter"),
    "duplicate": N_("duplicate"),
    "several notebooks": N_("several notebooks"),
    "review": N_("review"),
    "not counted": N_("not counted"),
    "conditional": N_("conditional"),
    "no outputs": N_("no outputs"),
    "integrity": N_("integrity"),
    "run failed": N_("run failed"),
    "override": N_("override"),
    "evidence changed": N_("evidence changed"),
}

#: a finding's or an intake problem's severity (a stable code) as a word
SEVERITY_LABELS: dict[str, str] = {
    "error": N_("error"),
    "warning": N_("warning"),
    "info": N_("info"),
}

#: the re-evaluation of a claimed test accuracy (a stable code) as a word
VERIFICATION_LABELS: dict[str, str] = {
    "verified": N_("verified"),
    "forged": N_("forged"),
    "unverified": N_("unverified"),
}

#: the level of a pair of notebooks in the similarity report (a stable code) as words
LEVEL_LABELS: dict[str, str] = {
    "worth a look": N_("worth a look"),
    "similar": N_("similar"),
    "nothing notable": N_("nothing notable"),
}

#: the files of a run as the run's summary names them (a stable key) as words
RUN_FILE_LABELS: dict[str, str] = {
    "executed notebook": N_("executed notebook"),
    "run log": N_("run log"),
    "notebook output": N_("notebook output"),
    "kernel log": N_("kernel log"),
    "capture record": N_("capture record"),
    "environment": N_("environment"),
}

#: a dataset as the evidence names it (a stable key) as words
DATASET_LABELS: dict[str, str] = {
    "cifar10": N_("CIFAR-10"),
    "synthetic": N_("synthetic CIFAR-like data"),
}


def label(table: dict[str, str], key: str) -> str:
    """``table[key]`` in the language in use; an unknown key as it is."""
    return _(table[key]) if key in table else key


def kind_label(kind: str) -> str:
    return label(KIND_LABELS, kind)


def short_kind_label(kind: str) -> str:
    return label(SHORT_KIND_LABELS, kind)


def flag_label(flag: str) -> str:
    return label(FLAG_LABELS, flag)


def status_label(status: str) -> tuple[str, str]:
    """A criterion's status as (words, CSS class)."""
    words, css = STATUS_LABELS.get(status, (status, "info"))
    return (_(words) if status in STATUS_LABELS else words), css


def result_label(status: str, css: str = "info") -> tuple[str, str]:
    """A result's status as (words, CSS class); ``css`` for a status the table lacks."""
    if status not in RESULT_LABELS:
        return status, css
    words, known = RESULT_LABELS[status]
    return _(words), known


def failure_advice(status: str) -> str | None:
    """What to do about a submission that could not be graded (None: nothing to say)."""
    advice = FAILURE_ADVICE.get(status)
    return _(advice) if advice is not None else None


def weights_label(weights: str | None) -> str | None:
    """The weights a pretrained base ran with, as the evidence records them, for a reader."""
    if weights and weights.endswith(RANDOM_FALLBACK):
        return _("{weights} requested; missing, random initialisation used (smoke)").format(
            weights=weights.removesuffix(RANDOM_FALLBACK)
        )
    return weights


def cells_text(cells: list[int]) -> str:
    """``cell 12`` / ``cells 4, 7``: where something is in the notebook."""
    return ngettext("cell {cells}", "cells {cells}", len(cells)).format(
        cells=", ".join(str(c) for c in cells)
    )


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
