"""Claimed against reproduced: the test accuracies a submission shows, against its re-run.

Only a run of the full profile on CIFAR-10 can reproduce what a student ran;
any other run says so in one information finding.
"""

from __future__ import annotations

from grader.evidence import Evidence, Finding, Severity
from grader.extract.runtime import MergeContext
from grader.i18n import _

__all__ = ["reproducibility_findings"]


def reproducibility_findings(
    original: Evidence, merged: Evidence, context: MergeContext
) -> list[Finding]:
    """Compare the test accuracy each model claimed in the submitted outputs with the re-run."""
    claimed = [m for m in original.models if m.test_accuracy is not None]
    if not claimed:
        return []
    if context.profile != "full" or context.data_kind != "cifar10":
        message = (
            _("claimed test accuracies not compared with the re-run (smoke profile)")
            if context.profile != "full"
            else _("claimed test accuracies not compared with the re-run (not run on CIFAR-10)")
        )
        return [Finding(code="reproducibility", severity=Severity.info, message=message)]
    out: list[Finding] = []
    tol = context.repro_tolerance
    taken: set[str] = set()
    for claim in claimed:
        match = None
        for m in merged.models:
            if m.id in taken or m.test_accuracy is None:
                continue
            if set(m.fit_cells) & set(claim.fit_cells) or (
                not claim.fit_cells and m.name == claim.name
            ):
                match = m
                break
        if match is None or match.test_accuracy is None or claim.test_accuracy is None:
            out.append(
                Finding(
                    code="reproducibility",
                    severity=Severity.warning,
                    message=_(
                        "{model}: the notebook claims test accuracy {claimed}, but the re-run "
                        "measured none for it"
                    ).format(model=claim.name, claimed=f"{claim.test_accuracy:.4f}"),
                    model=claim.id,
                )
            )
            continue
        taken.add(match.id)
        diff = match.test_accuracy - claim.test_accuracy
        ok = abs(diff) <= tol
        message = (
            _(
                "{model}: claimed test accuracy {claimed}, re-run {rerun} (difference {diff}, "
                "tolerance ±{tolerance}): reproduced"
            )
            if ok
            else _(
                "{model}: claimed test accuracy {claimed}, re-run {rerun} (difference {diff}, "
                "tolerance ±{tolerance}): NOT reproduced"
            )
        ).format(
            model=match.name,
            claimed=f"{claim.test_accuracy:.4f}",
            rerun=f"{match.test_accuracy:.4f}",
            diff=f"{diff:+.4f}",
            tolerance=f"{tol:.2f}",
        )
        out.append(
            Finding(
                code="reproducibility",
                severity=Severity.info if ok else Severity.warning,
                message=message,
                cell=match.test_accuracy_provenance.cell
                if match.test_accuracy_provenance
                else None,
                model=match.id,
            )
        )
    return out
