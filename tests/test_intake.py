"""Intake: any nbformat version in, a normalised v4 notebook out; anything else refused with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.errors import NotANotebookError
from grader.intake.notebook import load_notebook, parse_notebook


def _v4(**meta: object) -> dict[str, object]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": dict(meta),
        "cells": [
            {
                "cell_type": "code",
                "source": ["print(1)\n", "x = 2"],
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
    }


def test_missing_kernel_and_language_metadata_is_filled_in() -> None:
    nb = parse_notebook(json.dumps(_v4()).encode())
    assert nb.nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.nb.metadata["language_info"]["name"] == "python"
    assert any("language_info" in n for n in nb.normalised)
    assert nb.nb.cells[0].source == "print(1)\nx = 2"


def test_v3_notebook_is_upgraded() -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "markdown", "source": "# Title"},
                    {
                        "cell_type": "code",
                        "input": "print('hi')",
                        "language": "python",
                        "outputs": [{"output_type": "stream", "stream": "stdout", "text": "hi\n"}],
                        "prompt_number": 1,
                    },
                ]
            }
        ],
    }
    nb = parse_notebook(json.dumps(v3).encode())
    assert nb.original_version.startswith("3")
    code = nb.nb.cells[1]
    assert code.source == "print('hi')"
    assert code.outputs[0]["text"] == "hi\n"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"{not json", "invalid-json"),
        (b"[1, 2, 3]", "not-a-notebook"),
        (b'{"hello": "world"}', "not-a-notebook"),
        (b'{"nbformat": 9, "cells": []}', "unsupported-version"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "oops"}', "bad-structure"),
    ],
)
def test_what_is_not_a_notebook_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(NotANotebookError) as info:
        parse_notebook(data, "x.ipynb")
    assert info.value.reason == reason
    assert "x.ipynb" in str(info.value)


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    p = tmp_path / "big.ipynb"
    p.write_bytes(b" " * 2048)
    with pytest.raises(NotANotebookError) as info:
        load_notebook(p, max_bytes=1024)
    assert info.value.reason == "oversized"


def test_error_survives_pickling() -> None:
    import pickle

    err = NotANotebookError("bad", path="a.ipynb", reason="empty")
    back = pickle.loads(pickle.dumps(err))
    assert back.reason == "empty" and back.path == "a.ipynb" and str(back) == "bad"
