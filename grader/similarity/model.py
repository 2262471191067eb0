"""The similarity report as plain, serialisable data (pydantic v2).

Everything a page, a terminal table or the class dashboard shows comes from
:class:`SimilarityReport`; nothing here builds HTML. Cell indices are 0-based
positions in the notebook's list of cells (pages show them 1-based as
"cell 7"); ``exec_*`` fields carry Jupyter's execution count ("In [5]") where
the notebook stored one.

The report never accuses: a pair is ranked by how much *rare* material two
notebooks share, and its :data:`Level` only says whether an instructor may
want to look at it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "LEVELS",
    "ArchitectureMatch",
    "CellMatch",
    "ChannelScores",
    "ImageMatch",
    "Level",
    "LogMatch",
    "NumberMatch",
    "PairEvidence",
    "SimilarityReport",
    "SimilaritySettings",
    "SkippedNotebook",
    "SubmissionInfo",
]

SCHEMA_VERSION = 1

Level = Literal["worth a look", "similar", "nothing notable"]
LEVELS: tuple[Level, ...] = ("worth a look", "similar", "nothing notable")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SimilaritySettings(_Model):
    """How the comparison was made; stored in the report so a result can be reproduced."""

    k: int = Field(default=12, ge=3, description="tokens per k-gram of normalised code")
    window: int = Field(
        default=8, ge=1, description="winnowing window: k-grams per window, one kept"
    )
    code_numbers: bool = Field(
        default=True,
        description="compare the numbers in code by value (1e-3 == 0.001); off: every number "
        "alike, which also finds copies whose hyper-parameters were changed but matches "
        "more honest pairs that differ mainly in their numbers",
    )
    min_cell_tokens: int = Field(
        default=8, ge=1, description="shorter code cells are not fingerprinted"
    )
    common_share: float = Field(
        default=0.4,
        gt=0.0,
        le=1.0,
        description="what at least this share of the class has counts for nothing; "
        "rarer material counts more the fewer notebooks share it (an IDF weight)",
    )
    min_class_for_rarity: int = Field(
        default=5,
        ge=2,
        description="in smaller classes how common something is cannot be judged: "
        "everything shared counts fully (give the starter notebook)",
    )
    image_distance: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="figures whose ink masks differ in at most this share of their inked "
        "cells (Jaccard distance) are near-identical, if their tones agree too",
    )
    image_tone: float = Field(
        default=3.0,
        ge=0.0,
        description="mean grey-level difference (0-255) of the 16 x 16 thumbnails allowed "
        "for near-identical figures",
    )
    worth_a_look: float = Field(default=0.5, description="score from which a pair is worth a look")
    similar: float = Field(default=0.25, description="score from which a pair is similar")
    report_floor: float = Field(
        default=0.05, description="pairs scoring below this are counted but not listed"
    )
    max_pairs: int = Field(default=500, ge=1, description="pairs listed at most")
    detail_pairs: int = Field(
        default=20, ge=0, description="pairs (from the top) whose matching code is included"
    )
    starters: list[str] = Field(
        default_factory=list, description="starter notebooks given by the instructor"
    )


class SkippedNotebook(_Model):
    """A submission left out of the comparison, and why."""

    id: str
    name: str
    origin: str = Field(description="where it came from, for people")
    reason: str


class SubmissionInfo(_Model):
    """One notebook that was compared, with its strongest pair (for the class dashboard)."""

    id: str = Field(description="the submission's id (the batch id when read from a batch)")
    name: str
    origin: str
    path: str
    cells: int
    code_cells: int
    own_code: float = Field(
        default=0.0,
        description="weighted fingerprints of code that is neither starter code nor "
        "shared by most of the class (how much of the notebook can be compared at all)",
    )
    top_score: float = Field(default=0.0, description="score of its highest pair")
    top_level: Level = "nothing notable"
    top_partner: str | None = Field(default=None, description="id of the other notebook")


class ChannelScores(_Model):
    """Strength of each kind of evidence, each in [0, 1]; the score combines them."""

    code: float = 0.0
    logs: float = 0.0
    numbers: float = 0.0
    images: float = 0.0
    architecture: float = 0.0


class CellMatch(_Model):
    """A code cell of notebook A whose normalised code is found in a cell of notebook B."""

    cell_a: int
    cell_b: int
    exec_a: int | None = None
    exec_b: int | None = None
    share_a: float = Field(description="share of cell A's rare fingerprints found in cell B")
    share_b: float = Field(description="share of cell B's rare fingerprints found in cell A")
    weight: float = Field(description="weighted fingerprints the two cells share")
    source_a: str | None = Field(default=None, description="cell A's code (top pairs only)")
    source_b: str | None = Field(default=None, description="cell B's code (top pairs only)")


class NumberMatch(_Model):
    """A printed number with at least 3 significant digits found in both notebooks."""

    value: str
    cell_a: int
    cell_b: int
    line_a: str = Field(description="the output line in A")
    line_b: str = Field(description="the output line in B")
    shared_by: int = Field(description="notebooks in the class that print it")


class LogMatch(_Model):
    """An output line with several numbers (an epoch of a training log) found in both."""

    line: str = Field(description="the line as A printed it")
    cell_a: int
    cell_b: int
    shared_by: int


class ImageMatch(_Model):
    """A figure of A that is identical (same bytes) or near-identical to one of B."""

    kind: Literal["identical", "near-identical"]
    cell_a: int
    cell_b: int
    distance: float = Field(
        description="ink-mask distance, 0 (same) to 1 (nothing in common); 0 for identical"
    )
    sha256_a: str
    sha256_b: str
    size_a: str = Field(description="width x height in pixels")
    size_b: str
    shared_by: int


class ArchitectureMatch(_Model):
    """A model built the same way in both notebooks."""

    description: str = Field(description="layers and training settings, in words")
    layers: int
    hyperparameters: bool = Field(
        description="optimizer, learning rate, epochs and batch size are identical too"
    )
    cell_a: int
    cell_b: int
    shared_by: int


class PairEvidence(_Model):
    """Two notebooks, how much rare material they share, and what exactly."""

    a: str = Field(description="id of notebook A")
    b: str = Field(description="id of notebook B")
    name_a: str
    name_b: str
    score: float = Field(ge=0.0, le=1.0)
    level: Level
    reasons: list[str] = Field(default_factory=list, description="short sentences, plain words")
    channels: ChannelScores = Field(default_factory=ChannelScores)
    code_share_a: float = Field(default=0.0, description="share of A's own code found in B")
    code_share_b: float = Field(default=0.0, description="share of B's own code found in A")
    cells: list[CellMatch] = Field(default_factory=list)
    log_lines: list[LogMatch] = Field(default_factory=list)
    log_lines_total: int = Field(default=0, description="identical log lines, all of them")
    numbers: list[NumberMatch] = Field(default_factory=list)
    images: list[ImageMatch] = Field(default_factory=list)
    architectures: list[ArchitectureMatch] = Field(default_factory=list)


class SimilarityReport(_Model):
    """The comparison of a class: every readable notebook and the ranked pairs."""

    schema_version: int = SCHEMA_VERSION
    source: str
    generated: str | None = None
    class_size: int = Field(description="notebooks compared")
    settings: SimilaritySettings = Field(default_factory=SimilaritySettings)
    submissions: list[SubmissionInfo] = Field(default_factory=list)
    skipped: list[SkippedNotebook] = Field(default_factory=list)
    pairs: list[PairEvidence] = Field(
        default_factory=list, description="ranked, highest score first"
    )
    pairs_scored: int = Field(default=0, description="pairs sharing anything rare at all")
    notes: list[str] = Field(default_factory=list)

    def count(self, level: Level) -> int:
        """How many listed pairs have ``level``."""
        return sum(1 for p in self.pairs if p.level == level)

    def pairs_of(self, submission_id: str) -> list[PairEvidence]:
        """The listed pairs one notebook is part of, highest first."""
        return [p for p in self.pairs if submission_id in (p.a, p.b)]
