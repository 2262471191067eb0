"""Subset sizes read from printed array shapes in the stored outputs (static check)."""

from __future__ import annotations

import nbformat
from nbformat import v4

from grader.evidence import NotebookInfo
from grader.extract import extract_evidence


def _data(*cells: tuple[str, str]):  # type: ignore[no-untyped-def]
    nb = v4.new_notebook()
    for count, (source, text) in enumerate(cells, start=1):
        cell = v4.new_code_cell(source, execution_count=count)
        if text:
            cell.outputs = [v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    nb = nbformat.from_dict(nb)
    info = NotebookInfo(path="nb.ipynb", sha256="0" * 64, nbformat="4.5", cells=len(nb.cells))
    return extract_evidence(nb, info).data


def test_sizes_from_printed_shapes() -> None:
    data = _data(
        (
            'print("train", x_train.shape, "validation", x_val.shape, "test", x_test.shape)',
            "train (2000, 32, 32, 3) validation (1000, 32, 32, 3) test (1000, 32, 32, 3)\n",
        )
    )
    assert (data.train_size, data.val_size, data.test_size) == (2000, 1000, 1000)


def test_a_later_print_replaces_the_full_dataset_and_torch_shapes_count() -> None:
    data = _data(
        ("print(x_train.shape, x_test.shape)", "(50000, 32, 32, 3) (10000, 32, 32, 3)\n"),
        ("x_test = x_test[idx]\nprint(x_test.shape)", "torch.Size([1500, 3, 32, 32])\n"),
    )
    assert (data.train_size, data.test_size) == (50000, 1500)


def test_prints_that_do_not_line_up_leave_the_sizes_alone() -> None:
    data = _data(
        # a loop prints more tuples than the code has shape arguments
        ("for x in (x_train, x_val):\n    print(x.shape)", "(2000, 32)\n(1000, 32)\n"),
        # x and y of one split disagree
        ("print(x_test.shape, y_test.shape)", "(1000, 32, 32, 3) (999,)\n"),
        # not run: no output
        ("print(x_val.shape)", ""),
    )
    assert (data.train_size, data.val_size, data.test_size) == (None, None, None)
