"""``grader.selfcheck()``: finding the notebook in each front end, the reminder to save, the HTML.

The front ends are imitated by what each provides: VS Code's
``__vsc_ipynb_file__``, Colab's ``google.colab._message.blocking_request``
(a fake module), Jupyter's ``__session__``/``JPY_SESSION_NAME``. The reminder
to save is checked against a real IPython shell's history as well.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import pytest

import grader
from grader.jupyter import SelfCheck, run_selfcheck
from grader.jupyter.frontends import NotebookNotFound, Surroundings, locate_notebook
from grader.jupyter.saved import KernelState, kernel_state, save_reminder
from tests.scenarios import keras3_complete, misleading_heading

REPO = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert('x')</script>"


def _notebook(folder: Path, name: str = "my_hw5.ipynb", builder=keras3_complete) -> Path:  # type: ignore[no-untyped-def]
    nb, _ = builder()
    path = folder / name
    nbformat.write(nb, str(path))
    return path


def _kernel_env(folder: Path, **kw: Any) -> Surroundings:
    return Surroundings(cwd=folder, in_kernel=True, **kw)


# ---------------------------------------------------------------- finding the notebook


def test_vscode_names_the_notebook_file(tmp_path: Path) -> None:
    path = _notebook(tmp_path)
    env = _kernel_env(tmp_path, user_ns={"__vsc_ipynb_file__": str(path), "__session__": "x.ipynb"})
    found = locate_notebook(None, env)
    assert (found.front_end, found.path, found.name) == ("vscode", path, "my_hw5.ipynb")


def test_vscode_untitled_notebook_asks_to_save(tmp_path: Path) -> None:
    env = _kernel_env(tmp_path, user_ns={"__vsc_ipynb_file__": str(tmp_path / "Untitled-1.ipynb")})
    with pytest.raises(NotebookNotFound, match="Save the notebook"):
        locate_notebook(None, env)


def test_jupyter_session_absolute_and_relative(tmp_path: Path) -> None:
    path = _notebook(tmp_path)
    found = locate_notebook(None, _kernel_env(tmp_path, user_ns={"__session__": str(path)}))
    assert (found.front_end, found.path) == ("jupyter", path)
    # jupyter_server's path from its root; the kernel runs in the notebook's folder
    env = _kernel_env(tmp_path, environ={"JPY_SESSION_NAME": "course/hw/my_hw5.ipynb"})
    assert locate_notebook(None, env).path == tmp_path / "my_hw5.ipynb"


def test_jupyter_session_of_a_renamed_notebook_says_what_to_do(tmp_path: Path) -> None:
    env = _kernel_env(tmp_path, environ={"JPY_SESSION_NAME": str(tmp_path / "old.ipynb")})
    with pytest.raises(NotebookNotFound, match=r'grader\.selfcheck\("old\.ipynb"\)'):
        locate_notebook(None, env)


def test_a_console_session_is_not_a_notebook(tmp_path: Path) -> None:
    env = _kernel_env(tmp_path, environ={"JPY_SESSION_NAME": "Console 1"})
    with pytest.raises(NotebookNotFound, match="cannot tell which notebook"):
        locate_notebook(None, env)


def test_outside_a_notebook_the_path_is_asked_for(tmp_path: Path) -> None:
    with pytest.raises(NotebookNotFound, match="Outside a notebook"):
        locate_notebook(None, Surroundings(cwd=tmp_path))


def test_a_named_path_is_taken_from_the_notebook_folder(tmp_path: Path) -> None:
    path = _notebook(tmp_path)
    assert locate_notebook("my_hw5.ipynb", Surroundings(cwd=tmp_path)).path == path
    with pytest.raises(NotebookNotFound, match="There is no file nope.ipynb"):
        locate_notebook("nope.ipynb", Surroundings(cwd=tmp_path))


def _fake_colab(monkeypatch: pytest.MonkeyPatch, reply: Any) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    message = types.ModuleType("google.colab._message")

    def blocking_request(kind: str, request: str = "", timeout_sec: int = 5) -> Any:
        calls.append((kind, request, timeout_sec))
        if isinstance(reply, Exception):
            raise reply
        return reply

    message.blocking_request = blocking_request  # type: ignore[attr-defined]
    colab = types.ModuleType("google.colab")
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab._message", message)
    return calls


def test_colab_hands_over_the_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb, _ = keras3_complete()
    nb.metadata["colab"] = {"name": "Úkol 5 - Novák.ipynb"}
    calls = _fake_colab(monkeypatch, {"ipynb": nbformat.from_dict(nb)})
    env = _kernel_env(tmp_path, modules=sys.modules, environ={"JPY_SESSION_NAME": "x.ipynb"})
    result = run_selfcheck(None, env=env, kernel=KernelState(current=30), hw4=False)
    assert calls and calls[0][0] == "get_ipynb"
    assert result.problem is None and result.found_by == "Google Colab"
    assert result.notebook == "Úkol 5 - Novák.ipynb"
    assert result.points == 3 and result.requirements_met
    assert result.reminder is None  # Colab hands over what the browser holds: nothing to save
    assert "as Colab holds it now" in result.html
    assert not list(tmp_path.iterdir())  # the temporary copy is gone


def test_colab_that_does_not_answer_says_how_to_pass_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_colab(monkeypatch, TimeoutError("no reply"))
    result = run_selfcheck(None, env=_kernel_env(tmp_path, modules=sys.modules))
    assert result.report is None
    assert result.problem is not None and "Download .ipynb" in result.problem
    assert "could not run" in result.html and "Download .ipynb" in result.html


# ---------------------------------------------------------------- the reminder to save


def _saved(*cells: tuple[int | None, str]) -> dict[str, Any]:
    return {"cells": [{"cell_type": "code", "execution_count": n, "source": s} for n, s in cells]}


def test_no_reminder_when_the_file_has_what_ran() -> None:
    kernel = KernelState(current=3, inputs=["", "a = 1", "b = 2", "grader.selfcheck()"])
    assert save_reminder(_saved((1, "a = 1\n"), (2, "b = 2")), None, kernel) is None
    assert save_reminder(_saved(), None, KernelState(current=1)) is None  # nothing ran yet


def test_reminder_when_cells_ran_after_the_last_save() -> None:
    kernel = KernelState(current=5, inputs=["", "a", "b", "c", "d", "check"])
    text = save_reminder(_saved((1, "a"), (2, "b")), None, kernel)
    assert text is not None and "stops at [2]" in text and "up to [4]" in text
    assert "Save the notebook" in text
    nothing = save_reminder(_saved((None, "a")), None, kernel)
    assert nothing is not None and "has no cell that has run" in nothing


def test_reminder_when_a_cell_changed_after_it_ran() -> None:
    kernel = KernelState(current=3, inputs=["", "a = 1", "b = 2", "check"])
    text = save_reminder(_saved((1, "a = 1"), (2, "b = 3")), None, kernel)
    assert text is not None and "[2]" in text and "Run All" in text


def test_reminder_when_the_file_is_older_than_the_kernel() -> None:
    started = datetime(2025, 11, 10, 14, 0)
    kernel = KernelState(current=3, inputs=["", "a", "b", "check"], started=started)
    saved = _saved((1, "a"), (2, "b"))
    text = save_reminder(saved, started - timedelta(hours=2), kernel)
    assert text is not None and "before this kernel started (14:00)" in text
    assert save_reminder(saved, started + timedelta(minutes=5), kernel) is None


def test_kernel_state_of_a_real_ipython_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell(config=config)
    try:
        shell.run_cell("a = 1", store_history=True)
        shell.run_cell("b = 2", store_history=True)
        shell.run_cell(
            "from grader.jupyter.saved import kernel_state\nst = kernel_state(get_ipython())",
            store_history=True,
        )
        state = shell.user_ns["st"]
    finally:
        shell.history_manager.end_session()
        InteractiveShell.clear_instance()
    assert state.current == 3 and state.inputs[1:3] == ["a = 1", "b = 2"]
    assert isinstance(state.started, datetime)
    assert save_reminder(_saved((1, "a = 1"), (2, "b = 2")), datetime.now(), state) is None
    assert save_reminder(_saved((1, "a = 1")), datetime.now(), state) is not None


def test_kernel_state_without_history() -> None:
    class Shell:
        execution_count = 7
        history_manager = None

    assert kernel_state(Shell()) == KernelState(current=7, inputs=[], started=None)
    assert kernel_state(object()) is None


def test_selfcheck_in_a_kernel_reminds_to_save(tmp_path: Path) -> None:
    path = _notebook(tmp_path)
    kernel = KernelState(current=40, inputs=[""] * 41)
    env = _kernel_env(tmp_path, user_ns={"__session__": str(path)})
    result = run_selfcheck(None, env=env, kernel=kernel)
    assert result.reminder is not None and "Save first" in result.reminder
    assert "Save first" in result.html and result.found_by == "Jupyter"
    # the same file named explicitly: the kernel runs it, so the reminder still applies
    assert run_selfcheck("my_hw5.ipynb", env=env, kernel=kernel).reminder == result.reminder
    # another notebook named explicitly: what this kernel ran says nothing about it
    other = _notebook(tmp_path, "other.ipynb")
    assert run_selfcheck(other, env=env, kernel=kernel).reminder is None


# ---------------------------------------------------------------- what it shows


def test_html_shows_models_criteria_cells_and_points(tmp_path: Path) -> None:
    nb, _ = misleading_heading()
    fit = next(i for i, c in enumerate(nb.cells) if ".fit(" in c.source)
    nb.cells[fit].source = f"# {HOSTILE}\n" + nb.cells[fit].source
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    result = run_selfcheck("nb.ipynb", env=Surroundings(cwd=tmp_path))
    assert result.report is not None
    html = result.html
    assert HOSTILE not in html and "&lt;script&gt;alert(" in html  # escaped
    assert "<script" not in html.lower()  # a fragment without scripts
    for m in result.report.models:
        assert m.name in html
    for c in result.report.grade.criteria:
        assert f'data-criterion="{c.id}"' in html
    count = nb.cells[fit].execution_count
    assert f"[{count}]" in html  # the cell as the notebook numbers it
    assert f"{result.points}<small> / {result.max_points} points" in html
    assert "What to do next" in html and "requirements not all met" in html


def test_rubric_titles_are_escaped_too(tmp_path: Path) -> None:
    path = _notebook(tmp_path)
    text = (REPO / "rubrics" / "hw5.yaml").read_text(encoding="utf-8")
    rubric = tmp_path / "r.yaml"
    rubric.write_text(
        text.replace('en: "Homework 5: transfer', f'en: "{HOSTILE} 5: transfer', 1).replace(
            'cs: "Domácí úkol 5', f'cs: "{HOSTILE} 5', 1
        ),
        encoding="utf-8",
    )
    result = run_selfcheck(path, env=Surroundings(cwd=tmp_path), rubric=rubric, bands=False)
    assert HOSTILE not in result.html and "&lt;script&gt;" in result.html
    czech = run_selfcheck(
        path, env=Surroundings(cwd=tmp_path), rubric=rubric, bands=False, lang="cs"
    )
    assert HOSTILE not in czech.html and "&lt;script&gt;" in czech.html


def test_problems_are_shown_not_raised(tmp_path: Path) -> None:
    (tmp_path / "empty.ipynb").write_text("")
    result = run_selfcheck("empty.ipynb", env=Surroundings(cwd=tmp_path))
    assert result.report is None and result.problem
    assert "could not run" in repr(result)
    bad_rubric = run_selfcheck(_notebook(tmp_path), env=Surroundings(cwd=tmp_path), rubric="x.yaml")
    assert bad_rubric.problem is not None and "x.yaml" in bad_rubric.problem


def test_in_plain_python_it_prints_the_summary_and_returns_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _notebook(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = grader.selfcheck("my_hw5.ipynb", hw4=False)
    assert isinstance(result, SelfCheck) and result.points == 3
    assert repr(result) == "<SelfCheck my_hw5.ipynb: 3/3 points, requirements met>"
    out = capsys.readouterr().out
    assert "Points: 3/3" in out and "my_hw5.ipynb" in out
    assert result._repr_html_() == result.html
    assert grader.selfcheck is grader.__getattr__("selfcheck")  # the function, not a module


def test_selfcheck_imports_no_tensorflow_and_runs_nothing(tmp_path: Path) -> None:
    _notebook(tmp_path)
    code = (
        "import sys, grader\n"
        "r = grader.selfcheck('my_hw5.ipynb')\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'torch', 'papermill', 'nbclient', 'IPython')"
        " if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.split("HEAVY=")[-1].strip() == ""
    assert sorted(os.listdir(tmp_path)) == ["my_hw5.ipynb"]  # nothing written beside it


def test_import_grader_stays_cheap() -> None:
    code = "import sys, grader\nprint(sorted(m for m in sys.modules if m.startswith('grader')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.strip() == "['grader', 'grader.i18n', 'grader.settings']"


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_html_in_chromium_inside_a_notebook_page(tmp_path: Path) -> None:
    """Rendered inside a page carrying JupyterLab's own table styles: readable, no errors."""
    from tests.test_browser import _screenshot

    shutil.copy(REPO / "submissions" / "cerna_carol" / "ukol5.ipynb", tmp_path / "ukol5.ipynb")
    path = tmp_path / "ukol5.ipynb"
    kernel = KernelState(current=30, inputs=[""] * 31)
    env = _kernel_env(tmp_path, user_ns={"__session__": str(path)})
    result = run_selfcheck(None, env=env, kernel=kernel)
    page = tmp_path / "notebook.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><style>"
        "body{margin:16px;background:#fff}"
        ".jp-RenderedHTMLCommon table{border-collapse:collapse;font-size:12px;table-layout:fixed;"
        "margin-left:auto;margin-right:auto}"
        ".jp-RenderedHTMLCommon td,.jp-RenderedHTMLCommon th{text-align:right;padding:.5em}"
        ".jp-RenderedHTMLCommon tbody tr:nth-child(odd){background:#f5f5f5}"
        "</style></head><body><div class='jp-RenderedHTMLCommon'>"
        + result.html
        + "</div></body></html>",
        encoding="utf-8",
    )
    _screenshot(tmp_path, page, "selfcheck", 1800)


def test_selfcheck_in_a_real_jupyter_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ipykernel gives the notebook's path as ``__session__`` (from JPY_SESSION_NAME, as
    jupyter_server sets it); the result is the cell's HTML output, with the reminder to save."""
    pytest.importorskip("ipykernel")
    nbclient = pytest.importorskip("nbclient")
    saved = _notebook(tmp_path)  # the file on disk, from an earlier session
    runner = nbformat.v4.new_notebook()
    runner.cells = [
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_code_cell("import grader; grader.selfcheck()"),
    ]
    monkeypatch.setenv("JPY_SESSION_NAME", str(saved))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    client = nbclient.NotebookClient(
        runner, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    (output,) = runner.cells[1].outputs
    assert output.output_type == "execute_result"
    html = output.data["text/html"]
    assert 'class="grader-sc"' in html and "found through Jupyter" in html
    assert "my_hw5.ipynb" in html and "Save first" in html  # the file is not what ran
    assert output.data["text/plain"].startswith("<SelfCheck my_hw5.ipynb: ")
