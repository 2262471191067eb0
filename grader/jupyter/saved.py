"""Is the saved file what the kernel ran? A self-check reads the saved notebook, not the screen.

The kernel knows what it ran: IPython numbers each cell it runs (``In [n]``),
keeps the code of each (its raw input history) and when its session started.
The saved file keeps each code cell's number and code, and the file has a
modification time. When the kernel ran cells the file does not have, ran other
code under the same number, or the file was last saved before this kernel
started, the student is reminded to save (and, where code changed, to run the
cells again) before trusting the check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from grader.i18n import N_, _

__all__ = ["KernelState", "kernel_state", "save_reminder"]

_SAVE = N_("Save the notebook (Ctrl+S, or File → Save), then run this cell again.")


@dataclass(frozen=True)
class KernelState:
    """What the running kernel did: the number of the cell running now (``In [n]``), the
    code it ran under each number (index 0 unused), when this session started (local time)."""

    current: int
    inputs: Sequence[str] = ()
    started: datetime | None = None


def kernel_state(shell: Any) -> KernelState | None:
    """The state of IPython's ``shell``; None when it is not an IPython shell.

    The raw input history holds the cell running now as its last entry (IPython
    7 to 9 store it before running it), so it gives that cell's number; the
    shell's ``execution_count`` cannot, since IPython 9 raises it before running
    the cell and older versions after.
    """
    count = getattr(shell, "execution_count", None)
    if not isinstance(count, int):
        return None
    history = getattr(shell, "history_manager", None)
    raw = getattr(history, "input_hist_raw", None)
    inputs = [str(x) for x in raw] if isinstance(raw, Sequence) else []
    current = len(inputs) - 1 if len(inputs) > 1 else count
    started = None
    try:
        info = history.get_session_info(0) if history is not None else None
        if info is not None and isinstance(info[1], datetime):
            started = info[1]
            if started.tzinfo is not None:  # compared with file times in local time
                started = started.astimezone().replace(tzinfo=None)
    except Exception:  # a disabled or broken history database: the check does without
        started = None
    return KernelState(current, inputs, started)


def _code_cells(nb: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(execution count, source) of every code cell of the saved file that has run."""
    out = []
    for cell in nb.get("cells") or []:
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        count = cell.get("execution_count")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        if isinstance(count, int):
            out.append((count, str(source)))
    return out


def save_reminder(
    nb: Mapping[str, Any], saved_at: datetime | None, kernel: KernelState
) -> str | None:
    """Why the saved notebook ``nb`` (saved at ``saved_at``) may not be what ``kernel`` ran;
    None when it is (or when the kernel has run nothing but this cell)."""
    last_run = kernel.current - 1  # the cell running now is this check itself
    if last_run < 1:
        return None
    cells = _code_cells(nb)
    saved_last = max((count for count, _source in cells), default=0)
    if saved_last < last_run:
        if saved_last:
            text = _(
                "Save first: the saved file stops at [{saved}], but this kernel has run cells "
                "up to [{ran}], and the check reads the saved file. {save} (If you deleted "
                "the cells you ran since the last save, you can ignore this.)"
            )
        else:
            text = _(
                "Save first: the saved file has no cell that has run, but this kernel has run "
                "cells up to [{ran}], and the check reads the saved file. {save} (If you "
                "deleted the cells you ran since the last save, you can ignore this.)"
            )
        return text.format(saved=saved_last, ran=last_run, save=_(_SAVE))
    for count, source in cells:
        ran = kernel.inputs[count] if count <= last_run and count < len(kernel.inputs) else None
        if ran is not None and ran.strip() != source.strip():
            return _(
                "Save first: the cell saved as [{count}] is not the code this kernel ran as "
                "[{count}]: it was changed after it ran, or the file comes from another "
                "session. Run all cells again (Run → Run All), save the notebook, then "
                "run this cell again."
            ).format(count=count)
    if saved_at is not None and kernel.started is not None and saved_at < kernel.started:
        return _(
            "Save first: the notebook was last saved at {time} on {date}, before this kernel "
            "started ({started}): the outputs in the file may not be the ones on your screen. "
            "{save}"
        ).format(
            time=f"{saved_at:%H:%M}",
            date=f"{saved_at:%d.%m.}",
            started=f"{kernel.started:%H:%M}",
            save=_(_SAVE),
        )
    return None
