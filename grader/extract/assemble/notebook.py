"""Facts of the whole notebook: its data, framework, model names, and hygiene findings.

What the walk over the cells adds up once it is done: the framework by vote,
readable names for the model runs, findings about how the notebook was run
(no outputs, out of order, errors) and about numbers the written summary
quotes that match no measured accuracy.
"""

from __future__ import annotations

import re
from collections import Counter

from grader.evidence import DataFacts, Finding, Framework, Hygiene, Method, ModelRun, Severity
from grader.extract.assemble.state import Entry, prov
from grader.extract.discussion import MarkdownCell, quoted_accuracies
from grader.extract.facts import SourceFacts
from grader.i18n import _, ngettext

__all__ = [
    "data_facts",
    "framework_of",
    "hygiene_findings",
    "name_entries",
    "number_findings",
    "printed_sizes",
]


_RE_SHAPE = re.compile(
    r"(?:\(|torch\.Size\(\[|TensorShape\(\[)(\d+)(?:,\s*(?:\d+|None))*,?\s*\]?\)"
)
_SIZE_ATTR = {"train": "train_size", "val": "val_size", "test": "test_size"}


def data_facts(data: DataFacts, sf: SourceFacts, idx: int) -> None:
    """What a cell's code says of the data: the dataset, its classes, subset sizes."""
    if sf.loads_cifar10 and data.dataset is None:
        data.dataset = "cifar10"
        data.provenance = prov(idx, Method.source, 0.9, _("loads CIFAR-10"))
    if sf.class_names and not data.classes:
        data.classes = list(sf.class_names)
        data.n_classes = len(sf.class_names)
    for key, attr in _SIZE_ATTR.items():
        if key in sf.subset_sizes and getattr(data, attr) is None:
            setattr(data, attr, sf.subset_sizes[key])


def printed_sizes(data: DataFacts, splits: list[str | None], text: str) -> None:
    """Subset sizes from printed array shapes: ``print(x_test.shape)`` -> ``(1000, 32, 32, 3)``.

    The shapes a cell's prints show are matched with the printed tuples in
    order, and only when their numbers agree (a print in a loop, or a tuple
    printed for another reason, leaves the sizes alone). A later printed shape
    replaces an earlier one: notebooks often print the full dataset before
    taking the subset.
    """
    found = [int(m.group(1)) for m in _RE_SHAPE.finditer(text)]
    if len(found) != len(splits):
        return
    seen: dict[str, int] = {}
    for split, n in zip(splits, found, strict=True):
        if split is None or n <= 0:
            continue
        if seen.get(split, n) != n:
            return  # x and y of one split disagree: not a reading to trust
        seen[split] = n
    for split, n in seen.items():
        setattr(data, _SIZE_ATTR[split], n)


def framework_of(votes: Counter[str]) -> Framework:
    if not votes:
        return Framework.unknown
    if votes["pytorch"] > votes["keras"]:
        return Framework.pytorch
    if votes["keras"]:
        return Framework.keras
    return Framework.unknown


def name_entries(entries: list[Entry]) -> None:
    """Readable names: the variable, `(cell N)` when a name is reused for another model,
    `(stage N)` for a training stage that continues an earlier entry."""
    models: dict[str, set[int]] = {}
    for e in entries:
        models.setdefault(e.var, set()).add(e.generation)
    stage: dict[tuple[str, int], int] = {}
    for e in entries:
        key = (e.var, e.generation)
        stage[key] = stage.get(key, 0) + 1
        name = e.var
        m = re.fullmatch(r"\w+\[['\"](.+)['\"]\]", name)
        if m:
            name = m.group(1)
        if len(models[e.var]) > 1:
            name += f" (cell {e.run.fit_cells[0] if e.run.fit_cells else '?'})"
        if stage[key] > 1:
            name += f" (stage {stage[key]})"
        e.run.name = name


def hygiene_findings(h: Hygiene, framework: Framework, has_outputs: bool) -> list[Finding]:
    out = []
    if not has_outputs:
        out.append(
            Finding(
                code="no-outputs",
                severity=Severity.error,
                message=_(
                    "the notebook was saved without outputs: nothing can be verified without "
                    "running it (grader check --run)"
                ),
            )
        )
    if framework == Framework.pytorch:
        out.append(
            Finding(
                code="framework-not-keras",
                severity=Severity.warning,
                message=_("the notebook uses PyTorch; the assignment asks for Keras"),
            )
        )
    if not h.in_order:
        out.append(
            Finding(
                code="out-of-order",
                severity=Severity.warning,
                message=ngettext(
                    "cells were executed out of order (execution counts go back at cell "
                    "{cells}); the outputs may not match the code as it reads",
                    "cells were executed out of order (execution counts go back at cells "
                    "{cells}); the outputs may not match the code as it reads",
                    len(h.out_of_order_cells[:10]),
                ).format(cells=", ".join(map(str, h.out_of_order_cells[:10]))),
                cell=h.out_of_order_cells[0],
            )
        )
    if has_outputs and h.executed_cells < h.code_cells:
        missing = h.code_cells - h.executed_cells
        out.append(
            Finding(
                code="cells-not-run",
                severity=Severity.info,
                message=ngettext(
                    "{n} code cell was not run before saving",
                    "{n} code cells were not run before saving",
                    missing,
                ).format(n=missing),
            )
        )
    for c in h.error_cells:
        out.append(
            Finding(
                code="error-output",
                severity=Severity.warning,
                message=_("a cell's output shows an error; later results may be stale"),
                cell=c,
            )
        )
    return out


def number_findings(
    md: list[MarkdownCell], cells: list[int], models: list[ModelRun]
) -> list[Finding]:
    measured = [m.test_accuracy for m in models if m.test_accuracy is not None]
    for m in models:
        for key in ("val_accuracy", "accuracy"):
            if m.history.get(key):
                measured.append(m.history[key][-1])
                measured.append(max(m.history[key]))
    if not measured:
        return []
    out = []
    for q in quoted_accuracies(md, cells):
        if not any(abs(q.value - v) <= 0.011 for v in measured):
            out.append(
                Finding(
                    code="summary-number-mismatch",
                    severity=Severity.warning,
                    message=_(
                        "the summary quotes {value} ({sentence}), which matches no accuracy in "
                        "the outputs"
                    ).format(value=f"{q.value:.1%}", sentence=repr(q.sentence)),
                    cell=q.cell,
                )
            )
    return out
