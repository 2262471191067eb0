"""The kernel backends by name, and choosing the best sandbox that works here.

One registry, :data:`BACKENDS`: ``local`` (the kernel is a child process of
the harness: trusted notebooks only), ``bwrap`` (bubblewrap namespaces),
``container`` (docker or podman) and ``none`` (resource limits only, announced
in every manifest and report). ``auto`` is not a backend but a choice: it
tries bubblewrap, then a container engine, and otherwise falls back to
resource limits only, saying why each stronger one was not used. Naming a
backend that does not work here is an error with the reason, never a silent
downgrade. Adding a backend is adding an entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from grader.errors import UsageError
from grader.settings import did_you_mean

if TYPE_CHECKING:
    from grader.execute.sandbox.base import SandboxBackend
    from grader.execute.sandbox.launch import KernelBackend

__all__ = [
    "BACKENDS",
    "KERNEL_CHOICES",
    "SANDBOXES",
    "SANDBOX_CHOICES",
    "get_backend",
    "make_backend",
    "select_backend",
]

# the backends are imported when one is asked for: naming the choices stays cheap


def _bwrap() -> SandboxBackend:
    from grader.execute.sandbox.bwrap import BwrapBackend

    return BwrapBackend()


def _container() -> SandboxBackend:
    from grader.execute.sandbox.container import ContainerBackend

    return ContainerBackend()


def _limits_only() -> SandboxBackend:
    from grader.execute.sandbox.fallback import FallbackBackend

    return FallbackBackend()


def _local() -> KernelBackend:
    from grader.execute.sandbox.local import LocalBackend

    return LocalBackend()


#: the sandboxes, strongest first: what untrusted notebooks may run in
SANDBOXES: dict[str, Callable[[], SandboxBackend]] = {
    "bwrap": _bwrap,
    "container": _container,
    "none": _limits_only,
}
#: every way a kernel can be launched: ``auto`` (the strongest sandbox here), ``local``, a sandbox
BACKENDS: dict[str, Callable[[], KernelBackend]] = {
    "auto": lambda: select_backend(),
    "local": _local,
    **SANDBOXES,
}
#: what ``--sandbox`` accepts for untrusted notebooks (``grader check --run``, ``grader batch``)
SANDBOX_CHOICES = ("auto", *SANDBOXES)
#: what ``grader run --sandbox`` accepts (also ``local``, for trusted notebooks)
KERNEL_CHOICES = (*SANDBOX_CHOICES, "local")
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
    fallback = _limits_only()
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


def get_backend(name: str) -> KernelBackend:
    """The kernel backend ``name``: ``local``, a sandbox, or ``auto`` (the strongest here)."""
    if name == "local":
        return _local()
    if name in BACKENDS:
        return make_backend(name)  # a sandbox is probed: one that does not work here is refused
    raise UsageError(
        f"unknown execution backend {name!r}{did_you_mean(name, BACKENDS)}; "
        f"known: {', '.join(KERNEL_CHOICES)}"
    )
