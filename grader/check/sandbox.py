"""Findings about a run's sandbox: not isolated, output dropped, stopped by a limit."""

from __future__ import annotations

from grader.evidence import Finding, Severity
from grader.execute.sandbox.report import SandboxReport

__all__ = ["sandbox_findings"]


def sandbox_findings(report: SandboxReport | None) -> list[Finding]:
    """``sandbox-weak`` when the run was not isolated, ``output-truncated``, ``limit-exceeded``."""
    if report is None:
        return []
    out: list[Finding] = []
    if report.weak():
        missing = "; ".join(f"{p.name}: {p.detail}" for p in report.missing())
        what = (
            "NO SANDBOX: the notebook ran with the grader's own rights"
            if report.backend == "local"
            else f"WEAK SANDBOX ({report.backend}): only resource limits were applied"
        )
        out.append(
            Finding(
                code="sandbox-weak",
                severity=Severity.warning,
                message=f"{what}; protections missing or partial on this machine: {missing}"[:2000],
            )
        )
    if report.output.truncated:
        out.append(
            Finding(
                code="output-truncated",
                severity=Severity.warning,
                message=f"the notebook printed more than the grader keeps: "
                f"{report.output.dropped_bytes:,} bytes in {report.output.dropped_messages:,} "
                "outputs were dropped from the executed notebook",
            )
        )
    if report.stopped_because:
        out.append(
            Finding(
                code="limit-exceeded",
                severity=Severity.error,
                message=f"the run was stopped by the grader: {report.stopped_because}",
            )
        )
    return out
