"""Static check latency: cold CLI start per notebook, and in-process time per notebook.

    python bench/bench_check.py [NOTEBOOK_OR_FOLDER ...] [--runs 5] [--json bench/results/check.json]

Without arguments it measures the bundled example submissions and the fixture
scenarios (written to a temporary folder). Prints a table and writes JSON.
Target (issue "static self-check"): median under 0.5 s per notebook, cold CLI
start included, on a 2-core machine; neither TensorFlow nor papermill imported.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _notebooks(args: list[str], tmp: Path) -> list[Path]:
    if args:
        out: list[Path] = []
        for a in args:
            p = Path(a)
            out.extend(sorted(p.rglob("*.ipynb")) if p.is_dir() else [p])
        return out
    import nbformat

    from tests.scenarios import SCENARIOS

    paths = sorted((ROOT / "submissions").rglob("*.ipynb"))
    for name, build in SCENARIOS.items():
        nb, _ = build()
        p = tmp / f"{name}.ipynb"
        nbformat.write(nb, str(p))
        paths.append(p)
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "check.json")
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        paths = _notebooks(ns.paths, Path(t))
        from grader.grade.rubric import load_rubric
        from grader.pipeline import check_notebook

        rubric = load_rubric()
        rows = []
        for p in paths:
            cold = []
            for _ in range(ns.runs):
                t0 = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "grader", "check", str(p), "--json"],
                    capture_output=True,
                    check=False,
                )
                cold.append(time.perf_counter() - t0)
            warm = []
            for _ in range(ns.runs):
                t0 = time.perf_counter()
                check_notebook(p, rubric=rubric)
                warm.append(time.perf_counter() - t0)
            rows.append(
                {
                    "notebook": p.name,
                    "bytes": p.stat().st_size,
                    "cold_cli_median_s": round(statistics.median(cold), 4),
                    "in_process_median_s": round(statistics.median(warm), 5),
                }
            )
    print(f"{'notebook':40} {'KB':>8} {'cold CLI s':>11} {'in-process s':>13}")
    for r in rows:
        print(
            f"{r['notebook'][:40]:40} {r['bytes'] / 1024:8.0f} {r['cold_cli_median_s']:11.3f} {r['in_process_median_s']:13.4f}"
        )
    overall = statistics.median(r["cold_cli_median_s"] for r in rows) if rows else 0.0
    print(f"median cold CLI check per notebook: {overall:.3f} s (target < 0.5 s)")
    ns.json.parent.mkdir(parents=True, exist_ok=True)
    ns.json.write_text(
        json.dumps(
            {
                "machine": {
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                    "cpus": __import__("os").cpu_count(),
                },
                "runs": ns.runs,
                "median_cold_cli_s": overall,
                "notebooks": rows,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
