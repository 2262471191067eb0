"""Findings about a run's sandbox: not isolated, output dropped, stopped by a limit."""

from __future__ import annotations

from grader.evidence import Finding, Severity
from grader.execute.sandbox.report import SandboxReport
from grader.i18n import _, ngettext

__all__ = ["sandbox_findings"]


def sandbox_findings(report: SandboxReport | None) -> list[Finding]:
    """``sandbox-weak`` when the run was not isolated, ``output-truncated``, ``limit-exceeded``."""
    if report is None:
        return []
    out: list[Finding] = []
    if report.weak():
        missing = "; ".join(f"{p.name}: {p.detail}" for p in report.missing())
        message = (
            _(
                "NO SANDBOX: the notebook ran with the grader's own rights; protections missing "
                "or partial on this machine: {missing}"
            )
            if report.backend == "local"
            else _(
                "WEAK SANDBOX ({backend}): only resource limits were applied; protections "
                "missing or partial on this machine: {missing}"
            )
        ).format(backend=report.backend, missing=missing)
        out.append(Finding(code="sandbox-weak", severity=Severity.warning, message=message[:2000]))
    if report.output.truncated:
        out.append(
            Finding(
                code="output-truncated",
                severity=Severity.warning,
                message=ngettext(
                    "the notebook printed more than the grader keeps: {bytes} bytes in {n} "
                    "output were dropped from the executed notebook",
                    "the notebook printed more than the grader keeps: {bytes} bytes in {n} "
                    "outputs were dropped from the executed notebook",
                    report.output.dropped_messages,
                ).format(
                    bytes=f"{report.output.dropped_bytes:,}",
                    n=f"{report.output.dropped_messages:,}",
                ),
            )
        )
    if report.stopped_because:
        out.append(
            Finding(
                code="limit-exceeded",
                severity=Severity.error,
                message=_("the run was stopped by the grader: {why}").format(
                    why=report.stopped_because
                ),
            )
        )
    return out
