"""Class intake: turn a folder or an LMS export into one submission per student.

Accepted layouts, mixed freely in one class folder:

* one notebook per student (``novak_jan.ipynb``), or one folder per student;
* Moodle's "download all submissions" zip, either as the class folder itself or
  inside it; its entries are ``Full Name_12345_assignsubmission_file_/hw5.ipynb``
  (or the flat form ``Full Name_12345_assignsubmission_file_hw5.ipynb``);
* a student's own zip (``hw5.zip`` in their folder, or ``novak.zip`` loose).

Zip archives are read member by member with :mod:`zipfile` and never
extracted blindly: absolute paths, ``..`` components, symbolic links and
encrypted members are refused, and the member count, each member's size, the
total size and the compression ratio are capped. A bad archive is an intake
problem, never a crash.

When one student handed in several notebooks (or appears twice), one is
graded, chosen by :func:`choose_notebook`, and the intake says which and why.
Roster students without a submission are *missing*; submissions that match no
roster entry come from *unknown submitters*. Late submissions are judged
against the rubric's deadline, using the roster's submission time when it has
one, else the time stored in the LMS archive (file modification times only when
asked for: a copied folder carries the time of the copy).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader.i18n import _, ngettext
from grader.intake.archive import RawFile, Walk, ZipLimits
from grader.intake.names import fold, slug, tokens
from grader.intake.submission import (
    ClassIntake,
    IntakeProblem,
    NotebookFile,
    RosterEntryLike,
    RosterLike,
    RosterStudent,
    StudentContext,
    Submission,
    TimeSource,
)

__all__ = ["choose_notebook", "collect_class"]

_ASSIGNMENT_RE = re.compile(
    r"(?:hw|homework|ukol|du|assignment|assign|cviceni|task|ha)[\s_.-]*0?5(?!\d)", re.IGNORECASE
)
_DRAFTY_RE = re.compile(
    r"(copy|kopie|old|backup|draft|untitled|test|scratch|tmp|temp|zaloha|checkpoint)",
    re.IGNORECASE,
)
_NOISE_RE = re.compile(
    r"(hw|homework|ukol|du|assignment|assign|cviceni|task|final|finalni|submission|notebook|"
    r"cifar|cifar10|transfer|learning|cnn|nn|nn2|v\d+|\d+|[a-z]{1,3}\d+|copy|kopie|old|new)"
)


# ------------------------------------------------------------ choosing one


def _rank(f: NotebookFile) -> tuple[int, int, int, int, float, int, str]:
    base = PurePosixPath(f.name).name
    return (
        0 if f.is_notebook else 1,
        0 if f.problem is None else 1,
        0 if _ASSIGNMENT_RE.search(base) else 1,
        1 if _DRAFTY_RE.search(base) else 0,
        -(f.modified.timestamp() if f.modified else 0.0),
        -f.size,
        f.origin,
    )


def choose_notebook(files: Sequence[NotebookFile]) -> tuple[NotebookFile | None, str | None]:
    """Pick the notebook to grade among a student's files, and say why.

    The rule, in order: a readable ``.ipynb`` beats anything else; a name that
    names the assignment (hw5, homework_5, ukol5, du5...) beats one that does
    not; a name that looks like a draft (copy, old, backup, untitled, test)
    loses; then the newest; then the largest.
    """
    notebooks = [f for f in files if f.is_notebook]
    if not notebooks:
        return None, None
    ranked = sorted(notebooks, key=_rank)
    best = ranked[0]
    if len(ranked) == 1:
        return best, None
    others = ranked[1:]
    why: list[str] = []
    if best.problem is None and any(o.problem for o in others):
        why.append(_("the others cannot be read as notebooks"))
    if _ASSIGNMENT_RE.search(PurePosixPath(best.name).name) and not all(
        _ASSIGNMENT_RE.search(PurePosixPath(o.name).name) for o in others
    ):
        why.append(_("its name names the assignment"))
    if not _DRAFTY_RE.search(best.name) and any(_DRAFTY_RE.search(o.name) for o in others):
        why.append(_("the others look like drafts or copies"))
    if not why:
        runner_up = others[0]
        if best.modified and runner_up.modified and best.modified != runner_up.modified:
            why.append(_("it is the newest"))
        elif best.size != runner_up.size:
            why.append(_("it is the largest"))
        else:
            why.append(_("it is the first by name"))
    listing = ", ".join(f"'{o.origin}'" for o in others)
    because = why[0]
    for reason in why[1:]:
        because = _("{first} and {second}").format(first=because, second=reason)
    return best, ngettext(
        "{n} notebook handed in; graded '{chosen}' because {because}; not graded: {others}",
        "{n} notebooks handed in; graded '{chosen}' because {because}; not graded: {others}",
        len(ranked),
    ).format(n=len(ranked), chosen=best.origin, because=because, others=listing)


# ------------------------------------------------------------ roster match


def _match(
    label: str, lms_id: str | None, entries: Sequence[RosterEntryLike]
) -> tuple[RosterEntryLike | None, int]:
    """The roster entry a label names, and how many entries it could name."""
    toks = tokens(label)
    folded = fold(label)
    words = {t for t in toks if len(t) >= 3 and not _NOISE_RE.fullmatch(t)}
    rules = [
        lambda e: lms_id is not None and fold(e.student_id) == lms_id,
        lambda e: fold(e.student_id) == folded or _long_token(fold(e.student_id), toks),
        lambda e: (
            bool(e.email)
            and (
                fold(e.email or "") == folded
                or _long_token(fold((e.email or "").split("@")[0]), toks)
            )
        ),
        lambda e: fold(e.name) == folded or sorted(tokens(e.name)) == sorted(toks),
        lambda e: len(tokens(e.name)) >= 2 and tokens(e.name) <= toks,
        lambda e: bool(words) and words <= tokens(e.name),
    ]
    for rule in rules:
        hits = [e for e in entries if rule(e)]
        if len(hits) == 1:
            return hits[0], 1
        if len(hits) > 1:
            return None, len(hits)
    return None, 0


def _long_token(token: str, toks: set[str]) -> bool:
    """An id found among a label's words; short ids (``5``) match only exactly."""
    return len(token) >= 3 and token in toks


