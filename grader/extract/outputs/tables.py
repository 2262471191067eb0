"""Tables: pandas frames and series (text and HTML), pipe tables, aligned columns.

A comparison table (one row per model, a test-accuracy column) gives
:class:`~grader.extract.facts.TableRow` s and accuracy candidates; a square
table of counts labelled like predictions is a confusion matrix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from grader.extract.facts import PrintedMatrix, TableRow
from grader.extract.outputs.cell import SPANS, Cell, Position, Segment
from grader.extract.outputs.matrices import MATRIX_TOKEN, plausible_matrix
from grader.extract.text import mentions, names_accuracy, parse_fraction, parse_number

__all__ = ["parse_tables"]


@dataclass
class _Table:
    columns: list[str]  # data column names (the index column excluded)
    rows: list[tuple[str, list[str], str]]  # (index label, cells, source line)
    pos: Position
    index_name: str = ""
    series: bool = False
    lines: list[int] | None = None  # the lines the table holds, when not its whole block


class _HTMLTables(HTMLParser):
    """Rows of every ``<table>`` in an HTML snippet: cell texts with their tag and colspan."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[tuple[bool, list[tuple[str, str, int]]]]] = []
        self._depth = 0
        self._row: list[tuple[str, str, int]] | None = None
        self._in_head = False
        self._cell: list[str] | None = None
        self._cell_tag = ""
        self._colspan = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif self._depth != 1:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._cell_tag = tag
            span = dict(attrs).get("colspan") or "1"
            self._colspan = int(span) if span.isdigit() else 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth = max(0, self._depth - 1)
        elif self._depth != 1:
            return
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).split())
            self._row.append((self._cell_tag, text, self._colspan))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append((self._in_head, self._row))
            self._row = None
        elif tag == "thead":
            self._in_head = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(html: str, pos: Position) -> list[_Table]:
    parser = _HTMLTables()
    parser.feed(html)
    parser.close()
    tables: list[_Table] = []
    for raw in parser.tables:
        head = [row for in_head, row in raw if in_head]
        body = [row for in_head, row in raw if not in_head]
        if not head and body and all(tag == "th" for tag, _t, _s in body[0]):
            head, body = [body[0]], body[1:]
        if not head or not body:
            continue
        width = max(sum(span for _tag, _t, span in row) for row in head)
        names = [""] * width
        index_name = ""
        for row in head:
            texts = [text for _tag, text, span in row for _ in range(span)]
            if len(texts) > 1 and texts[0] and not any(texts[1:]):
                index_name = texts[0]  # pandas puts the index name on its own header row
                continue
            for k, text in enumerate(texts[:width]):
                names[k] = f"{names[k]} {text}".strip() if text else names[k]
        rows: list[tuple[str, list[str], str]] = []
        for row in body:
            labels = [text for tag, text, _s in row if tag == "th"]
            cells = [text for tag, text, _s in row if tag == "td"]
            if not cells:
                continue
            rows.append((" ".join(labels), cells, " | ".join(t for _tag, t, _s in row)))
        if not rows:
            continue
        n_cells = max(len(cells) for _l, cells, _r in rows)
        columns = names[-n_cells:] if n_cells <= len(names) else names + [""] * (n_cells - width)
        tables.append(_Table(columns, rows, pos, index_name))
    return tables


_SEPARATOR_ROW = re.compile(r"^[\s|:+\-=]+$")
_FOOTER = re.compile(r"^\s*\[\d+ rows x \d+ columns\]\s*$")
_SERIES_FOOTER = re.compile(r"^\s*(?:Name:\s*(.*?),\s*)?(?:Length: \d+, )?dtype:\s*\w+\s*$")


def _pipe_table(block: list[tuple[int, str]]) -> _Table | None:
    rows: list[list[str]] = []
    sources: list[str] = []
    for _i, line in block:
        stripped = line.strip()
        if _SEPARATOR_ROW.match(stripped):
            continue
        if not stripped.startswith("|"):
            return None
        rows.append([cell.strip() for cell in stripped.strip("|").split("|")])
        sources.append(stripped)
    if len(rows) < 2:
        return None
    header = rows[0]
    body = [(row[0], row[1:], src) for row, src in zip(rows[1:], sources[1:], strict=True)]
    return _Table(header[1:], body, (block[0][0], 0), header[0])


def _numeric_span(text: str) -> bool:
    first = text.split()[0] if text.split() else ""
    return parse_number(first) is not None


