"""The whole benchmark suite in one command: prints a table, writes JSON.

    python bench/run_all.py [--quick] [--only check,regrade] [--skip execute,gpu]

Sections (each is also a script of its own, run here as a child process):

=========== ================================================================
check       static check latency per notebook, cold CLI start included
            (``bench/bench_check.py``)
execute     harness overhead versus bare papermill on the same notebook, and
            the smoke time of a three-model notebook (``bench/bench_execute.py``)
reference   smoke-profile time of the reference solution (``bench_batch.py``)
throughput  batch throughput with 1, 2 and N workers, local pool and dask
            LocalCluster, speed-up, peak memory of the grader process
regrade     regrading a cached batch of 100 submissions
gpu         throughput with K = 1, 2, 4 runs per GPU (skipped without a GPU)
=========== ================================================================

Results go to ``bench/results/`` (git-ignored): one JSON file per section and
``summary.json`` / ``summary.md`` (the table, with the machine it ran on).
The full suite takes about 40 minutes on 2 cores; ``--quick`` fewer repeats
and runs (about a quarter of that), for a first look.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

SECTIONS = ("check", "execute", "reference", "throughput", "regrade", "gpu")


def _commands(quick: bool, results: Path) -> dict[str, list[str]]:
    py = sys.executable
    cores = str(os.cpu_count() or 1)
    batch = str(BENCH / "bench_batch.py")
    return {
        "check": [
            py,
            str(BENCH / "bench_check.py"),
            "--runs",
            "2" if quick else "5",
            "--json",
            str(results / "check.json"),
        ],
        "execute": [
            py,
            str(BENCH / "bench_execute.py"),
            "--repeats",
            "1" if quick else "3",
            "--threads",
            cores,
            "--json",
            str(results / "execute.json"),
        ],
        "reference": [py, batch, "reference", "--json", str(results / "reference.json")],
        "throughput": [
            py,
            batch,
            "throughput",
            "--submissions",
            "2" if quick else "4",
            "--threads",
            "1",
            "--json",
            str(results / "throughput.json"),
        ],
        "regrade": [
            py,
            batch,
            "regrade",
            "--copies",
            "100",
            "--repeats",
            "1" if quick else "3",
            "--json",
            str(results / "regrade.json"),
        ],
        "gpu": [py, batch, "gpu", "--json", str(results / "gpu.json")],
    }


# ------------------------------------------------------------ the table

Row = tuple[str, str, str]  # measure, result, target


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗ (missed)")


def _check_rows(doc: dict[str, Any]) -> list[Row]:
    med = doc["median_cold_cli_s"]
    n = len(doc.get("notebooks", []))
    slowest = max((r["cold_cli_median_s"] for r in doc.get("notebooks", [])), default=0.0)
    return [
        (
            f"static check, cold CLI start included (median of {n} notebooks; slowest)",
            f"{med:.2f} s; {slowest:.2f} s{_mark(med < 0.5)}",
            "< 0.5 s",
        )
    ]


def _execute_rows(doc: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for r in doc.get("overhead", []):
        if "trivial" in r["case"]:
            rows.append(
                (
                    "fixed cost of the harness per run (2-cell notebook)",
                    f"+{r['overhead_s']:.2f} s ({r['bare_papermill_s']} s bare papermill)",
                    "",
                )
            )
        else:
            ok = r["overhead_pct"] <= doc.get("overhead_target_pct", 5)
            rows.append(
                (
                    f"harness overhead vs bare papermill ({r['case']})",
                    f"{r['overhead_pct']:+.1f} % wall, {r['cpu_overhead_pct']:+.1f} % CPU "
                    f"({r['bare_papermill_s']} s vs {r['harness_s']} s){_mark(ok)}",
                    "≤ 5 %",
                )
            )
    smoke = doc.get("smoke")
    if smoke:
        ok = smoke["seconds"] < smoke.get("target_s", 90)
        rows.append(
            (f"smoke profile: {smoke['case']}", f"{smoke['seconds']} s{_mark(ok)}", "< 90 s")
        )
        if smoke.get("protected_seconds") is not None:
            rows.append(
                (
                    "the same with the sandbox and out-of-process verification (batch default)",
                    f"{smoke['protected_seconds']} s",
                    "",
                )
            )
    return rows


def _reference_rows(doc: dict[str, Any]) -> list[Row]:
    ok = doc["status"] == "ok" and doc["seconds"] < doc.get("target_s", 90)
    models = ", ".join(doc.get("models", [])) or "none"
    failure = f"; failed: {doc['failure']}" if doc.get("failure") else ""
    return [
        (
            f"smoke profile of {doc['notebook']} ({doc['threads']} threads)",
            f"{doc['seconds']} s, models: {models}{failure}{_mark(ok)}",
            "< 90 s",
        )
    ]


def _throughput_rows(doc: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    names = {"local": "local pool", "dask": "dask LocalCluster"}
    for r in doc.get("rows", []):
        ok = r["speedup"] >= doc.get("target_speedup_2_workers", 1.7) if r["workers"] == 2 else None
        failed = sum(v for k, v in r["states"].items() if k != "graded")
        note = f", {failed} not graded" if failed else ""
        load = r.get("load_average_before_after")
        if load:
            note += f", load {load[0]:.1f}→{load[1]:.1f}"
        rows.append(
            (
                f"throughput, {names.get(r['executor'], r['executor'])}, {r['workers']} worker(s) "
                f"({r['submissions']} smoke runs, {doc['threads_per_run']} thread/run)",
                f"{r['per_minute']:.2f} /min ({r['seconds']:.0f} s), x{r['speedup']:.2f}"
                f"{note}{_mark(ok)}",
                "x ≥ 1.7 at 2 workers" if r["workers"] == 2 else "",
            )
        )
    if doc.get("rows"):
        peak = max(doc["rows"], key=lambda r: r["peak_rss_mb"])
        child = max(r["largest_child_rss_mb"] for r in doc["rows"])
        rows.append(
            (
                "peak memory of the grader process during a batch (largest worker or kernel)",
                f"{peak['peak_rss_mb']:.0f} MB ({child:.0f} MB)",
                "",
            )
        )
    return rows


def _regrade_rows(doc: dict[str, Any]) -> list[Row]:
    n = doc["copies"]
    return [
        (
            f"regrade of a cached batch of {n} submissions (CLI, cold start)",
            f"{doc['regrade_cli_s']:.2f} s{_mark(doc['regrade_cli_s'] < doc.get('target_s', 5))}",
            "< 5 s",
        ),
        (
            f"first grading of those {n} (static, {doc['workers']} workers); after a rubric change",
            f"{doc['first_grading_s']:.1f} s; {doc['rubric_change_cli_s']:.1f} s",
            "",
        ),
    ]


def _gpu_rows(doc: dict[str, Any]) -> list[Row]:
    if doc.get("skipped"):
        return [("throughput with K = 1, 2, 4 runs per GPU", f"skipped: {doc['skipped']}", "")]
    return [
        (
            f"throughput, {len(doc['gpus'])} GPU(s), K = {r['per_gpu']} runs per GPU",
            f"{r['per_minute']:.2f} /min, x{r['speedup']:.2f}",
            "",
        )
        for r in doc.get("rows", [])
    ]


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "check": _check_rows,
    "execute": _execute_rows,
    "reference": _reference_rows,
    "throughput": _throughput_rows,
    "regrade": _regrade_rows,
    "gpu": _gpu_rows,
}


def _machine_line(machine: dict[str, Any]) -> str:
    gpus = ", ".join(machine.get("gpus") or []) or "no GPU"
    versions = machine.get("versions", {})
    tf = versions.get("tensorflow") or versions.get("tensorflow-cpu") or "not installed"
    return (
        f"{machine.get('cpu') or 'unknown CPU'}, {machine.get('cores')} cores, "
        f"{machine.get('memory_gb')} GB RAM, {gpus}; {machine.get('platform')}; "
        f"Python {machine.get('python')}, TensorFlow {tf}; load average before the run "
        f"{machine.get('load_average')}"
    )


def render(rows: list[Row], machine: dict[str, Any], when: str) -> str:
    lines = [
        f"Measured {when} on: {_machine_line(machine)}",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {m} | {r} | {t} |" for m, r, t in rows]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer repeats and runs")
    ap.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(SECTIONS)}")
    ap.add_argument("--skip", default="", help="comma-separated sections to leave out")
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON files")
    ap.add_argument(
        "--table",
        action="store_true",
        help="run nothing: rebuild the table from the JSON files already in --results",
    )
    ns = ap.parse_args(argv)
    only = [s for s in ns.only.split(",") if s] or list(SECTIONS)
    skip = {s for s in ns.skip.split(",") if s}
    unknown = sorted((set(only) | skip) - set(SECTIONS))
    if unknown:
        ap.error(f"unknown section(s): {', '.join(unknown)}")
    chosen = [s for s in SECTIONS if s in only and s not in skip]

    from bench_batch import machine

    results: Path = ns.results
    results.mkdir(parents=True, exist_ok=True)
    host = machine()
    when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    commands = _commands(ns.quick, results)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    rows: list[Row] = []
    sections: dict[str, Any] = {}
    failed = []
    for name in chosen:
        if ns.table:
            path = results / f"{name}.json"
            if path.is_file():
                doc = json.loads(path.read_text(encoding="utf-8"))
                if "cores" in doc.get("machine", {}):  # written by bench_batch.py
                    host = doc["machine"]
                stamp = dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone()
                when = stamp.strftime("%Y-%m-%d %H:%M %Z")
                rows += ROWS[name](doc)
            continue
        print(f"\n=== {name} ===", flush=True)
        path = results / f"{name}.json"
        path.unlink(missing_ok=True)  # never report an earlier run's numbers
        started = time.perf_counter()
        done = subprocess.run(commands[name], cwd=ROOT, env=env, check=False)
        seconds = round(time.perf_counter() - started, 1)
        if done.returncode != 0 or not path.is_file():
            failed.append(name)
            sections[name] = {"error": f"exit status {done.returncode}", "seconds": seconds}
            rows.append((name, f"failed (exit status {done.returncode}; see the output above)", ""))
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        sections[name] = {"seconds": seconds, "result": doc}
        try:
            rows += ROWS[name](doc)
        except (KeyError, TypeError, ValueError) as exc:
            rows.append((name, f"unreadable result ({type(exc).__name__}: {exc})", ""))
    table = render(rows, host, when)
    print("\n" + table)
    (results / "summary.md").write_text(table, encoding="utf-8")
    (results / "summary.json").write_text(
        json.dumps(
            {"measured": when, "machine": host, "sections": sections, "table": rows},
            indent=1,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    print(f"written: {results / 'summary.json'}, {results / 'summary.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
