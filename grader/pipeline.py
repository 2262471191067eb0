"""The one place that chains the stages: intake -> execute -> extract -> check -> grade.

:func:`grade_submission` grades one submission, from its stored outputs or
from a run; ``grader check`` (with or without ``--run``), the batch worker
(local pool and dask) and ``grader reference verify`` all call it.
:func:`execute_and_extract` runs a notebook and reads the run into evidence
(``grader run``, the reference builds). Each notebook is read and parsed once
per grading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from grader.errors import GraderError, NotANotebookError
from grader.evidence import Evidence, Finding, Severity
from grader.extract import extract_evidence, notebook_info
from grader.grade.result import CheckReport
from grader.grade.rubric import Rubric, load_rubric
from grader.i18n import _
from grader.intake.notebook import LoadedNotebook, find_notebooks, load_notebook
from grader.intake.roster import Roster
from grader.intake.submission import StudentContext, Submission

if TYPE_CHECKING:
    from grader.check.bands import BandSet

    #: reference bands: a band file or folder, or band sets already read
    Bands = Path | BandSet | Sequence[BandSet]
    from grader.execute.records import KernelOutcome, Progress, RunOptions, RunRecord
    from grader.extract.runtime import RunResult
    from grader.report.results import RunInfo

__all__ = [
    "CheckOutcome",
    "Graded",
    "ResultStatus",
    "RunExecutor",
    "check_notebook",
    "check_paths",
    "execute_and_extract",
    "grade_submission",
]

ResultStatus = Literal[
    "graded", "run-failed", "not-a-notebook", "no-notebook", "error", "infrastructure"
]
ProgressCallback = Callable[["Progress"], None]


#: runs a notebook and reads the run into evidence (a seam for tests and reference runs)
RunExecutor = Callable[[LoadedNotebook, "RunOptions", ProgressCallback | None], "RunResult"]


@dataclass
class Graded:
    """One submission graded: the report, the run behind it, or why there is no report.

    ``run`` is the run the grade comes from; a grading function of its own given
    to the batch may put there the summary the reports show instead
    (:class:`grader.report.results.RunInfo`).
    """

    report: CheckReport | None
    run: RunResult | RunInfo | None = None
    status: ResultStatus = "graded"
    reason: str | None = None
    retryable: bool = False  # a failure that is not the student's: worth another try


# ------------------------------------------------------------------ one submission


def grade_submission(
    submission: Submission,
    run: RunOptions | None = None,
    *,
    rubric: Rubric | None = None,
    bands: Bands | None = None,
    progress: ProgressCallback | None = None,
    executor: RunExecutor | None = None,
) -> Graded:
    """Grade one submission from its stored outputs, or (``run``) from a run of it.

    With ``bands`` the models are also compared with the reference bands: stored
    outputs with the band of CIFAR-10 in the full profile (what a submitted
    notebook ran; outputs the harness made itself say their own profile and
    data), a run with the band of its own data and profile. Raises
    :class:`NotANotebookError` for a file that is not a notebook; a run that
    fails is graded from what it captured before it stopped.
    """
    from grader.check.band_checks import BandContext, band_findings

    if submission.notebook is None:
        names = ", ".join(f.name for f in submission.files) or _("nothing")
        return Graded(
            report=None,
            status="no-notebook",
            reason=_("no notebook (.ipynb) handed in (found: {files})").format(files=names),
        )
    loaded = load_notebook(Path(submission.notebook.path))
    rubric = rubric or load_rubric()
    result: RunResult | None = None
    if run is None:
        evidence = extract_evidence(loaded.nb, notebook_info(loaded))
        context = BandContext.static(evidence)
    else:
        result = (executor or execute_and_extract)(loaded, run, progress)
        context = BandContext.for_run(result)
        graded = _failed_run(result)
        if graded is not None:
            return graded
        assert result.evidence is not None
        evidence = result.evidence
    if bands is not None:
        evidence.findings.extend(band_findings(evidence, _band_sets(bands), context))
    report = CheckReport(**evidence.model_dump(), grade=rubric.grade(evidence, submission.context))
    failure = result.failure if result is not None else None
    if failure is not None:
        from grader.execute.records import FailureKind

        if failure.kind == FailureKind.cannot_start:  # the grader's problem, not the student's
            return Graded(report, result, "infrastructure", failure.message, retryable=True)
        return Graded(report, result, "run-failed", failure.message)
    return Graded(report, result)


def _band_sets(bands: Bands) -> list[BandSet]:
    from grader.check.bands import BandSet, load_band_sets

    if isinstance(bands, Path):
        return load_band_sets(bands)
    if isinstance(bands, BandSet):
        return [bands]
    return list(bands)


def _failed_run(result: RunResult) -> Graded | None:
    """A run that left no evidence to grade (None: there is evidence)."""
    if result.evidence is not None:
        if result.failure is not None and not any(
            f.code == "run-failed" for f in result.evidence.findings
        ):
            result.evidence.findings.append(
                Finding(
                    code="run-failed",
                    severity=Severity.error,
                    message=_("the run stopped: {why}").format(why=result.failure.message),
                    cell=result.failure.cell,
                )
            )
        return None
    failure = result.failure
    reason = failure.message if failure is not None else "the run produced no evidence"
    from grader.execute.records import FailureKind

    if failure is not None and failure.kind == FailureKind.cannot_start:
        return Graded(None, result, "infrastructure", reason, retryable=True)
    return Graded(None, result, "error", reason)


# ------------------------------------------------------------------ runs


def execute_and_extract(
    notebook: Path | LoadedNotebook,
    options: RunOptions | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run a notebook (or take its run from the cache) and read the run into evidence.

    The evidence is the executed notebook read statically with the capture
    merged in, then checked against what the kernel cannot forge: the sandbox,
    the data the harness served, and an out-of-process re-evaluation of every
    claimed test accuracy (done while the run's files still exist).
    """
    from grader.execute.records import RunOptions
    from grader.execute.runner import run_notebook
    from grader.extract.runtime import RunResult

    options = options or RunOptions()
    loaded = notebook if isinstance(notebook, LoadedNotebook) else _load_or_none(notebook)
    original = _static_or_none(loaded)
    fresh: list[Evidence | None] = []

    def inspect(outcome: KernelOutcome) -> Evidence | None:
        evidence = _run_evidence(_RunFacts.of_outcome(outcome), original, options, verify=outcome)
        fresh.append(evidence)
        return evidence

    record = run_notebook(loaded or Path(notebook), options, progress, inspect=inspect)  # type: ignore[arg-type]
    if fresh:
        evidence = fresh[0]
    elif record.files.executed and loaded is not None:  # from the cache: read it again
        evidence = _run_evidence(_RunFacts.of_record(record, loaded), original, options)
    else:
        evidence = None
    return RunResult(**dict(record), evidence=evidence)


