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
are shown the same way, as what to do next, never as a traceback. It speaks
the language asked for (``lang="cs"`` or ``"en"``), else the one of
``GRADER_LANG``, else the rubric's, else the locale's, else English.

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
from grader.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, _, resolve_language, use_language
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
    "file": N_(
        "Checked from the saved file; nothing was run. After a change: run the cells, "
        "save, and run this cell again."
    ),
    "colab": N_(
        "Checked from the notebook as Colab holds it now; nothing was run. After a "
        "change: run the cells, then run this cell again."
    ),
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
    language: str = DEFAULT_LANGUAGE  # the language it speaks (cs, en)

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
        with use_language(self.language):
            if self.report is None:
                problem = _("could not run: {problem}").format(problem=self.problem)
                return f"<SelfCheck: {problem}>"
            from grader.report.markdown import verdict_text

            verdict = verdict_text(self.report)
            if self.reminder:
                verdict = _("{verdict}; save first").format(verdict=verdict)
            return f"<SelfCheck {self.notebook}: {verdict}>"

    def print(self, console: Console | None = None) -> None:
        """The terminal summary (what ``grader check`` prints), with the reminder to save."""
        from rich.console import Console
        from rich.text import Text

        console = console or Console()
        with use_language(self.language):
            if self.report is not None:
                from grader.report.terminal import print_report

                print_report(console, self.report)
            else:
                console.print(
                    Text.assemble(
                        (_("The self-check could not run."), "red"), " ", self.problem or ""
                    )
                )
            if self.reminder:
                console.print(Text(self.reminder, style="yellow"))


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


def _load_rubric(rubric: Rubric | str | os.PathLike[str] | None) -> Rubric:
    from grader.grade.rubric import Rubric, load_rubric

    return rubric if isinstance(rubric, Rubric) else load_rubric(Path(rubric) if rubric else None)


def _language(lang: str | None, rubric: Rubric | None) -> str:
    """The language to speak: ``lang``, else ``GRADER_LANG`` (the environment form of the
    commands' ``--lang``), else the rubric's, else the locale's, else English."""
    if lang is None:
        lang = os.environ.get("GRADER_LANG") or None
    return resolve_language(lang, getattr(rubric, "language", None))


def _grade(
    found: Located,
    rub: Rubric,
    hw4: bool | None,
    bands: bool | str | os.PathLike[str],
) -> tuple[CheckReport, list[Any], datetime | None]:
    """Grade the notebook found: its report, its cells, when it was saved."""
    from grader.check.bands import load_band_sets, resolve_bands
    from grader.intake.notebook import load_notebook
    from grader.intake.submission import StudentContext
    from grader.pipeline import check_notebook

    named = Path(bands) if isinstance(bands, str | os.PathLike) else None
    band_path = resolve_bands(named, enabled=bands is not False)
    band_sets = load_band_sets(band_path) if band_path is not None else None
    context = StudentContext(submitted_hw4=hw4)
    with tempfile.TemporaryDirectory(prefix="grader-selfcheck-") as tmp:
        path = found.path or write_content(found, Path(tmp))
        report = check_notebook(path, rubric=rub, context=context, bands=band_sets)
        cells = list(load_notebook(path).nb.cells)
        saved_at = datetime.fromtimestamp(path.stat().st_mtime) if found.path else None
    return report, cells, saved_at


def _problem(message: str, language: str) -> SelfCheck:
    """A self-check that could not run, saying why (in ``language``)."""
    from grader.report.inline import render_selfcheck, selfcheck_view

    with use_language(language):
        view = selfcheck_view(None, notebook="", found_by="", version=__version__, problem=message)
        return SelfCheck("", "", render_selfcheck(view), problem=message, language=language)


def run_selfcheck(
    path: str | os.PathLike[str] | None,
    *,
    env: Surroundings,
    kernel: KernelState | None = None,
    rubric: Rubric | str | os.PathLike[str] | None = None,
    hw4: bool | None = None,
    bands: bool | str | os.PathLike[str] = True,
    lang: str | None = None,
) -> SelfCheck:
    """:func:`selfcheck` with its surroundings given (what the tests call)."""
    if lang is not None and lang not in LANGUAGES:
        fallback = _language(None, None)
        with use_language(fallback):
            message = _("There is no language {language} here; choose one of {choices}.").format(
                language=repr(lang), choices=", ".join(repr(x) for x in LANGUAGES)
            )
        return _problem(message, fallback)
    try:
        with use_language(_language(lang, None)):  # a rubric that cannot be read says why
            rub = _load_rubric(rubric)
    except GraderError as exc:
        return _problem(exc.message, _language(lang, None))
    language = _language(lang, rub)
    with use_language(language):
        return _checked(path, env, kernel, rub, hw4, bands, language)


def _checked(
    path: str | os.PathLike[str] | None,
    env: Surroundings,
    kernel: KernelState | None,
    rub: Rubric,
    hw4: bool | None,
    bands: bool | str | os.PathLike[str],
    language: str,
) -> SelfCheck:
    """Find, grade and show the notebook, in the language in use (``language``)."""
    from grader.report.inline import render_selfcheck, selfcheck_view

    try:
        found = locate_notebook(path, env)
        report, cells, saved_at = _grade(found, rub, hw4, bands)
    except GraderError as exc:
        return _problem(exc.message, language)
    reminder = None
    if found.is_saved_file and kernel is not None and env.in_kernel and _kernel_runs(found, env):
        reminder = save_reminder({"cells": cells}, saved_at, kernel)
    found_by = FRONT_END_NAMES.get(found.front_end, found.front_end)
    view = selfcheck_view(
        report,
        notebook=found.name,
        found_by=found_by,
        version=__version__,
        source_note=_(_NOTES["file" if found.is_saved_file else "colab"]),
        rubric_title=str(rub.title),  # a text per language: the one in use
        reminder=reminder,
        cells=cells,
    )
    html = render_selfcheck(view)
    return SelfCheck(found.name, found_by, html, report, reminder, language=language)


def selfcheck(
    path: str | os.PathLike[str] | None = None,
    *,
    rubric: Rubric | str | os.PathLike[str] | None = None,
    hw4: bool | None = None,
    bands: bool | str | os.PathLike[str] = True,
    lang: str | None = None,
) -> SelfCheck:
    """Check this notebook against the homework's rubric; put it in the last cell.

    Without ``path`` it finds the notebook it runs in (Jupyter Lab/Notebook, VS
    Code, Google Colab); save the notebook first, the check reads the saved file.
    ``rubric``: another rubric file (default: the Homework 5 rubric the grader
    comes with); ``hw4``: whether you submitted homework 4 (``False``: the
    baseline-CNN point can count for you; default: unknown); ``bands``: compare
    with the reference bands (``False``: do not; a path: these bands); ``lang``:
    ``"cs"`` (Czech) or ``"en"`` (English), default ``GRADER_LANG``, else the
    rubric's language, else the locale's, else English. Nothing is executed. In a notebook the result shows as HTML; elsewhere the
    summary is printed. Returns a :class:`SelfCheck` (``.report``: the full document).
    """
    shell = _shell()
    env = Surroundings.here(shell)
    kernel = kernel_state(shell) if shell is not None else None
    result = run_selfcheck(
        path, env=env, kernel=kernel, rubric=rubric, hw4=hw4, bands=bands, lang=lang
    )
    if not env.in_kernel:
        result.print()
    return result
