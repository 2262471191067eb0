"""Findings from the out-of-process verification of a run's test accuracies.

The verification itself (:mod:`grader.execute.reevaluate`) re-evaluates each saved
model on its saved inputs and compares with the accuracy the evidence claims;
this module turns its report into findings: ``forged-accuracy`` (error),
``unverified-accuracy`` (warning, with the reason) and ``accuracy-verified``
(information).
"""

from __future__ import annotations

from grader.evidence import Finding, Severity
from grader.execute.reevaluate import VerificationReport
from grader.i18n import _

__all__ = ["verification_findings"]


def verification_findings(report: VerificationReport) -> list[Finding]:
    out: list[Finding] = []
    verified = [c for c in report.checks if c.status == "verified"]
    for c in report.checks:
        if c.status == "forged":
            out.append(
                Finding(
                    code="forged-accuracy",
                    severity=Severity.error,
                    message=f"{c.name}: {c.reason}",
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
                    ).format(model=c.name, claimed=claimed, reason=c.reason),
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
