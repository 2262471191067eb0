"""What the assembly keeps in mind while it walks a notebook's cells.

:class:`State` holds what a reader of the notebook keeps in their head:
which model each name holds (:class:`ModelVar` and its :class:`Features`),
what was frozen or recompiled since it was last trained, the model runs found
so far (:class:`Entry`, one per :class:`~grader.evidence.ModelRun`), and which
results were printed where.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from grader.evidence import Finding, Method, ModelRun, Provenance
from grader.extract.facts import EvaluateCall, ModelDef, OutputFacts, SourceFacts, TrainableChange

__all__ = ["CodeCell", "Entry", "Features", "ModelVar", "Setup", "State", "prov", "resolve"]


@dataclass
class Features:
    """What a model is built of, as the source reader saw it."""

    layers: Counter[str] = field(default_factory=Counter)
    residual: bool = False
    separable: bool = False
    bottleneck: bool = False
    base: str | None = None
    base_var: str | None = None
    weights: str | None = None
    ensemble: bool = False
    framework: str = "keras"

    @classmethod
    def of(cls, d: ModelDef) -> Features:
        return cls(
            layers=Counter(d.layers),
            residual=d.residual,
            separable=d.separable,
            bottleneck=d.bottleneck,
            base=d.base,
            base_var=d.base_var,
            weights=d.weights,
            ensemble=d.ensemble,
            framework=d.framework,
        )

    def merge(self, other: Features) -> None:
        self.layers.update(other.layers)
        self.residual |= other.residual
        self.separable |= other.separable
        self.bottleneck |= other.bottleneck
        self.ensemble |= other.ensemble
        if other.base and not self.base:
            self.base, self.base_var, self.weights = other.base, other.base_var, other.weights


@dataclass
class ModelVar:
    """What a model variable holds."""

    features: Features
    generation: int  # bumps when the name is bound to a new model


@dataclass
class Setup:
    """How a model is set up for one training stage."""

    frozen: str  # "frozen", "partial", "trainable", "n/a"
    lr: float | None
    compiles: int
    augmentation: bool
    callbacks: tuple[str, ...]


@dataclass
class Entry:
    """One model run being assembled."""

    run: ModelRun
    var: str
    generation: int
    setup: Setup
    history_vars: set[str] = field(default_factory=set)
    log_epochs: list[int] = field(default_factory=list)
    acc_priority: int = -1  # how trustworthy the test accuracy given so far is
    validated_on_test: bool = False  # a fit validates it on the test set (by name or origin)
    last_fit_logged: bool = False  # its latest training call showed a training log
    interrupted: bool = False  # a cell that trains it ended with an error
    # what the cells that evaluate it on held-out data showed: (cell, what), see .missing
    evaluations: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class State:
    builders: dict[str, Features] = field(default_factory=dict)  # builder functions
    vars: dict[str, ModelVar] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # new name -> existing model name
    trainable: dict[str, TrainableChange] = field(default_factory=dict)  # the latest per model
    trainable_order: dict[str, int] = field(default_factory=dict)  # when each was changed
    tick: int = 0
    compiles: dict[str, tuple[int, float | None]] = field(default_factory=dict)  # count, lr
    entries: list[Entry] = field(default_factory=list)
    by_var: dict[str, Entry] = field(default_factory=dict)  # the latest entry of a model
    heading: str = ""  # the last markdown heading seen
    generation: int = 0
    findings: list[Finding] = field(default_factory=list)
    summaries: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    list_members: dict[str, list[str]] = field(default_factory=dict)  # name -> names listed
    unfrozen_before: dict[str, bool] = field(default_factory=dict)
    result_vars: dict[str, Entry] = field(default_factory=dict)  # evaluate results -> model
    head_only: set[str] = field(default_factory=set)  # optimised through their head only
    # the model the latest cell evaluated on the test set, when nothing happened since
    last_test_eval: Entry | None = None


@dataclass
class CodeCell:
    """The code cell being assembled, once its training stages are known."""

    idx: int
    facts: SourceFacts
    out: OutputFacts
    evaluates: list[EvaluateCall]  # in line order, the models of loops filled in
    trained_here: list[Entry]  # the entries its fits trained


def resolve(state: State, var: str | None) -> str | None:
    """The model a name stands for, following aliases."""
    seen = set()
    while var and var in state.aliases and var not in seen:
        seen.add(var)
        var = state.aliases[var]
    return var


def prov(
    cell: int | None, method: Method, confidence: float, detail: str | None = None
) -> Provenance:
    return Provenance(
        cell=cell, method=method, confidence=confidence, detail=(detail or "")[:160] or None
    )
