"""The ``grader lms`` commands: grades and feedback back into Moodle or Canvas.

Maps options to :mod:`grader.report.lms` over a batch folder read by
:func:`grader.batch.outputs.read_class` (the stored grades with the
instructor's decisions applied; nothing is graded) and prints what was
filled in, what waits for review, and what to do in the LMS.

Exit codes: 0 the file was written; 2 bad input (no such folder, a worksheet
or gradebook that is not one, students that cannot be matched), and nothing
was written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from grader.cli.common import BatchFolderArgument, LangOption, errors_to_exit, speaking
from grader.errors import UsageError
from grader.i18n import _, ngettext

if TYPE_CHECKING:
    from grader.report.lms.moodle import Filled, Worksheet
    from grader.report.results import StudentRow

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``lms moodle export|feedback-zip`` and ``lms canvas export`` to the application."""
    lms = typer.Typer(
        help="Grades and feedback back into the LMS: Moodle's grading worksheet and "
        "feedback-files zip, a Canvas gradebook import.",
        no_args_is_help=True,
    )
    moodle = typer.Typer(
        help="Moodle assignment: fill the offline grading worksheet, make the feedback-files zip.",
        no_args_is_help=True,
    )
    canvas = typer.Typer(help="Canvas: a gradebook import file.", no_args_is_help=True)
    moodle.command("export")(moodle_export)
    moodle.command("feedback-zip")(moodle_feedback_zip)
    canvas.command("export")(canvas_export)
    lms.add_typer(moodle, name="moodle")
    lms.add_typer(canvas, name="canvas")
    app.add_typer(lms, name="lms")


_Target = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", metavar="FILE", help="Where to write it (default: under OUT/lms/)."
    ),
]
_Rescale = Annotated[
    bool,
    typer.Option(
        "--rescale",
        help="The LMS's maximum grade differs from the rubric's points: write points × "
        "(LMS maximum / rubric maximum) instead of refusing.",
    ),
]
_IncludeHeld = Annotated[
    bool,
    typer.Option(
        "--include-held",
        help="Also send the grades that wait for the instructor (needs review, points that "
        "do not count yet); by default they are left out and the student's feedback says so.",
    ),
]


