"""Sandboxed execution of untrusted notebooks: backends, resource limits, what was enforced.

Backends (registered in :mod:`grader.execute.backends` under their names, and
``auto``):

* ``bwrap``: bubblewrap namespaces (:mod:`.bwrap`);
* ``container``: docker or podman, where an engine answers (:mod:`.container`);
* ``none``: resource limits only, announced in every manifest and report
  (:mod:`.fallback`).

Every run records a :class:`SandboxReport` (which protections held, which did
not) in its manifest; :func:`sandbox_findings` turns a weak sandbox, dropped
output and a limit that stopped the kernel into findings for the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "SANDBOX_CHOICES",
    "EffectiveLimits",
    "Protection",
    "ResourceLimits",
    "SandboxBackend",
    "SandboxReport",
    "apply_verdict",
    "finish_sandbox",
    "make_backend",
    "sandbox_findings",
    "select_backend",
]

if TYPE_CHECKING:
    from grader.execute.sandbox.base import SandboxBackend
    from grader.execute.sandbox.limits import EffectiveLimits, ResourceLimits
    from grader.execute.sandbox.report import Protection, SandboxReport, sandbox_findings
    from grader.execute.sandbox.runs import apply_verdict, finish_sandbox
    from grader.execute.sandbox.select import SANDBOX_CHOICES, make_backend, select_backend

_LAZY = {
    "SANDBOX_CHOICES": "grader.execute.sandbox.select",
    "EffectiveLimits": "grader.execute.sandbox.limits",
    "Protection": "grader.execute.sandbox.report",
    "ResourceLimits": "grader.execute.sandbox.limits",
    "SandboxBackend": "grader.execute.sandbox.base",
    "SandboxReport": "grader.execute.sandbox.report",
    "apply_verdict": "grader.execute.sandbox.runs",
    "finish_sandbox": "grader.execute.sandbox.runs",
    "make_backend": "grader.execute.sandbox.select",
    "sandbox_findings": "grader.execute.sandbox.report",
    "select_backend": "grader.execute.sandbox.select",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
