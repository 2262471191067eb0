"""Grades back into the LMS: Moodle's grading worksheet and feedback zip, a Canvas import.

The Moodle fixtures follow Moodle's own code (moodle/moodle on GitHub):

* the class zip: ``mod/assign/classes/downloader.php`` (Moodle 4.1+) names each
  student's folder ``Full Name_<participant>_assignsubmission_file`` (no
  trailing underscore; earlier versions added one);
* the worksheet: ``mod/assign/gradingtable.php`` writes, when downloading,
  Identifier ("Participant " + the participant number), Full name, the
  identity fields (here Email address), Status, Grade, Maximum Grade, Grade
  can be changed, Last modified (submission), the submission plugins' text
  fields (Online text), Last modified (grade), the feedback plugins' text
  fields (Feedback comments); English strings from
  ``mod/assign/lang/en/assign.php`` (hiddenuser = "Participant ", maxgrade =
  "Maximum Grade");
* :func:`moodle_import` reads a worksheet the way
  ``mod/assign/feedback/offline/importgradeslib.php`` does: columns found by
  their exact header, the participant number taken by stripping the length of
  "Participant ", unknown columns ignored;
* :func:`moodle_zip_import` reads folder names the way
  ``mod/assign/feedback/file/importziplib.php`` does (explode('_', part, 5)).

The Canvas fixture follows ``lib/gradebook_exporter.rb`` of instructure/canvas-lms.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from grader.batch.options import BatchOptions
from grader.batch.outputs import read_class
from grader.batch.overrides import set_override
from grader.batch.scheduler import BatchSummary, run_batch
from grader.cli import main
from grader.errors import LmsError
from grader.report.lms.canvas import fill_gradebook, read_gradebook
from grader.report.lms.moodle import (
    feedback_folder,
    feedback_zip,
    fill_worksheet,
    read_worksheet,
)
from grader.report.results import ClassResults, StudentRow
from tests.test_batch_support import fake_grade, write_notebook

HEADER = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Online text",
    "Last modified (grade)",
    "Feedback comments",
]
# participant, full name, e-mail, status (as Moodle writes them)
PEOPLE = [
    ("101", "Jan Novák", "jan.novak@example.cz", "Submitted for grading"),
    ("102", "Jan Novák", "jan.novak2@example.cz", "Submitted for grading"),
    ("103", "Petra Svobodová", "petra@example.cz", "Submitted for grading"),
    ("104", "Karel Dvořák", "karel@example.cz", "Submitted for grading"),
    ("106", "Tomáš Marek", "tomas@example.cz", "No submission"),
]


def moodle_worksheet(
    people: list[tuple[str, str, str, str]] = PEOPLE,
    *,
    header: list[str] = HEADER,
    max_grade: str = "3.00",
    delimiter: str = ",",
    prefix: str = "Participant ",
) -> bytes:
    """A worksheet as Moodle downloads it: UTF-8 with a BOM, every grade empty."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for pid, name, email, status in people:
        submitted = "Monday, 17 November 2025, 10:03 PM" if status.startswith("Sub") else "-"
        writer.writerow(
            [prefix + pid, name, email, status, "", max_grade, "Yes", submitted, "", "-", ""]
        )
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def moodle_import(data: bytes) -> dict[str, tuple[str, str]]:
    """Participant -> (grade, feedback), read the way Moodle's importer reads a worksheet."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header = rows[0]
    ident, grade = header.index("Identifier"), header.index("Grade")
    header.index("Last modified (grade)")  # Moodle refuses a worksheet without it
    feedback = header.index("Feedback comments")
    return {r[ident][len("Participant ") :]: (r[grade], r[feedback]) for r in rows[1:]}


def moodle_zip_import(data: bytes) -> dict[str, str]:
    """Participant -> file name, read the way Moodle's feedback zip importer reads folders."""
    found = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            for i, part in enumerate(parts):
                info = part.split("_", 4)
                if len(info) < 4 or not info[1].isdigit():
                    continue
                assert (info[2], info[3]) == ("assignfeedback", "file")
                found[info[1]] = "/".join(parts[i + 1 :])
                break
    return found


def _moodle_class(tmp_path: Path) -> Path:
    """Moodle's "download all submissions" zip of five participants (4.1+ folder names)."""
    src = tmp_path / "src"
    good = write_notebook(src / "a" / "hw5.ipynb").read_bytes()
    weaker = write_notebook(src / "b" / "hw5.ipynb", variants=False).read_bytes()
    late = write_notebook(src / "c" / "hw5.ipynb", summary=False).read_bytes()
    archive = tmp_path / "NN2-Homework 5-123.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        on_time = (2025, 11, 17, 22, 3, 0)
        zf.writestr(zipfile.ZipInfo("Jan Novák_101_assignsubmission_file/hw5.ipynb", on_time), good)
        zf.writestr(
            zipfile.ZipInfo("Jan Novák_102_assignsubmission_file/ukol5.ipynb", on_time), weaker
        )
        zf.writestr(
            zipfile.ZipInfo(
                "Petra Svobodová_103_assignsubmission_file/hw5.ipynb", (2025, 11, 19, 9, 0, 0)
            ),
            late,
        )
        zf.writestr(
            zipfile.ZipInfo("Karel Dvořák_104_assignsubmission_file/notes.txt", on_time), b"x"
        )
    return archive


