"""Command line: maps options to library calls, and project errors to messages and exit codes.

One module per command group: :mod:`.check` (``check``, ``schema``),
:mod:`.rubric`, :mod:`.run` (``run``, ``data``), :mod:`.batch`,
:mod:`.reference`, :mod:`.similarity`, :mod:`.ci`, :mod:`.override` (decisions made by
hand) and :mod:`.lms` (grades back into Moodle and Canvas); the options and choices they share live in :mod:`.common`.
Orchestration lives in the library (:mod:`grader.pipeline`), so tests call it
in-process; nothing in the package imports this one.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from grader.cli import batch, check, ci, lms, override, reference, rubric, run, similarity
from grader.cli.common import print_error

__all__ = ["app", "main", "print_error"]

app = typer.Typer(
    name="grader",
    help="Grade deep-learning homework notebooks: find what they trained, check it, apply the rubric.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for _group in (check, rubric, run, batch, override, lms, reference, similarity, ci):
    _group.register(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (tests call it in-process)."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="grader", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
