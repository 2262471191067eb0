"""The bundled example submissions keep their expected grades (golden files).

The feedback a student reads is kept too, in each language the grader speaks
(``tests/golden/feedback/<student>.<lang>.md``: the Markdown summary, the same
content as the terminal's). Regenerate after an intended change with
    GRADER_UPDATE_GOLDEN=1 pytest tests/test_submissions.py
and review the diff of tests/golden/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from grader.grade.rubric import load_rubric
from grader.i18n import LANGUAGES, use_language
from grader.intake.roster import load_roster
from grader.pipeline import check_notebook

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"
EXPECTED = ROOT / "tests" / "golden" / "submissions"
FEEDBACK = ROOT / "tests" / "golden" / "feedback"
NOTEBOOKS = sorted(SUBMISSIONS.rglob("*.ipynb"))


def _summary(path: Path) -> dict[str, Any]:
    roster = load_roster(SUBMISSIONS / "roster.csv")
    entry = roster.find(path.parent.name)
    report = check_notebook(path, rubric=load_rubric(), context=entry.context() if entry else None)
    g = report.grade
    return {
        "framework": report.framework.value,
        "models": [
            {
                "kind": m.kind.value,
                "base": m.base,
                "continues": m.continues,
                "test_accuracy": None if m.test_accuracy is None else round(m.test_accuracy, 4),
                "curves_shown": m.curves_shown,
                "confusion_matrix_shown": m.confusion_matrix_shown,
            }
            for m in report.models
        ],
        "has_curves": report.has_curves,
        "has_confusion_matrix": report.has_confusion_matrix,
        "has_written_summary": report.has_written_summary,
        "findings": sorted({f.code for f in report.findings}),
        "grade": {
            "points": g.points,
            "potential_points": g.potential_points,
            "requirements_met": g.requirements_met,
            "needs_review": g.needs_review,
            "counted": g.counted,
            "criteria": {c.id: c.status.value for c in g.criteria},
        },
    }


def test_there_are_example_submissions() -> None:
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_example_submission_matches_its_golden_file(path: Path) -> None:
    got = _summary(path)
    golden = EXPECTED / f"{path.parent.name}.json"
    if os.environ.get("GRADER_UPDATE_GOLDEN"):
        EXPECTED.mkdir(exist_ok=True)
        golden.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with GRADER_UPDATE_GOLDEN=1"
    assert got == json.loads(golden.read_text(encoding="utf-8"))


def _feedback(path: Path) -> str:
    from grader.report.markdown import Checked, check_markdown

    roster = load_roster(SUBMISSIONS / "roster.csv")
    entry = roster.find(path.parent.name)
    report = check_notebook(path, rubric=load_rubric(), context=entry.context() if entry else None)
    name = path.relative_to(ROOT).as_posix()
    text = check_markdown([Checked(name, report, None)], totals=False)
    return text.replace(str(ROOT) + "/", "")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_example_feedback_matches_its_golden_file(path: Path, language: str) -> None:
    with use_language(language):
        got = _feedback(path)
    golden = FEEDBACK / f"{path.parent.name}.{language}.md"
    if os.environ.get("GRADER_UPDATE_GOLDEN"):
        FEEDBACK.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with GRADER_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8")