def _batch(tmp_path: Path, source: Path, roster: Path | None = None) -> BatchSummary:
    options = BatchOptions(source=source, out=tmp_path / "out", roster=roster, run=None)
    return run_batch(options, grade=fake_grade, generated="2025-11-20 08:00")


@pytest.fixture
def moodle_out(tmp_path: Path) -> Path:
    _batch(tmp_path, _moodle_class(tmp_path))
    return tmp_path / "out"


def _link(row: StudentRow) -> str:
    return f"https://nn2.example.cz/hw5/{row.key}/report.html"


# ------------------------------------------------------------------ intake


def test_moodle_41_folders_and_namesakes_become_separate_students(moodle_out: Path) -> None:
    _, results = read_class(moodle_out)
    subs = {r.submission.lms_id: r for r in results.rows if r.submission}
    assert sorted(subs) == ["101", "102", "103", "104"]
    assert subs["101"].name == subs["102"].name == "Jan Novák"
    assert subs["101"].key != subs["102"].key
    assert "duplicate" not in subs["101"].flags
    assert subs["103"].late and subs["103"].needs_review
    assert subs["104"].state == "failed"


# ------------------------------------------------------------------ Moodle worksheet


def test_worksheet_round_trip_matches_by_participant(moodle_out: Path) -> None:
    _, results = read_class(moodle_out)
    ws = read_worksheet(moodle_worksheet(), where="grades.csv")
    filled = fill_worksheet(ws, results, report_link=_link, where="grades.csv")
    back = moodle_import(filled.text)
    points = {r.submission.lms_id: r.points for r in results.rows if r.submission}
    assert points["101"] != points["102"]  # namesakes with different grades...
    assert back["101"][0] == f"{points['101']}.00"  # ...each get their own
    assert back["102"][0] == f"{points['102']}.00"
    assert back["101"][1].startswith("<p>Homework 5: transfer learning")
    assert f"{points['102']} of 3 points" in back["102"][1]
    assert "https://nn2.example.cz/hw5/" in back["101"][1]
    # late, so it waits for the instructor: no grade, and the feedback says why
    assert back["103"][0] == "" and "provisional" in back["103"][1]
    assert back["104"][0] == "" and "not graded: no notebook" in back["104"][1]
    assert back["106"] == ("", "")  # nothing handed in: left as downloaded
    assert sorted(filled.written) == ["Jan Novák", "Jan Novák"]
    assert [n for n, _ in filled.held] == ["Petra Svobodová"]
    assert filled.no_submission == 1
    # every other cell, the header, the BOM and the order stay as downloaded
    original = list(csv.reader(io.StringIO(moodle_worksheet().decode("utf-8-sig"))))
    written = list(csv.reader(io.StringIO(filled.text.decode("utf-8-sig"))))
    assert filled.text.startswith(b"\xef\xbb\xbf") and written[0] == original[0]
    for a, b in zip(original[1:], written[1:], strict=True):
        assert [x for i, x in enumerate(a) if i not in (4, 10)] == [
            x for i, x in enumerate(b) if i not in (4, 10)
        ]


def test_decisions_release_a_held_grade_and_reach_the_feedback(moodle_out: Path) -> None:
    set_override(
        moodle_out, "Participant 103", "late", status="met", reason="doctor's note", by="jdoe"
    )
    _, results = read_class(moodle_out)
    back = moodle_import(
        fill_worksheet(read_worksheet(moodle_worksheet()), results, report_link=_link).text
    )
    assert back["103"][0] != ""
    assert (
        "Instructor&#x27;s decision: late submission accepted: doctor&#x27;s note."
        in back["103"][1]
    )


def test_include_held_and_rescale(moodle_out: Path) -> None:
    _, results = read_class(moodle_out)
    ws = read_worksheet(moodle_worksheet(max_grade="100,00"))
    with pytest.raises(LmsError, match=r"maximum grade .* is 100,00, the rubric's is 3 points"):
        fill_worksheet(ws, results, report_link=_link)
    filled = fill_worksheet(ws, results, report_link=_link, rescale=True, include_held=True)
    back = moodle_import(filled.text)
    p = next(r.points for r in results.rows if r.submission and r.submission.lms_id == "101")
    assert back["101"][0] == f"{p * 100 / 3:.2f}".replace(".", ",")  # decimal comma kept
    assert back["103"][0] != "" and "provisional" not in back["103"][1]


