"""Assembly: join per-cell source and output facts into one :class:`Evidence`.

The readers look at one cell at a time: :func:`~grader.extract.source.read_sources`
reads the notebook's code (each cell parsed once; what the assembly needs of
the code comes with its :class:`~grader.extract.facts.SourceFacts`) and
:func:`~grader.extract.outputs.read_outputs` each cell's stored outputs. This
package walks the notebook in order and keeps the state a reader of the
notebook keeps in their head:

* :mod:`.state` - which model each name holds, the model runs found so far;
* :mod:`.training` - which model each fit trains, in which setup and stage;
* :mod:`.classify` - the kind of each model, and what headings claim;
* :mod:`.accuracy` - which printed number is which model's test accuracy
  (:mod:`.matching` pairs labels with models; :mod:`.validation` reads the
  "validation" numbers of models validated on the test set);
* :mod:`.missing` - why a model has no test accuracy;
* :mod:`.shown` - which models a cell's curves and confusion matrices show;
* :mod:`.notebook` - data facts, framework, names and findings of the whole notebook.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from grader.evidence import DataFacts, Evidence, Hygiene, Method, NotebookInfo
from grader.extract.assemble import accuracy, missing, notebook, shown, training, validation
from grader.extract.assemble.state import CodeCell, State, prov
from grader.extract.discussion import MarkdownCell, heading_text, read_discussion
from grader.extract.facts import AccuracyCandidate, SourceFacts
from grader.extract.outputs import read_outputs
from grader.extract.source import read_sources, uncommented
from grader.i18n import _

__all__ = ["assemble"]


def assemble(nb: Any, info: NotebookInfo) -> Evidence:
    """Build the evidence of a normalised (nbformat 4) notebook."""
    cells = list(nb.get("cells", []))
    code_cells = [(i, _code_of(c)) for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    sources = dict(
        zip((i for i, _cell in code_cells), read_sources(code_cells, strict=True), strict=True)
    )
    walk = _Walk(
        has_outputs=any(c.get("cell_type") == "code" and c.get("outputs") for c in cells),
        any_counts=any(
            c.get("cell_type") == "code" and c.get("execution_count") is not None for c in cells
        ),
    )
    for idx, cell in enumerate(cells):
        ctype = cell.get("cell_type")
        if ctype == "markdown":
            walk.markdown_cell(idx, cell.get("source", "") or "")
        elif ctype == "code":
            walk.code_cell(idx, cell, sources[idx])
    return walk.evidence(info)


def _code_of(cell: Any) -> str:
    """A code cell's source; a commented-out cell that still shows outputs: the code it ran."""
    source = cell.get("source", "") or ""
    if not isinstance(source, str) or "#" not in source:
        return source
    outputs = cell.get("outputs") or []
    if any(
        isinstance(o, dict) and o.get("output_type") in ("stream", "execute_result")
        for o in outputs
    ):
        return uncommented(source) or source
    return source


