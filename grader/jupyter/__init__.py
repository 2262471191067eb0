"""``grader.selfcheck()``: a student checks the notebook they work in, from inside it.

Put ``import grader; grader.selfcheck()`` in the last cell: it finds the
notebook the kernel runs (:mod:`.frontends`: Jupyter Lab/Notebook, VS Code,
Google Colab), grades it statically like ``grader check`` (nothing is executed,
TensorFlow is not imported), reminds the student to save first when the saved
file is not what the kernel ran (:mod:`.saved`), and returns a
:class:`SelfCheck` that a notebook shows as HTML (the models found, every
requirement and criterion with its status and reason, what is missing and in
which cell, the points). In a plain Python session it prints the terminal
summary as well. Problems (no notebook found, a file that is not a notebook)
are shown the same way, as what to do next, never as a traceback.

An application on top of the pipeline, like :mod:`grader.reference`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import GraderError
from grader.jupyter.frontends import (
    FRONT_END_NAMES,
    FRONT_ENDS,
    Located,
    NotebookNotFound,
    Surroundings,
    locate_notebook,
    write_content,
)
from grader.jupyter.saved import KernelState, kernel_state, save_reminder
from grader.settings import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from grader.grade.result import CheckReport
    from grader.grade.rubric import Rubric

__all__ = ["SelfCheck", "run_selfcheck", "selfcheck"]

_NOTES = {
    "file": "Checked from the saved file; nothing was run. After a change: run the cells, "
    "save, and run this cell again.",
    "colab": "Checked from the notebook as Colab holds it now; nothing was run. After a "
    "change: run the cells, then run this cell again.",
}


@dataclass
class SelfCheck:
    """What a self-check found: shown as HTML in a notebook, as one line elsewhere
    (:meth:`print` gives the whole summary). ``report`` is the document
    ``grader check --json`` prints; ``problem`` says why there is none."""

    notebook: str
    found_by: str
    html: str
    report: CheckReport | None = None
    reminder: str | None = None
    problem: str | None = None

    @property
    def points(self) -> int | None:
        return self.report.grade.points if self.report is not None else None

    @property
    def max_points(self) -> int | None:
        return self.report.grade.max_points if self.report is not None else None

    @property
    def requirements_met(self) -> bool:
        return self.report is not None and self.report.grade.requirements_met

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        if self.report is None:
            return f"<SelfCheck: could not run: {self.problem}>"
        met = "requirements met" if self.requirements_met else "requirements not all met"
        save = "; save first" if self.reminder else ""
        return f"<SelfCheck {self.notebook}: {self.points}/{self.max_points} points, {met}{save}>"

    def print(self, console: Console | None = None) -> None:
        """The terminal summary (what ``grader check`` prints), with the reminder to save."""
        from rich.console import Console
        from rich.markup import escape

        console = console or Console()
        if self.report is not None:
            from grader.report.terminal import print_report

            print_report(console, self.report)
        else:
            console.print(f"[red]The self-check could not run.[/] {escape(self.problem or '')}")
        if self.reminder:
            console.print(f"[yellow]{escape(self.reminder)}[/]")


def _shell() -> Any | None:
    """IPython's shell when this runs under IPython (never imports IPython itself)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if callable(get) else None


def _same_file(a: Path, b: Path | None) -> bool:
    try:
        return b is not None and os.path.samefile(a, b)
    except OSError:
        return False


def _kernel_runs(found: Located, env: Surroundings) -> bool:
    """Whether ``found`` is the notebook this kernel runs (so the kernel's state applies)."""
    if found.front_end != "path":
        return True
    for name in ("vscode", "jupyter"):  # the front ends that name a saved file
        try:
            here = FRONT_ENDS[name](env)
        except NotebookNotFound:
            continue
        if here is not None and found.path is not None:
            return _same_file(found.path, here.path)
    return False