def test_a_czech_worksheet_with_columns_named(moodle_out: Path) -> None:
    _, results = read_class(moodle_out)
    czech = [
        "Identifikátor",
        "Celé jméno",
        "E-mailová adresa",
        "Stav",
        "Známka",
        "Maximální známka",
        "Známku lze změnit",
        "Naposledy změněno (odevzdání)",
        "Online text",
        "Naposledy změněno (známka)",
        "Komentáře k hodnocení",
    ]
    data = moodle_worksheet(header=czech, prefix="Účastník ", delimiter=";")
    with pytest.raises(LmsError) as err:
        read_worksheet(data, where="hodnoceni.csv")
    assert "no column 'Last modified (grade)'" in err.value.message
    assert "--column" in err.value.message and "'Naposledy změněno (známka)'" in err.value.message
    ws = read_worksheet(
        data,
        columns={"modified": "Naposledy změněno (známka)", "feedback": "Komentáře k hodnocení"},
    )
    assert ws.columns["identifier"] == 0 and ws.columns["grade"] == 4  # by values; "Známka"
    filled = fill_worksheet(ws, results, report_link=_link)
    rows = list(csv.reader(io.StringIO(filled.text.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == czech and rows[1][0] == "Účastník 101" and rows[1][4].endswith(".00")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            moodle_worksheet(header=[h if h != "Grade" else "Points" for h in HEADER]),
            "no column 'Grade'",
        ),
        ("Identifier,Grade\nParticipant 1,1\n".encode("cp1250") + b"\x9e", "not UTF-8"),
        (b"", "the file is empty"),
        (moodle_worksheet().replace(b"Participant 102", b"somebody"), "line 3: the identifier"),
        (
            moodle_worksheet().replace(b"Participant 102", b"Participant 101"),
            "participant 101 twice",
        ),
    ],
)
def test_a_bad_worksheet_says_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(LmsError, match=message):
        read_worksheet(data, where="grades.csv")


def test_a_worksheet_that_does_not_fit_the_class_is_refused(moodle_out: Path) -> None:
    _, results = read_class(moodle_out)
    other = read_worksheet(moodle_worksheet([("900", "X Y", "x@y", "Submitted for grading")]))
    with pytest.raises(LmsError, match="none of its 1 participants was graded here"):
        fill_worksheet(other, results, report_link=_link)
    group = read_worksheet(moodle_worksheet(PEOPLE[:2]))
    with pytest.raises(LmsError) as err:
        fill_worksheet(group, results, report_link=_link)
    assert (
        "Petra Svobodová (participant 103)" in err.value.message
        and "--partial" in err.value.message
    )
    filled = fill_worksheet(group, results, report_link=_link, partial=True)
    assert sorted(moodle_import(filled.text)) == ["101", "102"]
    assert ("Petra Svobodová", "103") in filled.not_in_sheet


def test_a_class_not_from_moodle_cannot_fill_a_worksheet(tmp_path: Path) -> None:
    write_notebook(tmp_path / "class" / "novak.ipynb")
    _batch(tmp_path, tmp_path / "class")
    _, results = read_class(tmp_path / "out")
    with pytest.raises(LmsError, match="no student of this class has a Moodle participant number"):
        fill_worksheet(read_worksheet(moodle_worksheet()), results, report_link=_link)


# ------------------------------------------------------------------ feedback files


def test_feedback_zip_in_the_layout_moodle_imports(moodle_out: Path) -> None:
    _, results = read_class(moodle_out)
    made = feedback_zip(results, render=lambda r: f"<html>{r.name} {r.points}</html>")
    assert moodle_zip_import(made.data) == {
        "101": "report.html",
        "102": "report.html",
        "104": "report.html",
    }
    with zipfile.ZipFile(io.BytesIO(made.data)) as zf:
        assert "Jan Novák_101_assignfeedback_file/report.html" in zf.namelist()
    assert [n for n, _ in made.held] == ["Petra Svobodová"]
    assert feedback_folder("Ana_Maria / O'Neil", "7") == "Ana Maria  O'Neil_7_assignfeedback_file"


# ------------------------------------------------------------------ Canvas


CANVAS = (
    '"Student","ID","SIS User ID","SIS Login ID","Section","Homework 5 (4242)","Quiz 1 (4243)",'
    '"Current Score","Final Score"\n'
    '"    Points Possible","","","","","3.00","10.00","(read only)","(read only)"\n'
    '"Novák, Jan","2001","xnovak","jnovak","NN2 101","","8.00","80","80"\n'
    '"Svobodová, Petra","2002","","xsvob","NN2 101","","9.00","90","90"\n'
    '"Dvořák, Karel","2003","","","NN2 102","","7.00","70","70"\n'
    '"Student, Test","2999","","","NN2 101","","","",""\n'
)
ROSTER = "student_id,name,hw4,consultation\nxnovak,Jan Novák,yes,yes\nxsvob,Petra Svobodová,yes,yes\nxdvor,Karel Dvořák,yes,yes\n"


