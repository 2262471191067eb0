"""Finding a student of a class by what an instructor types: an id, a number or a name.

``grader batch --only`` and ``grader override`` name students this way. A
query matches, in this order: the submission id (the folder name under
``submissions/``), the roster student id, the LMS participant number (the
``12345`` of a Moodle export, also written ``Participant 12345``), then the
name with diacritics and letter case folded, in any word order ("novak jan"
finds "Jan Novák"), then part of a name that only one student has ("Bob"). A query that matches nobody, or more than one student,
is an error that says what to type instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from grader.errors import UsageError
from grader.i18n import _, ngettext
from grader.intake.names import fold, tokens
from grader.intake.submission import ClassIntake, Submission
from grader.settings import suggest

__all__ = ["describe", "find_submission", "find_submissions"]

_PARTICIPANT_RE = re.compile(r"^\D*?(\d+)$")


def describe(sub: Submission) -> str:
    """A student as a message names them: ``Jan Novák (novak-jan, participant 12345)``."""
    ids = [sub.id]
    if sub.student_id and sub.student_id != sub.id:
        ids.append(_("student id {id}").format(id=sub.student_id))
    if sub.lms_id:
        ids.append(_("participant {id}").format(id=sub.lms_id))
    return f"{sub.name} ({', '.join(ids)})"


def _rules(query: str) -> list[Callable[[Submission], bool]]:
    folded = fold(query)
    toks = tokens(query)
    number = _PARTICIPANT_RE.match(query.strip())
    return [
        lambda s: s.id == query,
        lambda s: bool(s.student_id) and fold(s.student_id or "") == folded,
        lambda s: number is not None and s.lms_id == number.group(1),
        lambda s: fold(s.name) == folded,
        lambda s: bool(toks) and tokens(s.name) == toks,
        lambda s: bool(toks) and toks <= tokens(s.name),  # "Bob" when one student is a Bob
    ]


def find_submission(intake: ClassIntake, query: str) -> Submission:
    """The one submission ``query`` names; a :class:`UsageError` says why there is none."""
    query = query.strip()
    if not query:
        raise UsageError(_("an empty student name: give a submission id, student id or name"))
    subs = intake.submissions
    for rule in _rules(query):
        hits = [s for s in subs if rule(s)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            listed = "; ".join(describe(s) for s in hits)
            raise UsageError(
                ngettext(
                    "{query} names {n} student: {students}. Use the submission id (the first "
                    "one in brackets) to say which",
                    "{query} names {n} students: {students}. Use the submission id (the first "
                    "one in brackets) to say which",
                    len(hits),
                ).format(query=repr(query), n=len(hits), students=listed)
            )
    raise UsageError(_not_found(intake, query))


def _not_found(intake: ClassIntake, query: str) -> str:
    missing = [s for s in intake.students if fold(s.name) == fold(query) or s.student_id == query]
    if missing:
        s = missing[0]
        return _(
            "{name} ({id}) is on the roster but handed in nothing: there is no submission to "
            "regrade or decide about"
        ).format(name=s.name, id=s.student_id)
    known = [s.id for s in intake.submissions] + [s.name for s in intake.submissions]
    close = suggest(query, known) or suggest(fold(query), [fold(k) for k in known])
    listing = ", ".join(s.id for s in intake.submissions[:12]) or _("none")
    more = len(intake.submissions) - 12
    if more > 0:
        listing = ngettext("{listing} and {n} more", "{listing} and {n} more", more).format(
            listing=listing, n=more
        )
    values = {"query": repr(query), "close": repr(close), "submissions": listing}
    if close:
        return _(
            "no student {query} in this class (did you mean {close}?); give a submission id, "
            "student id, participant number or name (submissions: {submissions})"
        ).format(**values)
    return _(
        "no student {query} in this class; give a submission id, student id, participant "
        "number or name (submissions: {submissions})"
    ).format(**values)


def find_submissions(intake: ClassIntake, queries: Iterable[str]) -> list[Submission]:
    """The submissions several queries name, each once, in class order."""
    wanted = {find_submission(intake, q).id for q in queries}
    return [s for s in intake.submissions if s.id in wanted]
