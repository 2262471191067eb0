"""Sandbox building blocks without starting a kernel: limits, command lines, selection, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.check.sandbox import sandbox_findings
from grader.errors import UsageError
from grader.execute.records import FailureKind, RunFailure
from grader.execute.sandbox import base, bwrap, container, fallback
from grader.execute.sandbox import registry as select
from grader.execute.sandbox.base import Availability, Confinement, launcher_command, python_roots
from grader.execute.sandbox.finish import apply_verdict, local_report
from grader.execute.sandbox.fs import (
    UnsafePath,
    folder_usage,
    open_no_follow,
    read_no_follow,
    scrub_folder,
)
from grader.execute.sandbox.limits import ResourceLimits, parse_size, resolve_limits
from grader.execute.sandbox.output import OutputBudget
from grader.execute.sandbox.report import Protection, SandboxReport

GiB = 1024**3


def _conf(tmp_path: Path, **changes: object) -> Confinement:
    values: dict[str, object] = {
        "workdir": tmp_path / "work",
        "writable": [tmp_path / "work", tmp_path / "capture"],
        "readable": [tmp_path / "venv", tmp_path / "data"],
        "env": {"HOME": str(tmp_path / "home"), "KERAS_HOME": "/k"},
        "limits": resolve_limits(ResourceLimits(memory_bytes=2 * GiB), gpu=False, ram=16 * GiB),
        "name": "grader-test",
    }
    values.update(changes)
    return Confinement(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------ limits


def test_sizes_parse() -> None:
    assert parse_size("8G") == 8 * GiB
    assert parse_size("512M") == 512 * 1024**2
    assert parse_size("2GiB") == 2 * GiB
    assert parse_size("1000") == 1000
    with pytest.raises(ValueError):
        parse_size("lots")


def test_limits_resolve_for_the_machine() -> None:
    cpu = resolve_limits(ResourceLimits(), gpu=False, ram=32 * GiB)
    assert cpu.memory_bytes == 24 * GiB and cpu.address_space_bytes == 32 * GiB
    small = resolve_limits(ResourceLimits(), gpu=False, ram=4 * GiB)
    assert small.address_space_bytes == 8 * GiB  # TensorFlow needs room to map its libraries
    gpu = resolve_limits(ResourceLimits(), gpu=True, ram=32 * GiB)
    assert gpu.address_space_bytes is None and "CUDA" in gpu.notes[0]
    off = resolve_limits(ResourceLimits(memory_bytes=0, address_space_bytes=0), gpu=False, ram=GiB)
    assert off.memory_bytes is None and off.address_space_bytes is None


# ---------------------------------------------------------------- launcher


def test_launcher_applies_limits_and_environment(tmp_path: Path) -> None:
    probe = (
        "import resource, os, json; print(json.dumps({"
        "'fsize': resource.getrlimit(resource.RLIMIT_FSIZE)[0],"
        "'nofile': resource.getrlimit(resource.RLIMIT_NOFILE)[0],"
        "'core': resource.getrlimit(resource.RLIMIT_CORE)[0],"
        "'env': sorted(os.environ)}))"
    )
    spec = {
        "rlimits": {"FSIZE": 1 << 20, "NOFILE": 256, "CORE": 0},
        "env": {"ONLY": "this", "PATH": os.environ.get("PATH", "/usr/bin")},
    }
    done = subprocess.run(
        launcher_command(spec, [sys.executable, "-c", probe]),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HARNESS_SECRET": "x"},
    )
    seen = json.loads(done.stdout)
    assert seen["fsize"] == 1 << 20 and seen["nofile"] == 256 and seen["core"] == 0
    assert "HARNESS_SECRET" not in seen["env"] and "ONLY" in seen["env"]


def test_launcher_as_init_passes_the_exit_status() -> None:
    spec = {"init": True}
    code = subprocess.run(
        launcher_command(spec, [sys.executable, "-c", "import os; os._exit(3)"]), check=False
    ).returncode
    assert code == 3
    killed = subprocess.run(
        launcher_command(spec, [sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"]),
        check=False,
    ).returncode
    assert killed == 128 + 9


@pytest.mark.skipif(os.getuid() != 0, reason="switching users needs root")
def test_launcher_switches_to_a_user_of_its_own() -> None:
    spec = {"uid": 1_900_000_123, "gid": 1_900_000_123}
    done = subprocess.run(
        launcher_command(spec, ["/bin/sh", "-c", "id -u; id -G"]),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["1900000123", "1900000123"]


def test_python_roots_cover_the_virtual_environment() -> None:
    roots = python_roots(sys.executable)
    assert any(
        Path(sys.prefix).resolve() == r or r in Path(sys.prefix).resolve().parents for r in roots
    )
    assert Path("/") not in roots


# ----------------------------------------------------------- command lines


def test_bwrap_command_line(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    argv = bwrap.bwrap_arguments(["python", "-m", "ipykernel_launcher"], conf)
    text = " ".join(argv)
    assert argv[0] == "bwrap" and "--unshare-all" in argv and "--die-with-parent" in argv
    assert "--share-net" not in argv and "--cap-drop" in argv and "--clearenv" in argv
    assert "--new-session" in argv
    assert f"--ro-bind {tmp_path / 'venv'} {tmp_path / 'venv'}" in text
    assert f"--bind {tmp_path / 'work'} {tmp_path / 'work'}" in text
    assert f"--bind {tmp_path / 'venv'}" not in text  # read-only only
    assert f"--size {conf.limits.tmp_bytes} --tmpfs /tmp" in text
    assert f"--chdir {tmp_path / 'work'}" in text
    assert "--setenv KERAS_HOME /k" in text
    assert argv[-4:] == ["--", "python", "-m", "ipykernel_launcher"]
    # the tmpfs comes before the binds, so a run folder under /tmp stays visible
    assert argv.index("/tmp") < argv.index(str(tmp_path / "work"))
    assert "/home" not in [a for a in argv if a.startswith("/home")]


def test_container_command_line(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    argv = container.container_arguments(
        ["python", "-m", "ipykernel_launcher"], conf, engine="podman", image="img:1", user="7:7"
    )
    text = " ".join(argv)
    assert argv[:2] == ["podman", "run"]
    for flag in (
        "--network none",
        "--cap-drop ALL",
        "--security-opt no-new-privileges",
        "--read-only",
        f"--memory {2 * GiB}",
        f"--memory-swap {2 * GiB}",
        f"--pids-limit {conf.limits.processes}",
        f"--ulimit fsize={conf.limits.file_bytes}:{conf.limits.file_bytes}",
        "--user 7:7",
        "--rm",
        "--init",
    ):
        assert flag in text, flag
    assert f"type=bind,source={tmp_path / 'venv'},target={tmp_path / 'venv'},readonly" in text
    assert f"type=bind,source={tmp_path / 'work'},target={tmp_path / 'work'}" in text
    assert f"source={tmp_path / 'work'},target={tmp_path / 'work'},readonly" not in text
    assert "--tmpfs /tmp:rw,nosuid,nodev" in text and "--env KERAS_HOME=/k" in text
    assert argv[-4:] == ["img:1", "python", "-m", "ipykernel_launcher"]


def test_container_engine_is_detected_or_skipped_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container.probe_container.cache_clear()
    monkeypatch.setattr(container.shutil, "which", lambda name: None)
    available, engine = container.probe_container("img:1")
    assert not available.ok and engine is None
    assert "docker: not installed" in available.reason and "podman" in available.reason
    container.probe_container.cache_clear()


# --------------------------------------------------------------- selection


def _stub(monkeypatch: pytest.MonkeyPatch, *, bwrap_ok: bool, container_ok: bool) -> None:
    monkeypatch.setattr(
        bwrap.BwrapBackend, "probe", lambda self: Availability(bwrap_ok, "bwrap says so", "bwrap")
    )
    monkeypatch.setattr(
        container.ContainerBackend,
        "probe",
        lambda self: Availability(container_ok, "no engine answers", "docker"),
    )


def test_auto_picks_the_strongest_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    _stub(monkeypatch, bwrap_ok=True, container_ok=True)
    assert select.select_backend().name == "bwrap"
    _stub(monkeypatch, bwrap_ok=False, container_ok=True)
    assert select.select_backend().name == "container"
    _stub(monkeypatch, bwrap_ok=False, container_ok=False)
    chosen = select.make_backend("auto")
    assert chosen.name == "none" and chosen.requested == "auto"
    assert "bwrap says so" in chosen.reason and "no engine answers" in chosen.reason


def test_an_unavailable_backend_is_refused_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    _stub(monkeypatch, bwrap_ok=False, container_ok=False)
    with pytest.raises(UsageError, match="bwrap says so"):
        select.make_backend("bwrap")
    with pytest.raises(UsageError, match="unknown sandbox"):
        select.make_backend("chroot")
    assert select.make_backend("none").name == "none"


def test_backends_are_registered_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.execute.sandbox.registry import BACKENDS, get_backend

    assert {"local", "auto", "bwrap", "container", "none"} <= set(BACKENDS)
    _stub(monkeypatch, bwrap_ok=False, container_ok=False)
    assert get_backend("none").name == "none"
    with pytest.raises(UsageError, match="did you mean"):
        get_backend("bwarp")


def test_a_separate_user_only_where_it_can_reach_the_run(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "f").write_text("x")
    assert not fallback.reachable_by_others(private / "f")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    (shared / "f").write_text("x")
    os.chmod(shared / "f", 0o644)
    reachable = all(os.stat(p).st_mode & 0o001 for p in [tmp_path, *tmp_path.parents])
    assert fallback.reachable_by_others(shared / "f") == bool(reachable)


# --------------------------------------------------------------- files


def test_links_are_never_followed(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("secret")
    run = tmp_path / "run"
    (run / "sub").mkdir(parents=True)
    (run / "ok.json").write_text("{}")
    (run / "link.json").symlink_to(tmp_path / "secret")
    (run / "dirlink").symlink_to(tmp_path)
    assert read_no_follow(run, "ok.json", 10) == b"{}"
    for name in ("link.json", "dirlink/secret", "../secret", "/etc/passwd"):
        with pytest.raises(OSError):
            read_no_follow(run, name, 100)
    with pytest.raises(UnsafePath):
        read_no_follow(run, "ok.json", 1)
    fd = open_no_follow(run, "ok.json")
    os.close(fd)


def test_folder_usage_counts_without_following_links(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 100_000)
    run = tmp_path / "run"
    run.mkdir()
    (run / "a").write_bytes(b"y" * 10_000)
    (run / "to-big").symlink_to(tmp_path / "big")
    (run / "to-root").symlink_to("/")
    usage = folder_usage([run])
    assert usage.files == 3 and usage.bytes < 50_000 and usage.complete


def test_scrub_removes_what_the_harness_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "kernel.log").write_text("log")
    (out / "manifest.json").symlink_to(tmp_path / "elsewhere")
    (out / "planted").mkdir()
    removed = scrub_folder(out, {"kernel.log"})
    assert sorted(removed) == ["manifest.json", "planted"]
    assert sorted(p.name for p in out.iterdir()) == ["kernel.log"]


def test_capture_files_behind_links_are_rejected(tmp_path: Path) -> None:
    from grader.execute.capture import load_capture

    (tmp_path / "secret").write_text('{"type": "session", "seq": 1}\n')
    cap = tmp_path / "capture"
    (cap / "fits").mkdir(parents=True)
    (cap / "events.jsonl").symlink_to(tmp_path / "secret")
    (cap / "fits" / "f1.json").symlink_to(tmp_path / "secret")
    record = load_capture(cap)
    assert not record.events and not record.fits
    assert any("events.jsonl" in r for r in record.rejected)
    assert any("f1.json" in r for r in record.rejected)


# ------------------------------------------------------------ output budget


def _msg(msg_type: str, content: dict[str, object]) -> dict[str, object]:
    return {
        "msg_type": msg_type,
        "header": {"msg_type": msg_type},
        "content": json.dumps(content).encode(),
    }


def test_output_budget_keeps_the_start_and_drops_the_rest() -> None:
    budget = OutputBudget(limit=100, message_limit=10_000)
    first = budget.admit(_msg("stream", {"name": "stdout", "text": "a" * 60}), json.loads)
    assert first["content"]["text"] == "a" * 60  # type: ignore[index]
    notice = budget.admit(_msg("stream", {"name": "stdout", "text": "b" * 500}), json.loads)
    assert notice["msg_type"] == "stream" and "dropped" in notice["content"]["text"]  # type: ignore[index]
    later = budget.admit(_msg("display_data", {"data": {"text/plain": "c" * 50}}), json.loads)
    assert later["msg_type"] == "execute_input" and later["content"] == {}
    idle = budget.admit(_msg("status", {"execution_state": "idle"}), json.loads)
    assert idle["content"] == {"execution_state": "idle"}  # control messages always pass
    err = budget.admit(
        _msg("error", {"ename": "E", "evalue": "v", "traceback": ["x" * 9000] * 500}), json.loads
    )
    assert len(err["content"]["traceback"]) == 60  # type: ignore[index]
    assert budget.stats.truncated and budget.stats.dropped_messages == 2


# ----------------------------------------------------------- report, verdict


def _report(**changes: object) -> SandboxReport:
    values: dict[str, object] = {
        "requested": "auto",
        "backend": "none",
        "limits": resolve_limits(ResourceLimits(), gpu=False, ram=8 * GiB),
        "protections": [
            Protection(name="network", status="enforced", detail="own namespace"),
            Protection(name="read-isolation", status="missing", detail="harness's rights"),
            Protection(name="write-isolation", status="partial", detail="a user of its own"),
            Protection(name="memory", status="enforced", detail="cgroup"),
        ],
        "cgroup": "cgroup v1: memory /sys/fs/cgroup/memory/x",
    }
    values.update(changes)
    return SandboxReport.model_validate(values)


def test_a_weak_sandbox_is_a_finding_that_names_what_is_missing() -> None:
    findings = sandbox_findings(_report())
    weak = [f for f in findings if f.code == "sandbox-weak"]
    assert len(weak) == 1 and weak[0].severity.value == "warning"
    assert "read-isolation" in weak[0].message and "write-isolation" in weak[0].message
    assert "network:" not in weak[0].message
    strong = _report(
        backend="bwrap",
        protections=[
            Protection(name=n, status="enforced", detail="yes")
            for n in ("network", "read-isolation", "write-isolation")
        ],
    )
    assert not sandbox_findings(strong)
    local = sandbox_findings(local_report())
    assert local and "NO SANDBOX" in local[0].message


def test_verdicts_name_the_limit_that_stopped_the_run() -> None:
    died = RunFailure(kind=FailureKind.kernel_died, message="died", cell=3, exit_code=137)
    stopped = apply_verdict(died, _report(stopped_because="the notebook wrote more than 4 GiB"))
    assert stopped is not None and stopped.kind == FailureKind.limit_exceeded
    assert "cell 3" in stopped.message and "wrote more than" in stopped.message
    oom = apply_verdict(died, _report(memory_limit_hit=True))
    assert oom is not None and oom.kind == FailureKind.limit_exceeded and "memory" in oom.message
    own = apply_verdict(died, _report())
    assert own is not None and own.kind == FailureKind.kernel_died and "not by the" in own.message
    xfsz = RunFailure(kind=FailureKind.kernel_died, message="died", exit_code=128 + 25)
    big = apply_verdict(xfsz, _report())
    assert big is not None and "file larger" in big.message
    assert apply_verdict(None, _report(memory_limit_hit=True)) is None  # a finished run stays ok
    lost = apply_verdict(
        RunFailure(kind=FailureKind.cell_timeout, message="timeout"),
        _report(),
        error=RuntimeError("Timeout waiting for IOPub output"),
    )
    assert lost is not None and lost.kind == FailureKind.limit_exceeded
    assert "output" in lost.message


def test_prepared_state_builds_a_confined_kernel_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.execute.sandbox.launch import KernelLaunch

    monkeypatch.setattr(base, "_cgroup_support", lambda: base.CgroupSupport(reason="none here"))
    monkeypatch.setattr(fallback, "unshare_prefix", lambda: ())
    (tmp_path / "work").mkdir()
    launch = KernelLaunch(
        python=sys.executable,
        env={"KERAS_HOME": "/k"},
        spec_dir=tmp_path / "kernels",
        log_path=tmp_path / "kernel.log",
        workdir=tmp_path / "work",
        readable=[],
        writable=[],
        limits=ResourceLimits(),
    )
    backend = fallback.FallbackBackend()
    state = backend.state(launch)
    try:
        assert state.argv[:3] == [sys.executable, "-I", "-S"]
        assert state.argv[-2:] == ["-f", "{connection_file}"]
        assert state.report.backend == "none" and state.report.weak()
        assert "none here" in (state.report.cgroup or "")
        names = {p.name for p in state.report.protections}
        assert {"network", "read-isolation", "memory", "processes", "disk", "output"} <= names
        assert state.confinement.env["TMPDIR"].startswith(str(state.runtime))
        spec_dir = launch.spec_dir / "grader-python"
        backend.kernel_manager_class(launch)
        kernel = json.loads((spec_dir / "kernel.json").read_text())
        assert kernel["interrupt_mode"] == "message" and kernel["argv"] == state.argv
    finally:
        backend.finish(launch)
    assert not state.runtime.exists()


@pytest.mark.skipif(os.getuid() != 0, reason="a user of the run's own needs root")
def test_fallback_user_decision_and_private_output(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "nb-x"
    for sub in ("out", "work", "harness"):
        (run / sub).mkdir(parents=True)
    conf = _conf(tmp_path, workdir=run / "work", readable=[run / "harness"])
    uid, gid, description = fallback.FallbackBackend().user_for(conf)
    assert os.stat(run / "out").st_mode & 0o777 == 0o700
    assert os.stat(run).st_mode & 0o777 == 0o711
    reachable = all(os.stat(p).st_mode & 0o001 for p in run.parents)
    if reachable:
        assert uid is not None and uid == gid and "of this run only" in description
    else:
        assert uid is None and "cannot reach" in description


def test_stale_run_cgroups_are_swept(tmp_path: Path) -> None:
    from grader.execute.sandbox.cgroups import CgroupSupport, sweep_stale

    for name in ("grader-old", "grader-new", "grader-busy", "someone-else"):
        (tmp_path / name).mkdir()
    (tmp_path / "grader-busy" / "cgroup.procs").write_text("1234\n")
    for name in ("grader-old", "grader-busy", "someone-else"):
        os.utime(tmp_path / name, (1, 1))
    support = CgroupSupport(version=1, memory_parent=tmp_path, pids_parent=tmp_path)
    assert sweep_stale(support) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "grader-busy",
        "grader-new",
        "someone-else",
    ]
