"""Moodle: the offline grading worksheet, and the feedback-files zip.

**The grading worksheet** is the CSV an instructor downloads from a Moodle
assignment (*Grading action → Download grading worksheet*, with "Offline
grading worksheet" enabled in the assignment's feedback types) and uploads
back (*Upload grading worksheet*). Moodle writes it from
``mod/assign/gradingtable.php`` with these columns in its English UI::

    Identifier, Full name, [identity fields: Email address, ID number, ...],
    Status, [Group, Marker], Grade, Maximum Grade, [Marking workflow state],
    Grade can be changed, Last modified (submission), [Online text, ...],
    Last modified (grade), Feedback comments, [Outcomes]

Identifiers read ``Participant 12345``: the same participant number as the
``Full Name_12345_assignsubmission_file`` folders of "Download all
submissions", which is how each row is matched to a graded notebook here;
names are never compared to match, so diacritics, name changes and two
students of the same name cannot mismatch. Moodle's importer
(``mod/assign/feedback/offline/importgradeslib.php``) finds the
"Identifier", "Grade" and "Last modified (grade)" columns and each feedback
column by their header in the uploading user's language, strips the
"Participant " prefix by its length, ignores every other column, skips an
empty grade, and skips a row whose grade was changed in Moodle after the
worksheet was downloaded (unless told to ignore that). So the worksheet is
filled in place: only the Grade and Feedback comments cells change, every
other cell and the header stay as downloaded, in the same encoding and
separator.

A worksheet downloaded from a Czech Moodle has Czech headers. The identifier
column is then recognised by its values (a word and a number), "Známka" as
the grade; name the other columns with ``--column feedback='…'`` and
``--column modified='…'`` as they read in the file, or switch Moodle to
English (profile → Preferred language) before downloading and uploading.

**The feedback-files zip** (*Upload multiple feedback files in a zip*,
``mod/assign/feedback/file/importziplib.php``) holds one folder per student
named ``Full Name_12345_assignfeedback_file``: Moodle splits the folder name
at underscores and reads the participant number from the second part and the
plugin from the third and fourth, so underscores in the name become spaces,
as Moodle's own download does. Each folder holds the student's
``report.html``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from grader.errors import LmsError
from grader.i18n import _, ngettext
from grader.intake.names import fold
from grader.report.lms.feedback import feedback_for, format_grade, held_because
from grader.report.results import ClassResults, StudentRow

__all__ = [
    "HEADERS",
    "ROLES",
    "FeedbackZip",
    "Filled",
    "Worksheet",
    "feedback_folder",
    "feedback_zip",
    "fill_worksheet",
    "read_worksheet",
]

#: the headers Moodle gives each column the grader uses, in the languages it knows
HEADERS: dict[str, tuple[str, ...]] = {
    "identifier": ("Identifier",),  # get_string('recordid', 'assign')
    "fullname": ("Full name",),  # get_string('fullname')
    "grade": ("Grade", "Známka"),  # get_string('grade')
    "maxgrade": ("Maximum Grade", "Maximum grade"),  # get_string('maxgrade', 'assign')
    "modified": ("Last modified (grade)",),  # get_string('lastmodifiedgrade', 'assign')
    "feedback": ("Feedback comments",),  # get_string('pluginname', 'assignfeedback_comments')
}
ROLES = tuple(HEADERS)
_PARTICIPANT = re.compile(r"^\s*\D*?(\d+)\s*$")


@dataclass
class Worksheet:
    """A grading worksheet as downloaded: every cell kept, the columns the grader uses found."""

    header: list[str]
    rows: list[list[str]]
    columns: dict[str, int]
    participants: list[str | None]  # per row: the participant number (None: a blank row)
    delimiter: str = ","
    bom: bool = False
    newline: str = "\n"
    notes: list[str] = field(default_factory=list)

    def cell(self, row: int, role: str) -> str:
        col = self.columns.get(role)
        if col is None or col >= len(self.rows[row]):
            return ""
        return self.rows[row][col]


def _decode(data: bytes, where: str) -> tuple[str, bool]:
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8-sig"), bom
    except UnicodeDecodeError:
        raise LmsError(
            _(
                "{where}: not UTF-8 text. Moodle writes worksheets in UTF-8; one saved again by "
                "a spreadsheet program may not be. Download the worksheet from Moodle again and "
                "give it as it is (or save it as 'CSV UTF-8')."
            ).format(where=where)
        ) from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _find(header: list[str], role: str, named: Mapping[str, str], where: str) -> int | None:
    folded = [fold(h) for h in header]
    if role in named:
        want = named[role]
        if fold(want) in folded:
            return folded.index(fold(want))
        raise LmsError(
            _(
                "{where}: --column {role}={want}: no such column; the worksheet has: {header}"
            ).format(
                where=where, role=role, want=repr(want), header=", ".join(repr(h) for h in header)
            )
        )
    for name in HEADERS[role]:
        if fold(name) in folded:
            return folded.index(fold(name))
    return None


def _identifier_by_values(rows: list[list[str]], width: int) -> int | None:
    """The column whose every value is a word and a number ("Účastník 12345")."""
    for col in range(width):
        values = [r[col] for r in rows if col < len(r) and r[col].strip()]
        if values and all(_PARTICIPANT.match(v) and not v.strip().isdigit() for v in values):
            return col
    return None


def read_worksheet(
    data: bytes, *, columns: Mapping[str, str] | None = None, where: str = "worksheet"
) -> Worksheet:
    """Read a downloaded grading worksheet; a file Moodle would refuse is an :class:`LmsError`.

    ``columns`` names columns whose header is not one the grader knows
    (``{"feedback": "Komentáře"}``), by role: one of :data:`ROLES`.
    """
    named = dict(columns or {})
    unknown = [r for r in named if r not in ROLES]
    if unknown:
        raise LmsError(
            _("--column {role}=...: unknown role; use one of {roles}").format(
                role=unknown[0], roles=", ".join(ROLES)
            )
        )
    text, bom = _decode(data, where)
    if not text.strip():
        raise LmsError(
            _("{where}: the file is empty; download the grading worksheet again").format(
                where=where
            )
        )
    newline = "\r\n" if "\r\n" in text else "\n"
    delimiter = _delimiter(text.splitlines()[0])
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header, rows = table[0], table[1:]
    found = {role: _find(header, role, named, where) for role in ROLES}
    if found["identifier"] is None:
        found["identifier"] = _identifier_by_values(rows, len(header))
    missing = [r for r in ("identifier", "grade", "modified") if found[r] is None]
    if missing:
        raise LmsError(_missing_message(where, header, missing))
    cols = {role: col for role, col in found.items() if col is not None}
    participants: list[str | None] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=2):
        value = row[cols["identifier"]] if cols["identifier"] < len(row) else ""
        if not any(c.strip() for c in row):
            participants.append(None)
            continue
        m = _PARTICIPANT.match(value)
        if m is None:
            raise LmsError(
                _(
                    "{where}, line {line}: the identifier is {value}, not 'Participant 12345'; "
                    "is this Moodle's grading worksheet?"
                ).format(where=where, line=i, value=repr(value))
            )
        if m.group(1) in seen:
            raise LmsError(
                _("{where}, lines {first} and {second}: participant {participant} twice").format(
                    where=where, first=seen[m.group(1)], second=i, participant=m.group(1)
                )
            )
        seen[m.group(1)] = i
        participants.append(m.group(1))
    ws = Worksheet(header, rows, cols, participants, delimiter, bom, newline)
    if "feedback" not in cols:
        ws.notes.append(
            _(
                "the worksheet has no 'Feedback comments' column, so only grades are filled in: "
                "enable 'Feedback comments' in the assignment's feedback types and download the "
                "worksheet again to send the feedback too (or name the column with --column "
                "feedback=HEADER)"
            )
        )
    return ws


def _missing_message(where: str, header: list[str], missing: list[str]) -> str:
    english = {r: HEADERS[r][0] for r in missing}
    return _(
        "{where}: no column {missing}; the worksheet has: {header}. Moodle's importer needs the "
        "'Identifier', 'Grade' and 'Last modified (grade)' columns. A worksheet from a Moodle "
        "in another language: name them, e.g. --column grade='Známka' --column "
        "modified='<the header of the last-modified-grade column>', or download it with "
        "Moodle set to English."
    ).format(
        where=where,
        missing=", ".join(repr(english[r]) for r in missing),
        header=", ".join(repr(h) for h in header),
    )


# ------------------------------------------------------------------ filling it in


@dataclass
class Filled:
    """What filling a worksheet did, for the instructor to read before uploading it."""

    text: bytes
    written: list[str] = field(default_factory=list)  # names whose grade was filled in
    held: list[tuple[str, str]] = field(default_factory=list)  # (name, why not yet)
    not_graded: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    no_submission: int = 0  # worksheet rows nobody here handed in for
    not_in_sheet: list[tuple[str, str]] = field(default_factory=list)  # (name, participant)
    no_participant: list[str] = field(default_factory=list)  # graded, but not from Moodle
    names_differ: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _scale(ws: Worksheet, max_points: int, rescale: bool, where: str) -> tuple[float, bool]:
    """Moodle grade per point, and whether the worksheet writes decimal commas."""
    values = [ws.cell(i, "maxgrade").strip() for i in range(len(ws.rows))]
    values = [v for v in values if v]
    comma = any("," in v and "." not in v for v in values)
    if not values:
        return 1.0, comma
    try:
        moodle_max = float(values[0].replace(",", "."))
    except ValueError:
        return 1.0, comma
    if math_close(moodle_max, max_points):
        return 1.0, comma
    if not rescale:
        raise LmsError(
            ngettext(
                "{where}: Moodle's maximum grade for this assignment is {moodle}, the rubric's "
                "is {points} point. Set the assignment's maximum grade to {points} in Moodle and "
                "download the worksheet again, or pass --rescale to write points × {scale}",
                "{where}: Moodle's maximum grade for this assignment is {moodle}, the rubric's "
                "is {points} points. Set the assignment's maximum grade to {points} in Moodle "
                "and download the worksheet again, or pass --rescale to write points × {scale}",
                max_points,
            ).format(
                where=where,
                moodle=values[0],
                points=max_points,
                scale=f"{moodle_max:g}/{max_points}",
            )
        )
    return (moodle_max / max_points if max_points else 1.0), comma


def math_close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def fill_worksheet(
    ws: Worksheet,
    results: ClassResults,
    *,
    report_link: Callable[[StudentRow], str | None],
    rescale: bool = False,
    include_held: bool = False,
    partial: bool = False,
    where: str = "worksheet",
) -> Filled:
    """The worksheet with each graded student's grade and feedback, matched by participant.

    Refuses (with what is wrong, before anything is written) a class that did
    not come from a Moodle export, and graded students the worksheet lacks
    (unless ``partial``: a worksheet of one group).
    """
    rows = [r for r in results.rows if r.submission is not None]
    by_participant = {r.submission.lms_id: r for r in rows if r.submission and r.submission.lms_id}
    filled = Filled(text=b"", notes=list(ws.notes))
    filled.no_participant = [r.name for r in rows if not (r.submission and r.submission.lms_id)]
    if not by_participant:
        raise LmsError(
            _(
                "no student of this class has a Moodle participant number: the class was not "
                "read from Moodle's 'Download all submissions' zip (folders 'Full Name_12345_"
                "assignsubmission_file'), so the worksheet's rows cannot be matched to anyone. "
                "Grade the class from that zip: grader batch moodle-export.zip --out OUT"
            )
        )
    in_sheet = {p for p in ws.participants if p}
    if not in_sheet & set(by_participant):
        raise LmsError(
            _(
                "{where}: none of its {n} participants was graded here (participants here: "
                "{here}...): is it the worksheet of this assignment?"
            ).format(where=where, n=len(in_sheet), here=", ".join(sorted(by_participant)[:5]))
        )
    filled.not_in_sheet = [
        (r.name, pid) for pid, r in sorted(by_participant.items()) if pid not in in_sheet
    ]
    if filled.not_in_sheet and not partial:
        listed = ", ".join(
            _("{name} (participant {participant})").format(name=n, participant=p)
            for n, p in filled.not_in_sheet
        )
        raise LmsError(
            ngettext(
                "{where}: {n} student graded here is not in the worksheet: {listed}. Download "
                "the worksheet of this assignment again (with groups, Moodle downloads the "
                "selected group only: pass --partial to fill in the students it has)",
                "{where}: {n} students graded here are not in the worksheet: {listed}. Download "
                "the worksheet of this assignment again (with groups, Moodle downloads the "
                "selected group only: pass --partial to fill in the students it has)",
                len(filled.not_in_sheet),
            ).format(where=where, n=len(filled.not_in_sheet), listed=listed)
        )
    per_point, comma = _scale(ws, results.max_points, rescale, where)
    out_rows = [list(r) for r in ws.rows]
    for i, pid in enumerate(ws.participants):
        row = by_participant.get(pid) if pid else None
        if row is None:
            filled.no_submission += 1 if pid else 0
            continue
        if row.state in ("missing", "pending"):
            continue
        _check_name(ws, i, row, filled)
        _fill_row(
            ws, out_rows[i], row, results, filled, per_point, comma, include_held, report_link
        )
    filled.text = _write(ws, out_rows)
    return filled


def _check_name(ws: Worksheet, i: int, row: StudentRow, filled: Filled) -> None:
    sheet = ws.cell(i, "fullname")
    if sheet and sorted(fold(sheet).split()) != sorted(fold(row.name).split()):
        filled.names_differ.append((ws.participants[i] or "", sheet, row.name))


def _fill_row(
    ws: Worksheet,
    cells: list[str],
    row: StudentRow,
    results: ClassResults,
    filled: Filled,
    per_point: float,
    comma: bool,
    include_held: bool,
    report_link: Callable[[StudentRow], str | None],
) -> None:
    while len(cells) < len(ws.header):
        cells.append("")
    held = held_because(row)
    if row.report is None:
        filled.not_graded.append((row.name, row.reason or row.status))
    elif held and not include_held:
        filled.held.append((row.name, held))
    else:
        cells[ws.columns["grade"]] = format_grade(
            row.report.grade.points * per_point, decimal_comma=comma
        )
        filled.written.append(row.name)
    if "feedback" in ws.columns:
        text = feedback_for(
            row,
            rubric_title=results.title,
            held=held if not include_held else None,
            report_link=report_link(row),
        )
        cells[ws.columns["feedback"]] = text.html()


def _write(ws: Worksheet, rows: list[list[str]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=ws.delimiter, lineterminator=ws.newline)
    writer.writerow(ws.header)
    writer.writerows(rows)
    text = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + text) if ws.bom else text


# ------------------------------------------------------------------ feedback files


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def feedback_folder(name: str, participant: str) -> str:
    """``Full Name_12345_assignfeedback_file``: the folder Moodle's zip importer reads."""
    clean = _UNSAFE.sub("", name.replace("_", " ")).strip() or "Participant"
    return f"{clean}_{participant}_assignfeedback_file"


@dataclass
class FeedbackZip:
    data: bytes
    included: list[str] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)
    no_participant: list[str] = field(default_factory=list)


def feedback_zip(
    results: ClassResults,
    *,
    render: Callable[[StudentRow], str],
    include_held: bool = False,
    filename: str = "report.html",
    when: datetime | None = None,
) -> FeedbackZip:
    """One folder per student with ``render(row)`` as ``report.html``; held grades wait."""
    buf = io.BytesIO()
    made = FeedbackZip(data=b"")
    stamp = (when or datetime(2000, 1, 1)).timetuple()[:6]
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for row in results.rows:
            sub = row.submission
            if sub is None or row.state in ("missing", "pending"):
                continue
            if not sub.lms_id:
                made.no_participant.append(row.name)
                continue
            held = held_because(row)
            if held and not include_held:
                made.held.append((row.name, held))
                continue
            info = zipfile.ZipInfo(f"{feedback_folder(sub.name, sub.lms_id)}/{filename}", stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, render(row).encode("utf-8"))
            made.included.append(row.name)
    made.data = buf.getvalue()
    return made