def _grade(
    found: Located,
    rubric: Rubric | str | os.PathLike[str] | None,
    hw4: bool | None,
    bands: bool | str | os.PathLike[str],
) -> tuple[CheckReport, list[Any], str, datetime | None]:
    """Grade the notebook found: its report, its cells, the rubric's title, when it was saved."""
    from grader.check.bands import load_band_sets, resolve_bands
    from grader.grade.rubric import Rubric, load_rubric
    from grader.intake.notebook import load_notebook
    from grader.intake.submission import StudentContext
    from grader.pipeline import check_notebook

    rub = rubric if isinstance(rubric, Rubric) else load_rubric(Path(rubric) if rubric else None)
    named = Path(bands) if isinstance(bands, str | os.PathLike) else None
    band_path = resolve_bands(named, enabled=bands is not False)
    band_sets = load_band_sets(band_path) if band_path is not None else None
    context = StudentContext(submitted_hw4=hw4)
    with tempfile.TemporaryDirectory(prefix="grader-selfcheck-") as tmp:
        path = found.path or write_content(found, Path(tmp))
        report = check_notebook(path, rubric=rub, context=context, bands=band_sets)
        cells = list(load_notebook(path).nb.cells)
        saved_at = datetime.fromtimestamp(path.stat().st_mtime) if found.path else None
    return report, cells, rub.title, saved_at


def run_selfcheck(
    path: str | os.PathLike[str] | None,
    *,
    env: Surroundings,
    kernel: KernelState | None = None,
    rubric: Rubric | str | os.PathLike[str] | None = None,
    hw4: bool | None = None,
    bands: bool | str | os.PathLike[str] = True,
) -> SelfCheck:
    """:func:`selfcheck` with its surroundings given (what the tests call)."""
    from grader.report.inline import render_selfcheck, selfcheck_view

    try:
        found = locate_notebook(path, env)
        report, cells, title, saved_at = _grade(found, rubric, hw4, bands)
    except GraderError as exc:
        view = selfcheck_view(
            None, notebook="", found_by="", version=__version__, problem=exc.message
        )
        return SelfCheck("", "", render_selfcheck(view), problem=exc.message)
    reminder = None
    if found.is_saved_file and kernel is not None and env.in_kernel and _kernel_runs(found, env):
        reminder = save_reminder({"cells": cells}, saved_at, kernel)
    found_by = FRONT_END_NAMES.get(found.front_end, found.front_end)
    view = selfcheck_view(
        report,
        notebook=found.name,
        found_by=found_by,
        version=__version__,
        source_note=_NOTES["file" if found.is_saved_file else "colab"],
        rubric_title=title,
        reminder=reminder,
        cells=cells,
    )
    return SelfCheck(found.name, found_by, render_selfcheck(view), report, reminder)


def selfcheck(
    path: str | os.PathLike[str] | None = None,
    *,
    rubric: Rubric | str | os.PathLike[str] | None = None,
    hw4: bool | None = None,
    bands: bool | str | os.PathLike[str] = True,
) -> SelfCheck:
    """Check this notebook against the homework's rubric; put it in the last cell.

    Without ``path`` it finds the notebook it runs in (Jupyter Lab/Notebook, VS
    Code, Google Colab); save the notebook first, the check reads the saved file.
    ``rubric``: another rubric file (default: the Homework 5 rubric the grader
    comes with); ``hw4``: whether you submitted homework 4 (``False``: the
    baseline-CNN point can count for you; default: unknown); ``bands``: compare
    with the reference bands (``False``: do not; a path: these bands).
    Nothing is executed. In a notebook the result shows as HTML; elsewhere the
    summary is printed. Returns a :class:`SelfCheck` (``.report``: the full document).
    """
    shell = _shell()
    env = Surroundings.here(shell)
    kernel = kernel_state(shell) if shell is not None else None
    result = run_selfcheck(path, env=env, kernel=kernel, rubric=rubric, hw4=hw4, bands=bands)
    if not env.in_kernel:
        result.print()
    return result
