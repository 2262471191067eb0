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

import hashlib
import io
import os
import re
import stat
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from grader.grade.result import StudentContext

__all__ = [
    "ClassIntake",
    "IntakeProblem",
    "RosterStudent",
    "NotebookFile",
    "RosterEntryLike",
    "RosterLike",
    "Submission",
    "ZipLimits",
    "choose_notebook",
    "collect_class",
    "parse_lms_name",
]


# ------------------------------------------------------------------ data model


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


TimeSource = Literal["roster", "lms", "file"]


class NotebookFile(_Model):
    """One file a student handed in, as found (and, for archives, as staged on disk)."""

    path: str = Field(description="where the file is on disk (staged copy for archive members)")
    origin: str = Field(
        description="where it came from, for people: 'class.zip › Jan_1_…/hw5.ipynb'"
    )
    name: str = Field(description="the file name as the student gave it")
    size: int
    sha256: str
    modified: datetime | None = Field(
        default=None, description="time stored in the archive or file mtime"
    )
    modified_source: Literal["lms", "file"] | None = None
    is_notebook: bool = Field(description="the name ends in .ipynb")
    problem: str | None = Field(
        default=None, description="why the file cannot be a notebook, if it cannot"
    )


class Submission(_Model):
    """What one student handed in, and which notebook of it is graded."""

    id: str = Field(description="stable, file-system-safe key: the journal and report name")
    student_id: str | None = None
    name: str
    email: str | None = None
    in_roster: bool = False
    lms_id: str | None = Field(default=None, description="the participant number in an LMS export")
    notebook: NotebookFile | None = Field(
        None, description="the file graded; None: nothing gradable"
    )
    files: list[NotebookFile] = Field(default_factory=list, description="everything handed in")
    choice: str | None = Field(default=None, description="which notebook was chosen and why")
    entries: list[str] = Field(
        default_factory=list, description="top-level entries (folders, files, zips) it came from"
    )
    submitted_at: datetime | None = None
    submitted_at_source: TimeSource | None = None
    late: bool | None = None
    context: StudentContext = Field(default_factory=lambda: StudentContext())


class IntakeProblem(_Model):
    """Something about the class folder the instructor should know."""

    kind: Literal[
        "bad-archive",
        "unsafe-member",
        "archive-limit",
        "not-a-notebook",
        "no-notebook",
        "several-notebooks",
        "duplicate",
        "identical",
        "unknown-submitter",
        "ambiguous-submitter",
        "ignored-file",
        "unreadable",
    ]
    severity: Literal["info", "warning", "error"] = "warning"
    message: str
    origin: str | None = None
    submission: str | None = Field(default=None, description="id of the submission concerned")


class RosterStudent(_Model):
    student_id: str
    name: str
    email: str | None = None


class ClassIntake(_Model):
    source: str
    deadline: datetime | None = None
    roster: bool = Field(default=False, description="whether a roster was given")
    students: list[RosterStudent] = Field(
        default_factory=list, description="every roster student, in roster order"
    )
    submissions: list[Submission] = Field(default_factory=list)
    missing: list[RosterStudent] = Field(default_factory=list)
    problems: list[IntakeProblem] = Field(default_factory=list)


class RosterEntryLike(Protocol):
    """What the intake reads from a roster entry (``grader.intake.roster.RosterEntry``)."""

    @property
    def student_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def submitted_at(self) -> datetime | None: ...

    def context(self) -> StudentContext: ...


class RosterLike(Protocol):
    @property
    def entries(self) -> Sequence[RosterEntryLike]: ...


@dataclass(frozen=True)
class ZipLimits:
    """Caps that keep a hostile or broken archive from exhausting the grader."""

    max_members: int = 20_000
    max_member_bytes: int = 200 * 1024 * 1024
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed / compressed, checked for members over 1 MiB
    max_depth: int = 1  # a zip inside the class zip is read; one inside that is not


# ------------------------------------------------------------- name handling

_LMS_RE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)_(?P<rest>.*)$",
    re.DOTALL,
)
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
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_JUNK_DIRS = {"__macosx", ".ipynb_checkpoints", "__pycache__", ".git"}


