"""What every command shares: exit codes, error printing, the choices and the options.

The choices offered for ``--profile`` and ``--sandbox`` come from their
registries (:data:`grader.execute.profiles.PROFILES`,
:mod:`grader.execute.sandbox.registry`); the options that several commands
take are declared once here as ``Annotated`` types.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from grader.errors import GraderError, UsageError
from grader.execute.profiles import PROFILES
from grader.execute.sandbox.registry import KERNEL_CHOICES, SANDBOX_CHOICES
from grader.i18n import LANGUAGES, _, resolve_language, use_language

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "BandsOption",
    "BatchFolderArgument",
    "DataOption",
    "HomeOption",
    "JsonOption",
    "KernelChoice",
    "LangChoice",
    "LangOption",
    "NoBandsOption",
    "ProfileChoice",
    "RubricOption",
    "MemoryOption",
    "SandboxChoice",
    "SandboxOption",
    "SeedOption",
    "StudentArgument",
    "ThreadsOption",
    "TimeoutCellOption",
    "TimeoutRunOption",
    "VerifyOption",
    "WeightsOption",
    "errors_to_exit",
    "speak",
    "speaking",
    "memory_limits",
    "print_error",
]

T = TypeVar("T")

#: the notebooks met what was asked / something failed / bad input / interrupted (Ctrl-C)
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

ProfileChoice = StrEnum("ProfileChoice", {name: name for name in sorted(PROFILES, reverse=True)})  # type: ignore[misc]
SandboxChoice = StrEnum("SandboxChoice", {name: name for name in SANDBOX_CHOICES})  # type: ignore[misc]
KernelChoice = StrEnum("KernelChoice", {name: name for name in KERNEL_CHOICES})  # type: ignore[misc]
LangChoice = StrEnum("LangChoice", {name: name for name in LANGUAGES})  # type: ignore[misc]


def print_error(console: Console, message: str) -> None:
    """An error line: never read as markup, never wrapped (paths stay whole for copying)."""
    console.print(_("[red]error:[/] {message}").format(message=escape(message)), soft_wrap=True)


@contextmanager
def errors_to_exit(console: Console, code: int = EXIT_BAD_INPUT) -> Iterator[None]:
    """The project's own errors become a message and an exit code (bad input by default)."""
    try:
        yield
    except GraderError as exc:
        print_error(console, exc.message)
        raise typer.Exit(code) from None


def rubric_language(path: Path | None) -> str | None:
    """The language a rubric file declares (``language: cs``); None when it declares none or
    cannot be read (the command itself then says what is wrong with it)."""
    try:
        from grader.grade.rubric import load_rubric

        return getattr(load_rubric(path), "language", None)
    except GraderError:
        return None


def batch_language(out: Path | None) -> str | None:
    """The language a batch output folder was graded in (``batch.json``), else its rubric's."""
    if out is None:
        return None
    from grader.batch.outputs import recorded_language

    return recorded_language(out)


