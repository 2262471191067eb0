"""Orchestration that the CLI, the batch and the tests call: intake -> extract -> grade."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import GraderError, NotANotebookError, UsageError
from grader.evidence import ExecutedBy, Finding, NotebookInfo, Severity
from grader.extract import extract_evidence
from grader.grade.result import CheckReport, StudentContext
from grader.grade.rubric import Rubric, load_rubric
from grader.intake.notebook import LoadedNotebook, load_notebook
from grader.intake.roster import Roster

if TYPE_CHECKING:
    from grader.check.bands import BandSet

    Bands = Path | BandSet | Sequence[BandSet]

__all__ = [
    "CheckOutcome",
    "check_executed",
    "check_loaded",
    "check_notebook",
    "check_paths",
    "find_notebooks",
    "notebook_info",
]

_SKIP_DIRS = {".ipynb_checkpoints", "__MACOSX", ".git", "__pycache__"}


def find_notebooks(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders into the notebooks below them; files named explicitly are kept as they are."""
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*.ipynb")):
                if not any(
                    part in _SKIP_DIRS or part.startswith(".")
                    for part in p.relative_to(path).parts[:-1]
                ):
                    yield p
        elif path.exists():
            yield path
        else:
            raise UsageError(f"{path}: no such file or folder")


def notebook_info(loaded: LoadedNotebook) -> NotebookInfo:
    return NotebookInfo(
        path=loaded.path,
        sha256=loaded.sha256,
        nbformat=loaded.original_version,
        cells=len(loaded.nb.cells),
        normalised=loaded.normalised,
        executed_by=_executed_by(loaded.nb.get("metadata")),
    )


def _executed_by(metadata: Any) -> ExecutedBy | None:
    """``metadata.grader`` of a notebook the harness executed, when well formed."""
    raw = metadata.get("grader") if isinstance(metadata, dict) else None
    if not isinstance(raw, dict):
        return None
    try:
        return ExecutedBy.model_validate({"profile": raw.get("profile"), "data": raw.get("data")})
    except ValueError:
        return None


def _band_sets(bands: Bands) -> list[BandSet]:
    from grader.check.bands import BandSet, load_band_sets

    if isinstance(bands, Path):
        return load_band_sets(bands)
    if isinstance(bands, BandSet):
        return [bands]
    return list(bands)


def check_loaded(
    loaded: LoadedNotebook,
    rubric: Rubric,
    context: StudentContext | None = None,
    bands: Bands | None = None,
) -> CheckReport:
    """Grade a loaded notebook from its stored outputs and source.

    With ``bands`` (a band file or folder, or band sets already loaded) the
    models are also compared with the reference band of CIFAR-10 in the full
    profile (what a submitted notebook ran); the band checks' findings join the
    evidence before grading, and a ``no-band`` finding says when none matches.
    """
    evidence = extract_evidence(loaded.nb, notebook_info(loaded))
    if bands is not None:
        from grader.check.band_checks import BandContext, band_findings

        evidence.findings.extend(
            band_findings(evidence, _band_sets(bands), BandContext.static(evidence))
        )
    grade = rubric.grade(evidence, context)
    return CheckReport(**evidence.model_dump(), grade=grade)


def check_notebook(
    path: Path,
    *,
    rubric: Rubric | None = None,
    context: StudentContext | None = None,
    bands: Bands | None = None,
) -> CheckReport:
    """Statically grade one notebook from its stored outputs and source.

    Raises :class:`NotANotebookError` for a file that is not a notebook.
    """
    return check_loaded(load_notebook(path), rubric or load_rubric(), context, bands)


def check_executed(
    path: Path,
    options: Any,
    *,
    rubric: Rubric | None = None,
    context: StudentContext | None = None,
    progress: Any = None,
    bands: Bands | None = None,
) -> CheckReport:
    """Execute the notebook (``options``: :class:`grader.execute.RunOptions`), then grade
    what actually ran. A run that fails is graded from what was captured before it.

    With ``bands`` the models are compared with the reference band of the data
    and profile the run used."""
    from grader.execute import run_notebook

    load_notebook(path)  # refuse what is not a notebook before starting a kernel
    result = run_notebook(path, options, progress=progress)
    evidence = result.evidence
    if evidence is None:
        loaded = load_notebook(path)
        evidence = extract_evidence(loaded.nb, notebook_info(loaded))
    if result.failure is not None and not any(f.code == "run-failed" for f in evidence.findings):
        evidence.findings.append(
            Finding(
                code="run-failed",
                severity=Severity.error,
                message=f"the run stopped: {result.failure.message}",
                cell=result.failure.cell,
            )
        )
    if bands is not None:
        from grader.check.band_checks import BandContext, band_findings

        evidence.findings.extend(
            band_findings(evidence, _band_sets(bands), BandContext.for_run(result))
        )
    grade = (rubric or load_rubric()).grade(evidence, context)
    return CheckReport(**evidence.model_dump(), grade=grade)


@dataclass
class CheckOutcome:
    """One notebook's result in a multi-notebook check: a report, or why it was refused."""

    path: Path
    report: CheckReport | None = None
    error: GraderError | None = None


def _context_for(
    path: Path, roster: Roster | None, base: StudentContext | None
) -> StudentContext | None:
    if roster is None:
        return base
    for candidate in (path.parent.name, path.stem):
        entry = roster.find(candidate)
        if entry is not None:
            return entry.context()
    return base


def check_paths(
    paths: Iterable[Path],
    *,
    rubric: Rubric | None = None,
    context: StudentContext | None = None,
    roster: Roster | None = None,
    run_options: Any = None,
    progress: Any = None,
    bands: Bands | None = None,
) -> list[CheckOutcome]:
    """Grade every notebook under ``paths``; a bad file is an outcome with an error, never a crash.

    With ``run_options`` (:class:`grader.execute.RunOptions`) each notebook is executed first;
    with ``bands`` its models are compared with the matching reference band.
    """
    rubric = rubric or load_rubric()
    band_sets = _band_sets(bands) if bands is not None else None
    outcomes = []
    for path in find_notebooks(paths):
        ctx = _context_for(path, roster, context)
        try:
            if run_options is not None:
                report = check_executed(
                    path,
                    run_options,
                    rubric=rubric,
                    context=ctx,
                    progress=progress,
                    bands=band_sets,
                )
            else:
                report = check_notebook(path, rubric=rubric, context=ctx, bands=band_sets)
            outcomes.append(CheckOutcome(path, report=report))
        except NotANotebookError as exc:
            outcomes.append(CheckOutcome(path, error=exc))
    return outcomes
