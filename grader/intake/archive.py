"""Walking a class folder and reading zip archives safely, file by file.

Zip archives are read member by member with :mod:`zipfile` and never
extracted blindly: absolute paths, ``..`` components, symbolic links and
encrypted members are refused, and the member count, each member's size, the
total size and the compression ratio are capped. A bad archive is an intake
problem, never a crash. What is found becomes raw files, matched to students
by :mod:`grader.intake.classroom`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from grader.i18n import _
from grader.intake.names import is_junk, parse_lms_name, slug
from grader.intake.submission import IntakeProblem, NotebookFile

__all__ = ["RawFile", "Walk", "ZipLimits"]


@dataclass(frozen=True)
class ZipLimits:
    """Caps that keep a hostile or broken archive from exhausting the grader."""

    max_members: int = 20_000
    max_member_bytes: int = 200 * 1024 * 1024
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed / compressed, checked for members over 1 MiB
    max_depth: int = 1  # a zip inside the class zip is read; one inside that is not


@dataclass
class RawFile:
    """A file found during the walk, before students are matched."""

    entry: str  # the top-level entry (class-folder child or LMS folder) it belongs to
    label: str  # the student label that entry suggests
    lms_id: str | None
    file: NotebookFile
    loose: bool = False  # a file lying in the class folder itself


def _sniff(data: bytes) -> str | None:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not data.strip():
        return _("the file is empty")
    if b"\x00" in data[:8192]:
        return _("binary data, not a notebook")
    if not head.startswith(b"{"):
        return _("not JSON (a notebook starts with '{')")
    return None


def _sniff_file(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            return _sniff(fh.read(16384))
    except OSError as exc:
        return _("cannot be read ({error})").format(error=exc.strerror or exc)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _file_entry(path: Path, origin: str, name: str) -> NotebookFile:
    st = path.stat()
    is_nb = name.lower().endswith(".ipynb")
    problem = _sniff_file(path) if is_nb else _("not a notebook (.ipynb) file")
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


class Walk:
    """Collects files and problems while walking the class source."""

    def __init__(self, staging: Path, limits: ZipLimits, exclude: set[Path]) -> None:
        self.staging = staging
        self.limits = limits
        self.exclude = exclude
        self.raws: list[RawFile] = []
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
            if is_junk(child.name) or child.resolve() in self.exclude:
                continue
            if child.is_symlink():
                self.problems.append(
                    IntakeProblem(
                        kind="ignored-file",
                        message=_("symbolic link ignored"),
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
                    message=_(
                        "{entry}: not a notebook; counted for a student only if its name matches one"
                    ).format(entry=entry),
                    origin=entry,
                )
            )
        self.raws.append(RawFile(entry, label, lms_id, nb, loose=parsed is None))

    def student_folder(self, folder: Path, entry: str) -> None:
        parsed = parse_lms_name(entry)
        label = parsed[0] if parsed else entry
        lms_id = parsed[1] if parsed else None
        found = 0
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not is_junk(d))
            for fname in sorted(filenames):
                if is_junk(fname):
                    continue
                path = Path(dirpath) / fname
                rel = path.relative_to(folder).as_posix()
                origin = f"{entry}/{rel}"
                if path.is_symlink():
                    self.problems.append(
                        IntakeProblem(
                            kind="ignored-file", message=_("symbolic link ignored"), origin=origin
                        )
                    )
                    continue
                if fname.lower().endswith(".zip"):
                    found += self.zip_path(path, origin, entry=entry, label=label, lms_id=lms_id)
                    continue
                self.raws.append(RawFile(entry, label, lms_id, _file_entry(path, origin, rel)))
                found += 1
        if not found:
            self.problems.append(
                IntakeProblem(
                    kind="no-notebook",
                    message=_("{entry}: empty folder").format(entry=entry),
                    origin=entry,
                )
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
                    message=_("{origin}: cannot be read as a zip archive ({error})").format(
                        origin=origin, error=exc
                    ),
                    origin=origin,
                )
            )
            return 0

    def problem(
        self,
        kind: Any,
        message: str,
        origin: str,
        severity: Literal["info", "warning", "error"] = "error",
    ) -> None:
        self.problems.append(
            IntakeProblem(kind=kind, severity=severity, message=message, origin=origin)
        )

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
            self.problem(
                "archive-limit",
                _("{origin}: {n} members, over the limit of {limit}; not read").format(
                    origin=origin, n=len(infos), limit=lim.max_members
                ),
                origin,
            )
            return 0
        # An archive of LMS entries is a class export; anything else is one student's files.
        names = [i.filename.replace("\\", "/") for i in infos if not i.is_dir()]
        is_export = entry is None and any(
            parse_lms_name(n.lstrip("/").split("/", 1)[0]) for n in names
        )
        owner = _Owner(entry, label, lms_id)
        stage_root = self.staging / _stage_name(origin)
        total = 0
        taken = 0
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")
            where = f"{origin} › {name}"
            refusal = self._refusal(info, origin, where, total)
            if refusal == "stop":
                break
            if refusal is not None:
                continue
            try:
                data = _read_member(zf, info, lim.max_member_bytes)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
                said = _("{where}: cannot be read ({error})").format(where=where, error=exc)
                self.problem("bad-archive", said, where)
                continue
            total += len(data)
            member = self._member_owner(name, where, origin, owner, is_export)
            if member is None:
                continue
            if name.lower().endswith(".zip"):
                taken += self._nested(data, where, depth, member)
                continue
            self._take(stage_root, info, data, origin, member, is_export or bool(member.lms_id))
            taken += 1
        return taken

    def _refusal(self, info: zipfile.ZipInfo, origin: str, where: str, total: int) -> str | None:
        """Why a member is not read ("stop": nor anything after it), None when it is read."""
        lim = self.limits
        bad = _unsafe_member(info)
        if bad:
            said = _("{where}: refused ({why})").format(where=where, why=bad)
            self.problem("unsafe-member", said, where)
            return bad
        if any(is_junk(p) for p in PurePosixPath(info.filename.replace("\\", "/")).parts):
            return "junk"
        if info.file_size > lim.max_member_bytes:
            self.problem(
                "archive-limit",
                _("{where}: {size} MB is over the {limit} MB limit for one file").format(
                    where=where,
                    size=f"{info.file_size / 1e6:.0f}",
                    limit=f"{lim.max_member_bytes / 1e6:.0f}",
                ),
                where,
            )
            return "too large"
        if info.file_size > 1024 * 1024 and info.file_size > lim.max_ratio * max(
            info.compress_size, 1
        ):
            self.problem(
                "archive-limit",
                _("{where}: compression ratio over {ratio}:1 (a zip bomb?); not read").format(
                    where=where, ratio=f"{lim.max_ratio:.0f}"
                ),
                where,
            )
            return "ratio"
        if total + info.file_size > lim.max_total_bytes:
            self.problem(
                "archive-limit",
                _(
                    "{origin}: over {size} GB uncompressed; the rest of the archive was not read"
                ).format(origin=origin, size=f"{lim.max_total_bytes / 1e9:.1f}"),
                origin,
            )
            return "stop"
        return None

    def _member_owner(
        self, name: str, where: str, origin: str, owner: _Owner, is_export: bool
    ) -> _Owner | None:
        """Whose file a member is (None: not a student's: ignored, said as a problem)."""
        if is_export:
            head, _sep, rest = name.lstrip("/").partition("/")
            parsed = parse_lms_name(head)
            if parsed is None:
                self.problem(
                    "ignored-file",
                    _("{where}: not in the LMS naming scheme; ignored").format(where=where),
                    where,
                    severity="info",
                )
                return None
            return _Owner(head, parsed[0], parsed[1], rest or parsed[2])
        if owner.entry is None:
            # a student's own zip, loose in the class folder: the zip names the student
            return _Owner(origin, PurePosixPath(origin).stem, owner.lms_id, name)
        return _Owner(owner.entry, owner.label, owner.lms_id, name)

    def _nested(self, data: bytes, where: str, depth: int, owner: _Owner) -> int:
        """Read a zip inside a zip (one level deep at most)."""
        if depth + 1 > self.limits.max_depth:
            self.problem(
                "archive-limit",
                _("{where}: an archive nested this deep is not read").format(where=where),
                where,
                severity="warning",
            )
            return 0
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as inner_zf:
                return self.zip_archive(
                    inner_zf,
                    where,
                    depth + 1,
                    entry=owner.entry,
                    label=owner.label,
                    lms_id=owner.lms_id,
                )
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            said = _("{origin}: cannot be read as a zip archive ({error})").format(
                origin=where, error=exc
            )
            self.problem("bad-archive", said, where)
            return 0

    def _take(
        self,
        stage_root: Path,
        info: zipfile.ZipInfo,
        data: bytes,
        origin: str,
        owner: _Owner,
        from_lms: bool,
    ) -> None:
        """Stage a member on disk and remember it as a raw file of its owner."""
        name = info.filename.replace("\\", "/")
        where = f"{origin} › {name}"
        parts = PurePosixPath(name).parts
        staged = _stage(stage_root, parts, data)
        inner = owner.inner
        is_nb = inner.lower().endswith(".ipynb")
        self.raws.append(
            RawFile(
                owner.entry or origin,
                owner.label or PurePosixPath(origin).stem,
                owner.lms_id,
                NotebookFile(
                    path=str(staged),
                    origin=where,
                    name=inner,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    modified=_zip_time(info),
                    modified_source="lms" if from_lms else "file",
                    is_notebook=is_nb,
                    problem=_sniff(data) if is_nb else _("not a notebook (.ipynb) file"),
                ),
            )
        )


@dataclass(frozen=True)
class _Owner:
    """Whose a member of an archive is: the top-level entry, the student's label, LMS id."""

    entry: str | None
    label: str | None
    lms_id: str | None
    inner: str = ""  # the member's name inside the student's submission


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if "\x00" in name:
        return _("a NUL character in the name")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return _("an absolute path")
    parts = re.split(r"[\\/]+", name)
    if any(p == ".." for p in parts):
        return _("a '..' path component (path traversal)")
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return _("a symbolic link")
    if info.flag_bits & 0x1:
        return _("encrypted")
    return None


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read one member, trusting its header's size no further than ``cap``."""
    with zf.open(info) as fh:
        data = fh.read(min(info.file_size, cap) + 1)
    if len(data) > info.file_size or len(data) > cap:
        raise ValueError(_("the member is larger than its header says"))
    return data


def _stage_name(origin: str) -> str:
    digest = hashlib.sha256(origin.encode()).hexdigest()[:8]
    return f"{slug(PurePosixPath(origin.replace(' › ', '/')).stem)}-{digest}"


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
