"""Running a reference notebook: its papermill parameters set, executed through the execution layer.

The notebook's ``parameters`` cell (papermill's convention) gets the run's
values appended (profile, seed and the expectation's parameters), so the
executed notebook shows what it ran with and its cells keep their indices.
The parameterised copy of the same notebook with the same values has the same
bytes, so the execution layer's cache serves a run that ``build`` already did
to ``verify``.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.reference.expectations import NotebookExpectation, ReferenceSolutionError
from grader.settings import DEFAULT_TIMEOUT_CELL, DEFAULT_TIMEOUT_RUN

if TYPE_CHECKING:
    from grader.execute.records import Progress, RunOptions
    from grader.extract.runtime import RunResult

__all__ = [
    "DEFAULT_DATA",
    "PARAMETERS_TAG",
    "Runner",
    "RunSettings",
    "notebook_parameters",
    "parameter_values",
    "parameterise",
    "prepare_reference",
    "run_reference",
    "sources_sha256",
]

PARAMETERS_TAG = "parameters"
#: the dataset a profile's reference runs use unless told otherwise
DEFAULT_DATA = {"smoke": "synthetic", "full": "cifar10"}

Runner = Callable[[Path, "RunOptions"], "RunResult"]


@dataclass
class RunSettings:
    """How reference notebooks are run; every run is seeded and deterministic."""

    profile: str = "smoke"
    data: str | None = None  # default: DEFAULT_DATA[profile]
    weights: Path | None = None
    home: Path | None = None
    threads: int | None = None
    timeout_cell: float | None = DEFAULT_TIMEOUT_CELL
    timeout_run: float | None = DEFAULT_TIMEOUT_RUN
    cache: bool = True
    force: bool = False
    progress: Callable[[Progress], None] | None = None
    runner: Runner | None = field(default=None, repr=False)

    def data_name(self) -> str | None:
        return self.data or DEFAULT_DATA.get(self.profile)

    def run_executor(self) -> Callable[[Any, RunOptions, Any], RunResult]:
        """The runner as the pipeline calls it (a notebook already read, options, progress)."""
        runner = self.runner or _default_runner(self)

        def execute(loaded: Any, options: RunOptions, progress: Any = None) -> RunResult:
            return runner(Path(loaded.path), options)

        return execute

    def options(self, seed: int, out: Path | None = None) -> RunOptions:
        from grader.execute.records import RunOptions

        return RunOptions(
            profile=self.profile,
            data=self.data_name(),
            weights=self.weights,
            seed=seed,
            deterministic=True,
            force=self.force,
            cache=self.cache,
            out=out,
            home=self.home,
            timeout_cell=self.timeout_cell,
            timeout_run=self.timeout_run,
            threads=self.threads,
        )


def _is_parameters(cell: Mapping[str, Any]) -> bool:
    tags = cell.get("metadata", {}).get("tags", []) or []
    return cell.get("cell_type") == "code" and PARAMETERS_TAG in tags


def notebook_parameters(nb: Any) -> dict[str, Any]:
    """The literal values the ``parameters`` cell assigns (``N_TRAIN, N_VAL = 2000, 1000`` too)."""
    values: dict[str, Any] = {}
    for cell in nb.cells:
        if not _is_parameters(cell):
            continue
        try:
            tree = ast.parse(cell.get("source") or "")
        except SyntaxError:
            return values
        for node in tree.body:
            if not isinstance(node, ast.Assign):
                continue
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = value
                elif isinstance(target, ast.Tuple) and isinstance(value, tuple):
                    names = [t.id for t in target.elts if isinstance(t, ast.Name)]
                    if len(names) == len(target.elts) == len(value):
                        values.update(zip(names, value, strict=True))
    return values


def parameter_values(expectation: NotebookExpectation, profile: str, seed: int) -> dict[str, Any]:
    """What a run of a reference notebook sets: profile, seed and the expectation's parameters."""
    return {"PROFILE": profile, "SEED": seed, **expectation.parameters}


def sources_sha256(nb: Any) -> str:
    """A hash of the notebook's cells (type and source), blind to outputs and metadata.

    A reference notebook saved with the outputs of a run is still the same notebook.
    """
    digest = hashlib.sha256()
    for cell in nb.cells:
        digest.update(json.dumps([cell.get("cell_type"), cell.get("source") or ""]).encode())
    return digest.hexdigest()


def parameterise(nb: Any, values: Mapping[str, Any], note: str = "set for this run") -> Any:
    """A copy of ``nb``, outputs cleared, whose ``parameters`` cell ends with ``NAME = value``.

    A notebook without such a cell gets one as its first cell. Outputs are
    cleared so the same notebook saved with or without outputs runs (and is
    cached) as the same run.
    """
    import nbformat

    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    lines = [f"# {note}"] + [f"{name} = {value!r}" for name, value in values.items()]
    for cell in out.cells:
        if _is_parameters(cell):
            source = (cell.get("source") or "").rstrip("\n")
            cell["source"] = source + "\n\n" + "\n".join(lines) + "\n"
            return out
    cell = nbformat.v4.new_code_cell("\n".join(lines) + "\n")
    cell.metadata["tags"] = [PARAMETERS_TAG]
    out.cells.insert(0, cell)
    return out


def _default_runner(settings: RunSettings) -> Runner:
    from grader.pipeline import execute_and_extract

    def run(path: Path, options: RunOptions) -> RunResult:
        return execute_and_extract(path, options, settings.progress)

    return run


def prepare_reference(
    source: Path, expectation: NotebookExpectation, seed: int, settings: RunSettings, work: Path
) -> Path:
    """Write the parameterised copy of one reference notebook for one seed; returns its path."""
    import nbformat

    try:
        nb = nbformat.read(str(source), as_version=4)
    except (OSError, ValueError) as exc:
        raise ReferenceSolutionError(
            f"{source}: cannot read the reference notebook ({exc})", path=str(source)
        ) from exc
    values = parameter_values(expectation, settings.profile, seed)
    prepared = parameterise(
        nb, values, note=f"set by grader reference ({settings.profile} profile)"
    )
    folder = work / f"seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    nbformat.write(prepared, str(target))
    return target


def run_reference(
    source: Path,
    expectation: NotebookExpectation,
    seed: int,
    settings: RunSettings,
    work: Path,
) -> RunResult:
    """Run one reference notebook with one seed; the parameterised copy is written under ``work``."""
    target = prepare_reference(source, expectation, seed, settings, work)
    runner = settings.runner or _default_runner(settings)
    return runner(target, settings.options(seed))