@dataclass
class _Walk:
    """One walk over a notebook's cells, in order."""

    has_outputs: bool  # some code cell has stored outputs
    any_counts: bool  # some code cell has an execution count
    state: State = field(default_factory=State)
    markdown: list[MarkdownCell] = field(default_factory=list)
    framework_votes: Counter[str] = field(default_factory=Counter)
    hygiene: Hygiene = field(default_factory=Hygiene)
    data: DataFacts = field(default_factory=DataFacts)
    curve_cells: list[int] = field(default_factory=list)
    confusion_cells: list[int] = field(default_factory=list)
    first_result: int | None = None  # the first cell that trains or reports a test accuracy
    last_count: int = 0
    table_candidates: list[tuple[int, AccuracyCandidate]] = field(default_factory=list)

    def markdown_cell(self, idx: int, src: str) -> None:
        self.markdown.append(MarkdownCell(idx, src))
        heads = heading_text(src)
        if heads:
            self.state.heading = heads[-1]

    def code_cell(self, idx: int, cell: Any, facts: SourceFacts) -> None:
        hygiene, state = self.hygiene, self.state
        hygiene.code_cells += 1
        count = cell.get("execution_count")
        outputs = cell.get("outputs") or []
        if count is not None:
            hygiene.executed_cells += 1
            if count < self.last_count:
                hygiene.in_order = False
                hygiene.out_of_order_cells.append(idx)
            self.last_count = max(self.last_count, count)
        out = read_outputs(idx, outputs)
        if out.errors:
            hygiene.error_cells.append(idx)
        # without execution counts (stripped by some tools) a cell without output may have run
        ran = bool(outputs) or count is not None or not self.has_outputs or not self.any_counts

        for hint in facts.framework_hints:
            self.framework_votes[hint] += 1
        for d in facts.model_defs:
            self.framework_votes[d.framework] += 2
        notebook.data_facts(self.data, facts, idx)
        if ran and facts.printed_shapes:
            notebook.printed_sizes(self.data, facts.printed_shapes, out.text)
        training.record_defs(state, facts)
        if not ran:
            evaluates = [training.with_loop_models(state, facts, e) for e in facts.evaluates]
            accuracy.note_not_run(state, idx, evaluates)
            return
        for s in out.summaries:
            owner = training.summary_owner(facts)
            if owner:
                state.summaries[owner] = (s.total, s.trainable)

        # the statements of this cell, then those of the user functions it calls, in line order
        fits = sorted(facts.fits, key=lambda x: (x.line, x.order))
        evaluates = sorted(facts.evaluates, key=lambda x: (x.line, x.order))
        fits = [
            training.with_iteration(state, training.with_loop_models(state, facts, f)) for f in fits
        ]
        evaluates = [
            training.with_iteration(state, training.with_loop_models(state, facts, e))
            for e in evaluates
        ]
        if out.errors and not (out.training_logs or out.printed or out.images):
            # the cell stopped with an error before its training showed anything
            fits = [f for f in fits if out.error_line is not None and f.line < out.error_line]
        rebuilt = frozenset(d.var for d in facts.model_defs if not d.is_builder)
        trained_here = training.train(
            state, idx, fits, out.training_logs, rebuilt, training.setup_facts(facts)
        )
        for e in trained_here:
            e.interrupted = bool(out.errors)
        if trained_here and self.first_result is None:
            self.first_result = idx
        code = CodeCell(idx, facts, out, evaluates, trained_here)
        accepted, tables = accuracy.test_accuracy(state, code)
        if accepted and self.first_result is None:
            self.first_result = idx
        self.table_candidates.extend((idx, c) for c in tables)
        if shown.curves_shown(state, code):
            self.curve_cells.append(idx)
        if shown.confusion_shown(state, code):
            self.confusion_cells.append(idx)

    def evidence(self, info: NotebookInfo) -> Evidence:
        state, hygiene = self.state, self.hygiene
        hygiene.has_outputs = self.has_outputs
        accuracy.apply_tables(state, self.table_candidates)
        for e in state.entries:
            per_epoch = e.run.history.get("test_accuracy")
            if e.run.test_accuracy is None and per_epoch:
                # a hand-written loop that evaluates on the test set after every epoch
                e.run.test_accuracy = round(per_epoch[-1], 6)
                e.run.test_accuracy_provenance = prov(
                    e.run.fit_cells[-1] if e.run.fit_cells else None,
                    Method.output_log,
                    0.6,
                    _("last per-epoch test accuracy of the training log"),
                )
        validation.last_epoch_on_test(state.entries)
        missing.explain(state.entries, self.has_outputs)
        for e in state.entries:
            if e.var in state.summaries:
                e.run.params_total, e.run.params_trainable = state.summaries[e.var]
        framework = notebook.framework_of(self.framework_votes)
        models = [e.run for e in state.entries]
        notebook.name_entries(state.entries)
        last_training = max((c for m in models for c in m.fit_cells), default=None)
        discussion = read_discussion(self.markdown, self.first_result, last_training)
        findings = state.findings
        findings.extend(notebook.hygiene_findings(hygiene, framework, self.has_outputs))
        findings.extend(notebook.number_findings(self.markdown, discussion.cells, models))
        return Evidence(
            notebook=info,
            framework=framework,
            models=models,
            has_curves=bool(self.curve_cells),
            has_confusion_matrix=bool(self.confusion_cells),
            has_written_summary=discussion.present,
            discussion=discussion,
            data=self.data,
            hygiene=hygiene,
            findings=findings,
        )
