"""Batch benchmarks: throughput by workers, regrading a cached class, peak memory, GPU packing.

    python bench/bench_batch.py throughput [--submissions 4] [--workers 1,2,N]
                                           [--executors local,dask] [--threads 1]
    python bench/bench_batch.py regrade    [--copies 100] [--workers 2]
    python bench/bench_batch.py reference  [--threads N]
    python bench/bench_batch.py gpu        [--per-gpu 1,2,4]

Every batch runs in a fresh child process (so its peak memory is its own) in
a temporary folder, on copies of the bundled example submissions that differ
by a few bytes (so no two share a cache entry or look identical). Each command
prints a table and writes JSON (``--json``, default ``bench/results/<cmd>.json``).

* throughput: smoke-profile batches of ``--submissions`` notebooks with 1, 2
  and N workers, on the local process pool and on a dask LocalCluster;
  submissions per minute and the speed-up over one worker. TensorFlow gets
  ``--threads`` threads per run. Target on 2 cores, one thread per run: two
  workers at least 1.7x one.
* regrade: a static batch of ``--copies`` submissions is graded once, then the
  same command is run again through the CLI (a cold start, as an instructor
  does after an interruption or to rebuild the pages). Target: under 5 s for 100.
* reference: the smoke-profile time of the reference solution
  (``reference/hw5_model_solution.ipynb``, or the example submission
  ``submissions/novakova_alice/hw5.ipynb`` where there is none).
* gpu: smoke batches with K = 1, 2, 4 runs per GPU on every GPU found;
  skipped, with the reason, without a GPU or without TensorFlow.

Peak memory is ``ru_maxrss`` of the process running the batch (the grader)
and of its largest child (a worker or a kernel).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
EXAMPLE = ROOT / "submissions" / "novakova_alice" / "hw5.ipynb"
REFERENCE = ROOT / "reference" / "hw5_model_solution.ipynb"
sys.path.insert(0, str(ROOT))


# ------------------------------------------------------------ helpers


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    from grader.batch.gpus import detect_gpus

    versions = {}
    for dist in ("tensorflow", "tensorflow-cpu", "keras", "papermill", "dask", "distributed"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            continue
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1) if memory else None,
        "gpus": detect_gpus(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def distinct_copies(sources: list[Path], n: int, folder: Path, tag: str) -> Path:
    """``n`` student folders, each a copy of a source notebook differing by a few bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        src = sources[i % len(sources)]
        nb = json.loads(src.read_text(encoding="utf-8"))
        nb.setdefault("metadata", {})["bench_copy"] = f"{tag}-{i}"
        target = folder / f"student_{i:03d}" / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    return folder


def example_submissions() -> list[Path]:
    return sorted((ROOT / "submissions").rglob("*.ipynb"))


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["GRADER_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def child_batch(home: Path, timeout: float, **options: Any) -> dict[str, Any]:
    """Run one batch in a fresh process; its timings, outcome and peak memory."""
    done = subprocess.run(
        [sys.executable, __file__, "_batch", json.dumps(options, default=str)],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=timeout,
        check=False,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"the batch failed (exit {done.returncode}): {' | '.join(tail)}")
    return dict(json.loads(lines[-1]))


def _batch_in_this_process(raw: str) -> int:
    """The child side of :func:`child_batch`."""
    from grader.batch.options import BatchOptions
    from grader.batch.scheduler import run_batch
    from grader.execute.records import RunOptions

    opts = json.loads(raw)
    for key in ("source", "out", "roster", "rubric"):
        if opts.get(key):
            opts[key] = Path(opts[key])
    if opts.get("run") is not None:
        opts["run"] = RunOptions.model_validate(opts["run"])
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    summary = run_batch(BatchOptions(**opts), generated="bench")
    seconds = time.perf_counter() - started
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows = summary.results.rows
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "graded_now": summary.graded_now,
                "skipped": summary.skipped,
                "states": dict(Counter(r.state for r in rows)),
                "reasons": sorted({r.reason for r in rows if r.reason})[:5],
                "executor": summary.executor,
                "peak_rss_mb": round(me.ru_maxrss / 1024, 1),
                "largest_child_rss_mb": round(kids.ru_maxrss / 1024, 1),
                "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
        )
    )
    return 0


def prepare_home(home: Path) -> None:
    """Generate the synthetic dataset once, outside every timing.

    In a child process: a process keeps its peak memory across fork and exec,
    so the batches this one starts would report the generator's peak as theirs.
    """
    code = (
        "import sys\nfrom pathlib import Path\nfrom grader.execute.data import ensure_synthetic\n"
    )
    code += "ensure_synthetic(Path(sys.argv[1]))\n"
    subprocess.run([sys.executable, "-c", code, str(home)], env=_env(home), check=True)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    print(f"written: {path}")


