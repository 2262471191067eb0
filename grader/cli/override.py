"""The ``grader override`` commands: decisions an instructor makes by hand.

Maps options to :mod:`grader.batch.overrides` and prints what changed. A
decision is kept in ``OUT/overrides.yaml`` (editable by hand, checked on every
use), survives every rerun of the batch, and shows in the student's report,
the gradebook and the dashboard with who decided, when and why.

Exit codes: 0 done; 2 bad input (no such folder, student or criterion, a
wrong number of points, a broken overrides.yaml), and nothing was changed.
"""

from __future__ import annotations

import enum
import getpass
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from grader.cli.common import (
    BatchFolderArgument,
    LangOption,
    StudentArgument,
    errors_to_exit,
    speaking,
)
from grader.i18n import _, ngettext

if TYPE_CHECKING:
    from grader.batch.overrides import Recorded

__all__ = ["register"]


class Decision(enum.StrEnum):
    met = "met"
    not_met = "not_met"


def register(app: typer.Typer) -> None:
    """Add the ``override`` sub-commands (set, list, remove) to the grader application."""
    group = typer.Typer(
        help="Decide criteria by hand (a needs-review criterion, a late submission accepted, "
        "an accuracy read from markdown); every report, the gradebook and the dashboard "
        "show the decision and its reason, and reruns keep it.",
        no_args_is_help=True,
    )
    group.command("set")(set_)
    group.command("list")(list_)
    group.command("remove")(remove)
    app.add_typer(group, name="override")


_Criterion = Annotated[
    str,
    typer.Argument(
        help="A requirement or criterion id of the rubric (the small id under each "
        "criterion of a student's report; for Homework 5: curves, test_accuracy, "
        "confusion_matrix, comparison, summary, baseline_cnn, ...), or 'late' to accept or "
        "refuse a late submission. An unknown id is refused with the list.",
        metavar="CRITERION",
        show_default=False,
    ),
]


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "instructor"