def parse_lms_name(entry: str) -> tuple[str, str, str] | None:
    """Split a Moodle export entry ``Name_123_assignsubmission_file_rest`` into parts.

    Returns ``(full name, participant id, rest)``, or None when the name is not
    in that form.
    """
    m = _LMS_RE.match(entry)
    if not m:
        return None
    return m.group("name").strip(), m.group("id"), m.group("rest")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z@.]+", " ", text.casefold()).strip()


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[\s.@]+", _fold(text)) if t}


def _slug(text: str) -> str:
    folded = re.sub(r"[^0-9a-z]+", "-", _fold(text)).strip("-")
    return folded[:60] or "submission"


def _is_junk(part: str) -> bool:
    low = part.lower()
    return low in _JUNK_NAMES or low in _JUNK_DIRS or low.startswith("._") or low.startswith("~$")


# --------------------------------------------------------------- raw files


@dataclass
class _Raw:
    """A file found during the walk, before students are matched."""

    entry: str  # the top-level entry (class-folder child or LMS folder) it belongs to
    label: str  # the student label that entry suggests
    lms_id: str | None
    file: NotebookFile
    loose: bool = False  # a file lying in the class folder itself


def _sniff(data: bytes) -> str | None:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not data.strip():
        return "the file is empty"
    if b"\x00" in data[:8192]:
        return "binary data, not a notebook"
    if not head.startswith(b"{"):
        return "not JSON (a notebook starts with '{')"
    return None