def _aligned_table(block: list[tuple[int, str]], allow_numeric_header: bool) -> _Table | None:
    """A whitespace-aligned table (pandas repr, tabulate, f-string columns)."""
    lines = [(i, line) for i, line in block if not _SEPARATOR_ROW.match(line)]
    lines = [(i, line) for i, line in lines if not _FOOTER.match(line)]
    if len(lines) < 2:
        return None
    header = lines[0][1]
    if header.rstrip().endswith("\\"):
        return None  # a wide frame wrapped over several blocks
    names = [(m.start(), m.end(), m.group()) for m in SPANS.finditer(header)]
    if not names:
        return None
    if not allow_numeric_header and (
        len(names) < 2 or any(_numeric_span(n) for _s, _e, n in names)
    ):
        return None
    body = lines[1:]
    index_name = ""
    first_start = names[0][0]
    if body and len(body) > 1:
        lead = body[0][1]
        data_start = names[1][0] if first_start == 0 and len(names) > 1 else first_start
        if lead.strip() and 0 < len(lead.rstrip()) <= data_start:
            index_name = lead.strip()
            body = body[1:]
            if first_start == 0 and len(names) > 1:
                # pandas prints the columns' own name (crosstab "Predicted") in the index area
                index_name = f"{names[0][2]} / {index_name}"
                names = names[1:]
                first_start = names[0][0]
    rows: list[tuple[str, list[str], str]] = []
    used = [i for i, _line in lines[: len(lines) - len(body)]]
    for i, line in body:
        cells = [""] * len(names)
        index_parts: list[str] = []
        sentence = False
        for m in SPANS.finditer(line):
            p_start, p_end, piece = m.start(), m.end(), m.group()
            best, overlap, spanned = -1, 0, 0
            for k, (h_start, h_end, _n) in enumerate(names):
                shared = min(p_end, h_end) - max(p_start, h_start)
                spanned += shared > 0
                if shared > overlap:
                    best, overlap = k, shared
            if spanned >= 2 and rows:
                sentence = True  # a line of prose across the columns: the table ended
                break
            if best < 0:
                if p_end <= first_start:
                    index_parts.append(piece)
                    continue
                return None
            if cells[best]:
                return None
            cells[best] = piece
        if sentence:
            break
        rows.append((" ".join(index_parts), cells, line.strip()))
        used.append(i)
    if not rows:
        return None
    return _Table([n for _s, _e, n in names], rows, (lines[0][0], 0), index_name, lines=used)


def _series_table(block: list[tuple[int, str]]) -> _Table | None:
    footer = _SERIES_FOOTER.match(block[-1][1])
    if not footer or len(block) < 2:
        return None
    rows: list[tuple[str, list[str], str]] = []
    index_name = ""
    for k, (_i, line) in enumerate(block[:-1]):
        m = re.match(r"^(.*?\S)\s{2,}(\S+)\s*$", line)
        if not m:
            if k == 0 and line.strip():
                index_name = line.strip()
                continue
            return None
        rows.append((m.group(1).strip(), [m.group(2)], line.strip()))
    if not rows:
        return None
    name = (footer.group(1) or "").strip()
    return _Table([name], rows, (block[0][0], 0), index_name, series=True)


def _text_blocks(c: Cell, seg: Segment) -> Iterator[list[tuple[int, str]]]:
    block: list[tuple[int, str]] = []
    for i in range(seg.start, seg.end):
        line = c.lines[i]
        if i in c.consumed or not line.strip():
            if block:
                yield block
            block = []
            continue
        block.append((i, line))
    if block:
        yield block


def _text_table(block: list[tuple[int, str]], from_result: bool) -> _Table | None:
    first = block[0][1].lstrip()
    if first.startswith(("|", "+")):
        return _pipe_table([(i, ln) for i, ln in block if not ln.lstrip().startswith("+")])
    series = _series_table(block)
    if series is not None:
        return series
    if len(block) > 60 or (not from_result and len(block) < 3):
        return None
    return _aligned_table(block, allow_numeric_header=from_result)


_MATRIX_WORDS = re.compile(r"pred|true|actual|skute[čc]n|předpov|predikov|label", re.IGNORECASE)


def _table_matrix(table: _Table) -> PrintedMatrix | None:
    labels = [label for label, _cells, _src in table.rows]
    columns = list(table.columns)
    rows = [list(cells) for _l, cells, _s in table.rows]
    if labels and labels[-1].lower() in ("all", "total", "sum"):
        labels, rows = labels[:-1], rows[:-1]
    if columns and columns[-1].lower() in ("all", "total", "sum"):
        columns = columns[:-1]
        rows = [r[:-1] for r in rows]
    n = len(rows)
    if not 2 <= n <= 20 or len(columns) != n or any(len(r) != n for r in rows):
        return None
    if not all(MATRIX_TOKEN.match(cell.strip()) for r in rows for cell in r):
        return None
    matrix = [[int(float(cell)) for cell in r] for r in rows]
    if not plausible_matrix(matrix):
        return None

    def norm(names: list[str]) -> list[str]:
        return [
            re.sub(r"^(?:pred(?:icted)?|true|actual)[\s_:]*", "", x.strip().lower()) for x in names
        ]

    same = norm(labels) == norm(columns) or sorted(norm(labels)) == sorted(norm(columns))
    numbered = [x.strip() for x in labels] == [str(k) for k in range(n)] and [
        x.strip() for x in columns
    ] == [str(k) for k in range(n)]
    named = _MATRIX_WORDS.search(" ".join([table.index_name, *columns, *labels])) is not None
    if not (same or numbered or named):
        return None
    return PrintedMatrix(matrix=matrix, labels=[x.strip() for x in labels] or None, order=0)


