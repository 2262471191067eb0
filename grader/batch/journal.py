"""The batch journal: one small JSON file per submission, each write atomic.

A batch that is killed at any moment (SIGKILL included) and started again
reads the journal and goes on: an entry that is ``done`` or ``failed`` for the
same bytes under the same settings is not graded again; an entry found
``running`` was interrupted and is queued again. Each write goes to a
temporary file in the same folder, is flushed to disk and then renamed over
the old one, so an entry is always either the old or the new version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.files import atomic_write_text

__all__ = [
    "Attempt",
    "Journal",
    "JournalEntry",
    "State",
    "now",
]

State = Literal["queued", "running", "done", "failed"]


def now() -> datetime:
    return datetime.now(UTC)


class Attempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    started_at: datetime
    finished_at: datetime | None = None
    seconds: float | None = None
    outcome: str | None = Field(
        default=None, description="graded, failed status, or 'interrupted' when the batch stopped"
    )
    reason: str | None = None
    worker: int | None = Field(default=None, description="process id of the worker")


class JournalEntry(BaseModel):
    """The state of one submission in the batch."""

    model_config = ConfigDict(extra="forbid")

    submission: str
    state: State = "queued"
    sha256: str | None = Field(default=None, description="content hash of the graded notebook")
    settings: str = Field(description="fingerprint of the settings it was graded under")
    status: str | None = Field(
        default=None, description="graded, run-failed, not-a-notebook, no-notebook, error, ..."
    )
    reason: str | None = None
    points: int | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    updated_at: datetime = Field(default_factory=now)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def seconds(self) -> float | None:
        """Time of the attempt that produced the result."""
        if self.finished and self.attempts:
            return self.attempts[-1].seconds
        return None


class Journal:
    """The journal folder of one batch output folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, submission: str) -> Path:
        return self.folder / f"{submission}.json"

    def get(self, submission: str) -> JournalEntry | None:
        """The entry of a submission, or None (also for an unreadable entry)."""
        try:
            raw = self._path(submission).read_text(encoding="utf-8")
            return JournalEntry.model_validate(json.loads(raw))
        except (OSError, ValueError, ValidationError):
            return None

    def put(self, entry: JournalEntry) -> JournalEntry:
        entry = entry.model_copy(update={"updated_at": now()})
        atomic_write_text(self._path(entry.submission), entry.model_dump_json(indent=1))
        return entry

    def entries(self) -> Iterator[JournalEntry]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.json")):
            entry = self.get(path.stem)
            if entry is not None:
                yield entry

    def needs_work(self, submission: str, sha256: str | None, settings: str) -> bool:
        """Whether a submission must be graded (again) in this run."""
        entry = self.get(submission)
        return not (
            entry is not None
            and entry.finished
            and entry.sha256 == sha256
            and entry.settings == settings
        )

    def queue(self, submission: str, sha256: str | None, settings: str) -> JournalEntry:
        """Queue a submission; an attempt left unfinished by a stopped batch is marked so."""
        old = self.get(submission)
        attempts = list(old.attempts) if old is not None else []
        if attempts and attempts[-1].outcome is None:
            attempts[-1] = attempts[-1].model_copy(update={"outcome": "interrupted"})
        return self.put(
            JournalEntry(
                submission=submission,
                state="queued",
                sha256=sha256,
                settings=settings,
                attempts=attempts,
            )
        )

    def start(self, entry: JournalEntry) -> JournalEntry:
        """Record that a queued submission is being graded now."""
        attempts = [*entry.attempts, Attempt(started_at=now())]
        return self.put(
            entry.model_copy(update={"state": "running", "attempts": attempts, "status": None})
        )

    def requeue(self, entry: JournalEntry, *, status: str, reason: str | None) -> JournalEntry:
        """Close the current attempt as failed and queue the submission for another one."""
        return self.finish(
            entry, state="queued", status=status, reason=reason, points=None, seconds=None
        )

    def finish(
        self,
        entry: JournalEntry,
        *,
        state: State,
        status: str,
        reason: str | None,
        points: int | None,
        seconds: float | None,
        worker: int | None = None,
    ) -> JournalEntry:
        """Close the current attempt and record the submission's state after it."""
        attempts = list(entry.attempts)
        if attempts:
            last = attempts[-1]
            finished = now()
            attempts[-1] = last.model_copy(
                update={
                    "finished_at": finished,
                    "seconds": seconds
                    if seconds is not None
                    else (finished - last.started_at).total_seconds(),
                    "outcome": status,
                    "reason": reason,
                    "worker": worker,
                }
            )
        return self.put(
            entry.model_copy(
                update={
                    "state": state,
                    "status": status,
                    "reason": reason,
                    "points": points,
                    "attempts": attempts,
                }
            )
        )