def _sniff_file(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            return _sniff(fh.read(16384))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _file_entry(path: Path, origin: str, name: str) -> NotebookFile:
    st = path.stat()
    is_nb = name.lower().endswith(".ipynb")
    problem = _sniff_file(path) if is_nb else "not a notebook (.ipynb) file"
    return NotebookFile(
        path=str(path),
        origin=origin,
        name=name,
        size=st.st_size,
        sha256=_sha256_file(path),
        modified=datetime.fromtimestamp(st.st_mtime, tz=UTC).astimezone(),
        modified_source="file",
        is_notebook=is_nb,
        problem=problem,
    )


class _Walk:
    """Collects files and problems while walking the class source."""

    def __init__(self, staging: Path, limits: ZipLimits, exclude: set[Path]) -> None:
        self.staging = staging
        self.limits = limits
        self.exclude = exclude
        self.raws: list[_Raw] = []
        self.problems: list[IntakeProblem] = []

    # ---- folders

    def class_folder(self, root: Path) -> None:
        try:
            children = sorted(root.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            self.problems.append(
                IntakeProblem(
                    kind="unreadable", severity="error", message=str(exc), origin=str(root)
                )
            )
            return
        for child in children:
            if _is_junk(child.name) or child.resolve() in self.exclude:
                continue
            if child.is_symlink():
                self.problems.append(
                    IntakeProblem(
                        kind="ignored-file",
                        message="symbolic link ignored",
                        origin=child.name,
                    )
                )
                continue
            if child.is_dir():
                self.student_folder(child, child.name)
            elif child.suffix.lower() == ".zip":
                self.zip_path(child, child.name)
            elif child.is_file():
                self.loose_file(child)

    def loose_file(self, path: Path) -> None:
        entry = path.name
        parsed = parse_lms_name(entry)
        label = parsed[0] if parsed else path.stem
        lms_id = parsed[1] if parsed else None
        nb = _file_entry(path, entry, parsed[2] if parsed else entry)
        if not nb.is_notebook and not parsed:
            self.problems.append(
                IntakeProblem(
                    kind="ignored-file",
                    severity="info",
                    message=f"{entry}: not a notebook; counted for a student only if its name "
                    "matches one",
                    origin=entry,
                )
            )
        self.raws.append(_Raw(entry, label, lms_id, nb, loose=parsed is None))

    def student_folder(self, folder: Path, entry: str) -> None:
        parsed = parse_lms_name(entry)
        label = parsed[0] if parsed else entry
        lms_id = parsed[1] if parsed else None
        found = 0
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not _is_junk(d))
            for fname in sorted(filenames):
                if _is_junk(fname):
                    continue
                path = Path(dirpath) / fname
                rel = path.relative_to(folder).as_posix()
                origin = f"{entry}/{rel}"
                if path.is_symlink():
                    self.problems.append(
                        IntakeProblem(
                            kind="ignored-file", message="symbolic link ignored", origin=origin
                        )
                    )
                    continue
                if fname.lower().endswith(".zip"):
                    found += self.zip_path(path, origin, entry=entry, label=label, lms_id=lms_id)
                    continue
                self.raws.append(_Raw(entry, label, lms_id, _file_entry(path, origin, rel)))
                found += 1
        if not found:
            self.problems.append(
                IntakeProblem(kind="no-notebook", message=f"{entry}: empty folder", origin=entry)
            )

    # ---- archives

    def zip_path(
        self,
        path: Path,
        origin: str,
        *,
        entry: str | None = None,
        label: str | None = None,
        lms_id: str | None = None,
    ) -> int:
        try:
            with zipfile.ZipFile(path) as zf:
                return self.zip_archive(zf, origin, 0, entry=entry, label=label, lms_id=lms_id)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            self.problems.append(
                IntakeProblem(
                    kind="bad-archive",
                    severity="error",
                    message=f"{origin}: cannot be read as a zip archive ({exc})",
                    origin=origin,
                )
            )
            return 0

    def zip_archive(
        self,
        zf: zipfile.ZipFile,
        origin: str,
        depth: int,
        *,
        entry: str | None,
        label: str | None,
        lms_id: str | None,
    ) -> int:
        """Read the members of an open archive; return how many files were taken."""
        lim = self.limits
        infos = zf.infolist()
        if len(infos) > lim.max_members:
            self.problems.append(
                IntakeProblem(
                    kind="archive-limit",
                    severity="error",
                    message=f"{origin}: {len(infos)} members, over the limit of {lim.max_members}; "
                    "not read",
                    origin=origin,
                )
            )
            return 0
        # An archive of LMS entries is a class export; anything else is one student's files.
        names = [i.filename.replace("\\", "/") for i in infos if not i.is_dir()]
        is_export = entry is None and any(
            parse_lms_name(n.lstrip("/").split("/", 1)[0]) for n in names
        )
        stage_root = self.staging / _stage_name(origin)
        total = 0
        taken = 0
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")
            where = f"{origin} › {name}"
            bad = _unsafe_member(info)
            if bad:
                self.problems.append(
                    IntakeProblem(
                        kind="unsafe-member",
                        severity="error",
                        message=f"{where}: refused ({bad})",
                        origin=where,
                    )
                )
                continue
            parts = PurePosixPath(name).parts
            if any(_is_junk(p) for p in parts):
                continue
            if info.file_size > lim.max_member_bytes:
                self.problems.append(
                    IntakeProblem(
                        kind="archive-limit",
                        severity="error",
                        message=f"{where}: {info.file_size / 1e6:.0f} MB is over the "
                        f"{lim.max_member_bytes / 1e6:.0f} MB limit for one file",
                        origin=where,
                    )
                )
                continue
            if info.file_size > 1024 * 1024 and info.file_size > lim.max_ratio * max(
                info.compress_size, 1
            ):
                self.problems.append(
                    IntakeProblem(
                        kind="archive-limit",
                        severity="error",
                        message=f"{where}: compression ratio over {lim.max_ratio:.0f}:1 "
                        "(a zip bomb?); not read",
                        origin=where,
                    )
                )
                continue
            if total + info.file_size > lim.max_total_bytes:
                self.problems.append(
                    IntakeProblem(
                        kind="archive-limit",
                        severity="error",
                        message=f"{origin}: over {lim.max_total_bytes / 1e9:.1f} GB uncompressed; "
                        "the rest of the archive was not read",
                        origin=origin,
                    )
                )
                break
            try:
                data = _read_member(zf, info, lim.max_member_bytes)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
                self.problems.append(
                    IntakeProblem(
                        kind="bad-archive",
                        severity="error",
                        message=f"{where}: cannot be read ({exc})",
                        origin=where,
                    )
                )
                continue
            total += len(data)
            m_entry, m_label, m_lms, inner = entry, label, lms_id, name
            if is_export:
                head, _, rest = name.lstrip("/").partition("/")
                parsed = parse_lms_name(head)
                if parsed is None:
                    self.problems.append(
                        IntakeProblem(
                            kind="ignored-file",
                            severity="info",
                            message=f"{where}: not in the LMS naming scheme; ignored",
                            origin=where,
                        )
                    )
                    continue
                m_entry, m_label, m_lms = head, parsed[0], parsed[1]
                inner = rest or parsed[2]
            elif entry is None:
                # a student's own zip, loose in the class folder: the zip names the student
                m_entry = origin
                m_label = PurePosixPath(origin).stem
            if name.lower().endswith(".zip"):
                if depth + 1 > lim.max_depth:
                    self.problems.append(
                        IntakeProblem(
                            kind="archive-limit",
                            message=f"{where}: an archive nested this deep is not read",
                            origin=where,
                        )
                    )
                    continue
                try:
                    with zipfile.ZipFile(io.BytesIO(data)) as inner_zf:
                        taken += self.zip_archive(
                            inner_zf,
                            where,
                            depth + 1,
                            entry=m_entry,
                            label=m_label,
                            lms_id=m_lms,
                        )
                except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
                    self.problems.append(
                        IntakeProblem(
                            kind="bad-archive",
                            severity="error",
                            message=f"{where}: cannot be read as a zip archive ({exc})",
                            origin=where,
                        )
                    )
                continue
            staged = _stage(stage_root, parts, data)
            is_nb = inner.lower().endswith(".ipynb")
            self.raws.append(
                _Raw(
                    m_entry or origin,
                    m_label or PurePosixPath(origin).stem,
                    m_lms,
                    NotebookFile(
                        path=str(staged),
                        origin=where,
                        name=inner,
                        size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(),
                        modified=_zip_time(info),
                        modified_source="lms" if is_export or m_lms else "file",
                        is_notebook=is_nb,
                        problem=_sniff(data) if is_nb else "not a notebook (.ipynb) file",
                    ),
                )
            )
            taken += 1
        return taken


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if "\x00" in name:
        return "a NUL character in the name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    parts = re.split(r"[\\/]+", name)
    if any(p == ".." for p in parts):
        return "a '..' path component (path traversal)"
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return "a symbolic link"
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read one member, trusting its header's size no further than ``cap``."""
    with zf.open(info) as fh:
        data = fh.read(min(info.file_size, cap) + 1)
    if len(data) > info.file_size or len(data) > cap:
        raise ValueError("the member is larger than its header says")
    return data


def _stage_name(origin: str) -> str:
    digest = hashlib.sha256(origin.encode()).hexdigest()[:8]
    return f"{_slug(PurePosixPath(origin.replace(' › ', '/')).stem)}-{digest}"


def _stage(root: Path, parts: tuple[str, ...], data: bytes) -> Path:
    """Write an archive member under ``root`` (names already checked) unless it is there."""
    safe = [re.sub(r"[\x00-\x1f]", "_", p)[:200] or "_" for p in parts if p not in ("", ".")]
    target = root.joinpath(*safe)
    if not target.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"refusing to write outside the staging folder: {target}")
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def _zip_time(info: zipfile.ZipInfo) -> datetime | None:
    try:
        return datetime(*info.date_time).astimezone()  # archives store local time
    except (ValueError, OverflowError):
        return None


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
        why.append("the others cannot be read as notebooks")
    if _ASSIGNMENT_RE.search(PurePosixPath(best.name).name) and not all(
        _ASSIGNMENT_RE.search(PurePosixPath(o.name).name) for o in others
    ):
        why.append("its name names the assignment")
    if not _DRAFTY_RE.search(best.name) and any(_DRAFTY_RE.search(o.name) for o in others):
        why.append("the others look like drafts or copies")
    if not why:
        runner_up = others[0]
        if best.modified and runner_up.modified and best.modified != runner_up.modified:
            why.append("it is the newest")
        elif best.size != runner_up.size:
            why.append("it is the largest")
        else:
            why.append("first by name")
    listing = ", ".join(f"'{o.origin}'" for o in others)
    return best, (
        f"{len(ranked)} notebooks handed in; graded '{best.origin}' because "
        f"{' and '.join(why)}; not graded: {listing}"
    )


