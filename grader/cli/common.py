"""What every command shares: exit codes, error printing, the choices and the options.

The choices offered for ``--profile`` and ``--sandbox`` come from their
registries (:data:`grader.execute.profiles.PROFILES`,
:mod:`grader.execute.sandbox.registry`); the options that several commands
take are declared once here as ``Annotated`` types.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from grader.errors import GraderError, UsageError
from grader.execute.profiles import PROFILES
from grader.execute.sandbox.registry import KERNEL_CHOICES, SANDBOX_CHOICES

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
    "memory_limits",
    "print_error",
]

#: the notebooks met what was asked / something failed / bad input / interrupted (Ctrl-C)
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

ProfileChoice = StrEnum("ProfileChoice", {name: name for name in sorted(PROFILES, reverse=True)})  # type: ignore[misc]
SandboxChoice = StrEnum("SandboxChoice", {name: name for name in SANDBOX_CHOICES})  # type: ignore[misc]
KernelChoice = StrEnum("KernelChoice", {name: name for name in KERNEL_CHOICES})  # type: ignore[misc]


def print_error(console: Console, message: str) -> None:
    """An error line: never read as markup, never wrapped (paths stay whole for copying)."""
    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)


@contextmanager
def errors_to_exit(console: Console, code: int = EXIT_BAD_INPUT) -> Iterator[None]:
    """The project's own errors become a message and an exit code (bad input by default)."""
    try:
        yield
    except GraderError as exc:
        print_error(console, exc.message)
        raise typer.Exit(code) from None


def memory_limits(memory: str | None) -> int | None:
    """``--memory 6G`` in bytes (None: the default)."""
    if memory is None:
        return None
    from grader.execute.sandbox.limits import parse_size

    try:
        return parse_size(memory)
    except ValueError as exc:
        raise UsageError(f"--memory: {exc}") from None


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
