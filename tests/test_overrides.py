"""Decisions made by hand: the overrides.yaml model, applying it, `grader override`, `--only`.

The batch runs are static with the fake grading function of
tests/test_batch_support.py (no notebook is executed).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader.batch.options import BatchOptions
from grader.batch.outputs import read_class, read_overrides
from grader.batch.overrides import list_overrides, remove_override, set_override
from grader.batch.scheduler import BatchSummary, run_batch
from grader.cli import main
from grader.errors import OverrideError, UsageError
from grader.grade.overrides import (
    Override,
    OverrideFile,
    apply_overrides,
    check_overrides,
    dump_overrides,
    parse_overrides,
)
from grader.grade.result import Status
from grader.grade.rubric import load_rubric
from grader.intake.lookup import find_submission
from grader.intake.submission import ClassIntake, StudentContext, Submission
from tests.test_batch_support import (
    executions,
    fake_grade,
    make_evidence,
    make_report,
    write_notebook,
)

AT = datetime(2025, 11, 20, 10, 15, tzinfo=UTC)
ROSTER = """student_id,name,hw4,consultation,submitted_at
xnovak,Jan Novák,yes,yes,
xsvob,Petra Svobodová,yes,yes,2025-11-18 10:00
xdvor,Karel Dvořák,yes,yes,
"""


def _override(**kw: object) -> Override:
    base: dict[str, object] = {
        "student": "xnovak",
        "criterion": "test_accuracy",
        "status": "met",
        "reason": "the accuracies are in the markdown table of cell 31",
        "by": "jdoe",
        "at": AT,
        "sha256": make_report().notebook.sha256,
        "machine": "not_met",
    }
    base.update(kw)
    return Override.model_validate(base)


# ------------------------------------------------------------------ the file


def test_overrides_yaml_round_trips_and_keeps_diacritics() -> None:
    file = OverrideFile(overrides=[_override(name="Jan Novák")])
    text = dump_overrides(file)
    assert text.startswith("# Decisions made by hand")
    assert "Jan Novák" in text  # written as UTF-8, not escaped
    assert parse_overrides(text) == file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\noverrides:\n- student: x\n  reson: r\n",
            "overrides[0] (student 'x', criterion None): reson: unknown key (did you mean 'reason'?)",
        ),
        (
            "version: 1\noverrides: [{student: x, criterion: c, status: done, reason: r, by: b, "
            "at: 2025-11-20}]\n",
            "overrides[0] (student 'x', criterion 'c'): status: Input should be 'met' or 'not_met'",
        ),
        ("version: 2\n", "version"),
        ("- just a list\n", "expected a mapping"),
        ("version: [1\n", "not valid YAML"),
        (
            "version: 1\noverrides: [{student: x, criterion: c, status: met, reason: ' ', by: b, "
            "at: 2025-11-20}]\n",
            "must not be blank",
        ),
    ],
)
def test_a_bad_overrides_yaml_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(OverrideError) as err:
        parse_overrides(text, "OUT/overrides.yaml")
    assert err.value.message.startswith("OUT/overrides.yaml")
    assert message in err.value.message


def test_two_decisions_on_one_criterion_are_refused() -> None:
    text = dump_overrides(OverrideFile(overrides=[_override(), _override(status="not_met")]))
    with pytest.raises(OverrideError, match=r"again \(also overrides\[0\]\); keep one"):
        parse_overrides(text.replace("status: not_met", "status: met", 1))


def test_unknown_students_criteria_and_points_are_refused_with_suggestions() -> None:
    file = OverrideFile(
        overrides=[
            _override(student="xnovk"),
            _override(student="xsvob", criterion="test_acuracy"),
            _override(student="xdvor", criterion="three_models", points=5),
            _override(student="xdvor", criterion="curves", points=1),
            _override(student="xdvor", criterion="variants", status="not_met", points=1),
        ]
    )
    with pytest.raises(OverrideError) as err:
        check_overrides(
            file,
            students={"xnovak": "Jan Novák", "xsvob": "Petra Svobodová", "xdvor": "Karel Dvořák"},
            rubric=load_rubric(),
        )
    message = err.value.message
    assert "5 problems" in message
    assert "no submission 'xnovk' in this class (did you mean 'xnovak'?)" in message
    assert "no criterion 'test_acuracy' (did you mean 'test_accuracy'?)" in message
    assert "worth at most 1 point(s), not 5" in message
    assert "'curves' is a requirement: it earns no points itself" in message
    assert "not met earns no points" in message
    assert "nothing was changed" in message


# ------------------------------------------------------------------ applying


def test_a_decided_requirement_unblocks_the_criteria_that_need_it() -> None:
    report = make_report((0.62, None, 0.84))  # no accuracy for the residual CNN
    assert report.grade.points == 0
    decided = apply_overrides(report, [_override()], rubric=load_rubric())
    g = decided.grade
    status = {c.id: c.status for c in g.criteria}
    assert status["test_accuracy"] == Status.met
    assert status["three_models"] == Status.met and g.points == 2
    assert g.requirements_met
    (o,) = g.overrides
    assert o.machine_status == Status.not_met and o.status == Status.met
    assert not o.evidence_changed and o.note is None
    reason = next(c.reason for c in g.criteria if c.id == "test_accuracy")
    assert reason.startswith("decided by the instructor (jdoe, 2025-11-20): the accuracies")
    assert report.grade.points == 0  # the stored report is not changed


def test_points_criteria_take_the_points_given_and_resolve_review() -> None:
    ev = make_evidence()
    ev.discussion.mentions_variants = False
    rubric = load_rubric()
    ctx = StudentContext(submitted_hw4=True, consultation_done=True)
    from grader.grade.result import CheckReport

    report = CheckReport(**ev.model_dump(), grade=rubric.grade(ev, ctx))
    assert report.grade.needs_review and report.grade.points == 1
    decided = apply_overrides(
        report,
        [_override(criterion="variants", machine="needs_review")],
        rubric=rubric,
        context=ctx,
    )
    assert decided.grade.points == 2 and not decided.grade.needs_review
    refused = apply_overrides(
        report,
        [_override(criterion="variants", status="not_met", machine="needs_review")],
        rubric=rubric,
        context=ctx,
    )
    assert refused.grade.points == 1 and not refused.grade.needs_review
    assert refused.grade.overrides[0].points == 0 and refused.grade.overrides[0].machine_points == 0


def test_a_late_submission_accepted_or_refused() -> None:
    ctx = StudentContext(
        submitted_hw4=True, consultation_done=True, submitted_at="2025-11-18T10:00:00+01:00"
    )
    report = make_report(context=ctx)
    assert report.grade.needs_review and report.grade.points == 2
    rubric = load_rubric()
    accepted = apply_overrides(
        report, [_override(criterion="late", machine=None)], rubric=rubric, context=ctx
    )
    assert not accepted.grade.needs_review and accepted.grade.points == 2
    assert "accepted: decided by the instructor" in accepted.grade.notes[0]
    refused = apply_overrides(
        report,
        [_override(criterion="late", status="not_met", machine=None)],
        rubric=rubric,
        context=ctx,
    )
    assert refused.grade.points == 0 and refused.grade.counted is False
    assert "not accepted" in refused.grade.notes[0]
    on_time = apply_overrides(make_report(), [_override(criterion="late")], rubric=rubric)
    assert (
        on_time.grade.overrides[0].note
        == "the submission is not late: this decision changes nothing"
    )


def test_a_decision_on_other_notebook_bytes_applies_and_is_flagged() -> None:
    report = make_report((0.62, None, 0.84))
    stale = _override(sha256="f" * 64)
    decided = apply_overrides(report, [stale], rubric=load_rubric())
    (o,) = decided.grade.overrides
    assert o.evidence_changed and decided.grade.points == 2  # still applied...
    assert decided.grade.needs_review  # ...and on the review list
    assert o.note is not None and o.note.startswith("evidence changed since the decision")
    assert "ffffffffffff…" in o.note


def test_a_changed_finding_of_the_grader_is_noted() -> None:
    report = make_report()  # test_accuracy met by itself now
    decided = apply_overrides(report, [_override()], rubric=load_rubric())
    assert decided.grade.overrides[0].note == (
        "the grader's own finding changed since the decision (not_met then, met now)"
    )


# ------------------------------------------------------------------ finding students


def _intake() -> ClassIntake:
    subs = [
        Submission(id="novak-jan", student_id="xnovak", name="Jan Novák", lms_id="101"),
        Submission(id="novak-jan-2", student_id="xnovak2", name="Jan Novák", lms_id="102"),
        Submission(id="xsvob", student_id="xsvob", name="Petra Svobodová", lms_id="103"),
    ]
    return ClassIntake(source="class", submissions=subs)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("xsvob", "xsvob"),
        ("novak-jan-2", "novak-jan-2"),
        ("XNOVAK2", "novak-jan-2"),
        ("Participant 101", "novak-jan"),
        ("102", "novak-jan-2"),
        ("petra svobodova", "xsvob"),
        ("Svobodová Petra", "xsvob"),
        ("Petra", "xsvob"),
    ],
)
def test_students_are_found_by_id_number_or_folded_name(query: str, found: str) -> None:
    assert find_submission(_intake(), query).id == found


def test_a_name_two_students_share_asks_for_the_id() -> None:
    with pytest.raises(UsageError) as err:
        find_submission(_intake(), "jan novak")
    assert "names 2 students" in err.value.message
    assert "Jan Novák (novak-jan, student id xnovak, participant 101)" in err.value.message


def test_an_unknown_student_gets_a_suggestion() -> None:
    with pytest.raises(
        UsageError, match=r"no student 'Petra Svobodva' .*did you mean 'Petra Svobodová'"
    ):
        find_submission(_intake(), "Petra Svobodva")


# ------------------------------------------------------------------ a class, end to end


def _class(tmp_path: Path) -> Path:
    cls = tmp_path / "class"
    write_notebook(cls / "novak_jan.ipynb", accs=[0.62, None, 0.84])
    write_notebook(cls / "svobodova_petra.ipynb")
    write_notebook(cls / "dvorak.ipynb", summary=False)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return cls


def _batch(tmp_path: Path, **kw: object) -> BatchSummary:
    options = BatchOptions(
        source=tmp_path / "class",
        out=tmp_path / "out",
        roster=tmp_path / "roster.csv",
        run=None,
        **kw,  # type: ignore[arg-type]
    )
    return run_batch(options, grade=fake_grade, generated="2025-11-18 08:00")


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def test_an_override_shows_everywhere_and_survives_reruns(tmp_path: Path) -> None:
    _class(tmp_path)
    _batch(tmp_path)
    out = tmp_path / "out"
    assert _gradebook(out)["xnovak"]["points"] == "0"
    done = set_override(
        out,
        "Jan Novak",
        "test_accuracy",
        status="met",
        by="jdoe",
        at=AT,
        generated="g",
        reason="the accuracies are in the markdown table of cell 31",
    )
    assert (done.points_before, done.points_after, done.max_points) == (0, 2, 3)
    assert len(executions(out)) == 3  # nobody was graded again
    for attempt in ("after set", "after a rerun"):
        book = _gradebook(out)["xnovak"]
        assert book["points"] == "2", attempt
        assert "override" in book["flags"].split()
        assert book["overrides"].startswith(
            "test_accuracy: met by jdoe on 2025-11-20: the accuracies"
        )
        page = (out / "submissions" / "xnovak" / "report.html").read_text(encoding="utf-8")
        assert 'id="decisions"' in page and "markdown table of cell 31" in page
        assert "the grader found: not met" in page
        board = (out / "index.html").read_text(encoding="utf-8")
        assert 'data-key="xnovak" data-criterion="test_accuracy"' in board
        results = json.loads((out / "submissions" / "xnovak" / "results.json").read_text())
        assert results["score"] == 2 and results["extra_data"]["overrides"][0]["by"] == "jdoe"
        _batch(tmp_path)
    assert len(executions(out)) == 3
    stored = json.loads((out / "submissions" / "xnovak" / "evidence.json").read_text())
    assert stored["grade"]["points"] == 0  # the grader's own grade is kept as it was


def test_new_notebook_bytes_flag_the_decision_everywhere(tmp_path: Path) -> None:
    cls = _class(tmp_path)
    _batch(tmp_path)
    out = tmp_path / "out"
    set_override(out, "xnovak", "test_accuracy", status="met", reason="markdown table", by="jdoe")
    write_notebook(cls / "novak_jan.ipynb", accs=[0.6, None, 0.8])  # handed in again
    summary = _batch(tmp_path)
    assert executions(out).count("xnovak") == 2
    row = next(r for r in summary.results.rows if r.key == "xnovak")
    assert row.points == 2 and row.needs_review  # still applied, and up for review
    assert "evidence changed" in row.flags
    assert "evidence-changed" in _gradebook(out)["xnovak"]["flags"]
    assert "[evidence changed since the decision]" in _gradebook(out)["xnovak"]["overrides"]
    page = (out / "submissions" / "xnovak" / "report.html").read_text(encoding="utf-8")
    assert "Evidence changed since the decision" in page
    board = (out / "index.html").read_text(encoding="utf-8")
    assert "Decisions on old evidence" in board
    assert (
        "decision on Final test accuracy of each model (test_accuracy): evidence changed" in board
    )
    (listed,) = list_overrides(out)
    assert listed[1].evidence_changed
    # recording it again confirms it on the new notebook
    set_override(
        out, "xnovak", "test_accuracy", status="met", reason="still in markdown", by="jdoe"
    )
    assert (
        "evidence changed"
        not in next(r for r in read_class(out)[1].rows if r.key == "xnovak").flags
    )


def test_remove_brings_back_the_graders_finding(tmp_path: Path) -> None:
    _class(tmp_path)
    _batch(tmp_path)
    out = tmp_path / "out"
    set_override(out, "xnovak", "test_accuracy", status="met", reason="markdown", by="jdoe")
    done = remove_override(out, "Jan Novák", "test_accuracy")
    assert (done.points_before, done.points_after) == (2, 0)
    assert read_overrides(out).overrides == []
    assert not (out / "submissions" / "xnovak" / "overrides.json").exists()
    page = (out / "submissions" / "xnovak" / "report.html").read_text(encoding="utf-8")
    assert 'id="decisions"' not in page
    with pytest.raises(OverrideError, match="no decision about 'test_accuracy' for Jan Novák"):
        remove_override(out, "xnovak", "test_accuracy")


def test_bad_decisions_are_refused_and_nothing_recorded_is_lost(tmp_path: Path) -> None:
    _class(tmp_path)
    _batch(tmp_path)
    out = tmp_path / "out"
    set_override(out, "xnovak", "test_accuracy", status="met", reason="markdown", by="jdoe")
    before = (out / "overrides.yaml").read_bytes()
    cases = [
        (("nobody", "curves"), {}, "no student 'nobody' in this class"),
        (("xnovak", "curvs"), {}, "no criterion 'curvs' (did you mean 'curves'?)"),
        (("xnovak", "three_models"), {"points": 4}, "worth at most 1 point(s), not 4"),
        (("xnovak", "late"), {}, "did not hand in late"),
        (("xnovak", "curves"), {"reason": "  "}, "--reason is empty"),
    ]
    for (student, criterion), extra, message in cases:
        kw: dict[str, object] = {"status": "met", "reason": "r", "by": "jdoe", **extra}
        with pytest.raises((OverrideError, UsageError)) as err:
            set_override(out, student, criterion, **kw)  # type: ignore[arg-type]
        assert message in str(err.value)
    assert (out / "overrides.yaml").read_bytes() == before


def test_a_broken_hand_edit_stops_the_batch_before_anything_is_graded(tmp_path: Path) -> None:
    cls = _class(tmp_path)
    _batch(tmp_path)
    out = tmp_path / "out"
    set_override(out, "xnovak", "test_accuracy", status="met", reason="markdown", by="jdoe")
    path = out / "overrides.yaml"
    path.write_text(path.read_text().replace("reason:", "reson:"), encoding="utf-8")
    write_notebook(cls / "dvorak.ipynb", summary=True)  # would be graded again
    with pytest.raises(OverrideError, match=r"reson.*did you mean 'reason'"):
        _batch(tmp_path)
    assert len(executions(out)) == 3
    assert "reson:" in path.read_text()  # the file is left for the instructor to fix


def test_an_override_of_a_failed_submission_is_refused(tmp_path: Path) -> None:
    cls = _class(tmp_path)
    write_notebook(cls / "dvorak.ipynb", fail="bug")
    _batch(tmp_path)
    with pytest.raises(
        OverrideError, match=r"has no grade \(error: the grader failed.*--only xdvor"
    ):
        set_override(tmp_path / "out", "Karel Dvořák", "curves", status="met", reason="r", by="b")


def test_only_regrades_the_students_named_and_keeps_the_rest(tmp_path: Path) -> None:
    cls = _class(tmp_path)
    _batch(tmp_path)
    out = tmp_path / "out"
    write_notebook(cls / "svobodova_petra.ipynb", accs=[0.5, 0.6, 0.7])
    write_notebook(cls / "dvorak.ipynb", summary=True)
    summary = _batch(tmp_path, only=("karel dvorak",))
    assert executions(out)[3:] == ["xdvor"]
    assert summary.regraded == ["xdvor"]
    assert summary.graded_now == 1
    rows = {r.key: r for r in summary.results.rows}
    assert rows["xsvob"].submission is not None  # kept as it was graded before
    journal = json.loads((out / "journal" / "xsvob.json").read_text())
    assert journal["sha256"] != rows["xsvob"].submission.notebook.sha256  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="no student 'nobody'"):
        _batch(tmp_path, only=("nobody",))


def test_only_with_the_same_bytes_grades_again(tmp_path: Path) -> None:
    _class(tmp_path)
    _batch(tmp_path)
    _batch(tmp_path, only=("xsvob",))
    assert executions(tmp_path / "out")[3:] == ["xsvob"]


# ------------------------------------------------------------------ the commands


def test_override_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _class(tmp_path)
    _batch(tmp_path)
    out = str(tmp_path / "out")
    code = main(
        [
            "override",
            "set",
            out,
            "Jan Novák",
            "test_accuracy",
            "--status",
            "met",
            "--reason",
            "accuracies in markdown",
            "--by",
            "jdoe",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "Recorded: Jan Novák (xnovak), test_accuracy met; the grader found: not met" in printed
    assert "Points: 0 → 2 of 3." in printed
    assert main(["override", "list", out]) == 0
    listed = capsys.readouterr().out
    assert "test_accuracy" in listed and "jdoe" in listed and "markdown" in listed
    assert main(["override", "list", out, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc[0]["submission"] == "xnovak" and doc[0]["machine_status"] == "not_met"
    assert (
        main(["override", "set", out, "xnovak", "bogus", "--status", "met", "--reason", "r"]) == 2
    )
    assert "no criterion 'bogus'" in capsys.readouterr().err
    assert main(["override", "remove", out, "xnovak", "test_accuracy"]) == 0
    assert "the grader's own finding counts again" in capsys.readouterr().out
    assert main(["override", "list", str(tmp_path / "nowhere")]) == 2
    assert "not an output folder of `grader batch`" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


def test_an_entry_the_class_cannot_apply_can_be_removed(tmp_path: Path) -> None:
    _class(tmp_path)
    _batch(tmp_path)
    out = tmp_path / "out"
    set_override(out, "xnovak", "test_accuracy", status="met", reason="markdown", by="jdoe")
    ghost = _override(student="ghost", criterion="curves", name="Gone Student")
    path = out / "overrides.yaml"
    path.write_text(
        dump_overrides(read_overrides(out).with_override(ghost)).replace(
            "criterion: test_accuracy", "criterion: test_acc"
        ),
        encoding="utf-8",
    )
    with pytest.raises(OverrideError, match="no submission 'ghost' in this class"):
        _batch(tmp_path)
    first = remove_override(out, "ghost", "curves")
    assert first.submission is None and first.problem is not None
    assert "no criterion 'test_acc' (did you mean 'test_accuracy'?)" in first.problem
    second = remove_override(out, "xnovak", "test_acc")
    assert second.problem is None and read_overrides(out).overrides == []
    _batch(tmp_path)


def test_a_decision_whose_student_id_changed_names_the_submission_of_its_notebook() -> None:
    moved = OverrideFile(overrides=[_override(student="jan-novak", sha256="a" * 64)])
    with pytest.raises(OverrideError) as err:
        check_overrides(
            moved,
            students={"xnovak": "Jan Novák"},
            rubric=load_rubric(),
            notebooks={"a" * 64: "xnovak"},
        )
    assert "it was made on the notebook of 'xnovak': write student: xnovak" in err.value.message
