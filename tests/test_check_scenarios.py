"""Static check over whole fixture notebooks, one per style of submission."""

from __future__ import annotations

import pytest

from grader.evidence import NotebookInfo
from grader.extract import extract_evidence
from grader.grade.rubric import load_rubric
from tests.scenarios import SCENARIOS


def _evidence(name: str):  # type: ignore[no-untyped-def]
    nb, expected = SCENARIOS[name]()
    info = NotebookInfo(path=f"{name}.ipynb", sha256="0" * 64, nbformat="4.5", cells=len(nb.cells))
    return extract_evidence(nb, info), expected


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_models_kinds_and_accuracies(name: str) -> None:
    ev, exp = _evidence(name)
    assert ev.framework.value == exp.framework
    got = [(m.kind.value, m.base, m.test_accuracy, m.continues) for m in ev.models]
    assert len(got) == len(exp.models), got
    ids = [m.id for m in ev.models]
    for (kind, base, acc, cont), (gk, gb, ga, gc) in zip(exp.models, got, strict=True):
        assert gk == kind, got
        assert gb == base, got
        if acc is None:
            assert ga is None, got
        else:
            assert ga == pytest.approx(acc, abs=0.0006), got
        assert gc == (ids[cont] if cont is not None else None), got


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_model_says_where_its_accuracy_was_read_or_why_there_is_none(name: str) -> None:
    ev, exp = _evidence(name)
    for m in ev.models:
        if m.test_accuracy is not None:
            assert m.test_accuracy_missing is None
            prov = m.test_accuracy_provenance
            assert prov is not None and prov.cell is not None and prov.detail, m
        elif ev.hygiene.has_outputs:
            assert m.test_accuracy_missing is not None, m
            assert m.test_accuracy_missing.reason
    if exp.missing is not None:
        got = [
            m.test_accuracy_missing.code.value if m.test_accuracy_missing else None
            for m in ev.models
        ]
        assert got == exp.missing


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_notebook_flags_and_findings(name: str) -> None:
    ev, exp = _evidence(name)
    assert ev.has_curves == exp.has_curves
    assert ev.has_confusion_matrix == exp.has_confusion_matrix
    assert ev.has_written_summary == exp.has_written_summary
    codes = {f.code for f in ev.findings}
    for code in exp.findings:
        assert code in codes, codes
    for code in exp.absent_findings:
        assert code not in codes, codes


def test_complete_notebook_earns_full_points_without_hw4() -> None:
    ev, _ = _evidence("keras3_complete")
    from grader.intake.submission import StudentContext

    grade = load_rubric().grade(ev, StudentContext(submitted_hw4=False))
    assert grade.requirements_met, [(c.id, c.status, c.reason) for c in grade.criteria]
    assert grade.points == 3


def test_fine_tuning_stage_keeps_its_own_history() -> None:
    ev, _ = _evidence("keras3_complete")
    tl, ft = ev.models[2], ev.models[3]
    assert len(tl.history["val_accuracy"]) == 4
    assert len(ft.history["val_accuracy"]) == 3
    assert ft.continues == tl.id
    assert any("unfrozen" in c for c in ft.stage_change)
    assert ft.learning_rate == pytest.approx(1e-5)


def test_no_outputs_says_nothing_can_be_verified() -> None:
    ev, _ = _evidence("no_outputs")
    grade = load_rubric().grade(ev)
    assert not grade.requirements_met
    curves = next(c for c in grade.criteria if c.id == "curves")
    assert "without outputs" in curves.reason


def test_numbers_in_the_summary_that_contradict_the_outputs_are_a_finding() -> None:
    from tests.scenarios import keras2_czech

    nb, _ = keras2_czech()
    summary = nb.cells[-1]
    summary.source = summary.source.replace("přesnost 79 %", "přesnost 95 %")
    info = NotebookInfo(path="x.ipynb", sha256="0" * 64, nbformat="4.5", cells=len(nb.cells))
    ev = extract_evidence(nb, info)
    found = [f for f in ev.findings if f.code == "summary-number-mismatch"]
    assert len(found) == 1 and "95" in found[0].message
    assert ev.discussion.language == "cs"


def test_pasted_assignment_questions_are_not_a_summary() -> None:
    from tests.scenarios import loop_verbose2

    nb, _ = loop_verbose2()
    from nbformat import v4

    nb.cells.append(
        v4.new_markdown_cell(
            "## Summary\n\n- Which model generalizes best and why?\n- How does training time differ?\n"
        )
    )
    info = NotebookInfo(path="x.ipynb", sha256="0" * 64, nbformat="4.5", cells=len(nb.cells))
    assert not extract_evidence(nb, info).has_written_summary


def test_terminal_summary_says_where_each_accuracy_was_read_or_why_none() -> None:
    from rich.console import Console

    from grader.grade.result import CheckReport
    from grader.report.terminal import print_report

    ev, _ = _evidence("bagging_loop_and_an_ensemble")
    report = CheckReport(**ev.model_dump(), grade=load_rubric().grade(ev))
    console = Console(width=160, record=True)
    print_report(console, report)
    text = console.export_text()
    assert "0.5312 from cell 3: 'Ensemble test accuracy: 0.5312'" in text
    assert "none: only training accuracy (cell 1)" in text
    test_acc = next(c for c in report.grade.criteria if c.id == "test_accuracy")
    assert "only training accuracy (cell 1)" in test_acc.reason