def speaking(
    *, folder: str | None = None, rubric: str | None = "rubric"
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a command in the language of its ``--lang`` option (``lang``), else of the batch
    output folder named by its ``folder`` argument, else of the rubric named by its ``rubric``
    option (the bundled Homework 5 rubric when not given), else the locale's, else English."""

    def decorate(command: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(command)
        def spoken(**kwargs: Any) -> T:
            declared = batch_language(kwargs.get(folder)) if folder else None
            if declared is None and rubric is not None:
                declared = rubric_language(kwargs.get(rubric))
            with speak(kwargs.get("lang"), declared):
                return command(**kwargs)

        return spoken

    return decorate


@contextmanager
def speak(lang: LangChoice | str | None, rubric_language: str | None = None) -> Iterator[str]:
    """Speak the language of ``--lang`` (or $GRADER_LANG), else the rubric's, else the locale's,
    else English, for the rest of the command."""
    chosen = resolve_language(None if lang is None else str(lang), rubric_language)
    with use_language(chosen):
        yield chosen


def memory_limits(memory: str | None) -> int | None:
    """``--memory 6G`` in bytes (None: the default)."""
    if memory is None:
        return None
    from grader.execute.sandbox.limits import parse_size

    try:
        return parse_size(memory)
    except ValueError as exc:
        raise UsageError(f"--memory: {exc}") from None


LangOption = Annotated[
    LangChoice | None,
    typer.Option(
        "--lang",
        envvar="GRADER_LANG",
        help="Language of what the grader says: cs (Czech) or en (English). Default: the "
        "rubric's language (Czech for Homework 5), else the system locale, else English.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON (schema: `grader schema`).")
]
RubricOption = Annotated[
    Path | None,
    typer.Option(
        help="Rubric file (default: the Homework 5 rubric the grader comes with; "
        "`grader rubric list` shows where it is)."
    ),
]
BandsOption = Annotated[
    Path | None,
    typer.Option(
        help="Reference bands (a file or folder from `grader reference build`) the models "
        "are compared with; default: ./reference/bands when it exists, else the bands the "
        "grader comes with. A stored notebook is "
        "compared with the CIFAR-10 full-profile band, a run with the band of its own "
        "data and profile; a `no-band` note says when none matches."
    ),
]
NoBandsOption = Annotated[
    bool, typer.Option("--no-bands", help="Do not compare with the reference bands.")
]
DataOption = Annotated[
    str | None,
    typer.Option(
        help="Data for the run: 'synthetic', 'cifar10' (seeded with `grader data cifar10`), or "
        "a cifar-10-python.tar.gz path. Default: CIFAR-10 when seeded, else synthetic "
        "(smoke only)."
    ),
]
WeightsOption = Annotated[
    Path | None, typer.Option(help="Folder of Keras application weight files (ImageNet).")
]
SeedOption = Annotated[int | None, typer.Option(help="Seed Python, NumPy and TensorFlow.")]
ThreadsOption = Annotated[int | None, typer.Option(help="TensorFlow/BLAS threads in the kernel.")]
HomeOption = Annotated[
    Path | None,
    typer.Option(help="Data store and run cache (default $GRADER_HOME or ~/.cache/grader)."),
]
VerifyOption = Annotated[
    bool,
    typer.Option(
        "--verify/--no-verify",
        help="Re-check every claimed test accuracy by evaluating the saved model out of "
        "process (costs up to a minute per run; off, a forged accuracy is not caught).",
    ),
]
TimeoutCellOption = Annotated[
    float,
    typer.Option(
        help="Seconds one cell may run before the run stops (a notebook that never "
        "finishes costs at most this per cell)."
    ),
]
TimeoutRunOption = Annotated[float, typer.Option(help="Seconds one whole notebook may run.")]


def _sandbox_choice(value: str) -> str:
    if value not in SANDBOX_CHOICES:
        raise typer.BadParameter(f"choose one of {', '.join(SANDBOX_CHOICES)}")
    return value


SandboxOption = Annotated[
    str,
    typer.Option(
        metavar="[" + "|".join(SANDBOX_CHOICES) + "]",
        callback=_sandbox_choice,
        help="How each notebook is isolated: auto (the strongest available here), bwrap, "
        "container, or none (resource limits only; every report says so).",
    ),
]
MemoryOption = Annotated[
    str | None,
    typer.Option(
        help="Memory limit of each run, e.g. 6G (default: 3/4 of this machine's RAM "
        "shared among the parallel runs; on a remote cluster, of the worker's machine)."
    ),
]

BatchFolderArgument = Annotated[
    Path,
    typer.Argument(
        help="Output folder of `grader batch` (the one holding index.html and gradebook.csv).",
        metavar="OUT",
        show_default=False,
    ),
]
StudentArgument = Annotated[
    str,
    typer.Argument(
        help="The student: submission id (the folder under OUT/submissions/), student id, "
        "Moodle participant number, or name (diacritics and word order do not matter).",
        metavar="STUDENT",
        show_default=False,
    ),
]