@speaking(folder="out")
def set_(
    out: BatchFolderArgument,
    student: StudentArgument,
    criterion: _Criterion,
    status: Annotated[
        Decision,
        typer.Option(help="The decision: met, or not_met.", show_default=False),
    ],
    reason: Annotated[
        str,
        typer.Option(
            help="Why, in a few words; shown to the student in the report.",
            show_default=False,
        ),
    ],
    points: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Points given, for a criterion that earns points (default: all of them "
            "when met, none when not met).",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="Who decided (default: your user name on this machine)."),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Record a decision about one student's criterion; the reports are rebuilt, nobody is regraded.

    Recording it again replaces the earlier decision (and confirms it for a
    notebook handed in since). Example:

        grader override set reports/hw5 "Jan Novák" test_accuracy --status met
        --reason "accuracies are in the markdown table of cell 31"
    """
    from grader.batch.overrides import set_override

    console = Console(stderr=True)
    with errors_to_exit(console):
        done = set_override(
            out,
            student,
            criterion,
            status=status.value,
            reason=reason,
            by=by or _default_user(),
            points=points,
        )
    _print_recorded(Console(soft_wrap=True), done, removed=False)


@speaking(folder="out")
def remove(
    out: BatchFolderArgument,
    student: StudentArgument,
    criterion: _Criterion,
    lang: LangOption = None,
) -> None:
    """Remove a decision: the grader's own finding counts again; the reports are rebuilt."""
    from grader.batch.overrides import remove_override

    console = Console(stderr=True)
    with errors_to_exit(console):
        done = remove_override(out, student, criterion)
    _print_recorded(Console(soft_wrap=True), done, removed=True)


@speaking(folder="out")
def list_(
    out: BatchFolderArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decisions as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """List every decision of a class, with what the grader found and what changed since."""
    from grader.batch.overrides import list_overrides

    console = Console(stderr=True)
    with errors_to_exit(console):
        listed = list_overrides(out)
    if as_json:
        doc = [
            {"submission": sub.id, "name": sub.name, **o.model_dump(mode="json")}
            for sub, o in listed
        ]
        sys.stdout.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        return
    con = Console(soft_wrap=True)
    if not listed:
        con.print(
            _(
                "No decisions recorded for this class. Record one with: grader override set "
                "OUT STUDENT CRITERION --status met|not_met --reason TEXT"
            )
        )
        return
    from grader.report.decisions import decision_view

    for sub, o in listed:
        v = decision_view(o)
        decided = v["status_label"]
        if o.points is not None:
            decided = _("{decision} ({points} pt)").format(decision=decided, points=o.points)
        con.print(
            _(
                "[bold]{name}[/] ({id}) · {criterion}: {decision} [dim](the grader found: "
                "{found})[/]"
            ).format(
                name=escape(sub.name),
                id=escape(sub.id),
                criterion=escape(o.criterion),
                decision=decided,
                found=v["machine_label"],
            ),
            soft_wrap=True,
        )
        con.print("  " + _("why: {reason}").format(reason=escape(o.reason)), soft_wrap=True)
        con.print(
            "  " + _("by {who}, {at}").format(who=escape(o.by), at=f"{o.at:%Y-%m-%d %H:%M}"),
            soft_wrap=True,
        )
        if o.note:
            style = "red" if o.evidence_changed else "yellow"
            con.print(f"  [{style}]{escape(o.note)}[/]", soft_wrap=True)
    changed = sum(1 for _sub, o in listed if o.evidence_changed)
    if changed:
        con.print(
            ngettext(
                "[red]{n} decision was made on an earlier notebook[/]: check each, then record "
                "it again with `grader override set` (or remove it).",
                "[red]{n} decisions were made on an earlier notebook[/]: check each, then record "
                "it again with `grader override set` (or remove it).",
                changed,
            ).format(n=changed)
        )


def _print_recorded(con: Console, done: Recorded, *, removed: bool) -> None:
    sub, o = done.submission, done.override
    who = escape(
        f"{sub.name} ({sub.id})" if sub is not None else f"{o.name or o.student} ({o.student})"
    )
    if removed:
        con.print(
            _(
                "Removed the decision on [bold]{criterion}[/] for {who} ({status} by {by}); "
                "the grader's own finding counts again."
            ).format(
                criterion=escape(o.criterion), who=who, status=escape(o.status), by=escape(o.by)
            )
        )
    else:
        from grader.report.words import status_label

        decision: str = o.status
        if o.points is not None:
            decision = _("{decision} ({points} pt)").format(decision=decision, points=o.points)
        if o.machine is not None:
            decision = _("{decision}; the grader found: {found}").format(
                decision=decision, found=status_label(o.machine.value)[0]
            )
        con.print(
            _("Recorded: {who}, [bold]{criterion}[/] {decision}. Reason: {reason}").format(
                who=who,
                criterion=escape(o.criterion),
                decision=decision,
                reason=escape(o.reason),
            )
        )
        if done.replaced is not None:
            r = done.replaced
            con.print(
                _(
                    "[dim]It replaces the decision of {by} on {date} ({status}: {reason}).[/]"
                ).format(
                    by=escape(r.by),
                    date=f"{r.at:%Y-%m-%d}",
                    status=escape(r.status),
                    reason=escape(r.reason),
                )
            )
    if done.points_after is not None:
        con.print(
            _("Points: {before} → {after} of {maximum}.").format(
                before=done.points_before if done.points_before is not None else "—",
                after=done.points_after,
                maximum=done.max_points,
            )
        )
    if done.problem:
        con.print(
            _("[yellow]The reports were not rebuilt:[/] {problem}").format(
                problem=escape(done.problem)
            ),
            soft_wrap=True,
        )
        return
    con.print(_("rebuilt: {path}").format(path=done.files["dashboard"]), soft_wrap=True)
    con.print(_("gradebook: {path}").format(path=done.files["gradebook"]), soft_wrap=True)