def _workers(text: str) -> list[int]:
    cores = os.cpu_count() or 1
    out: list[int] = []
    for part in text.split(","):
        n = cores if part.strip().upper() == "N" else int(part)
        if n not in out:
            out.append(n)
    return out


# ------------------------------------------------------------ throughput


def throughput(ns: argparse.Namespace) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as t:
        tmp = Path(t)
        home = tmp / "home"
        prepare_home(home)
        for executor in ns.executors.split(","):
            if executor == "dask" and importlib.util.find_spec("distributed") is None:
                print("throughput: dask skipped: dask.distributed is not installed")
                continue
            base: float | None = None
            for workers in _workers(ns.workers):
                tag = f"{executor}-{workers}"
                source = distinct_copies([EXAMPLE], ns.submissions, tmp / f"class-{tag}", tag)
                options: dict[str, Any] = {
                    "source": source,
                    "out": tmp / f"out-{tag}",
                    "run": {"profile": "smoke", "data": "synthetic", "threads": ns.threads},
                    "workers": workers,
                    "retries": 0,
                }
                if executor == "dask":
                    options["cluster"] = "local"
                print(f"throughput: {executor}, {workers} worker(s), {ns.submissions} runs ...")
                res = child_batch(home, ns.timeout, **options)
                per_min = 60 * res["graded_now"] / res["seconds"] if res["seconds"] else 0.0
                base = per_min if base is None else base
                rows.append(
                    {
                        **res,
                        "executor": executor,
                        "executor_description": res["executor"],
                        "workers": workers,
                        "submissions": ns.submissions,
                        "per_minute": round(per_min, 3),
                        "speedup": round(per_min / base, 2) if base else None,
                    }
                )
                print(
                    f"  {res['seconds']:.1f} s, {per_min:.2f}/min, x{rows[-1]['speedup']}, "
                    f"{res['states']}"
                )
    print(
        f"\n{'executor':8} {'workers':>7} {'seconds':>8} {'per min':>8} {'speed-up':>8} "
        f"{'grader MB':>9} {'child MB':>8}"
    )
    for r in rows:
        print(
            f"{r['executor']:8} {r['workers']:>7} {r['seconds']:>8.1f} {r['per_minute']:>8.2f} "
            f"{r['speedup']:>8} {r['peak_rss_mb']:>9} {r['largest_child_rss_mb']:>8}"
        )
    return {
        "notebook": str(EXAMPLE.relative_to(ROOT)),
        "profile": "smoke",
        "threads_per_run": ns.threads,
        "target_speedup_2_workers": 1.7,
        "rows": rows,
    }


# ------------------------------------------------------------ regrade


def regrade(ns: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-regrade-") as t:
        tmp = Path(t)
        home = tmp / "home"
        source = distinct_copies(example_submissions(), ns.copies, tmp / "class", "regrade")
        out = tmp / "out"
        print(f"regrade: grading {ns.copies} submissions once (static, {ns.workers} workers) ...")
        first = child_batch(home, ns.timeout, source=source, out=out, run=None, workers=ns.workers)
        print(f"  first grading: {first['seconds']:.1f} s, {first['states']}")
        command = [sys.executable, "-m", "grader", "batch", str(source), "--static"]
        command += ["--out", str(out), "--workers", str(ns.workers)]
        times = []
        for _ in range(ns.repeats):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=_env(home))
            times.append(time.perf_counter() - started)
            if "0 graded now" not in done.stderr:
                raise RuntimeError(f"the regrade graded something again: {done.stderr[-300:]}")
        in_process = child_batch(
            home, ns.timeout, source=source, out=out, run=None, workers=ns.workers
        )
        # a rubric change: every submission is graded again from what is stored
        rubric = tmp / "hw5-changed.yaml"
        rubric.write_text(
            (ROOT / "rubrics" / "hw5.yaml").read_text(encoding="utf-8") + "\n# changed\n",
            encoding="utf-8",
        )
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--rubric", str(rubric)], capture_output=True, text=True, env=_env(home)
        )
        changed = time.perf_counter() - started
        if f"{ns.copies} graded now" not in done.stderr:
            raise RuntimeError(f"the rubric change did not regrade: {done.stderr[-300:]}")
    best = min(times)
    print(
        f"  regrade through the CLI (cold start): {best:.2f} s best of {ns.repeats}; "
        f"run_batch alone: {in_process['seconds']:.2f} s (target < 5 s)"
    )
    print(f"  after a rubric change (all {ns.copies} graded again): {changed:.1f} s")
    return {
        "copies": ns.copies,
        "workers": ns.workers,
        "first_grading_s": first["seconds"],
        "first_grading_states": first["states"],
        "first_grading_peak_rss_mb": first["peak_rss_mb"],
        "regrade_cli_s": round(best, 2),
        "regrade_cli_runs_s": [round(x, 2) for x in times],
        "regrade_in_process_s": in_process["seconds"],
        "rubric_change_cli_s": round(changed, 2),
        "target_s": 5,
    }


