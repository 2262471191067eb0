"""The checks of a run that trust nothing the kernel said: sandbox, data integrity, verification."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from grader.check.integrity import integrity_findings
from grader.check.sandbox import sandbox_findings
from grader.check.verification import verification_findings
from grader.evidence import Evidence, Finding
from grader.execute.capture import CaptureRecord
from grader.execute.reevaluate import VerificationReport
from grader.execute.sandbox.report import SandboxReport
from grader.execute.served import ServedData

__all__ = ["run_findings"]


def run_findings(
    evidence: Evidence,
    *,
    capture: CaptureRecord,
    fit_models: dict[str, str],
    printed: Evidence | None,
    served: ServedData | None,
    sandbox: SandboxReport | None,
    verification: VerificationReport | None,
    store_changed: Iterable[str] = (),
    profile: str = "full",
) -> list[Finding]:
    """A weak sandbox, data leaks and stale printed numbers, forged or unverified accuracies.

    ``printed`` (what the executed notebook's outputs show) is compared with
    what its evaluations returned only for a run of the full profile: a smoke
    run caps the data, so its printed numbers are expected to differ.
    """
    findings = sandbox_findings(sandbox)
    with contextlib.suppress(Exception):  # a check must never lose the run; the others count
        findings += integrity_findings(
            capture,
            served,
            fit_models,
            evidence,
            printed if profile == "full" else None,
            store_changed=store_changed,
        )
    if verification is not None:
        findings += verification_findings(verification)
    return findings
