"""Save the outputs of a smoke run into the committed reference notebooks.

    python -m tests.make_references

Each reference notebook listed in ``reference/expected.yaml`` is run once in
the smoke profile on the synthetic data, with the first seed of the smoke band
(``grader reference build --profile smoke`` ran it already, so the run comes
from the cache), and its cells get that run's outputs. The parameters cell
keeps its own values (the run appends the smoke ones; they are dropped again),
so the committed notebook is still the homework as assigned, showing what a
quick run of it prints. A static ``grader check`` of it then sees a complete
submission, compared with the smoke band (see ``metadata.grader``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from grader.check.bands import load_band_sets, select_band_set
    from grader.reference.expectations import load_expectations
    from grader.reference.runs import PARAMETERS_TAG, RunSettings, run_reference

    folder = ROOT / "reference"
    expectations = load_expectations(folder)
    settings = RunSettings(profile="smoke")
    band = select_band_set(load_band_sets(folder / "bands"), "smoke", settings.data_name())
    seed = ((band.seeds() if band else []) or [1])[0]
    with tempfile.TemporaryDirectory() as tmp:
        for item in expectations.notebooks:
            source = expectations.notebook_path(item)
            result = run_reference(source, item, seed, settings, Path(tmp) / source.stem)
            if result.status != "ok" or not result.files.executed:
                print(f"{item.path}: the run failed: {result.failure}", file=sys.stderr)
                return 1
            original = nbformat.read(str(source), as_version=4)
            executed = nbformat.read(result.files.executed, as_version=4)
            cells = [
                c for c in executed.cells if "grader-injected" not in c.metadata.get("tags", [])
            ]
            if len(cells) != len(original.cells):
                print(f"{item.path}: the run has a different number of cells", file=sys.stderr)
                return 1
            for mine, ran in zip(original.cells, cells, strict=True):
                if mine.cell_type != "code":
                    continue
                mine.outputs = ran.get("outputs", [])
                mine.execution_count = ran.get("execution_count")
                if PARAMETERS_TAG in mine.metadata.get("tags", []):
                    mine.outputs = []  # the appended smoke values are not the homework's
            original.metadata["grader"] = executed.metadata.get("grader")
            nbformat.write(original, str(source))
            print(
                f"{item.path}: outputs of the smoke run with seed {seed} ({result.wall_seconds:.0f} s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