# ------------------------------------------------------------- lateness


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.astimezone()


def _submitted(
    entry: RosterEntryLike | None, chosen: NotebookFile | None, file_times: bool
) -> tuple[datetime | None, TimeSource | None]:
    if entry is not None and entry.submitted_at is not None:
        return entry.submitted_at, "roster"
    if chosen is not None and chosen.modified is not None:
        source = chosen.modified_source or "file"
        if source == "lms" or file_times:
            return chosen.modified, source
    return None, None


# --------------------------------------------------------------- the intake


def collect_class(
    source: Path,
    *,
    staging: Path,
    roster: RosterLike | None = None,
    deadline: datetime | None = None,
    limits: ZipLimits | None = None,
    exclude: Sequence[Path] = (),
    file_times: bool = False,
) -> ClassIntake:
    """Find every student's submission under ``source`` (a folder, a zip or one notebook).

    Archive members are staged under ``staging`` (written again only when
    their bytes change, so a rerun sees the same files). Files listed in
    ``exclude`` (the roster, the output folder) are skipped. Never raises on
    odd input: every problem is an :class:`IntakeProblem`.

    Submission times come from the roster, else from the LMS archive; file
    modification times are used only with ``file_times`` (a copied or checked
    out folder has the time of the copy, which would make everyone late).
    """
    walk = Walk(staging, limits or ZipLimits(), {Path(p).resolve() for p in exclude})
    if source.is_dir():
        walk.class_folder(source)
    elif source.suffix.lower() == ".zip":
        walk.zip_path(source, source.name)
    elif source.is_file():
        walk.loose_file(source)
    else:
        walk.problems.append(
            IntakeProblem(
                kind="unreadable",
                severity="error",
                message=_("{path}: no such file or folder").format(path=source),
                origin=str(source),
            )
        )
    intake = ClassIntake(source=str(source), deadline=deadline, roster=roster is not None)
    intake.problems.extend(walk.problems)
    entries = list(roster.entries) if roster is not None else []

    # group the files by student: roster id when matched, else the label's folded form
    groups: dict[str, list[RawFile]] = {}
    matched: dict[str, RosterEntryLike] = {}
    for raw in walk.raws:
        entry, hits = _match(raw.label, raw.lms_id, entries) if entries else (None, 0)
        if entry is not None:
            key = "roster:" + entry.student_id
            matched[key] = entry
        elif raw.lms_id:
            # an LMS participant number names one student: two students of the same
            # name are two submissions, never one handed in twice
            key = "lms:" + raw.lms_id
        else:
            key = "label:" + (fold(raw.label) or raw.label)
            if roster is not None and hits > 1 and key not in groups:
                intake.problems.append(
                    IntakeProblem(
                        kind="ambiguous-submitter",
                        message=ngettext(
                            "'{label}' could be any of {n} roster student; graded as an "
                            "unknown submitter",
                            "'{label}' could be any of {n} roster students; graded as an "
                            "unknown submitter",
                            hits,
                        ).format(label=raw.label, n=hits),
                        origin=raw.entry,
                    )
                )
        groups.setdefault(key, []).append(raw)

    used_ids: set[str] = set()
    order = {"roster:" + e.student_id: i for i, e in enumerate(entries)}
    for key in sorted(groups, key=lambda k: (order.get(k, len(order)), k)):
        raws = groups[key]
        entry = matched.get(key)
        first = raws[0]
        if entry is None and all(r.loose and not r.file.is_notebook for r in raws):
            continue  # a stray loose file (notes, a roster copy) that names no student
        sid = _unique(slug(entry.student_id if entry else first.label), used_ids)
        files = [r.file for r in raws]
        chosen, choice = choose_notebook(files)
        submitted_at, time_source = _submitted(entry, chosen, file_times)
        late = (
            _aware(submitted_at) > _aware(deadline)
            if submitted_at is not None and deadline is not None
            else None
        )
        context = entry.context() if entry is not None else StudentContext(student=first.label)
        if context.submitted_at is None and submitted_at is not None:
            context = context.model_copy(update={"submitted_at": _aware(submitted_at).isoformat()})
        sub = Submission(
            id=sid,
            student_id=entry.student_id if entry else None,
            name=entry.name if entry else first.label,
            email=entry.email if entry else None,
            in_roster=entry is not None,
            lms_id=next((r.lms_id for r in raws if r.lms_id), None),
            notebook=chosen,
            files=files,
            choice=choice,
            entries=sorted({r.entry for r in raws}),
            submitted_at=submitted_at,
            submitted_at_source=time_source,
            late=late,
            context=context,
        )
        intake.submissions.append(sub)
        _problems_for(intake, sub, roster is not None)

    _identical(intake)
    seen = {s.student_id for s in intake.submissions if s.student_id}
    intake.students = [
        RosterStudent(student_id=e.student_id, name=e.name, email=e.email) for e in entries
    ]
    intake.missing = [s for s in intake.students if s.student_id not in seen]
    return intake


