"""Choosing a sandbox backend: the best one that works here, or the one asked for.

``auto`` tries bubblewrap, then a container engine, and otherwise falls back
to resource limits only, saying why each stronger one was not used. Naming a
backend that does not work here is an error with the reason, never a silent
downgrade.
"""

from __future__ import annotations

from collections.abc import Callable

from grader.errors import UsageError
from grader.execute.sandbox.base import SandboxBackend
from grader.execute.sandbox.bwrap import BwrapBackend
from grader.execute.sandbox.container import ContainerBackend
from grader.execute.sandbox.fallback import FallbackBackend

__all__ = ["SANDBOXES", "SANDBOX_CHOICES", "make_backend", "select_backend"]

SANDBOXES: dict[str, Callable[[], SandboxBackend]] = {
    "bwrap": BwrapBackend,
    "container": ContainerBackend,
    "none": FallbackBackend,
}
SANDBOX_CHOICES = ("auto", *SANDBOXES)
_ORDER = ("bwrap", "container")


def select_backend() -> SandboxBackend:
    """The strongest backend that works on this machine."""
    reasons = []
    for name in _ORDER:
        backend = SANDBOXES[name]()
        available = backend.probe()
        if available.ok:
            backend.requested = "auto"
            backend.reason = f"strongest available: {available.reason}"
            return backend
        reasons.append(f"{name}: {available.reason}")
    fallback = FallbackBackend()
    fallback.requested = "auto"
    fallback.reason = "no sandbox tool works here (" + "; ".join(reasons) + ")"
    return fallback


def make_backend(name: str) -> SandboxBackend:
    """The backend ``name`` (``auto`` selects); an unusable one is a :class:`UsageError`."""
    if name == "auto":
        return select_backend()
    factory = SANDBOXES.get(name)
    if factory is None:
        raise UsageError(f"unknown sandbox {name!r}; choose one of: {', '.join(SANDBOX_CHOICES)}")
    backend = factory()
    available = backend.probe()
    if not available.ok:
        raise UsageError(f"--sandbox {name} is not available here: {available.reason}")
    backend.requested = name
    backend.reason = "requested"
    return backend
