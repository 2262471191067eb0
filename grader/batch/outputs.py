"""The class outputs of a batch folder, rebuilt from what is stored: nothing is graded again.

:func:`finish_class` is what :func:`grader.batch.scheduler.run_batch` calls
at the end of every run; :func:`rebuild_class` does the same for a folder
later (after ``grader override set``, ``grader similarity OUT``), and
:func:`open_class` reads a folder for the LMS exports. Each reads the stored
per-submission results (``submissions/<id>/result.json`` and
``evidence.json``, the harness's own grades, never changed here), applies the
instructor's decisions in ``overrides.yaml`` (:mod:`grader.grade.overrides`)
and writes the gradebook, JUnit XML, JSON Lines and the dashboard (with the
similarity section when ``similarity.json`` is there).

A submission whose decisions changed since its report was drawn (a decision
set or removed, or its notebook handed in again) gets its ``report.html`` and
``results.json`` drawn again; ``submissions/<id>/overrides.json`` records the
decisions its report shows. ``batch.json`` records what the last batch run
used (rubric, bands, mode), so a folder can be rebuilt without its command
line.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError

from grader.batch.journal import Journal
from grader.batch.options import BatchOptions, batch_lock
from grader.errors import UsageError
from grader.files import atomic_write_text
from grader.grade.overrides import (
    OverrideFile,
    apply_overrides,
    check_overrides,
    parse_overrides,
)
from grader.grade.result import AppliedOverride, CheckReport, Status
from grader.i18n import _, current_language
from grader.intake.submission import ClassIntake, Submission
from grader.report.exports import gradescope_results, write_exports
from grader.report.results import ClassResults, JobResult, build_rows

if TYPE_CHECKING:
    from grader.grade.rubric import Rubric

__all__ = [
    "APPLIED",
    "OVERRIDES",
    "RECORD",
    "BatchRecord",
    "ClassState",
    "finish_class",
    "load_result",
    "check_class_overrides",
    "class_outputs",
    "class_results",
    "open_class",
    "read_class",
    "read_overrides",
    "rebuild_class",
    "record_batch",
    "recorded_language",
    "unapplied_overrides",
    "write_overrides",
]

RECORD = "batch.json"
OVERRIDES = "overrides.yaml"
APPLIED = "overrides.json"


class BatchRecord(BaseModel):
    """What the last ``grader batch`` into a folder used (``batch.json``)."""

    model_config = ConfigDict(extra="ignore")

    source: str
    roster: str | None = None
    rubric: str | None = None
    bands: str | None = None
    mode: str = "static"
    language: str | None = None


def recorded_language(out: Path) -> str | None:
    """The language the class in ``out`` was graded in (None: not recorded)."""
    record = _read_record(out)
    return record.language if record is not None else None


def record_batch(out: Path, options: BatchOptions) -> None:
    record = BatchRecord(
        source=str(options.source.resolve()),
        roster=str(options.roster.resolve()) if options.roster else None,
        rubric=str(options.rubric.resolve()) if options.rubric else None,
        bands=str(options.bands.resolve()) if options.bands else None,
        mode=options.mode,
        language=options.language,
    )
    atomic_write_text(out / RECORD, record.model_dump_json(indent=1), durable=False)


def _read_record(out: Path) -> BatchRecord | None:
    try:
        return BatchRecord.model_validate_json((out / RECORD).read_bytes())
    except (OSError, ValidationError):
        return None


def read_overrides(out: Path) -> OverrideFile:
    """``overrides.yaml`` of a batch folder (none yet: no decisions)."""
    path = out / OVERRIDES
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return OverrideFile()
    except (OSError, UnicodeDecodeError) as exc:
        from grader.errors import OverrideError

        raise OverrideError(f"{path}: cannot be read ({exc})") from None
    return parse_overrides(text, str(path))


def write_overrides(out: Path, overrides: OverrideFile) -> Path:
    """Replace ``overrides.yaml`` atomically (a crash leaves the old or the new file)."""
    from grader.grade.overrides import dump_overrides

    path = out / OVERRIDES
    atomic_write_text(path, dump_overrides(overrides))
    return path


def check_class_overrides(
    out: Path, overrides: OverrideFile, intake: ClassIntake, rubric: Rubric
) -> None:
    """Refuse decisions this class and rubric cannot apply (what is wrong, with suggestions)."""
    check_overrides(
        overrides,
        students={s.id: s.name for s in intake.submissions},
        rubric=rubric,
        where=str(out / OVERRIDES),
        notebooks={
            s.notebook.sha256: s.id for s in intake.submissions if s.notebook and s.notebook.sha256
        },
    )


def load_result(folder: Path) -> tuple[JobResult | None, CheckReport | None]:
    """The stored result of one submission and, when it was graded, its report."""
    try:
        result = JobResult.model_validate_json((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    report = None
    if result.state == "done":
        try:
            report = CheckReport.model_validate_json(
                (folder / "evidence.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return None, None
    return result, report


# ------------------------------------------------------------------ one submission


def unapplied_overrides(
    sub: Submission, result: JobResult, overrides: OverrideFile
) -> list[AppliedOverride]:
    """Decisions about a submission that has no grade now: kept, shown, not applied."""
    return [
        AppliedOverride(
            criterion=o.criterion,
            title=o.criterion,
            status=Status(o.status),
            points=o.points,
            reason=o.reason,
            by=o.by,
            at=o.at,
            evidence_changed=bool(o.sha256)
            and sub.notebook is not None
            and o.sha256 != sub.notebook.sha256,
            note=_("not applied: this submission has no grade now ({why})").format(
                why=result.reason or result.status
            ),
            applied=False,
        )
        for o in overrides.of(sub.id)
    ]


def _refresh(
    out: Path,
    sub: Submission,
    result: JobResult,
    report: CheckReport | None,
    *,
    rubric_path: str | None,
    bands: str | None,
    title: str,
) -> None:
    """Draw a submission's page and results.json again if its decisions changed."""
    from grader.batch.jobs import Job, max_points, write_report

    folder = out / "submissions" / sub.id
    applied = report.grade.overrides if report is not None else []
    want = json.dumps([a.model_dump(mode="json") for a in applied], indent=1) if applied else None
    path = folder / APPLIED
    try:
        have: str | None = path.read_text(encoding="utf-8")
    except OSError:
        have = None
    if want == have:
        return
    job = Job(
        submission=sub,
        folder=str(folder),
        out=str(out),
        rubric=rubric_path,
        bands=bands,
        title=title,
        language=current_language(),
    )
    write_report(job, report, result)
    points_max = report.grade.max_points if report is not None else max_points(job)
    atomic_write_text(
        folder / "results.json",
        json.dumps(
            gradescope_results(report, result, max_points=points_max), indent=1, ensure_ascii=False
        ),
        durable=False,
    )
    if want is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    else:
        atomic_write_text(path, want, durable=False)


