"""Canvas: the gradebook CSV (Grades → Export, then Grades → Import).

Canvas exports its gradebook (``lib/gradebook_exporter.rb``) as::

    Student, ID, [SIS User ID], SIS Login ID, [Integration ID], [Root Account], Section,
    [custom columns], Homework 5 (12345), ..., Current Score, ...
    "    Points Possible", , , , , 3, ...         <- second row (a "Manual Posting" row may
    "Novák, Jan", 4711, xnovak, jnovak, NN2, ...     come before it)

``ID`` is Canvas's own user id, each assignment column is titled
``Name (assignment id)``, and the row that starts with "Points Possible"
gives each assignment's maximum. The import reads the students by ``ID``
and the assignments by the id in brackets, and changes only the cells that
differ. So the export written here keeps Student, ID, SIS User ID, SIS Login
ID and Section of the downloaded gradebook, one assignment column, the Points
Possible row, and one row per student graded here whose grade is final.
Canvas's gradebook import has no column for comments: the feedback goes to
the students as their report files.

Students are matched by the SIS User ID or SIS Login ID against the roster's
student id (or the e-mail address, or its part before the @), and only
failing that by name ("Last, First" in any order, diacritics folded), and
never when two students could be meant.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from grader.errors import LmsError
from grader.i18n import _
from grader.intake.names import fold, tokens
from grader.report.lms.feedback import format_grade, held_because
from grader.report.results import ClassResults, StudentRow
from grader.settings import did_you_mean

__all__ = ["CanvasExport", "Gradebook", "fill_gradebook", "read_gradebook"]

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
_ASSIGNMENT = re.compile(r"^(?P<name>.*\S)\s*\((?P<id>\d+)\)$")
POINTS_POSSIBLE = "    Points Possible"


@dataclass
class Gradebook:
    header: list[str]
    students: list[list[str]]
    points: list[str]  # the Points Possible row
    assignments: dict[int, tuple[str, str]]  # column -> (name, assignment id)
    delimiter: str = ","
    bom: bool = False

    def col(self, name: str) -> int | None:
        return self.header.index(name) if name in self.header else None

    def cell(self, row: list[str], name: str) -> str:
        c = self.col(name)
        return row[c].strip() if c is not None and c < len(row) else ""


def read_gradebook(data: bytes, where: str = "gradebook") -> Gradebook:
    """Read a Canvas gradebook export; a file that is not one is an :class:`LmsError`."""
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LmsError(
            _(
                "{where}: not UTF-8 text; export the gradebook from Canvas again and give the "
                "file as it is"
            ).format(where=where)
        ) from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not table:
        raise LmsError(
            _("{where}: the file is empty; export the gradebook from Canvas again").format(
                where=where
            )
        )
    header = [h.strip() for h in table[0]]
    missing = [c for c in ("Student", "ID", "Section") if c not in header]
    if missing:
        raise LmsError(
            _(
                "{where}: no column {missing}; a Canvas gradebook export starts with Student, "
                "ID, SIS User ID, SIS Login ID, Section (this one has: {header})"
            ).format(
                where=where,
                missing=", ".join(repr(c) for c in missing),
                header=", ".join(repr(h) for h in header[:8]),
            )
        )
    points: list[str] | None = None
    students: list[list[str]] = []
    for row in table[1:]:
        first_cell = row[0].strip() if row else ""
        if first_cell == "Points Possible":
            points = row
        elif not first_cell and not any(c.strip() for c in row[1:]):
            continue
        elif points is None:
            continue  # a "Manual Posting" row before the points
        else:
            students.append(row)
    if points is None:
        raise LmsError(
            _(
                "{where}: no 'Points Possible' row (the second row of a Canvas export); export "
                "the gradebook from Canvas again"
            ).format(where=where)
        )
    assignments = {
        i: (m.group("name"), m.group("id"))
        for i, h in enumerate(header)
        if (m := _ASSIGNMENT.match(h))
    }
    return Gradebook(header, students, points, assignments, delimiter, bom)


def _column(gb: Gradebook, assignment: str | None, where: str) -> int:
    listed = [f"{n} ({a})" for n, a in gb.assignments.values()]
    if not gb.assignments:
        raise LmsError(
            _(
                "{where}: no assignment column ('Name (12345)'); create the assignment in "
                "Canvas, then export the gradebook again"
            ).format(where=where)
        )
    if assignment is None:
        if len(gb.assignments) == 1:
            return next(iter(gb.assignments))
        raise LmsError(
            _("{where}: {n} assignments; say which with --assignment NAME or ID: {listed}").format(
                where=where, n=len(gb.assignments), listed=", ".join(listed)
            )
        )
    q = assignment.strip()
    hits = [c for c, (n, a) in gb.assignments.items() if q in (a, f"{n} ({a})")]
    hits = hits or [c for c, (n, _id) in gb.assignments.items() if fold(n) == fold(q)]
    if len(hits) == 1:
        return hits[0]
    names = [n for n, _id in gb.assignments.values()]
    message = (
        _("{where}: several assignments are called {name}{hint}; the gradebook has: {listed}")
        if hits
        else _("{where}: no assignment is called {name}{hint}; the gradebook has: {listed}")
    )
    raise LmsError(
        message.format(
            where=where,
            name=repr(assignment),
            hint=did_you_mean(q, names),
            listed=", ".join(listed),
        )
    )


@dataclass
class CanvasExport:
    text: bytes
    column: str
    written: list[str] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # graded here, not found in Canvas
    ambiguous: list[str] = field(default_factory=list)


def _keys(row: StudentRow) -> set[str]:
    keys = {fold(row.student_id or "")}
    if row.email:
        keys |= {fold(row.email), fold(row.email.split("@")[0])}
    return {k for k in keys if k}


def _match(gb: Gradebook, rows: list[StudentRow]) -> tuple[dict[str, StudentRow], list[str]]:
    """Canvas user id -> graded row: by SIS ids first, then by a name only one row has."""
    matched: dict[str, StudentRow] = {}
    ambiguous: list[str] = []
    taken: set[str] = set()
    for canvas in gb.students:
        ids = {fold(gb.cell(canvas, "SIS User ID")), fold(gb.cell(canvas, "SIS Login ID"))} - {""}
        hits = [r for r in rows if ids & _keys(r)]
        if len(hits) == 1:
            matched[gb.cell(canvas, "ID")] = hits[0]
            taken.add(hits[0].key)
    for canvas in gb.students:
        cid = gb.cell(canvas, "ID")
        if cid in matched:
            continue
        name = tokens(gb.cell(canvas, "Student"))
        hits = [r for r in rows if r.key not in taken and tokens(r.name) == name]
        same = [c for c in gb.students if tokens(gb.cell(c, "Student")) == name]
        if len(hits) == 1 and len(same) == 1:
            matched[cid] = hits[0]
            taken.add(hits[0].key)
        elif hits:
            ambiguous.append(gb.cell(canvas, "Student"))
    return matched, ambiguous


def fill_gradebook(
    gb: Gradebook,
    results: ClassResults,
    *,
    assignment: str | None = None,
    rescale: bool = False,
    include_held: bool = False,
    where: str = "gradebook",
) -> CanvasExport:
    """A gradebook import with one assignment column: the final grades of this class."""
    col = _column(gb, assignment, where)
    possible = gb.points[col].strip() if col < len(gb.points) else ""
    per_point = 1.0
    try:
        canvas_max = float(possible.replace(",", "."))
    except ValueError:
        canvas_max = float(results.max_points)
    if abs(canvas_max - results.max_points) > 1e-9:
        if not rescale:
            raise LmsError(
                _(
                    "{where}: the assignment {name} is worth {canvas} points in Canvas, the "
                    "rubric {points}; set its points in Canvas to {points}, or pass --rescale "
                    "to write points × {scale}"
                ).format(
                    where=where,
                    name=repr(gb.header[col]),
                    canvas=possible,
                    points=results.max_points,
                    scale=f"{canvas_max:g}/{results.max_points}",
                )
            )
        per_point = canvas_max / results.max_points if results.max_points else 1.0
    rows = [r for r in results.rows if r.submission is not None and r.state != "pending"]
    matched, ambiguous = _match(gb, rows)
    export = CanvasExport(text=b"", column=gb.header[col], ambiguous=ambiguous)
    found = {r.key for r in matched.values()}
    export.unmatched = [r.name for r in rows if r.key not in found]
    keep = [c for c in IDENTITY if c in gb.header]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=gb.delimiter, lineterminator="\n")
    writer.writerow([*keep, gb.header[col]])
    writer.writerow([POINTS_POSSIBLE, *[""] * (len(keep) - 1), possible])
    for canvas in gb.students:
        row = matched.get(gb.cell(canvas, "ID"))
        if row is None:
            continue
        held = held_because(row)
        if row.report is None:
            export.not_graded.append((row.name, row.reason or row.status))
            continue
        if held and not include_held:
            export.held.append((row.name, held))
            continue
        grade = format_grade(row.report.grade.points * per_point)
        writer.writerow([gb.cell(canvas, c) for c in keep] + [grade])
        export.written.append(row.name)
    text = out.getvalue().encode("utf-8")
    export.text = (b"\xef\xbb\xbf" + text) if gb.bom else text
    return export
