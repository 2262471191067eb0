"""Class intake: folders, loose notebooks, LMS zips, duplicates, roster matching, lateness."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grader.intake.archive import ZipLimits
from grader.intake.classroom import choose_notebook, collect_class
from grader.intake.names import parse_lms_name
from grader.intake.roster import parse_roster
from grader.intake.submission import ClassIntake, NotebookFile
from tests.test_batch_support import write_notebook

ROSTER = """student_id,name,email,hw4,submitted_at,consultation
xnovak01,Jan Novák,jan.novak@example.cz,yes,,yes
xsvob02,Petra Svobodová,,no,,yes
xdvor03,Karel Dvořák,,yes,2025-11-19T10:00:00+01:00,no
xcern04,Eva Černá,,yes,,yes
"""
DEADLINE = datetime(2025, 11, 17, 23, 59, 59, tzinfo=UTC)


def _nb_bytes(tmp_path: Path, **fake: object) -> bytes:
    return write_notebook(tmp_path / "_src" / "nb.ipynb", **fake).read_bytes()


def _intake(source: Path, tmp_path: Path, **kw: object) -> ClassIntake:
    return collect_class(
        source,
        staging=tmp_path / "staging",
        roster=parse_roster(ROSTER),
        deadline=DEADLINE,
        **kw,  # type: ignore[arg-type]
    )


def _kinds(intake: ClassIntake) -> list[str]:
    return sorted(p.kind for p in intake.problems)


def _by_name(intake: ClassIntake) -> dict[str, object]:
    return {s.name: s for s in intake.submissions}


# ---------------------------------------------------------------- folders


def test_folder_of_loose_notebooks_and_student_folders(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    write_notebook(cls / "novak_jan_hw5.ipynb")
    write_notebook(cls / "Petra Svobodova" / "ukol5.ipynb")
    write_notebook(cls / "dvorak.ipynb")
    intake = _intake(cls, tmp_path)

    subs = {s.student_id: s for s in intake.submissions}
    assert set(subs) == {"xnovak01", "xsvob02", "xdvor03"}
    assert subs["xnovak01"].name == "Jan Novák" and subs["xnovak01"].in_roster
    assert subs["xsvob02"].notebook is not None
    assert subs["xsvob02"].notebook.origin == "Petra Svobodova/ukol5.ipynb"
    assert [m.student_id for m in intake.missing] == ["xcern04"]
    assert [s.student_id for s in intake.students] == ["xnovak01", "xsvob02", "xdvor03", "xcern04"]
    assert intake.problems == []
    # the roster's facts reach the grade
    assert subs["xsvob02"].context.submitted_hw4 is False
    assert subs["xnovak01"].context.consultation_done is True


def test_ids_are_stable_and_file_system_safe(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    write_notebook(cls / "Ünknown Pérson (2)" / "hw5.ipynb")
    write_notebook(cls / "xnovak01.ipynb")
    first = _intake(cls, tmp_path)
    again = _intake(cls, tmp_path)
    assert [s.id for s in first.submissions] == [s.id for s in again.submissions]
    assert {s.id for s in first.submissions} == {"xnovak01", "unknown-person-2"}


def test_unknown_submitter_and_stray_files(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    write_notebook(cls / "somebody_else.ipynb")
    (cls / "notes.txt").write_text("remember to grade")
    (cls / ".DS_Store").write_bytes(b"\0\0")
    write_notebook(cls / ".ipynb_checkpoints" / "x-checkpoint.ipynb")
    intake = _intake(cls, tmp_path)
    assert [s.name for s in intake.submissions] == ["somebody_else"]
    assert not intake.submissions[0].in_roster
    assert _kinds(intake) == ["ignored-file", "unknown-submitter"]


def test_broken_and_empty_notebooks_are_reported(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    cls.mkdir()
    (cls / "novak.ipynb").write_text("this is not a notebook")
    (cls / "svobodova.ipynb").write_bytes(b"")
    (cls / "Karel Dvorak").mkdir()
    (cls / "Karel Dvorak" / "report.pdf").write_bytes(b"%PDF-1.4")
    intake = _intake(cls, tmp_path)
    subs = _by_name(intake)
    assert _kinds(intake) == ["no-notebook", "not-a-notebook", "not-a-notebook"]
    novak = intake.submissions[0]
    assert novak.student_id == "xnovak01"
    assert novak.notebook is not None and "not JSON" in (novak.notebook.problem or "")
    assert subs["Karel Dvořák"].notebook is None  # type: ignore[attr-defined]


def test_several_notebooks_from_one_student_pick_one_and_say_why(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    folder = cls / "Jan Novak"
    write_notebook(folder / "Untitled.ipynb")
    write_notebook(folder / "hw5 - Copy.ipynb")
    write_notebook(folder / "HW5_final.ipynb")
    intake = _intake(cls, tmp_path)
    (sub,) = intake.submissions
    assert sub.notebook is not None and sub.notebook.name == "HW5_final.ipynb"
    assert sub.choice is not None and "names the assignment" in sub.choice
    assert "Untitled.ipynb" in sub.choice
    assert _kinds(intake) == ["several-notebooks"]


def test_duplicate_student_is_reported_and_graded_once(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    old = write_notebook(cls / "novak.ipynb")
    os.utime(old, (1_700_000_000, 1_700_000_000))
    write_notebook(cls / "Jan Novak" / "notebook.ipynb")
    intake = _intake(cls, tmp_path)
    (sub,) = [s for s in intake.submissions if s.student_id == "xnovak01"]
    assert sub.entries == ["Jan Novak", "novak.ipynb"]
    assert sub.notebook is not None and sub.notebook.origin == "Jan Novak/notebook.ipynb"
    assert "newest" in (sub.choice or "")
    assert "duplicate" in _kinds(intake)


def test_the_output_folder_and_roster_inside_the_class_folder_are_skipped(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    write_notebook(cls / "novak.ipynb")
    write_notebook(cls / "reports" / "submissions" / "x" / "evidence.ipynb")
    (cls / "roster.csv").write_text(ROSTER)
    intake = _intake(cls, tmp_path, exclude=[cls / "reports", cls / "roster.csv"])
    assert [s.student_id for s in intake.submissions] == ["xnovak01"]
    assert intake.problems == []


# ----------------------------------------------------------------- choice


def _file(
    name: str, *, size: int = 100, age_days: int = 0, problem: str | None = None
) -> NotebookFile:
    return NotebookFile(
        path=f"/x/{name}",
        origin=name,
        name=name,
        size=size,
        sha256="0" * 64,
        modified=datetime(2025, 11, 17, tzinfo=UTC) - timedelta(days=age_days),
        is_notebook=name.endswith(".ipynb"),
        problem=problem if name.endswith(".ipynb") else "not a notebook (.ipynb) file",
    )


@pytest.mark.parametrize(
    ("files", "expected", "why"),
    [
        (["a.ipynb"], "a.ipynb", None),
        (["notes.pdf"], None, None),
        (["hw5.ipynb", "experiments.ipynb"], "hw5.ipynb", "names the assignment"),
        (["du05.ipynb", "hw4.ipynb"], "du05.ipynb", "names the assignment"),
        (["hw5_backup.ipynb", "hw5.ipynb"], "hw5.ipynb", "drafts or copies"),
    ],
)
def test_choose_notebook_rules(files: list[str], expected: str | None, why: str | None) -> None:
    chosen, reason = choose_notebook([_file(f) for f in files])
    assert (chosen.name if chosen else None) == expected
    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason


def test_choose_prefers_readable_then_newest_then_largest() -> None:
    broken = _file("hw5.ipynb", problem="the file is empty")
    good = _file("main.ipynb", age_days=3)
    chosen, reason = choose_notebook([broken, good])
    assert chosen is good and reason is not None and "cannot be read" in reason
    older, newer = _file("a.ipynb", age_days=2), _file("b.ipynb", age_days=1)
    assert choose_notebook([older, newer])[0] is newer
    small, big = _file("a.ipynb", size=10), _file("b.ipynb", size=99)
    chosen, reason = choose_notebook([small, big])
    assert chosen is big and "largest" in (reason or "")


# ------------------------------------------------------------------- zips


def _moodle_zip(
    path: Path,
    members: dict[str, bytes],
    *,
    when: tuple[int, int, int, int, int, int] | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=when or (2025, 11, 16, 20, 15, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def test_identical_notebooks_of_different_students_are_flagged(tmp_path: Path) -> None:
    nb = _nb_bytes(tmp_path)
    cls = tmp_path / "class"
    cls.mkdir()
    (cls / "novak.ipynb").write_bytes(nb)
    (cls / "svobodova.ipynb").write_bytes(nb)
    (cls / "dvorak.ipynb").write_bytes(_nb_bytes(tmp_path, n=2))
    intake = _intake(cls, tmp_path)
    identical = [p for p in intake.problems if p.kind == "identical"]
    assert sorted(p.submission or "" for p in identical) == ["xnovak01", "xsvob02"]
    assert "Jan Novák, Petra Svobodová" in identical[0].message


def test_parse_lms_name() -> None:
    assert parse_lms_name("Jan Novák_123456_assignsubmission_file_") == ("Jan Novák", "123456", "")
    assert parse_lms_name("Ana_Maria Lopez_77_assignsubmission_file_hw5.ipynb") == (
        "Ana_Maria Lopez",
        "77",
        "hw5.ipynb",
    )
    assert parse_lms_name("hw5.ipynb") is None


def test_moodle_export_zip(tmp_path: Path) -> None:
    nb = _nb_bytes(tmp_path)
    archive = _moodle_zip(
        tmp_path / "hw5-submissions.zip",
        {
            "Jan Novák_123_assignsubmission_file_/hw5.ipynb": nb,
            "Jan Novák_123_assignsubmission_file_/notes.txt": b"draft",
            "Petra Svobodová_124_assignsubmission_file_/CIFAR/hw5.ipynb": _nb_bytes(tmp_path, n=2),
            # the flat form
            "Somebody Else_125_assignsubmission_file_ukol5.ipynb": _nb_bytes(tmp_path, n=3),
            "Karel Dvořák_126_assignsubmission_onlinetext_onlinetext.html": b"<p>see notebook</p>",
        },
    )
    intake = _intake(archive, tmp_path)
    subs = _by_name(intake)
    assert set(subs) == {"Jan Novák", "Petra Svobodová", "Somebody Else", "Karel Dvořák"}
    jan = intake.submissions[0]
    assert jan.student_id == "xnovak01" and jan.lms_id == "123"
    assert jan.notebook is not None
    assert (
        jan.notebook.origin
        == "hw5-submissions.zip › Jan Novák_123_assignsubmission_file_/hw5.ipynb"
    )
    assert Path(jan.notebook.path).read_bytes() == nb
    assert Path(jan.notebook.path).is_relative_to(tmp_path / "staging")
    # the time stored in the LMS archive is the submission time: before the deadline
    assert jan.submitted_at_source == "lms" and jan.late is False
    other = subs["Somebody Else"]
    assert other.in_roster is False and other.notebook is not None  # type: ignore[attr-defined]
    assert sorted(p.kind for p in intake.problems) == ["no-notebook", "unknown-submitter"]
    assert [m.student_id for m in intake.missing] == ["xcern04"]


def test_moodle_export_rerun_stages_the_same_files(tmp_path: Path) -> None:
    nb = _nb_bytes(tmp_path)
    archive = _moodle_zip(
        tmp_path / "export.zip", {"Jan Novák_1_assignsubmission_file_/hw5.ipynb": nb}
    )
    first = _intake(archive, tmp_path)
    staged = Path(first.submissions[0].notebook.path)  # type: ignore[union-attr]
    mtime = staged.stat().st_mtime_ns
    again = _intake(archive, tmp_path)
    assert again.submissions[0].notebook == first.submissions[0].notebook
    assert staged.stat().st_mtime_ns == mtime  # not written again


def test_zip_members_that_escape_are_refused(tmp_path: Path) -> None:
    nb = _nb_bytes(tmp_path)
    archive = tmp_path / "class" / "evil.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../outside.ipynb", nb)
        zf.writestr("/etc/absolute.ipynb", nb)
        zf.writestr("C:/windows.ipynb", nb)
        zf.writestr("dir\\..\\..\\backslash.ipynb", nb)
        link = zipfile.ZipInfo("link.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("hw5.ipynb", nb)
    intake = _intake(tmp_path / "class", tmp_path)
    unsafe = [p for p in intake.problems if p.kind == "unsafe-member"]
    assert len(unsafe) == 5
    assert any("path traversal" in p.message for p in unsafe)
    assert any("symbolic link" in p.message for p in unsafe)
    assert any("absolute" in p.message for p in unsafe)
    # the safe member is still taken, and nothing was written outside the staging folder
    (sub,) = intake.submissions
    assert sub.notebook is not None and sub.notebook.name == "hw5.ipynb"
    assert not (tmp_path / "outside.ipynb").exists()
    assert not (tmp_path / "staging" / "outside.ipynb").exists()
    for path in (tmp_path / "staging").rglob("*"):
        assert path.resolve().is_relative_to((tmp_path / "staging").resolve())


def test_corrupt_and_fake_zips_are_reported(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    cls.mkdir()
    (cls / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("hw5.ipynb", _nb_bytes(tmp_path))
    (cls / "truncated.zip").write_bytes(good.getvalue()[:40])
    write_notebook(cls / "novak.ipynb")
    intake = _intake(cls, tmp_path)
    assert [p.kind for p in intake.problems if p.severity == "error"] == [
        "bad-archive",
        "bad-archive",
    ]
    assert [s.student_id for s in intake.submissions] == ["xnovak01"]


def test_zip_limits(tmp_path: Path) -> None:
    nb = _nb_bytes(tmp_path)
    cls = tmp_path / "class"
    _moodle_zip(cls / "bomb.zip", {"hw5.ipynb": nb, "zeros.ipynb": b"{" + b" " * 5_000_000 + b"}"})
    _moodle_zip(cls / "many.zip", {f"f{i}.ipynb": nb for i in range(30)})
    intake = _intake(cls, tmp_path, limits=ZipLimits(max_members=20))
    messages = [p.message for p in intake.problems if p.kind == "archive-limit"]
    assert any("compression ratio" in m for m in messages)
    assert any("30 members" in m for m in messages)
    bomb = _by_name(intake)["bomb"]
    assert bomb.notebook is not None and bomb.notebook.name == "hw5.ipynb"  # type: ignore[attr-defined]

    pair = _moodle_zip(tmp_path / "pair.zip", {"a/hw5.ipynb": nb, "b/hw5.ipynb": nb})
    small = _intake(pair, tmp_path, limits=ZipLimits(max_total_bytes=len(nb) + 10))
    assert any("uncompressed" in p.message for p in small.problems)
    assert [f.name for s in small.submissions for f in s.files] == ["a/hw5.ipynb"]


def test_a_students_own_zip_inside_the_export(tmp_path: Path) -> None:
    nb = _nb_bytes(tmp_path)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("homework/hw5.ipynb", nb)
        zf.writestr("homework/data.csv", b"1,2,3")
    archive = _moodle_zip(
        tmp_path / "export.zip",
        {"Jan Novák_1_assignsubmission_file_/odevzdani.zip": inner.getvalue()},
    )
    intake = _intake(archive, tmp_path)
    (sub,) = [s for s in intake.submissions if s.student_id == "xnovak01"]
    assert sub.notebook is not None and sub.notebook.name == "homework/hw5.ipynb"
    assert "odevzdani.zip" in sub.notebook.origin


# --------------------------------------------------------------- lateness


def test_late_from_roster_time(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    write_notebook(cls / "dvorak.ipynb")
    (sub,) = _intake(cls, tmp_path).submissions
    assert sub.submitted_at_source == "roster" and sub.late is True
    assert sub.context.submitted_at == "2025-11-19T10:00:00+01:00"


def test_late_from_the_lms_archive_time(tmp_path: Path) -> None:
    archive = _moodle_zip(
        tmp_path / "export.zip",
        {"Jan Novák_1_assignsubmission_file_/hw5.ipynb": _nb_bytes(tmp_path)},
        when=(2025, 11, 20, 9, 0, 0),
    )
    (sub,) = [s for s in _intake(archive, tmp_path).submissions if s.student_id == "xnovak01"]
    assert sub.late is True and sub.context.submitted_at is not None


def test_file_times_only_when_asked(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    path = write_notebook(cls / "novak.ipynb")
    late = datetime(2025, 12, 1, tzinfo=UTC).timestamp()
    os.utime(path, (late, late))
    (sub,) = _intake(cls, tmp_path).submissions
    assert sub.submitted_at is None and sub.late is None
    (sub,) = _intake(cls, tmp_path, file_times=True).submissions
    assert sub.submitted_at_source == "file" and sub.late is True


def test_no_roster_every_submission_is_a_student(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    write_notebook(cls / "a.ipynb")
    write_notebook(cls / "b" / "hw5.ipynb")
    intake = collect_class(cls, staging=tmp_path / "s")
    assert [s.name for s in intake.submissions] == ["a", "b"]
    assert intake.problems == [] and intake.missing == [] and not intake.roster


def test_a_missing_source_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    intake = collect_class(tmp_path / "nope", staging=tmp_path / "s")
    assert [p.kind for p in intake.problems] == ["unreadable"]
