"""``grader reference verify`` on a broken copy of the model solution (TensorFlow, smoke profile).

One run of one notebook broken three ways at once: model 2a removed, the
written summary deleted, the frozen MobileNetV2 base left unfrozen. The
verification must fail and name each. The reference notebooks themselves are
verified by ``.ci/run`` (``grader reference verify --profile smoke``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.cli import main

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
    ),
]

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
SOLUTION = "hw5_model_solution.ipynb"


def _break(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = nb.cells
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## 3. Model 2a"))
    end = next(i for i, c in enumerate(cells) if c.source.startswith("## 4. Model 3a"))
    del cells[start:end]  # model 2a removed
    comparison = next(i for i, c in enumerate(cells) if "comparison = pd.DataFrame" in c.source)
    del cells[comparison]  # its table used model 2a's results
    summary = next(i for i, c in enumerate(cells) if c.source.startswith("## 7. Summary"))
    del cells[summary]  # the summary deleted
    transfer = next(i for i, c in enumerate(cells) if "base_model.trainable = False" in c.source)
    cells[transfer].source = cells[transfer].source.replace("base_model.trainable = False\n", "")
    assert "trainable = False" not in cells[transfer].source  # the base left unfrozen
    return nb


def test_verify_names_what_broke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reference"
    folder.mkdir()
    nb = nbformat.read(str(REFERENCE / SOLUTION), as_version=4)
    nbformat.write(_break(nb), str(folder / SOLUTION))
    spec = yaml.safe_load((REFERENCE / "expected.yaml").read_text(encoding="utf-8"))
    spec["rubric"] = str(ROOT / "rubrics" / "hw5.yaml")
    spec["notebooks"] = [n for n in spec["notebooks"] if n["path"] == SOLUTION]
    (folder / "expected.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "reference",
            "verify",
            "--profile",
            "smoke",
            "--reference",
            str(folder),
            "--bands",
            str(REFERENCE / "bands"),
            "--home",
            str(tmp_path / "home"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1, err
    text = " ".join(err.split())  # the console may wrap long lines
    assert "reference verification failed" in text
    assert "model 2a: Xception-like CNN (custom_xception) is missing" in text
    assert "requirement 'Written summary" in text and "no written summary" in text
    assert "model 3a: MobileNetV2, frozen base (transfer_frozen, MobileNetV2) is missing" in text
    assert "never frozen" in text and "left unfrozen" in text