# ------------------------------------------------------------------ the class


def _class_profile(rows_modes: list[str], default: str) -> str:
    """``static``, a profile, or ``mixed (full 20, static 1)`` after a partial regrade."""
    counts = Counter(rows_modes)
    if len(counts) <= 1:
        return next(iter(counts), default)
    return "mixed (" + ", ".join(f"{m} {n}" for m, n in counts.most_common()) + ")"


def class_results(
    out: Path,
    intake: ClassIntake,
    journal: Journal,
    rubric: Rubric,
    overrides: OverrideFile,
    *,
    mode: str,
    refresh: dict[str, str | None] | None = None,
) -> ClassResults:
    """Every stored, finished result with the decisions applied, one row per student.

    With ``refresh`` (the rubric path and the bands), a submission whose
    decisions changed since its page was drawn gets it drawn again.
    """
    results: dict[str, JobResult] = {}
    reports: dict[str, CheckReport] = {}
    hrefs: dict[str, str] = {}
    unapplied: dict[str, list[AppliedOverride]] = {}
    for sub in intake.submissions:
        entry = journal.get(sub.id)
        if entry is None or not entry.finished:
            continue  # not graded yet (the batch was stopped): shown as pending
        folder = out / "submissions" / sub.id
        result, report = load_result(folder)
        if result is None:
            continue
        results[sub.id] = result
        if report is not None:
            report = apply_overrides(
                report, overrides.of(sub.id), rubric=rubric, context=sub.context
            )
            reports[sub.id] = report
        elif overrides.of(sub.id):
            unapplied[sub.id] = unapplied_overrides(sub, result, overrides)
        if refresh is not None:
            _refresh(
                out,
                sub,
                result,
                report,
                rubric_path=refresh.get("rubric"),
                bands=refresh.get("bands"),
                title=rubric.display_title(),
            )
        if (folder / "report.html").exists():
            hrefs[sub.id] = f"submissions/{sub.id}/report.html"
    rows = build_rows(intake, results, reports, report_href=hrefs, unapplied=unapplied)
    modes = [r.result.run.profile if r.result.run else "static" for r in rows if r.result]
    return ClassResults(
        title=rubric.display_title(),
        rubric=rubric.id,
        max_points=rubric.max_points,
        intake=intake,
        rows=rows,
        profile=_class_profile(modes, mode),
    )