# ------------------------------------------------------------ reference


def reference(ns: argparse.Namespace) -> dict[str, Any]:
    path = REFERENCE if REFERENCE.is_file() else EXAMPLE
    threads = ns.threads or os.cpu_count() or 1
    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "from grader.execute import RunOptions\n"
        "from grader.intake.notebook import load_notebook\n"
        "from grader.pipeline import execute_and_extract\n"
        "t = time.perf_counter()\n"
        f"r = execute_and_extract(load_notebook(Path({str(path)!r})), RunOptions(profile='smoke', "
        f"data='synthetic', cache=False, threads={threads}))\n"
        "ev = r.evidence\n"
        "print(json.dumps({'seconds': round(time.perf_counter() - t, 2), 'status': r.status,\n"
        "  'failure': r.failure.message if r.failure else None,\n"
        "  'models': [m.kind.value for m in ev.models] if ev else []}))\n"
    )
    with tempfile.TemporaryDirectory(prefix="bench-ref-") as t:
        home = Path(t) / "home"
        prepare_home(home)
        print(f"reference: {path.relative_to(ROOT)}, smoke profile, {threads} thread(s) ...")
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=_env(home),
            timeout=ns.timeout,
            check=False,
        )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the run failed: {(done.stderr or '').strip()[-400:]}")
    res = json.loads(lines[-1])
    print(f"  {res['seconds']} s, {res['status']}, models: {', '.join(res['models'])}")
    return {
        "notebook": str(path.relative_to(ROOT)),
        "threads": threads,
        "target_s": 90,
        **res,
    }


# ------------------------------------------------------------ GPU


def gpu(ns: argparse.Namespace) -> dict[str, Any]:
    from grader.batch.gpus import detect_gpus

    gpus = detect_gpus()
    if not gpus:
        return {"skipped": "no GPU on this machine (nvidia-smi lists none)"}
    if importlib.util.find_spec("tensorflow") is None:
        return {"skipped": "TensorFlow is not installed"}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as t:
        tmp = Path(t)
        home = tmp / "home"
        prepare_home(home)
        base: float | None = None
        for k in (int(x) for x in ns.per_gpu.split(",")):
            n = 2 * k * len(gpus)
            tag = f"gpu-{k}"
            source = distinct_copies([EXAMPLE], n, tmp / f"class-{tag}", tag)
            print(f"gpu: {len(gpus)} GPU(s), {k} run(s) per GPU, {n} runs ...")
            res = child_batch(
                home,
                ns.timeout,
                source=source,
                out=tmp / f"out-{tag}",
                run={"profile": "smoke", "data": "synthetic"},
                gpus=",".join(gpus),
                per_gpu=k,
                retries=0,
            )
            per_min = 60 * res["graded_now"] / res["seconds"]
            base = per_min if base is None else base
            rows.append(
                {
                    **res,
                    "per_gpu": k,
                    "submissions": n,
                    "per_minute": round(per_min, 3),
                    "speedup": round(per_min / base, 2),
                }
            )
            print(f"  {res['seconds']:.1f} s, {per_min:.2f}/min, x{rows[-1]['speedup']}")
    return {"gpus": gpus, "rows": rows}


# ------------------------------------------------------------ main

COMMANDS = {"throughput": throughput, "regrade": regrade, "reference": reference, "gpu": gpu}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_batch"]:
        return _batch_in_this_process(argv[1])
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("command", choices=sorted(COMMANDS))
    ap.add_argument("--submissions", type=int, default=4, help="throughput: runs per batch")
    ap.add_argument("--workers", default=None, help="throughput: 1,2,N; regrade: 2")
    ap.add_argument("--executors", default="local,dask")
    ap.add_argument("--threads", type=int, default=None, help="TensorFlow threads per run")
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--per-gpu", default="1,2,4")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per batch")
    ap.add_argument("--json", type=Path, default=None)
    ns = ap.parse_args(argv)
    if ns.command == "throughput":
        ns.workers = ns.workers or "1,2,N"
        ns.threads = ns.threads or 1
    elif ns.command == "regrade":
        ns.workers = int(ns.workers or 2)
    doc = {"machine": machine(), **COMMANDS[ns.command](ns)}
    write_json(ns.json or RESULTS / f"{ns.command}.json", doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