# ------------------------------------------------------------ roster match


def _match(
    label: str, lms_id: str | None, entries: Sequence[RosterEntryLike]
) -> tuple[RosterEntryLike | None, int]:
    """The roster entry a label names, and how many entries it could name."""
    toks = _tokens(label)
    folded = _fold(label)
    words = {t for t in toks if len(t) >= 3 and not _NOISE_RE.fullmatch(t)}
    rules = [
        lambda e: lms_id is not None and _fold(e.student_id) == lms_id,
        lambda e: _fold(e.student_id) == folded or _long_token(_fold(e.student_id), toks),
        lambda e: (
            bool(e.email)
            and (
                _fold(e.email or "") == folded
                or _long_token(_fold((e.email or "").split("@")[0]), toks)
            )
        ),
        lambda e: _fold(e.name) == folded or sorted(_tokens(e.name)) == sorted(toks),
        lambda e: len(_tokens(e.name)) >= 2 and _tokens(e.name) <= toks,
        lambda e: bool(words) and words <= _tokens(e.name),
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
    walk = _Walk(staging, limits or ZipLimits(), {Path(p).resolve() for p in exclude})
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
                message=f"{source}: no such file or folder",
                origin=str(source),
            )
        )
    intake = ClassIntake(source=str(source), deadline=deadline, roster=roster is not None)
    intake.problems.extend(walk.problems)
    entries = list(roster.entries) if roster is not None else []

    # group the files by student: roster id when matched, else the label's folded form
    groups: dict[str, list[_Raw]] = {}
    matched: dict[str, RosterEntryLike] = {}
    for raw in walk.raws:
        entry, hits = _match(raw.label, raw.lms_id, entries) if entries else (None, 0)
        if entry is not None:
            key = "roster:" + entry.student_id
            matched[key] = entry
        else:
            key = "label:" + (_fold(raw.label) or raw.label)
            if roster is not None and hits > 1 and key not in groups:
                intake.problems.append(
                    IntakeProblem(
                        kind="ambiguous-submitter",
                        message=f"'{raw.label}' could be any of {hits} roster students; "
                        "graded as an unknown submitter",
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
        sid = _unique(_slug(entry.student_id if entry else first.label), used_ids)
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
        if sub.notebook is not None and sub.notebook.problem is None:
            by_sha.setdefault(sub.notebook.sha256, []).append(sub)
    for subs in by_sha.values():
        if len(subs) > 1:
            names = ", ".join(s.name for s in subs)
            for sub in subs:
                intake.problems.append(
                    IntakeProblem(
                        kind="identical",
                        message=f"{names} handed in byte-identical notebooks",
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
                message=f"'{sub.name}' is not on the roster (from {', '.join(sub.entries)}); "
                "graded, but check who it is",
                origin=", ".join(sub.entries),
                submission=sub.id,
            )
        )
    if len(sub.entries) > 1:
        add(
            IntakeProblem(
                kind="duplicate",
                message=f"{sub.name} handed in {len(sub.entries)} times "
                f"({', '.join(sub.entries)}); " + (sub.choice or "one notebook graded"),
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
        names = ", ".join(f.name for f in sub.files) or "nothing"
        add(
            IntakeProblem(
                kind="no-notebook",
                severity="error",
                message=f"{sub.name}: no notebook handed in (found: {names})",
                origin=", ".join(sub.entries),
                submission=sub.id,
            )
        )
    elif sub.notebook.problem:
        add(
            IntakeProblem(
                kind="not-a-notebook",
                severity="error",
                message=f"{sub.name}: '{sub.notebook.origin}' is not a notebook "
                f"({sub.notebook.problem})",
                origin=sub.notebook.origin,
                submission=sub.id,
            )
        )