def finish_class(
    out: Path,
    intake: ClassIntake,
    journal: Journal,
    rubric: Rubric,
    *,
    rubric_path: str | None,
    bands: Path | None,
    mode: str,
    generated: str | None = None,
) -> tuple[ClassResults, dict[str, Path]]:
    """Rebuild the class-level outputs from every stored, finished result."""
    overrides = read_overrides(out)
    check_class_overrides(out, overrides, intake, rubric)
    results = class_results(
        out,
        intake,
        journal,
        rubric,
        overrides,
        mode=mode,
        refresh={"rubric": rubric_path, "bands": str(bands) if bands else None},
    )
    files = write_exports(results, out)
    files["dashboard"] = _write_dashboard(out, results, bands, generated)
    return results, files


def _write_dashboard(
    out: Path, results: ClassResults, bands: Path | None, generated: str | None
) -> Path:
    from grader.check.bands import load_bands
    from grader.report.html import render_dashboard
    from grader.report.similarity import read_similarity

    similarity, problem = None, None
    try:
        similarity = read_similarity(out)
    except (OSError, ValueError) as exc:
        problem = _(
            "similarity.json could not be read ({error}); run `grader similarity` on this "
            "folder again"
        ).format(error=type(exc).__name__)
    stamp = generated or datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    html = render_dashboard(
        results,
        bands=load_bands(bands),
        generated=stamp,
        similarity=similarity,
        similarity_problem=problem,
        similarity_page="similarity.html" if (out / "similarity.html").exists() else None,
    )
    path = out / "index.html"
    atomic_write_text(path, html, durable=False)
    return path


# ------------------------------------------------------------------ a folder, later


@dataclass
class ClassState:
    """A batch output folder as stored: the class, the rubric, the decisions."""

    out: Path
    intake: ClassIntake
    journal: Journal
    rubric: Rubric
    rubric_path: str | None
    bands: Path | None
    mode: str
    overrides: OverrideFile


def open_class(out: Path, *, check: bool = True) -> ClassState:
    """Read a batch output folder; a folder ``grader batch`` did not write is a UsageError.

    ``check=False`` reads an ``overrides.yaml`` that names students or criteria
    this class does not have (so that such an entry can be removed).
    """
    from grader.grade.rubric import load_rubric

    out = out.resolve()
    try:
        intake = ClassIntake.model_validate_json((out / "intake.json").read_bytes())
    except FileNotFoundError:
        raise UsageError(
            f"{out}: not an output folder of `grader batch` (no intake.json); "
            "grade the class first: grader batch SOURCE --out " + str(out)
        ) from None
    except (OSError, ValidationError) as exc:
        raise UsageError(
            f"{out / 'intake.json'}: unreadable ({type(exc).__name__}); run the batch again"
        ) from None
    record = _read_record(out)
    rubric_path = record.rubric if record else None
    bands = Path(record.bands) if record and record.bands else None
    if bands is not None and not bands.exists():
        bands = None
    rubric = load_rubric(Path(rubric_path) if rubric_path else None)
    overrides = read_overrides(out)
    if check:
        check_class_overrides(out, overrides, intake, rubric)
    return ClassState(
        out=out,
        intake=intake,
        journal=Journal(out / "journal"),
        rubric=rubric,
        rubric_path=rubric_path,
        bands=bands,
        mode=record.mode if record else "static",
        overrides=overrides,
    )


def read_class(out: Path) -> tuple[ClassState, ClassResults]:
    """A batch folder's students with the decisions applied; reads only, writes nothing."""
    state = open_class(out)
    results = class_results(
        state.out, state.intake, state.journal, state.rubric, state.overrides, mode=state.mode
    )
    return state, results


def class_outputs(
    state: ClassState, *, generated: str | None = None
) -> tuple[ClassResults, dict[str, Path]]:
    """Rebuild a folder's class outputs (the caller holds the batch lock)."""
    return finish_class(
        state.out,
        state.intake,
        state.journal,
        state.rubric,
        rubric_path=state.rubric_path,
        bands=state.bands,
        mode=state.mode,
        generated=generated,
    )


def rebuild_class(
    out: Path, *, generated: str | None = None
) -> tuple[ClassState, ClassResults, dict[str, Path]]:
    """Open a batch folder and rebuild its reports, gradebook and dashboard; grade nothing."""
    if not (out / "intake.json").is_file():
        open_class(out)  # says what is wrong, before the lock creates anything
    with batch_lock(out.resolve()):
        state = open_class(out)
        results, files = class_outputs(state, generated=generated)
    return state, results, files
