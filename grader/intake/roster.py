"""The class roster: who is enrolled, who did homework 4, when they submitted, consultations.

A CSV with a header row. Recognised columns (case and spacing ignored, Czech
headers accepted): ``student_id`` (or ``id``, ``login``), ``name``,
``email``, ``submitted_hw4`` (``hw4``), ``submitted_at``, ``consultation``
(``consultation_done``). Booleans: yes/no, true/false, 1/0, ano/ne, x/blank.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.errors import RosterError
from grader.i18n import _
from grader.intake.submission import StudentContext

__all__ = ["Roster", "RosterEntry", "load_roster", "parse_roster", "parse_bool"]

_COLUMNS = {
    "student_id": ("student_id", "id", "login", "username", "student", "id_number", "osobni_cislo"),
    "name": ("name", "full_name", "jmeno", "student_name"),
    "email": ("email", "e-mail", "mail", "email_address"),
    "submitted_hw4": ("submitted_hw4", "hw4", "homework4", "hw4_submitted", "du4", "ukol4"),
    "submitted_at": ("submitted_at", "submitted", "submission_time", "odevzdano", "timestamp"),
    "consultation_done": (
        "consultation_done",
        "consultation",
        "consulted",
        "konzultace",
    ),
}

_TRUE = {"yes", "y", "true", "t", "1", "ano", "a", "x", "done", "ok"}
_FALSE = {"no", "n", "false", "f", "0", "ne", "", "-"}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return text.strip().lower().replace(" ", "_")


def parse_bool(value: str | None) -> bool | None:
    """Read a yes/no cell; None when it says neither."""
    if value is None:
        return None
    v = _key(value)
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False if v else None
    return None


def _parse_time(value: str | None, line: int) -> datetime | None:
    if not value or not value.strip():
        return None
    text = value.strip()
    for fmt in (None, "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"):
        try:
            if fmt is None:
                return datetime.fromisoformat(text)
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise RosterError(
        _("roster line {line}: cannot read the time {text} (use ISO 8601)").format(
            line=line, text=repr(text)
        )
    )


def _norm_name(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(text.replace("_", " ").split())


@dataclass
class RosterEntry:
    student_id: str
    name: str
    email: str | None = None
    submitted_hw4: bool | None = None
    submitted_at: datetime | None = None
    consultation_done: bool | None = None

    def context(self) -> StudentContext:
        return StudentContext(
            student=self.student_id,
            submitted_hw4=self.submitted_hw4,
            submitted_at=self.submitted_at.isoformat() if self.submitted_at else None,
            consultation_done=self.consultation_done,
        )


@dataclass
class Roster:
    entries: list[RosterEntry] = field(default_factory=list)

    def find(self, name_or_id: str) -> RosterEntry | None:
        """Find a student by id, e-mail, or name (accents, case and order of names ignored)."""
        want = _norm_name(name_or_id)
        for e in self.entries:
            if name_or_id in (e.student_id, e.email) or want == _norm_name(e.student_id):
                return e
        for e in self.entries:
            if want == _norm_name(e.name) or sorted(want.split()) == sorted(
                _norm_name(e.name).split()
            ):
                return e
        return None


def load_roster(path: Path) -> Roster:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(
            _("{path}: cannot read the roster ({error})").format(
                path=path, error=exc.strerror or exc
            )
        ) from exc
    except UnicodeDecodeError as exc:
        raise RosterError(_("{path}: the roster is not UTF-8 text").format(path=path)) from exc
    return parse_roster(text, str(path))


def parse_roster(text: str, where: str = "roster") -> Roster:
    dialect: type[csv.Dialect]
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = list(reader)
    if not rows:
        raise RosterError(_("{path}: the roster is empty").format(path=where))
    header = [_key(h) for h in rows[0]]
    index: dict[str, int] = {}
    for field_name, names in _COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                index[field_name] = i
                break
    if "student_id" not in index and "name" not in index:
        raise RosterError(
            _(
                "{path}: no student column; the header needs 'student_id' or 'name' (found: "
                "{columns})"
            ).format(path=where, columns=", ".join(rows[0]))
        )
    roster = Roster()
    seen: set[str] = set()
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue

        def cell(name: str, row: list[str] = row) -> str | None:
            i = index.get(name)
            return row[i].strip() if i is not None and i < len(row) else None

        sid = cell("student_id") or cell("name") or ""
        if sid in seen:
            raise RosterError(
                _("{path} line {line}: student {id} is listed twice").format(
                    path=where, line=n, id=repr(sid)
                )
            )
        seen.add(sid)
        roster.entries.append(
            RosterEntry(
                student_id=sid,
                name=cell("name") or sid,
                email=cell("email") or None,
                submitted_hw4=parse_bool(cell("submitted_hw4")),
                submitted_at=_parse_time(cell("submitted_at"), n),
                consultation_done=parse_bool(cell("consultation_done")),
            )
        )
    return roster