def _load_or_none(path: Path | str) -> LoadedNotebook | None:
    try:
        return load_notebook(Path(path))
    except NotANotebookError:
        return None


def _static_or_none(loaded: LoadedNotebook | None) -> Evidence | None:
    """The submitted notebook's own evidence (its claims), when it can be read."""
    if loaded is None:
        return None
    try:
        return extract_evidence(loaded.nb, notebook_info(loaded, executed_by=False))
    except Exception:  # the claims are only compared; a run does not need them
        return None


@dataclass
class _RunFacts:
    """What reading a run needs, from a run just finished or from its cached record."""

    loaded: LoadedNotebook
    executed: Any
    record: Any  # KernelOutcome or RunRecord: capture, failure, cells
    profile: str
    data_kind: str | None
    served: Any
    sandbox: Any
    verification: Any
    store_changed: list[str]

    @classmethod
    def of_outcome(cls, outcome: KernelOutcome) -> _RunFacts:
        return cls(
            loaded=outcome.notebook,
            executed=outcome.executed,
            record=outcome,
            profile=outcome.profile,
            data_kind=outcome.data.kind if outcome.data else None,
            served=outcome.served,
            sandbox=outcome.sandbox,
            verification=None,  # verified while the run's files exist (see _run_evidence)
            store_changed=outcome.store_changed,
        )

    @classmethod
    def of_record(cls, record: RunRecord, loaded: LoadedNotebook) -> _RunFacts:
        from grader.execute.collect import clean_executed, read_executed
        from grader.execute.served import load_served

        executed_path = Path(record.files.executed or "")
        spec = record.manifest.data.spec
        return cls(
            loaded=loaded,
            executed=clean_executed(read_executed(executed_path, executed_path)),
            record=record,
            profile=record.profile,
            data_kind=spec.kind if spec else None,
            served=load_served(spec),
            sandbox=record.manifest.sandbox,
            verification=record.manifest.verification,
            store_changed=list(record.store_changed),
        )


