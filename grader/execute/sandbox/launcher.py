"""Applies a run's limits to itself, then becomes the kernel's command (``exec``).

Run as a script with the standard library only (``python -I -S launcher.py
b64:SPEC -- COMMAND...``) between the harness and the sandbox tool, so the limits
hold for everything the sandbox starts. ``SPEC`` is base64 (URL-safe) of JSON:

* ``cgroups``: cgroup folders to join (the process writes its pid into each
  ``cgroup.procs``; children inherit the membership);
* ``rlimits``: resource name (``AS``, ``NPROC``, ``FSIZE``, ``NOFILE``,
  ``CORE``) -> limit; ``NPROC`` counts the user's tasks already running on top;
* ``uid``/``gid``: a user to become (the harness runs as root);
* ``umask``;
* ``env``: the whole environment of the command (nothing of the harness's
  own environment is passed on when it is given);
* ``init``: stay as a minimal init (reap orphans, pass on signals, exit with the
  command's status) and run the command as a child: inside a new PID
  namespace the command must not be process 1, which ignores signals.

Failures to apply a limit are written to stderr (the kernel log) and the
command still starts: the harness reports what was enforced from its own
probes, not from this process.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import resource
import signal
import sys
from typing import Any

__all__ = ["apply", "main"]

_RLIMITS = {
    "AS": resource.RLIMIT_AS,
    "NPROC": resource.RLIMIT_NPROC,
    "FSIZE": resource.RLIMIT_FSIZE,
    "NOFILE": resource.RLIMIT_NOFILE,
    "CORE": resource.RLIMIT_CORE,
}


def _tasks_of(uid: int) -> int:
    """Tasks (threads included) of ``uid`` now: RLIMIT_NPROC counts them all."""
    count = 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return 0
    for pid in pids:
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
    return count


def apply(spec: dict[str, Any]) -> list[str]:
    """Apply ``spec`` to this process; returns the problems met (nothing raises)."""
    problems: list[str] = []
    for folder in spec.get("cgroups") or []:
        try:
            with open(os.path.join(folder, "cgroup.procs"), "w", encoding="ascii") as fh:
                fh.write(str(os.getpid()))
        except OSError as exc:
            problems.append(f"cgroup {folder}: {exc}")
    uid = spec.get("uid")
    for name, value in (spec.get("rlimits") or {}).items():
        res = _RLIMITS.get(name)
        if res is None or value is None:
            continue
        limit = int(value)
        if name == "NPROC":
            limit += _tasks_of(os.getuid() if uid is None else int(uid))
        try:
            soft, hard = resource.getrlimit(res)
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(res, (limit, limit))
        except (OSError, ValueError) as exc:
            problems.append(f"rlimit {name}={limit}: {exc}")
    if spec.get("umask") is not None:
        os.umask(int(spec["umask"]))
    if uid is not None:
        gid = int(spec.get("gid", uid))
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(int(uid))
        except OSError as exc:
            problems.append(f"cannot become user {uid}: {exc}")
            raise SystemExit(f"grader launcher: cannot become user {uid}: {exc}") from exc
    return problems


def _init(command: list[str]) -> int:
    """Run ``command`` as a child; reap every orphan; return the child's status (128+signal)."""
    child = os.fork()
    if child == 0:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(child, signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if pid == child:
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status)
            return os.WEXITSTATUS(status)


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[2] != "--":
        raise SystemExit("usage: launcher.py SPEC_JSON -- COMMAND...")
    raw = argv[1]
    if raw.startswith("b64:"):
        raw = base64.urlsafe_b64decode(raw[4:]).decode()
    spec = json.loads(raw)
    for problem in apply(spec):
        print(f"grader launcher: {problem}", file=sys.stderr, flush=True)
    command = argv[3:]
    if isinstance(spec.get("env"), dict):
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in spec["env"].items()})
    if spec.get("init"):
        sys.exit(_init(command))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