def _read(path: Path) -> bytes:
    """An input file's bytes, or an error that names it and what went wrong."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(
            _("{path}: cannot read it ({problem})").format(path=path, problem=exc.strerror or exc)
        ) from None


def _write(path: Path, data: bytes) -> None:
    from grader.files import atomic_write_bytes

    try:
        atomic_write_bytes(path, data, durable=False)
    except OSError as exc:
        raise UsageError(
            _("cannot write {path}: {problem}").format(path=path, problem=exc.strerror or exc)
        ) from None


def _listing(con: Console, title: str, items: Iterable[tuple[str, str]], style: str) -> None:
    items = list(items)
    if not items:
        return
    con.print(f"[{style}]{title} ({len(items)}):[/]")
    for name, why in items:
        con.print(f"  {escape(name)}: {escape(why)}", soft_wrap=True)


@speaking(folder="out")
def moodle_export(
    out: BatchFolderArgument,
    worksheet: Annotated[
        Path,
        typer.Option(
            help="The grading worksheet downloaded from the Moodle assignment (Grading action "
            "→ Download grading worksheet). It is read, not changed.",
            show_default=False,
        ),
    ],
    target: _Target = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ROLE=HEADER",
            help="Name a column whose header the grader does not know (a Moodle in another "
            "language): roles identifier, fullname, grade, maxgrade, modified, feedback. "
            "E.g. --column feedback='Komentáře'. Repeat for several.",
        ),
    ] = None,
    report_url: Annotated[
        str | None,
        typer.Option(
            metavar="TEMPLATE",
            help="Link each student's feedback to their report, e.g. "
            "https://example.org/hw5/{id}/report.html ({id}: submission id, {participant}: "
            "Moodle participant number). Default: name the report.html of the feedback files.",
        ),
    ] = None,
    rescale: _Rescale = False,
    include_held: _IncludeHeld = False,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial",
            help="The worksheet has only some of the students graded here (one group): fill "
            "in those, list the others.",
        ),
    ] = False,
    lang: LangOption = None,
) -> None:
    """Fill Moodle's grading worksheet: grade and feedback per student, matched by participant.

    Upload the written file in Moodle (Grading action → Upload grading
    worksheet); upload the report files with `grader lms moodle feedback-zip`.
    """
    from grader.batch.outputs import read_class
    from grader.report.lms.moodle import fill_worksheet, read_worksheet

    err, con = Console(stderr=True), Console(soft_wrap=True)
    with errors_to_exit(err):
        named = _columns(column or [])
        report_link = _link(report_url)
        data = _read(worksheet)
        ws = read_worksheet(data, columns=named, where=str(worksheet))
        state, results = read_class(out)
        filled = fill_worksheet(
            ws,
            results,
            report_link=report_link,
            rescale=rescale,
            include_held=include_held,
            partial=partial,
            where=str(worksheet),
        )
        path = target or state.out / "lms" / "moodle-grading-worksheet.csv"
        _write(path, filled.text)
    _print_worksheet(con, ws, filled, path)


def _print_worksheet(con: Console, ws: Worksheet, filled: Filled, path: Path) -> None:
    """What filling the worksheet did, student by student where something needs a look."""
    n_grades = len(filled.written)
    grades = ngettext("{n} grade filled in", "{n} grades filled in", n_grades).format(n=n_grades)
    if "feedback" in ws.columns:
        grades = _("{grades}, feedback for each graded student").format(grades=grades)
    con.print(
        ngettext(
            "{grades}; {n} worksheet row without a submission here left as it was.",
            "{grades}; {n} worksheet rows without a submission here left as they were.",
            filled.no_submission,
        ).format(grades=grades, n=filled.no_submission)
    )
    _listing(con, _("held back, the feedback says the grade follows"), filled.held, "yellow")
    _listing(con, _("not graded (feedback only)"), filled.not_graded, "red")
    _listing(
        con,
        _("not in this worksheet"),
        [(n, _("participant {id}").format(id=p)) for n, p in filled.not_in_sheet],
        "yellow",
    )
    _listing(
        con,
        _("names differ (matched by participant number, as Moodle does)"),
        [
            (
                _("participant {id}").format(id=p),
                _("worksheet {sheet}, graded as {graded}").format(sheet=repr(a), graded=repr(b)),
            )
            for p, a, b in filled.names_differ
        ],
        "dim",
    )
    for name in filled.no_participant:
        con.print(
            _("[yellow]no Moodle participant number, not in the worksheet:[/] {name}").format(
                name=escape(name)
            )
        )
    for note in filled.notes:
        con.print(_("[yellow]note:[/] {note}").format(note=escape(note)), soft_wrap=True)
    sep = {",": _("comma"), ";": _("semicolon"), "\t": _("tab")}[ws.delimiter]
    con.print(_("wrote {path}").format(path=path), soft_wrap=True)
    con.print(
        _(
            "Upload it in Moodle: the assignment → Grading action → Upload grading worksheet "
            "(encoding UTF-8, separator {separator}), as the same user language it was "
            "downloaded in."
        ).format(separator=sep)
    )


def _columns(pairs: list[str]) -> dict[str, str]:
    named = {}
    for pair in pairs:
        role, sep, header = pair.partition("=")
        if not sep or not header.strip():
            raise UsageError(
                _("--column {pair}: expected ROLE=HEADER, e.g. feedback='Komentáře'").format(
                    pair=repr(pair)
                )
            )
        named[role.strip()] = header.strip()
    return named


def _link(template: str | None) -> Callable[[StudentRow], str | None]:
    """Where each student's report is, for the feedback text."""
    if template is not None:
        try:
            template.format(id="x", participant="1", student="s")
        except (KeyError, IndexError, ValueError) as exc:
            raise UsageError(
                _(
                    "--report-url {template}: cannot fill in {problem}; use {{id}}, "
                    "{{participant}} or {{student}}"
                ).format(template=repr(template), problem=exc)
            ) from None

    def link(row: StudentRow) -> str | None:
        sub = row.submission
        if template is None:
            return _("report.html among the feedback files of this assignment")
        if sub is None:
            return None
        return template.format(
            id=sub.id, participant=sub.lms_id or "", student=row.student_id or ""
        )

    return link