def _run_evidence(
    facts: _RunFacts,
    original: Evidence | None,
    options: RunOptions,
    verify: KernelOutcome | None = None,
) -> Evidence | None:
    """Evidence of a run with the run's checks: merged, compared with the claims, verified."""
    from grader.check.reproducibility import reproducibility_findings
    from grader.check.run import run_findings
    from grader.extract.runtime import MergeContext, extract_run

    failure = facts.record.failure
    context = MergeContext(
        profile=facts.profile,
        data_kind=facts.data_kind,
        repro_tolerance=options.repro_tolerance,
        failed=failure is not None,
        failure_message=failure.message if failure else None,
        failure_cell=failure.cell if failure else None,
    )
    capture = facts.record.capture
    extraction = extract_run(
        facts.executed,
        capture,
        notebook_info(facts.loaded, executed_by=False),
        facts.record.cells.resolver(facts.executed),
        context,
    )
    evidence = extraction.evidence
    if evidence is None:
        return None
    if extraction.merged and original is not None:
        evidence.findings.extend(reproducibility_findings(original, evidence, context))
    verification = facts.verification
    if verify is not None:
        verification = verify.verify(evidence, extraction.fit_models)
    evidence.findings.extend(
        run_findings(
            evidence,
            capture=capture,
            fit_models=extraction.fit_models,
            printed=extraction.printed,
            served=facts.served,
            sandbox=facts.sandbox,
            verification=verification,
            store_changed=facts.store_changed,
            profile=facts.profile,
        )
    )
    return evidence


# ------------------------------------------------------------------ the CLI's check


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
    graded = grade_submission(Submission.of_notebook(path, context), rubric=rubric, bands=bands)
    assert graded.report is not None
    return graded.report


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
    run_options: RunOptions | None = None,
    progress: ProgressCallback | None = None,
    bands: Bands | None = None,
) -> list[CheckOutcome]:
    """Grade every notebook under ``paths``; a bad file is an outcome with an error, never a crash.

    With ``run_options`` each notebook is executed first; with ``bands`` its
    models are compared with the matching reference band.
    """
    rubric = rubric or load_rubric()
    band_sets = _band_sets(bands) if bands is not None else None
    outcomes = []
    for path in find_notebooks(paths):
        submission = Submission.of_notebook(path, _context_for(path, roster, context))
        try:
            graded = grade_submission(
                submission, run_options, rubric=rubric, bands=band_sets, progress=progress
            )
        except NotANotebookError as exc:
            outcomes.append(CheckOutcome(path, error=exc))
            continue
        if graded.report is None:
            error = GraderError(graded.reason or graded.status)
            outcomes.append(CheckOutcome(path, error=error))
        else:
            outcomes.append(CheckOutcome(path, report=graded.report))
    return outcomes
