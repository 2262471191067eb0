"""The cross-class similarity report: planted copies found, honest look-alikes left alone.

The class comes from :mod:`tests.similarity_class` (built in code, seeded):
30 honest students on a common starter, the planted copies and the honest
look-alikes. Unit tests cover the pieces (normalisation, winnowing, outputs,
figures, models, rarity weights); scenario tests the command line, batch
folders as input, bad input and the HTML page.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from grader.cli import main
from grader.similarity.analyse import NotebookRef, compare_notebooks
from grader.similarity.architecture import extract_models
from grader.similarity.features import extract_features
from grader.similarity.fingerprints import fingerprint, kgram_hashes, token_ids, winnow
from grader.similarity.model import PairEvidence, SimilarityReport, SimilaritySettings
from grader.similarity.normalise import imported_names, normalise_cell
from grader.similarity.outputs import (
    clean_text,
    ink_distance,
    perceptual,
    read_lines,
    significant_digits,
    tone_distance,
)
from grader.similarity.score import Rarity
from tests.similarity_class import (
    SyntheticClass,
    build_class,
    png_chart,
    starter_cells,
    starter_notebook,
)

# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def synthetic() -> SyntheticClass:
    return build_class(30)


@pytest.fixture(scope="module")
def report(synthetic: SyntheticClass) -> SimilarityReport:
    return compare_notebooks(
        [(NotebookRef(sid, sid), nb) for sid, nb in synthetic.notebooks.items()]
    )


def _pair(report: SimilarityReport, a: str, b: str) -> PairEvidence | None:
    return next((p for p in report.pairs if {p.a, p.b} == {a, b}), None)


def _level(report: SimilarityReport, a: str, b: str) -> str:
    p = _pair(report, a, b)
    return p.level if p else "nothing notable"


def _small_class(tmp_path: Path, n: int = 4, seed: int = 5) -> tuple[Path, SyntheticClass]:
    cls = build_class(n, seed=seed, planted=False)
    return cls.write(tmp_path / "class"), cls


# ------------------------------------------------------------ the synthetic class


def test_every_planted_copy_ranks_above_every_honest_pair(
    synthetic: SyntheticClass, report: SimilarityReport
) -> None:
    planted = {frozenset(pair): label for label, pair in synthetic.planted.items()}
    assert len(planted) == 5
    ranks = {
        planted[frozenset((p.a, p.b))]: r
        for r, p in enumerate(report.pairs)
        if frozenset((p.a, p.b)) in planted
    }
    assert set(ranks) == set(synthetic.planted), f"missing: {set(synthetic.planted) - set(ranks)}"
    assert max(ranks.values()) == len(planted) - 1, ranks  # the top ranks, all of them
    lowest_planted = min(p.score for p in report.pairs if frozenset((p.a, p.b)) in planted)
    others = [p for p in report.pairs if frozenset((p.a, p.b)) not in planted]
    assert all(p.score < lowest_planted for p in others)
    for p in report.pairs[: len(planted)]:
        assert p.level == "worth a look"
        assert p.reasons and not any("cop" in r.lower() for r in p.reasons)  # never an accusation


def test_no_honest_pair_is_worth_a_look(
    synthetic: SyntheticClass, report: SimilarityReport
) -> None:
    copies = {c for c, _ in synthetic.planted.values()}
    flagged = [
        (p.a, p.b, p.score)
        for p in report.pairs
        if p.level == "worth a look" and not {p.a, p.b} & copies
    ]
    assert flagged == []


def test_students_sharing_only_the_starter_and_textbook_model_are_nothing_notable(
    synthetic: SyntheticClass, report: SimilarityReport
) -> None:
    a, b = synthetic.lookalikes["starter-only"]
    assert _level(report, a, b) == "nothing notable"


def test_the_same_popular_base_with_default_settings_is_not_flagged(
    synthetic: SyntheticClass, report: SimilarityReport
) -> None:
    a, b = synthetic.lookalikes["mobilenet"]
    assert _level(report, a, b) == "nothing notable"
    pair = _pair(report, a, b)
    if pair is not None:  # the shared model is named, but weighs little: a standard pattern
        assert pair.channels.architecture < 0.2


def test_pasted_outputs_are_found_without_shared_code(
    synthetic: SyntheticClass, report: SimilarityReport
) -> None:
    copy, orig = synthetic.planted["pasted"]
    p = _pair(report, copy, orig)
    assert p is not None
    assert p.channels.code < 0.25  # the code is the student's own
    assert p.log_lines_total >= 10
    assert p.numbers, "the printed test accuracies"
    kinds = {m.kind for m in p.images}
    assert kinds == {"identical", "near-identical"}  # one figure was re-encoded
    assert any(r.startswith("Training logs:") for r in p.reasons)
    assert any(r.startswith("Figures:") for r in p.reasons)


def test_code_copies_show_the_matching_cells(
    synthetic: SyntheticClass, report: SimilarityReport
) -> None:
    for label in ("renamed", "reordered", "rerun", "partial"):
        copy, orig = synthetic.planted[label]
        p = _pair(report, copy, orig)
        assert p is not None and p.cells, label
        assert p.channels.code > 0.8, label
        best = p.cells[0]
        assert max(best.share_a, best.share_b) > 0.6
        assert best.source_a and best.source_b  # top pairs carry the code for the page
    rerun = _pair(report, *synthetic.planted["rerun"])
    assert rerun is not None and rerun.code_share_a > 0.95 and rerun.code_share_b > 0.95
    assert not rerun.log_lines and not rerun.images  # re-run: other numbers and figures
    reordered = _pair(report, *synthetic.planted["reordered"])
    assert reordered is not None
    assert any(c.cell_a != c.cell_b for c in reordered.cells)  # matched across positions
    partial = _pair(report, *synthetic.planted["partial"])
    assert partial is not None
    assert any(m.hyperparameters for m in partial.architectures)


def test_copies_with_changed_hyperparameters_are_found_when_numbers_are_ignored(
    synthetic: SyntheticClass,
) -> None:
    import re

    copy, orig = synthetic.planted["rerun"]
    notebooks = json.loads(json.dumps(synthetic.notebooks))
    for cell in notebooks[copy]["cells"]:  # every number in the code changed
        if cell["cell_type"] == "code":
            src = "".join(cell["source"])
            cell["source"] = re.sub(r"\b\d+\b", lambda m: str(int(m.group()) + 1), src)
    refs = [(NotebookRef(sid, sid), nb) for sid, nb in notebooks.items()]
    by_value = _pair(compare_notebooks(refs), copy, orig)
    any_number = _pair(
        compare_notebooks(refs, settings=SimilaritySettings(code_numbers=False)), copy, orig
    )
    assert any_number is not None and any_number.level == "worth a look"
    assert any_number.code_share_a > 0.9
    assert by_value is None or by_value.code_share_a < any_number.code_share_a


def test_submission_summaries_point_at_the_closest_partner(
    synthetic: SyntheticClass, report: SimilarityReport
) -> None:
    by_id = {s.id: s for s in report.submissions}
    for copy, orig in synthetic.planted.values():
        assert by_id[copy].top_partner == orig
        assert by_id[copy].top_level == "worth a look"
    assert report.class_size == len(synthetic.notebooks)
    assert report.pairs == sorted(report.pairs, key=lambda p: -p.score)


def test_instructor_starter_removes_its_code() -> None:
    # three students who share the starter, run as given, and nothing else; in a class this
    # small how common something is cannot be judged, so only the starter notebook helps
    own = [
        "def augment(batch):\n    return tf.image.random_flip_left_right(batch)\n"
        "x_aug = augment(x_train[:64])\nprint(x_aug.shape, float(tf.reduce_mean(x_aug)))",
        "errors = [i for i, (p, t) in enumerate(zip(preds, y_test)) if p != t]\n"
        "for i in errors[:9]:\n    plt.subplot(3, 3, errors.index(i) + 1)\n    plt.imshow(x_test[i])",
        "import pandas as pd\ntable = pd.DataFrame({'model': names, 'accuracy': scores})\n"
        "table.sort_values('accuracy', ascending=False).plot.bar(x='model')",
    ]
    sample = {"output_type": "display_data", "metadata": {},
              "data": {"image/png": _png_b64(), "text/plain": "<Figure>"}}  # fmt: skip
    nbs = []
    for k, src in enumerate(own):
        nb = json.loads(json.dumps(starter_notebook()))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and "imshow" in "".join(cell["source"]):
                cell["outputs"] = [sample]  # the sample images: the same figure for everyone
        nb["cells"].append(_cell(src))
        nbs.append((NotebookRef(f"s{k}", f"s{k}"), nb))
    without = compare_notebooks(nbs)
    assert without.pairs and all(p.level == "worth a look" for p in without.pairs)
    assert any("cannot be judged" in n for n in without.notes)
    with_starter = compare_notebooks(nbs, starters=[starter_notebook()])
    assert all(p.level == "nothing notable" for p in with_starter.pairs)
    assert all(not p.cells and not p.images for p in with_starter.pairs)
    assert any("starter code given" in n for n in with_starter.notes)


def _png_b64() -> str:
    import base64

    return base64.b64encode(png_chart([[[0.1, 0.5, 0.3], [0.2, 0.4, 0.9]]], (120, 60))).decode()


def test_starter_cells_never_match_in_a_large_class(
    synthetic: SyntheticClass, report: SimilarityReport
) -> None:
    starter_sources = {c.source for c in starter_cells() if c.kind == "code"}
    for p in report.pairs:
        for c in p.cells:
            assert c.source_a not in starter_sources or c.source_b not in starter_sources


# ---------------------------------------------------------- normalisation


def test_renaming_comments_blank_lines_and_docstrings_do_not_change_the_tokens() -> None:
    imports = imported_names(["import tensorflow as tf\nfrom tensorflow.keras import layers"])
    a = '''
def build(width, drop=0.3):
    """A small CNN."""
    # first block
    net = tf.keras.Sequential([
        layers.Conv2D(width, (3, 3), activation='relu', padding="same"),  # conv
        layers.Dropout(drop),
        layers.Dense(10, activation='softmax'),
    ])

    return net
'''
    b = """
