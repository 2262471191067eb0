"""What every sandbox backend shares: per-run state, the kernel spec, limits, clean-up.

A backend supplies three things: whether it is available here
(:meth:`SandboxBackend.probe`), the command line that confines a command
(:meth:`SandboxBackend.wrap`), and the protections that confinement gives
(:meth:`SandboxBackend.protections`). This class does the rest for every
backend alike: the run's private runtime folder (kernel sockets over ``ipc``,
the connection file, a home folder), cgroups, the launcher that applies
resource limits, the output budget, the disk watchdog, and the clean-up that
kills whatever the notebook left running.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader.execute.sandbox.cgroups import CgroupSet, CgroupSupport, create_cgroups, probe_cgroups
from grader.execute.sandbox.fs import folder_usage
from grader.execute.sandbox.launch import KernelLaunch, kernel_manager_base, write_kernel_spec
from grader.execute.sandbox.limits import EffectiveLimits, ResourceLimits, resolve_limits
from grader.execute.sandbox.output import OutputBudget, capped_client_class
from grader.execute.sandbox.report import Protection, SandboxReport

__all__ = [
    "Availability",
    "Confinement",
    "SandboxBackend",
    "SandboxState",
    "common_protections",
    "kill_user_processes",
    "launcher_command",
    "python_roots",
]

# host variables a kernel may need (GPUs, thread counts, locale); everything else is dropped
_PASS_PREFIXES = ("CUDA_", "NVIDIA_", "TF_", "XLA_", "OMP_", "MKL_", "OPENBLAS_", "KMP_")
_PASS_NAMES = ("LD_LIBRARY_PATH", "LANG", "LC_ALL", "TZ", "KERAS_BACKEND")


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str
    tool: str | None = None


@dataclass
class Confinement:
    """What a confined command may see and do."""

    workdir: Path | None
    writable: list[Path]
    readable: list[Path]
    env: dict[str, str]
    limits: EffectiveLimits
    name: str  # a name unique to the run (containers, cgroups)
    uid: int | None = None
    gid: int | None = None
    gpu: bool = False


@dataclass
class SandboxState:
    """One run's sandbox: kept on the launch's handle from preparation to clean-up."""

    backend: str
    runtime: Path
    confinement: Confinement
    report: SandboxReport
    budget: OutputBudget
    cgroups: CgroupSet | None = None
    argv: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    watchdog: threading.Thread | None = None
    kill: Callable[[], None] | None = None
    finished: bool = False


def launcher_command(spec: dict[str, Any], argv: list[str]) -> list[str]:
    """``argv`` started through the launcher, which applies ``spec`` (cgroups, rlimits, user)."""
    encoded = base64.urlsafe_b64encode(json.dumps(spec, sort_keys=True).encode()).decode()
    script = str(Path(__file__).with_name("launcher.py"))
    return [sys.executable, "-I", "-S", script, "b64:" + encoded, "--", *argv]


def python_roots(python: str) -> list[Path]:
    """Folders the kernel's Python needs to start: its virtual environment and base install."""
    roots: list[Path] = []
    exe = Path(python)
    venv = exe.parent.parent
    cfg = venv / "pyvenv.cfg"
    if cfg.is_file():
        roots.append(venv)
        with contextlib.suppress(OSError):
            for line in cfg.read_text(encoding="utf-8").splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and value.strip():
                    roots.append(Path(value.strip()).parent)
    with contextlib.suppress(OSError):
        roots.append(exe.resolve().parent.parent)
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
            roots.append(Path(prefix))
    out: list[Path] = []
    for root in roots:
        real = Path(os.path.realpath(root))
        if real == Path("/") or len(real.parts) < 2:
            continue
        if real not in out:
            out.append(real)
    return [r for r in out if not any(r != o and o in r.parents for o in out)]


@lru_cache(maxsize=1)
def _cgroup_support() -> CgroupSupport:
    return probe_cgroups()


def _matplotlib_cache() -> Path | None:
    """The harness user's matplotlib font cache (copied so a sandboxed kernel need not rebuild it)."""
    candidates = []
    if os.environ.get("MPLCONFIGDIR"):
        candidates.append(Path(os.environ["MPLCONFIGDIR"]))
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    candidates += [Path(cache) / "matplotlib", Path.home() / ".matplotlib"]
    for folder in candidates:
        with contextlib.suppress(OSError):
            if any(p.name.startswith("fontlist") for p in folder.iterdir()):
                return folder
    return None