def _roster_class(tmp_path: Path) -> ClassResults:
    cls = tmp_path / "class"
    write_notebook(cls / "novak.ipynb")
    write_notebook(cls / "svobodova.ipynb", variants=False)
    write_notebook(cls / "dvorak.ipynb", summary=False)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return _batch(tmp_path, cls, tmp_path / "roster.csv").results


def test_canvas_import_round_trip(tmp_path: Path) -> None:
    results = _roster_class(tmp_path)
    gb = read_gradebook(b"\xef\xbb\xbf" + CANVAS.encode("utf-8"), "canvas.csv")
    made = fill_gradebook(gb, results, assignment="Homework 5")
    assert made.column == "Homework 5 (4242)"
    back = read_gradebook(made.text, "written")
    assert back.header == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Homework 5 (4242)",
    ]
    assert back.points[5] == "3.00"
    grades = {r[1]: r[5] for r in back.students}
    points = {r.student_id: r.points for r in results.rows}
    assert grades == {
        "2001": f"{points['xnovak']}.00",  # SIS User ID
        "2002": f"{points['xsvob']}.00",  # SIS Login ID
        "2003": f"{points['xdvor']}.00",  # the name, diacritics and order folded
    }
    assert made.text.startswith(b"\xef\xbb\xbf")


def test_canvas_bad_inputs(tmp_path: Path) -> None:
    results = _roster_class(tmp_path)
    gb = read_gradebook(CANVAS.encode("utf-8"))
    with pytest.raises(LmsError, match=r"2 assignments; say which with --assignment"):
        fill_gradebook(gb, results)
    with pytest.raises(
        LmsError, match=r"no assignment is called 'Homework 6'.*did you mean 'Homework 5'"
    ):
        fill_gradebook(gb, results, assignment="Homework 6")
    with pytest.raises(LmsError, match=r"worth 10.00 points in Canvas, the rubric 3"):
        fill_gradebook(gb, results, assignment="4243")
    with pytest.raises(LmsError, match="no 'Points Possible' row"):
        read_gradebook(CANVAS.replace("    Points Possible", "Somebody").encode())
    with pytest.raises(LmsError, match="no column 'ID'"):
        read_gradebook(b"Student,Name\nx,y\n")


# ------------------------------------------------------------------ the commands


def test_lms_commands(moodle_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = tmp_path / "downloaded.csv"
    sheet.write_bytes(moodle_worksheet())
    out = str(moodle_out)
    assert main(["lms", "moodle", "export", out, "--worksheet", str(sheet)]) == 0
    printed = capsys.readouterr().out
    assert "2 grades filled in, feedback for each graded student" in printed
    assert "Petra Svobodová: needs the instructor's review" in printed
    assert "Upload grading worksheet (encoding UTF-8, separator comma)" in printed
    written = moodle_out / "lms" / "moodle-grading-worksheet.csv"
    assert moodle_import(written.read_bytes())["101"][0].endswith(".00")
    assert sheet.read_bytes() == moodle_worksheet()  # the download is never changed

    assert main(["lms", "moodle", "feedback-zip", out]) == 0
    assert "3 reports in the zip." in capsys.readouterr().out
    with zipfile.ZipFile(moodle_out / "lms" / "moodle-feedback-files.zip") as zf:
        page = zf.read("Jan Novák_101_assignfeedback_file/report.html").decode()
    assert "<!DOCTYPE html>" in page and "index.html" not in page  # no links into OUT

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Name,Points\nx,1\n")
    target = tmp_path / "never.csv"
    code = main(["lms", "moodle", "export", out, "--worksheet", str(bad), "-o", str(target)])
    assert code == 2 and not target.exists()
    assert "no column 'Identifier', 'Grade', 'Last modified (grade)'" in capsys.readouterr().err
    assert main(["lms", "moodle", "export", out, "--worksheet", str(sheet), "--column", "x"]) == 2
    assert "expected ROLE=HEADER" in capsys.readouterr().err


def test_canvas_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _roster_class(tmp_path)
    exported = tmp_path / "canvas.csv"
    exported.write_text(CANVAS, encoding="utf-8")
    args = ["lms", "canvas", "export", str(tmp_path / "out"), "--gradebook", str(exported)]
    assert main([*args, "--assignment", "4242"]) == 0
    assert "3 grades for Homework 5 (4242)." in capsys.readouterr().out
    assert (tmp_path / "out" / "lms" / "canvas-gradebook-import.csv").is_file()
    assert main(args) == 2
    assert "say which with --assignment" in capsys.readouterr().err