def make_model(w, p=0.5):
    m = tf.keras.Sequential([layers.Conv2D(w, (5, 5), activation="relu", padding='same'),
                             layers.Dropout(p), layers.Dense(5, activation="softmax")])
    return m
"""
    assert normalise_cell(a, imports, numbers=False) == normalise_cell(b, imports, numbers=False)
    assert normalise_cell(a, imports) != normalise_cell(b, imports)  # other hyper-parameters
    same_numbers = b.replace("(5, 5)", "(3, 3)").replace("0.5", "0.3").replace("(5,", "(10,")
    assert normalise_cell(a, imports) == normalise_cell(same_numbers, imports)
    other_alias = imported_names(
        ["import tensorflow as tflow\nfrom tensorflow.keras import layers"]
    )
    assert normalise_cell(b.replace("tf.", "tflow."), other_alias) == normalise_cell(b, imports)


def test_structure_and_api_names_are_kept() -> None:
    tokens = normalise_cell("model.add(layers.Conv2D(32, 3, activation='relu'))\nprint('Loss is')")
    assert {"model", "add", "layers", "Conv2D", "activation", "'relu'"} - set(tokens) == {"model"}
    assert {"V", "N32", "N3", "S"} <= set(tokens)  # names, numbers, free text
    assert normalise_cell("lr = 1e-3") == normalise_cell("rate = 0.001")
    assert normalise_cell("x = 3.0") == normalise_cell("y = 3")
    assert normalise_cell("x = Dense(10)") != normalise_cell("x = Conv2D(10)")
    bare = normalise_cell("from tensorflow.keras.layers import *\nx = Conv2D(8, 3)(x)")
    assert "Conv2D" in bare


def test_magics_and_broken_code_are_read() -> None:
    tokens = normalise_cell("%matplotlib inline\n!pip install tensorflow\nx = 1")
    assert tokens == ["V", "=", "N1", ";"]
    assert normalise_cell("%%bash\nls -l") == []
    broken = normalise_cell("for i in range(3:\n    model.fit(x, epochs=5")
    assert "fit" in broken and "epochs" in broken


# ------------------------------------------------------------- fingerprints


def test_winnowing_finds_every_long_enough_shared_run() -> None:
    rng = random.Random(3)
    k, w = 5, 4
    for _ in range(50):
        shared = [rng.choice("abcdefghij") for _ in range(w + k - 1)]
        a = [rng.choice("klmnop") for _ in range(rng.randint(0, 30))] + shared
        b = shared + [rng.choice("qrstuv") for _ in range(rng.randint(0, 30))]
        fa = set(winnow(kgram_hashes(token_ids(a), k), w))
        fb = set(winnow(kgram_hashes(token_ids(b), k), w))
        assert fa & fb


def test_fingerprints_are_stable_and_insensitive_to_cell_order() -> None:
    tokens = normalise_cell("model = keras.Sequential([layers.Dense(64), layers.Dense(10)])\n" * 3)
    first = fingerprint(tokens, k=12, window=8, min_tokens=8)
    assert first == fingerprint(list(tokens), k=12, window=8, min_tokens=8)
    code = subprocess.run(
        [
            sys.executable,
            "-c",
            "from grader.similarity.fingerprints import kgram_hashes, token_ids;"
            "print(kgram_hashes(token_ids(list('abcdefghijklmn')), 5))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    assert json.loads(code) == kgram_hashes(token_ids(list("abcdefghijklmn")), 5)
    nb = {"cells": [_cell("x = keras.layers.Dense(64)(x)\ny = keras.layers.Dense(10)(x)\n" * 2),
                    _cell("model.compile(optimizer='adam', loss='mse')\nmodel.fit(x, y, epochs=3)")]}  # fmt: skip
    flipped = {"cells": list(reversed(nb["cells"]))}
    assert extract_features(nb).fingerprints() == extract_features(flipped).fingerprints()


def _cell(source: str, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "source": source, "outputs": outputs or [], "metadata": {}}


# ------------------------------------------------------------------ outputs


def test_text_is_read_as_a_terminal_shows_it() -> None:
    text = "Epoch 1/2\n\r 1/63 \x1b[32m━━\x1b[0m - loss: 9.9999\r63/63 ━━ - loss: 1.2345\n"
    assert clean_text(text) == "Epoch 1/2\n63/63 ━━ - loss: 1.2345\n"
    assert clean_text("abc\b\bXY") == "aXY"


def test_only_precise_numbers_count() -> None:
    numbers, logs = read_lines(
        "Test accuracy: 0.8234\nbatch 32, 10 epochs, lr 0.1\nTotal params: 1,234 (4.77 MB)\n"
        "63/63 - 4s - accuracy: 0.6234 - loss: 1.0456 - val_accuracy: 0.6010\n",
        3,
    )
    assert [n.text for n in numbers] == ["0.8234"]
    assert numbers[0].cell == 3
    assert [log.key for log in logs] == [("0.6234", "1.0456", "0.601")]
    assert significant_digits("0.7230") == 3
    assert significant_digits("1.2345e-03") == 5


def _curves_png(seed: int, dpi: int = 72) -> bytes:
    """Learning curves the way students draw them (matplotlib, two panels)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = random.Random(seed)
    acc = [0.3 + 0.4 * (1 - (1 - (i + 1) / 15) ** 2) + rng.uniform(-0.02, 0.02) for i in range(15)]
    val = [a - rng.uniform(0.0, 0.06) for a in acc]
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    ax[0].plot([1.6 * (1 - a) for a in acc], label="train")
    ax[0].plot([1.6 * (1 - a) + 0.1 for a in val], label="validation")
    ax[0].legend()
    ax[1].plot(acc, label="train")
    ax[1].plot(val, label="validation")
    ax[1].legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def test_a_reencoded_figure_is_near_identical_and_other_curves_are_not() -> None:
    import io

    from PIL import Image

    a, b = _curves_png(1), _curves_png(2)  # the same layout, other numbers
    im = Image.open(io.BytesIO(a)).convert("RGB")
    jpeg, small = io.BytesIO(), io.BytesIO()
    im.save(jpeg, "JPEG", quality=70)
    im.resize((im.width * 3 // 4, im.height * 3 // 4), Image.Resampling.LANCZOS).save(small, "PNG")
    pa, pb = perceptual(a), perceptual(b)
    assert pa[0] is not None and pb[0] is not None and pa[1] is not None and pb[1] is not None
    for copy in (jpeg.getvalue(), small.getvalue()):
        pc = perceptual(copy)
        assert pc[0] is not None and pc[1] is not None
        assert ink_distance(pa[0], pc[0]) < 0.1
        assert tone_distance(pa[1], pc[1]) < 3.0
    assert ink_distance(pa[0], pb[0]) > 0.15
    assert perceptual(b"not an image") == (None, None, 0, 0)


# -------------------------------------------------------------- architecture


def test_models_are_read_from_the_source_in_a_canonical_form() -> None:
    a = extract_models(
        [
            (0, "N = 10\nLR = 5e-4"),
            (
                1,
                "m = keras.Sequential([layers.Conv2D(32, (3, 3), activation='relu', name='c1'),\n"
                "    layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(N, activation='softmax')])",
            ),
            (2, "m.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss='mse')"),
            (3, "h = m.fit(x, y, epochs=7, batch_size=64, validation_split=0.1)"),
        ]
    )
    b = extract_models(
        [
            (
                4,
                "net = Sequential()\nnet.add(Conv2D(filters=32, kernel_size=3, activation='relu'))\n"
                "net.add(MaxPooling2D(pool_size=2))\nnet.add(Flatten())\n"
                "net.add(Dense(10, activation='softmax'))\n"
                "opt = Adam(5e-4)\nnet.compile(loss='mse', optimizer=opt)\n"
                "net.fit(x, y, batch_size=64, epochs=7, verbose=2)",
            )
        ]
    )
    assert len(a) == len(b) == 1
    assert a[0].full_key == b[0].full_key
    assert "Conv2D(32, 3, activation='relu')" in a[0].description()
    assert "epochs 7, batch size 64" in a[0].description()
    assert a[0].cell == 1 and b[0].cell == 4
    adam = extract_models(
        [
            (
                0,
                "m = Sequential([Dense(8), Dense(2)])\nm.compile(optimizer='adam')\nm.fit(x, epochs=2)",
            )
        ]
    )
    default = extract_models(
        [
            (
                0,
                "m = Sequential([Dense(8), Dense(2)])\nm.compile(optimizer=Adam())\nm.fit(x, epochs=2)",
            )
        ]
    )
    assert adam[0].full_key == default[0].full_key


def test_rarity_weights_what_few_share() -> None:
    r = Rarity(30, SimilaritySettings())
    assert r(2) == 1.0
    assert 0.0 < r(5) < r(3) < 1.0
    assert r(12) == 0.0 and r(30) == 0.0
    assert Rarity(3, SimilaritySettings())(3) == 1.0  # too few to judge


# ------------------------------------------------------------- command line


def test_cli_writes_the_page_and_the_json(
    synthetic: SyntheticClass, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = synthetic.write(tmp_path / "class")
    starter = synthetic.write_starter(tmp_path / "starter.ipynb")
    out = tmp_path / "out"
    code = main(
        ["similarity", str(folder), "--out", str(out), "--starter", str(starter), "--top", "8"]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert (out / "similarity.html").is_file() and (out / "similarity.json").is_file()
    doc = SimilarityReport.model_validate_json((out / "similarity.json").read_text())
    assert doc.settings.starters == [str(starter)]
    planted = {frozenset(p) for p in synthetic.planted.values()}
    assert {frozenset((p.name_a, p.name_b)) for p in doc.pairs[:5]} == planted  # ids are slugs
    assert "worth a look" in captured.out and "copy_pasted" in captured.out
    assert "reading 39 notebooks" in captured.err  # progress goes to stderr
    _check_page(out / "similarity.html", doc)


def test_cli_json_goes_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = _small_class(tmp_path)
    code = main(["similarity", str(folder), "--out", str(tmp_path / "o"), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    doc = json.loads(captured.out)
    assert doc["class_size"] == 4 and "pairs" in doc


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such file or folder"),
        ("empty", "no notebooks (*.ipynb) found"),
        ("not-a-class", "not a class folder"),
        ("starter-missing", "starter notebook"),
        ("starter-bad", "is not a notebook"),
        ("intake-bad", "cannot be read as a batch intake"),
    ],
)
def test_bad_input_exits_2_with_the_reason(
    setup: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["similarity"]
    if setup == "missing":
        args.append(str(tmp_path / "nowhere"))
    elif setup == "empty":
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "notes.txt").write_text("no notebooks here")
        args.append(str(tmp_path / "empty"))
    elif setup == "not-a-class":
        (tmp_path / "grades.csv").write_text("a,b\n")
        args.append(str(tmp_path / "grades.csv"))
    else:
        folder, _ = _small_class(tmp_path, 2)
        args.append(str(folder))
        if setup == "starter-missing":
            args += ["--starter", str(tmp_path / "starter.ipynb")]
        elif setup == "starter-bad":
            (tmp_path / "starter.ipynb").write_text("<html>not json</html>")
            args += ["--starter", str(tmp_path / "starter.ipynb")]
        else:
            batch = tmp_path / "batch"
            (batch / "submissions").mkdir(parents=True)
            (batch / "intake.json").write_text('{"source": 3}')
            args[-1] = str(batch)
    code = main([*args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_unreadable_notebooks_are_skipped_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = _small_class(tmp_path, 3)
    (folder / "broken.ipynb").write_text('{"cells": [')
    (folder / "empty.ipynb").write_bytes(b"")
    out = tmp_path / "out"
    assert main(["similarity", str(folder), "--out", str(out)]) == 0
    doc = SimilarityReport.model_validate_json((out / "similarity.json").read_text())
    reasons = {s.name: s.reason for s in doc.skipped}
    assert set(reasons) == {"broken", "empty"}
    assert all(reasons.values())
    assert doc.class_size == 3
    assert "skipped broken" in capsys.readouterr().out


def test_fewer_than_two_readable_notebooks_is_a_report_that_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = _small_class(tmp_path, 1)
    (folder / "broken.ipynb").write_text("not json")
    out = tmp_path / "out"
    assert main(["similarity", str(folder), "--out", str(out)]) == 0
    doc = SimilarityReport.model_validate_json((out / "similarity.json").read_text())
    assert doc.class_size == 1 and doc.pairs == []
    assert any("Fewer than two" in n for n in doc.notes)
    assert "Fewer than two" in capsys.readouterr().out
    assert "Fewer than two readable notebooks" in (out / "similarity.html").read_text()


def _batch_folder(tmp_path: Path, source: Path) -> Path:
    """What `grader batch` leaves behind that the similarity report reads."""
    from grader.intake.classroom import collect_class

    batch = tmp_path / "batch"
    intake = collect_class(source, staging=batch / "intake")
    for sub in intake.submissions:
        (batch / "submissions" / sub.id).mkdir(parents=True, exist_ok=True)
    (batch / "intake.json").write_text(intake.model_dump_json(indent=1))
    return batch


def test_a_batch_output_folder_is_read_from_its_intake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, cls = _small_class(tmp_path, 5)
    archive = tmp_path / "export.zip"  # an LMS export: notebooks are staged by the batch
    with zipfile.ZipFile(archive, "w") as zf:
        for i, sid in enumerate(cls.notebooks):
            zf.write(
                folder / f"{sid}.ipynb",
                f"Student {sid}_{1000 + i}_assignsubmission_file_/hw5.ipynb",
            )
    batch = _batch_folder(tmp_path, archive)
    moved = tmp_path / "moved"
    shutil.move(batch, moved)  # the batch folder was copied elsewhere: staged files move too
    assert main(["similarity", str(moved)]) == 0
    capsys.readouterr()
    from grader.report.similarity import read_similarity

    doc = read_similarity(moved)  # next to the dashboard, where the batch left its files
    assert doc is not None
    assert doc.class_size == 5 and not doc.skipped
    ids = {s["id"] for s in json.loads((moved / "intake.json").read_text())["submissions"]}
    assert {s.id for s in doc.submissions} == ids


def test_reading_in_worker_processes_gives_the_same_report(tmp_path: Path) -> None:
    from grader.similarity.analyse import analyse_class

    folder, _ = _small_class(tmp_path, 6)
    one = analyse_class(folder, workers=1)
    two = analyse_class(folder, workers=2)
    assert one.model_dump(exclude={"generated"}) == two.model_dump(exclude={"generated"})


def test_an_lms_export_zip_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, cls = _small_class(tmp_path, 3)
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, sid in enumerate(cls.notebooks):
            zf.write(
                folder / f"{sid}.ipynb", f"Jan {sid}_{500 + i}_assignsubmission_file_/hw5.ipynb"
            )
    assert main(["similarity", str(archive), "--out", str(tmp_path / "o")]) == 0
    doc = SimilarityReport.model_validate_json((tmp_path / "o" / "similarity.json").read_text())
    assert doc.class_size == 3


# ----------------------------------------------------------------- the page


class _Page(HTMLParser):
    VOID = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.pres: list[str] = []
        self.in_pre = False
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        self.stack.append(tag)
        self.ids |= {v for k, v in attrs if k == "id" and v}
        if tag == "pre":
            self.in_pre = True
            self.pres.append("")

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag == "pre":
            self.in_pre = False

    def handle_data(self, data: str) -> None:
        if self.in_pre:
            self.pres[-1] += data


def _check_page(path: Path, doc: SimilarityReport) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.stack == []
    assert {"pairs", "how", "settings"} <= page.ids
    assert "pair-1" in page.ids  # the top pair in detail, its code side by side
    assert page.pres and any("def " in p or "=" in p for p in page.pres)
    return page


def test_the_page_escapes_student_code(tmp_path: Path) -> None:
    evil = (
        "x = '<script>alert(1)</script>'  # </pre><b>\nmodel = keras.Sequential([layers.Dense(64)])\n"
        * 4
    )
    nbs = []
    for sid in ("a", "b"):
        nb = {"cells": [_cell(evil, [{"output_type": "stream", "name": "stdout",
                                      "text": "acc: 0.81234 - loss: 0.51234 <img src=x>\n"}])]}  # fmt: skip
        nbs.append((NotebookRef(sid, f"<i>{sid}</i>"), nb))
    doc = compare_notebooks(nbs)
    assert doc.pairs and doc.pairs[0].level == "worth a look"
    from grader.report.similarity import write_similarity

    files = write_similarity(doc, tmp_path)
    html = files["html"].read_text(encoding="utf-8")
    assert "<script>" not in html and "<img src=x>" not in html and "<i>a</i>" not in html
    assert "&lt;script&gt;" in html
    page = _check_page(files["html"], doc)
    assert any("<script>alert(1)</script>" in p for p in page.pres)


def test_importing_the_package_does_no_work() -> None:
    code = (
        "import sys, grader.similarity, grader.cli.similarity;"
        "print(sorted(m for m in ('numpy', 'PIL', 'grader.intake.classroom', 'jinja2',"
        " 'grader.similarity.score') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    assert out.strip() == "[]"