def kill_user_processes(uid: int) -> int:
    """SIGKILL every process of ``uid`` (a user that exists only for one run)."""
    killed = 0
    for _ in range(20):
        found = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    os.kill(int(entry), signal.SIGKILL)
                    found += 1
            except OSError:
                continue
        killed += found
        if not found:
            break
        time.sleep(0.05)
    return killed


class SandboxBackend:
    """Base of the sandboxing backends (see the module docstring)."""

    name = "sandbox"
    uses_cgroups = True
    private_tmp = True  # /tmp inside is the sandbox's own (else TMPDIR points into the run)
    requested = ""  # set by the selection: what the user asked for
    reason = ""  # set by the selection: why this backend

    # --- what a concrete backend supplies

    def probe(self) -> Availability:
        raise NotImplementedError

    def wrap(self, argv: list[str], conf: Confinement) -> list[str]:
        raise NotImplementedError

    def protections(self, state: SandboxState) -> list[Protection]:
        raise NotImplementedError

    def user_for(self, conf: Confinement) -> tuple[int | None, int | None, str]:
        """A separate user for the kernel, when the backend makes one (uid, gid, description)."""
        return None, None, f"uid {os.getuid()} (the harness's own)"

    def stop_confined(self, state: SandboxState) -> int:
        """Kill what the confinement left running (beyond cgroups); returns how many."""
        return 0

    # --- the KernelBackend protocol

    def command(self, launch: KernelLaunch) -> list[str]:
        return list(self.state(launch).argv)

    def kernel_manager_class(self, launch: KernelLaunch) -> type[Any]:
        state = self.state(launch)
        write_kernel_spec(
            launch,
            {
                "argv": state.argv,
                "display_name": "Python (grader, sandboxed)",
                "language": "python",
                "interrupt_mode": "message",
                "env": {},
                "metadata": {"debugger": False},
            },
        )
        base = kernel_manager_base(launch)
        client = capped_client_class(state.budget)
        backend = self

        class SandboxKernelManager(base):  # type: ignore[misc, valid-type]
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                self.transport = "ipc"
                self.connection_file = str(state.runtime / "kernel.json")
                self.ip = str(state.runtime / "k")
                self.client_factory = client

            async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
                await super()._async_launch_kernel(kernel_cmd, **kw)
                backend.started(launch)

        return SandboxKernelManager

    # --- preparation

    def state(self, launch: KernelLaunch) -> SandboxState:
        found = launch.handle.sandbox
        if isinstance(found, SandboxState):
            return found
        made = self.prepare(launch)
        launch.handle.sandbox = made
        return made

    def prepare(self, launch: KernelLaunch, command: list[str] | None = None) -> SandboxState:
        """The run's sandbox: folders, user, cgroups, and the confined command line.

        ``command`` defaults to the kernel (``ipykernel_launcher``); the
        out-of-process verification confines its worker the same way.
        """
        limits = resolve_limits(launch.limits or ResourceLimits())
        runtime = Path(os.path.realpath(tempfile.mkdtemp(prefix="grader-")))
        home = runtime / "home"
        home.mkdir()
        (runtime / "tmp").mkdir()
        mpl = _matplotlib_cache()
        if mpl is not None:
            target = home / ".cache" / "matplotlib"
            target.mkdir(parents=True)
            for item in mpl.glob("fontlist*.json"):
                with contextlib.suppress(OSError):
                    shutil.copyfile(item, target / item.name)
        env = {k: v for k, v in os.environ.items() if k.startswith(_PASS_PREFIXES)}
        env.update({k: os.environ[k] for k in _PASS_NAMES if k in os.environ})
        env.update(
            {
                "HOME": str(home),
                "TMPDIR": "/tmp" if self.private_tmp else str(runtime / "tmp"),
                "PATH": f"{Path(launch.python).parent}:/usr/local/bin:/usr/bin:/bin",
                "MPLCONFIGDIR": str(home / ".cache" / "matplotlib"),
                "IPYTHONDIR": str(home / ".ipython"),
                "PYTHONNOUSERSITE": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "JUPYTER_RUNTIME_DIR": str(runtime),
            }
        )
        env.setdefault("LANG", "C.UTF-8")
        env.update(launch.env)
        readable = [*python_roots(launch.python), *launch.readable]
        for name in env.get("LD_LIBRARY_PATH", "").split(":"):
            if name and Path(name).is_dir():
                readable.append(Path(name))
        writable = [runtime, *launch.writable]
        if launch.workdir is not None:
            writable.insert(0, launch.workdir)
        from grader.execute.sandbox.limits import gpu_visible

        conf = Confinement(
            workdir=launch.workdir,
            writable=writable,
            readable=readable,
            env=env,
            limits=limits,
            name=f"grader-{runtime.name.removeprefix('grader-')}",
            gpu=gpu_visible(),
        )
        uid, gid, user = self.user_for(conf)
        conf.uid, conf.gid = uid, gid
        if uid is not None:
            for folder in writable:
                with contextlib.suppress(OSError):
                    _chown_tree(folder, uid, gid if gid is not None else uid)
                    os.chmod(folder, 0o700)  # private to the run's own user
        support = _cgroup_support() if self.uses_cgroups else CgroupSupport(reason="not used")
        cgroups = create_cgroups(
            support, conf.name, memory=limits.memory_bytes, pids=limits.processes
        )
        probe = self.probe()
        report = SandboxReport(
            requested=self.requested or self.name,
            backend=self.name,
            reason=self.reason,
            tool=probe.tool,
            limits=limits,
            cgroup=cgroups.describe() if cgroups else f"none: {support.reason or 'not made'}",
            user=user,
            notes=list(limits.notes),
        )
        state = SandboxState(
            backend=self.name,
            runtime=runtime,
            confinement=conf,
            report=report,
            budget=OutputBudget(limits.output_bytes, limits.message_bytes, report.output),
            cgroups=cgroups,
        )
        kernel = command or [launch.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        state.argv = launcher_command(self.launcher_spec(state), self.wrap(kernel, conf))
        report.protections = self.protections(state)
        return state

    def launcher_spec(self, state: SandboxState) -> dict[str, Any]:
        limits = state.confinement.limits
        rlimits: dict[str, int | None] = {
            "AS": limits.address_space_bytes,
            "FSIZE": limits.file_bytes,
            "NOFILE": limits.open_files,
            "CORE": 0,
        }
        if state.cgroups is None or state.cgroups.pids is None:
            rlimits["NPROC"] = limits.processes
        spec: dict[str, Any] = {
            "cgroups": [str(p) for p in (state.cgroups.folders if state.cgroups else [])],
            "rlimits": rlimits,
            "umask": 0o027,
        }
        if state.confinement.uid is not None:
            spec["uid"] = state.confinement.uid
            spec["gid"] = state.confinement.gid
        return spec

    def run_confined(
        self, argv: list[str], launch: KernelLaunch, timeout: float
    ) -> tuple[int | None, SandboxReport]:
        """Run ``argv`` to its end in a sandbox like a kernel's; (exit status or None, report)."""
        import subprocess

        state = self.prepare(launch, command=argv)
        launch.handle.sandbox = state
        with launch.log_path.open("ab") as log:
            proc = subprocess.Popen(  # noqa: S603 - the command line is built here
                state.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=str(launch.workdir) if launch.workdir else None,
                start_new_session=True,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            )
        launch.handle.process = proc
        self.started(launch)
        code: int | None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            state.report.stopped_because = f"it ran longer than {timeout:g} s"
            self._kill(state, proc)
            proc.wait()
            code = None
        report = self.finish(launch) or state.report
        return code, report

    # --- while it runs and after

    def started(self, launch: KernelLaunch) -> None:
        """The kernel process exists: start watching the run's disk use."""
        state = self.state(launch)
        process = launch.handle.process
        state.kill = lambda: self._kill(state, process)
        if state.watchdog is None:
            state.watchdog = threading.Thread(
                target=_watch_disk, args=(state,), name="grader-disk-watch", daemon=True
            )
            state.watchdog.start()

    def _kill(self, state: SandboxState, process: Any) -> None:
        if state.cgroups is not None:
            state.cgroups.kill_all(wait=1.0)
        if process is not None:
            with contextlib.suppress(OSError, AttributeError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(OSError, AttributeError):
                process.kill()
        self.stop_confined(state)

    def finish(self, launch: KernelLaunch) -> SandboxReport | None:
        """After the run: stop the watchdog, kill leftovers, read the limits hit, clean up."""
        found = launch.handle.sandbox
        if not isinstance(found, SandboxState) or found.finished:
            return found.report if isinstance(found, SandboxState) else None
        state = found
        state.finished = True
        state.stop.set()
        if state.watchdog is not None:
            state.watchdog.join(timeout=5)
        process = launch.handle.process
        if process is not None:
            with contextlib.suppress(OSError, AttributeError):
                os.killpg(process.pid, signal.SIGKILL)
        leftover = self.stop_confined(state)
        if state.cgroups is not None:
            if state.cgroups.memory_hit():
                state.report.memory_limit_hit = True
                state.report.notes.append("the memory cgroup's limit was reached")
            if state.cgroups.pids_hit():
                state.report.notes.append(
                    f"the process limit of {state.cgroups.pids_limit} was reached "
                    "(fork refused inside the run)"
                )
            leftover += state.cgroups.kill_all()
            state.cgroups.remove()
        state.report.leftover_processes = leftover
        shutil.rmtree(state.runtime, ignore_errors=True)
        return state.report


def _chown_tree(folder: Path, uid: int, gid: int) -> None:
    os.chown(folder, uid, gid, follow_symlinks=False)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            with contextlib.suppress(OSError):
                os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def _watch_disk(state: SandboxState, interval: float = 0.5) -> None:
    limits = state.confinement.limits
    folders = list(state.confinement.writable)
    while not state.stop.wait(interval):
        usage = folder_usage(folders, max_entries=limits.disk_files + 1)
        reason = None
        if usage.bytes > limits.disk_bytes:
            reason = (
                f"the notebook wrote more than the {limits.disk_bytes / 2**30:.1f} GiB "
                "a run may write"
            )
        elif usage.files > limits.disk_files:
            reason = f"the notebook created more than the {limits.disk_files:,} files a run may"
        if reason is not None:
            state.report.stopped_because = reason
            if state.kill is not None:
                state.kill()
            return


def common_protections(
    state: SandboxState, *, limits_user_is_root: bool, cgroups: object
) -> list[Protection]:
    """Limits every backend applies the same way (launcher rlimits, cgroups, watchdog, budget)."""
    limits = state.confinement.limits
    cg = cgroups if isinstance(cgroups, CgroupSet) else None
    separate_user = state.confinement.uid is not None
    out: list[Protection] = []
    if cg is not None and cg.pids is not None:
        out.append(
            Protection(
                name="processes", status="enforced", detail=f"pids cgroup: {limits.processes}"
            )
        )
    elif limits_user_is_root and not separate_user:
        out.append(
            Protection(
                name="processes",
                status="missing",
                detail="no pids cgroup here, and RLIMIT_NPROC does not bind root",
            )
        )
    else:
        out.append(
            Protection(
                name="processes",
                status="enforced",
                detail=f"RLIMIT_NPROC: {limits.processes} beyond the user's running tasks",
            )
        )
    if cg is not None and cg.memory is not None:
        out.append(
            Protection(
                name="memory",
                status="enforced",
                detail=f"memory cgroup: {(cg.memory_limit or 0) / 2**30:.1f} GiB",
            )
        )
    else:
        out.append(
            Protection(
                name="memory",
                status="partial" if limits.address_space_bytes else "missing",
                detail=f"no memory cgroup ({state.report.cgroup}); "
                + (
                    "only the per-process address-space limit applies"
                    if limits.address_space_bytes
                    else "and no address-space limit"
                ),
            )
        )
    if limits.address_space_bytes:
        out.append(
            Protection(
                name="address-space",
                status="enforced",
                detail=f"RLIMIT_AS: {limits.address_space_bytes / 2**30:.1f} GiB per process",
            )
        )
    else:
        out.append(
            Protection(
                name="address-space",
                status="missing",
                detail="; ".join(limits.notes) or "turned off",
            )
        )
    out += [
        Protection(
            name="file-size",
            status="enforced",
            detail=f"RLIMIT_FSIZE: {limits.file_bytes / 2**30:.1f} GiB",
        ),
        Protection(
            name="disk",
            status="enforced",
            detail=f"watched: {limits.disk_bytes / 2**30:.1f} GiB and {limits.disk_files:,} "
            "files in the run's folders (the kernel is stopped beyond)",
        ),
        Protection(
            name="output",
            status="enforced",
            detail=f"{limits.output_bytes / 2**20:.0f} MiB of cell output kept; "
            f"messages over {limits.message_bytes / 2**20:.0f} MiB refused",
        ),
        Protection(
            name="wall-time",
            status="enforced",
            detail="per-cell and whole-run timeouts of the runner",
        ),
    ]
    return out
