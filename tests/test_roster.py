from __future__ import annotations

import pytest

from grader.errors import RosterError
from grader.intake.roster import parse_roster


def test_roster_columns_booleans_and_lookup_by_name() -> None:
    r = parse_roster(
        "student_id;Name;HW4;submitted_at;Konzultace\n"
        "novakj;Jan Novák;ano;2025-11-16T20:00:00+01:00;ne\n"
        "smithj;John Smith;no;;yes\n"
    )
    jan = r.find("Novák Jan")
    assert jan is not None and jan.submitted_hw4 is True and jan.consultation_done is False
    assert r.find("smithj") is not None
    ctx = r.entries[1].context()
    assert ctx.submitted_hw4 is False and ctx.consultation_done is True and ctx.submitted_at is None


def test_roster_errors_are_clear() -> None:
    with pytest.raises(RosterError, match="no student column"):
        parse_roster("foo,bar\n1,2\n")
    with pytest.raises(RosterError, match="twice"):
        parse_roster("student_id\na\na\n")
    with pytest.raises(RosterError, match="cannot read the time"):
        parse_roster("student_id,submitted_at\na,yesterday\n")