def _is_integer_label(text: str) -> bool:
    return text.strip().lstrip("-").isdigit()


def _emit_table(c: Cell, table: _Table) -> bool:
    """TableRows, and accuracy candidates for accuracy columns; False when nothing numeric."""
    matrix = _table_matrix(table)
    if matrix is not None:
        c.matrices.append((table.pos, matrix))
        return True
    # which column holds the row label
    label_col = -1
    if all(not label or _is_integer_label(label) for label, _c, _s in table.rows):
        for k in range(len(table.columns)):
            if all(
                k < len(cells) and cells[k] and parse_number(cells[k]) is None
                for _l, cells, _s in table.rows
            ):
                label_col = k
                break
    numeric_cols = [
        k
        for k, _name in enumerate(table.columns)
        if k != label_col
        and any(
            k < len(cells) and parse_number(cells[k]) is not None for _l, cells, _s in table.rows
        )
    ]
    if not numeric_cols:
        return False
    names = [n.strip() for n in table.columns]
    acc_cols = [k for k in numeric_cols if names_accuracy(names[k])]
    flags = {k: mentions(names[k]) for k in acc_cols}
    split_named = any(mentions(name)[1] or mentions(name)[2] for name in names)
    chosen: list[tuple[int, float]] = []
    for k in acc_cols:
        test, val, train = flags[k]
        if val or train:
            if not test:
                continue
            chosen.append((k, 0.3))
        elif test:
            chosen.append((k, 0.75))
        elif not split_named:
            chosen.append((k, 0.5))
    if table.series and not table.columns[0]:
        chosen = []
    for r, (index_label, cells, source) in enumerate(table.rows):
        label = cells[label_col].strip() if label_col >= 0 and label_col < len(cells) else ""
        label = label or index_label.strip()
        values: dict[str, float] = {}
        for k in numeric_cols:
            if k < len(cells):
                number = parse_number(cells[k])
                if number is not None:
                    values[names[k] or f"column {k}"] = number
        if not values:
            continue
        pos = (table.pos[0], r + 1)
        c.rows.append((pos, TableRow(label=label, values=values, order=0)))
        row_flags = mentions(label)
        for k, confidence in chosen:
            if k >= len(cells):
                continue
            value = parse_fraction(cells[k])
            if value is None:
                continue
            col_flags = flags[k]
            merged = (
                col_flags[0] or row_flags[0],
                col_flags[1] or row_flags[1],
                col_flags[2] or row_flags[2],
            )
            conf = confidence if not (row_flags[1] or row_flags[2]) else 0.1
            name = f"{label} ({names[k]})" if len(chosen) > 1 else label
            c.add_candidate(pos, value, "table", name, source, conf, merged)
        if not chosen and names_accuracy(label) and table.series:
            # one record printed as a series: ``val_acc    0.7293`` under its metric name
            test, val, train = row_flags
            conf = 0.1 if (val or train) and not test else 0.7 if test else 0.45
            value = parse_fraction(cells[0]) if cells else None
            if value is not None and len(table.rows) <= 12 and (test or val):
                c.add_candidate(pos, value, "table", label, source, conf, row_flags)
        elif not chosen and names_accuracy(label):
            # transposed comparison: one row per metric, one column per model
            test, val, train = row_flags
            conf = 0.1 if (val or train) and not test else 0.7 if test else 0.45
            for k in numeric_cols:
                if k < len(cells) and names[k]:
                    value = parse_fraction(cells[k])
                    if value is not None:
                        c.add_candidate(pos, value, "table", names[k], source, conf, row_flags)
    return True


def parse_tables(c: Cell) -> None:
    for seg in c.segments:
        if seg.kind == "error":
            continue
        found_html = False
        if seg.html is not None:
            try:
                tables = _html_tables(seg.html, (seg.start, 0))
            except Exception:  # malformed HTML: fall back to the text/plain repr
                tables = []
            for table in tables:
                found_html = _emit_table(c, table) or found_html
            if found_html:
                c.consumed.update(range(seg.start, seg.end))
                continue
        if seg.kind == "stderr" or ("  " not in seg.text and "|" not in seg.text):
            continue
        for block in _text_blocks(c, seg):
            text_table = _text_table(block, from_result=seg.kind == "plain")
            if text_table is not None and _emit_table(c, text_table):
                if text_table.lines is not None and len(text_table.lines) < len(block):
                    c.consumed.update(text_table.lines)
                else:
                    c.consumed.update(i for i, _line in block)
