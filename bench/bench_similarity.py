"""Similarity report of a whole class, end to end through the command line.

    python bench/bench_similarity.py [--students 200] [--runs 1] [--json bench/results/similarity.json]

Generates a synthetic class in a temporary folder (``tests/similarity_class.py``:
honest students on a common starter, planted copies, honest look-alikes;
about 40 cells per notebook, Keras training logs, full-size PNG figures), then
times ``grader similarity CLASS --out OUT --starter starter.ipynb`` as a child
process (cold start included) with :func:`time.perf_counter`, and checks that
the planted copies are the top pairs. Prints the result and writes JSON.

Target (issue "similarity report"): a class of 200 realistic notebooks in
under 30 s on 2 cores, end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 30.0
PLANTED = 5
LOOKALIKES = 4


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--students", type=int, default=200, help="notebooks in the class")
    ap.add_argument("--runs", type=int, default=1, help="timed runs (the median is reported)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "similarity.json")
    ap.add_argument("--keep", type=Path, default=None, help="also copy the class here")
    ns = ap.parse_args()

    from tests.similarity_class import build_class

    honest = max(2, ns.students - PLANTED - LOOKALIKES)
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        t0 = time.perf_counter()
        cls = build_class(honest, seed=ns.seed, image_size=(864, 288), updates=8, long=True)
        folder = cls.write(Path(tmp) / "class")
        starter = cls.write_starter(Path(tmp) / "starter.ipynb")
        built = time.perf_counter() - t0
        files = sorted(folder.glob("*.ipynb"))
        size = sum(f.stat().st_size for f in files)
        cells = statistics.mean(len(nb["cells"]) for nb in cls.notebooks.values())
        figures = sum(
            1
            for nb in cls.notebooks.values()
            for c in nb["cells"]
            for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})
        )
        if ns.keep:
            import shutil

            shutil.copytree(folder, ns.keep, dirs_exist_ok=True)
        print(
            f"class: {len(files)} notebooks, {cells:.0f} cells each on average, "
            f"{size / len(files) / 1e3:.0f} kB each, {figures} figures "
            f"(generated in {built:.1f} s)"
        )
        times: list[float] = []
        out = Path(tmp) / "out"
        cmd = [
            sys.executable,
            "-m",
            "grader",
            "similarity",
            str(folder),
            "--out",
            str(out),
            "--starter",
            str(starter),
        ]
        load_before = _load()
        for run in range(ns.runs):
            t = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            elapsed = time.perf_counter() - t
            if proc.returncode != 0:
                print(proc.stdout + proc.stderr, file=sys.stderr)
                print(f"grader similarity exited {proc.returncode}", file=sys.stderr)
                return 1
            times.append(elapsed)
            print(f"run {run + 1}: {elapsed:.2f} s")
        load_after = _load()
        doc = json.loads((out / "similarity.json").read_text(encoding="utf-8"))
        planted = {frozenset(pair) for pair in cls.planted.values()}
        ranks = sorted(
            r
            for r, p in enumerate(doc["pairs"])
            if frozenset((p["name_a"], p["name_b"])) in planted
        )
        others_flagged = sum(
            1
            for p in doc["pairs"]
            if p["level"] == "worth a look" and frozenset((p["name_a"], p["name_b"])) not in planted
        )
        honest_top = max(
            (
                p["score"]
                for p in doc["pairs"]
                if frozenset((p["name_a"], p["name_b"])) not in planted
            ),
            default=0.0,
        )
    median = statistics.median(times)
    result = {
        "notebooks": len(files),
        "cells_per_notebook": round(cells, 1),
        "kb_per_notebook": round(size / len(files) / 1e3, 1),
        "figures": figures,
        "seconds": [round(t, 2) for t in times],
        "median_s": round(median, 2),
        "target_s": TARGET_S,
        "within_target": median < TARGET_S,
        "pairs_scored": doc["pairs_scored"],
        "pairs_listed": len(doc["pairs"]),
        "planted_ranks": [r + 1 for r in ranks],
        "planted_found": len(ranks),
        "highest_other_pair": honest_top,
        "other_pairs_worth_a_look": others_flagged,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.platform(),
    }
    print(
        f"grader similarity: {median:.2f} s for {len(files)} notebooks (target {TARGET_S:.0f} s) "
        f"on {os.cpu_count()} CPUs, load average {load_before} before, {load_after} after"
    )
    print(
        f"planted copies at ranks {result['planted_ranks']} of {len(doc['pairs'])} listed "
        f"({doc['pairs_scored']} pairs share something rare); highest other pair "
        f"{honest_top:.2f}, {others_flagged} other pair(s) worth a look"
    )
    ns.json.parent.mkdir(parents=True, exist_ok=True)
    ns.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["within_target"] and len(ranks) == PLANTED else 1


if __name__ == "__main__":
    sys.exit(main())
