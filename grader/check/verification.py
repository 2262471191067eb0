"""Findings from the out-of-process verification of a run's test accuracies.

The verification itself (:mod:`grader.execute.reevaluate`) re-evaluates each saved
model on its saved inputs and compares with the accuracy the evidence claims;
this module turns its report into findings: ``forged-accuracy`` (error),
``unverified-accuracy`` (warning, with the reason) and ``accuracy-verified``
(information).
"""

from __future__ import annotations

from grader.evidence import Finding, Severity
from grader.execute.reevaluate import ModelCheck, VerificationReport
from grader.i18n import N_, _

__all__ = ["check_reason", "verification_findings"]

#: the verification's fixed reasons (it records them in English), marked as messages
_FIXED_REASONS = frozenset(
    (
        N_(
            "no training of this model was captured at run time, so its accuracy comes only "
            "from printed output"
        ),
        N_("it was evaluated on data that is not an array of images"),
        N_(
            "no evaluation of this model on test data was captured (evaluate/predict replaced "
            "or bypassed)"
        ),
        N_("no served dataset to check against"),
        N_("the saved inputs could not be read"),
        N_("bad rows from the worker"),
        N_("the worker's predictions do not cover the inputs"),
    )
)


def check_reason(c: ModelCheck) -> str:
    """The reason of one model's check in the language in use (the record keeps English)."""
    known = c.claimed is not None and c.verified is not None and c.tolerance is not None
    if known and c.matched is not None:
        said = {
            "n": c.matched,
            "claimed": f"{c.claimed:.4f}",
            "verified": f"{c.verified:.4f}",
            "tolerance": f"{c.tolerance:.3f}",
        }
        if c.status == "verified":
            return _(
                "re-evaluated out of process on {n} test images: {verified} (reported "
                "{claimed}, tolerance ±{tolerance})"
            ).format(**said)
        if c.status == "forged" and c.reason.startswith("reported test accuracy"):
            return _(
                "reported test accuracy {claimed}, but the grader's own re-evaluation of the "
                "saved model on the same {n} test images gives {verified} (tolerance "
                "±{tolerance})"
            ).format(**said)
    if c.reason in _FIXED_REASONS:
        return _(c.reason)
    return c.reason


def verification_findings(report: VerificationReport) -> list[Finding]:
    out: list[Finding] = []
    verified = [c for c in report.checks if c.status == "verified"]
    for c in report.checks:
        if c.status == "forged":
            out.append(
                Finding(
                    code="forged-accuracy",
                    severity=Severity.error,
                    message=f"{c.name}: {check_reason(c)}",
                    model=c.model,
                )
            )
        elif c.status == "unverified":
            claimed = f"{c.claimed:.4f}" if c.claimed is not None else "?"
            out.append(
                Finding(
                    code="unverified-accuracy",
                    severity=Severity.warning,
                    message=_(
                        "{model}: test accuracy {claimed} could not be verified: {reason}"
                    ).format(model=c.name, claimed=claimed, reason=check_reason(c)),
                    model=c.model,
                )
            )
    if verified:
        out.append(
            Finding(
                code="accuracy-verified",
                severity=Severity.info,
                message=_("test accuracies re-evaluated out of process: {results}").format(
                    results="; ".join(
                        f"{c.name} {c.verified:.4f}" for c in verified if c.verified is not None
                    )
                ),
            )
        )
    return out