def _identical(intake: ClassIntake) -> None:
    """Different students who handed in byte-identical notebooks."""
    by_sha: dict[str, list[Submission]] = {}
    for sub in intake.submissions:
        if sub.notebook is not None and sub.notebook.problem is None and sub.notebook.sha256:
            by_sha.setdefault(sub.notebook.sha256, []).append(sub)
    for subs in by_sha.values():
        if len(subs) > 1:
            names = ", ".join(s.name for s in subs)
            for sub in subs:
                intake.problems.append(
                    IntakeProblem(
                        kind="identical",
                        message=_("{names} handed in byte-identical notebooks").format(names=names),
                        origin=sub.notebook.origin if sub.notebook else None,
                        submission=sub.id,
                    )
                )


def _unique(base: str, used: set[str]) -> str:
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    used.add(candidate)
    return candidate


def _problems_for(intake: ClassIntake, sub: Submission, has_roster: bool) -> None:
    add = intake.problems.append
    if has_roster and not sub.in_roster:
        add(
            IntakeProblem(
                kind="unknown-submitter",
                message=_(
                    "'{name}' is not on the roster (from {entries}); graded, but check who it is"
                ).format(name=sub.name, entries=", ".join(sub.entries)),
                origin=", ".join(sub.entries),
                submission=sub.id,
            )
        )
    if len(sub.entries) > 1:
        add(
            IntakeProblem(
                kind="duplicate",
                message=ngettext(
                    "{name} handed in {n} time ({entries}); {choice}",
                    "{name} handed in {n} times ({entries}); {choice}",
                    len(sub.entries),
                ).format(
                    name=sub.name,
                    n=len(sub.entries),
                    entries=", ".join(sub.entries),
                    choice=sub.choice or _("one notebook graded"),
                ),
                origin=", ".join(sub.entries),
                submission=sub.id,
            )
        )
    elif sub.choice:
        add(
            IntakeProblem(
                kind="several-notebooks",
                severity="info",
                message=f"{sub.name}: {sub.choice}",
                origin=", ".join(sub.entries),
                submission=sub.id,
            )
        )
    if sub.notebook is None:
        names = ", ".join(f.name for f in sub.files)
        add(
            IntakeProblem(
                kind="no-notebook",
                severity="error",
                message=(
                    _("{name}: no notebook handed in (found: {files})")
                    if names
                    else _("{name}: no notebook handed in (found: nothing)")
                ).format(name=sub.name, files=names),
                origin=", ".join(sub.entries),
                submission=sub.id,
            )
        )
    elif sub.notebook.problem:
        add(
            IntakeProblem(
                kind="not-a-notebook",
                severity="error",
                message=_("{name}: '{file}' is not a notebook ({why})").format(
                    name=sub.name, file=sub.notebook.origin, why=sub.notebook.problem
                ),
                origin=sub.notebook.origin,
                submission=sub.id,
            )
        )