@speaking(folder="out")
def moodle_feedback_zip(
    out: BatchFolderArgument,
    target: _Target = None,
    include_held: _IncludeHeld = False,
    lang: LangOption = None,
) -> None:
    """Make the zip for Moodle's "Upload multiple feedback files in a zip": each student's report.

    One folder per student, `Full Name_12345_assignfeedback_file/report.html`,
    matched by the participant number; the report is the student's page
    without the links into the batch folder.
    """
    from grader.batch.outputs import read_class
    from grader.check.bands import load_bands
    from grader.report.html import render_student_report
    from grader.report.lms.moodle import feedback_zip

    err, con = Console(stderr=True), Console(soft_wrap=True)
    with errors_to_exit(err):
        state, results = read_class(out)
        bands = load_bands(state.bands)
        stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")

        def render(row: StudentRow) -> str:
            return render_student_report(
                report=row.report,
                submission=row.submission,
                result=row.result,
                bands=bands,
                links=[],
                rubric_title=results.title,
                generated=stamp,
            )

        made = feedback_zip(results, render=render, include_held=include_held)
        if not made.included:
            raise UsageError(
                _(
                    "no report to send: every graded student waits for review (pass "
                    "--include-held to send anyway)"
                )
                if made.held
                else _(
                    "no report to send: no graded student has a Moodle participant number "
                    "(grade the class from Moodle's 'Download all submissions' zip)"
                )
            )
        path = target or state.out / "lms" / "moodle-feedback-files.zip"
        _write(path, made.data)
    n_reports = len(made.included)
    con.print(
        ngettext("{n} report in the zip.", "{n} reports in the zip.", n_reports).format(n=n_reports)
    )
    _listing(con, _("held back until reviewed"), made.held, "yellow")
    for name in made.no_participant:
        con.print(
            _("[yellow]no Moodle participant number, left out:[/] {name}").format(name=escape(name))
        )
    con.print(_("wrote {path}").format(path=path), soft_wrap=True)
    con.print(
        _(
            "Upload it in Moodle: the assignment → Grading action → Upload multiple feedback "
            "files in a zip (the assignment needs 'Feedback files' enabled)."
        )
    )


@speaking(folder="out")
def canvas_export(
    out: BatchFolderArgument,
    gradebook: Annotated[
        Path,
        typer.Option(
            help="The gradebook exported from Canvas (Grades → Export → CSV). It is read, not "
            "changed.",
            show_default=False,
        ),
    ],
    assignment: Annotated[
        str | None,
        typer.Option(
            metavar="NAME_OR_ID",
            help="The assignment column to fill: its name or Canvas id (needed when the "
            "gradebook has several).",
        ),
    ] = None,
    target: _Target = None,
    rescale: _Rescale = False,
    include_held: _IncludeHeld = False,
    lang: LangOption = None,
) -> None:
    """Write a Canvas gradebook import: one assignment column, the final grades of this class.

    Import it in Canvas: Grades → Import. Canvas has no comment column in
    this file: send the feedback as the students' report files.
    """
    from grader.batch.outputs import read_class
    from grader.report.lms.canvas import fill_gradebook, read_gradebook

    err, con = Console(stderr=True), Console(soft_wrap=True)
    with errors_to_exit(err):
        data = _read(gradebook)
        gb = read_gradebook(data, where=str(gradebook))
        state, results = read_class(out)
        made = fill_gradebook(
            gb,
            results,
            assignment=assignment,
            rescale=rescale,
            include_held=include_held,
            where=str(gradebook),
        )
        path = target or state.out / "lms" / "canvas-gradebook-import.csv"
        _write(path, made.text)
    n_grades = len(made.written)
    con.print(
        ngettext("{n} grade for {column}.", "{n} grades for {column}.", n_grades).format(
            n=n_grades, column=escape(made.column)
        )
    )
    _listing(con, _("held back until reviewed"), made.held, "yellow")
    _listing(con, _("not graded"), made.not_graded, "red")
    for name in made.unmatched:
        con.print(
            _("[yellow]not found in the Canvas gradebook:[/] {name}").format(name=escape(name))
        )
    for name in made.ambiguous:
        con.print(
            _(
                "[yellow]two or more students could be {name}: left out (give SIS ids in the "
                "roster)[/]"
            ).format(name=escape(name))
        )
    con.print(_("wrote {path}").format(path=path), soft_wrap=True)
    con.print(_("Import it in Canvas: Grades → Import, then check the changes it lists."))
