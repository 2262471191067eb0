"""A cell's outline for the assembly: its for-loops, lists of names, and the names it shows.

The assembly maps facts across cells with three plain readings of a cell
(:class:`~grader.extract.facts.SourceFacts` ``loops``, ``listed_names`` and
``shown_names``): which names a ``for`` loop iterates over, which names a
``name = [a, b]`` literal lists, and which names ``print`` / ``display`` or the
cell's last expression show.

The outline reads the cell as the assembly always has: IPython lines (a first
non-blank character ``%``, ``!`` or ``?``) are *blanked* rather than turned into
Python as :func:`~grader.extract.source.parsing.strip_magics` does for the
reader, and a cell that does not parse that way has no outline at all. To
parse each cell once, the outline reuses the reader's tree whenever the
blanked text parses to the same statements: it drops the statements that
stand on blanked lines, and gives no outline where blanking empties a block
(the blanked text would not parse). Only cells the two readings see
differently in other ways (a continuation line that starts with ``%``, a
``x = !cmd`` line, a syntax error the reader recovered from, an unusual line
separator) are parsed again, the assembly's way.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterator

from grader.extract.facts import LoopSpan, SourceFacts
from grader.extract.source.parsing import ParsedCell

__all__ = ["read_outline"]

_BLANKED = re.compile(r"^\s*([%!?]|%%)")  # lines the outline does not read
# line breaks of str.splitlines() that Python's tokenizer does not treat as line ends
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SHOWING = ("print", "display")
_CONVERTING = ("round", "float", "str")


class _NoOutline(Exception):
    """The blanked text would not parse: the cell has no outline."""


def read_outline(facts: SourceFacts, source: str, text: str, parsed: ParsedCell | None) -> None:
    """Fill ``facts``' outline of ``source`` (``text`` and ``parsed``: the reader's view of it).

    Raises what :func:`ast.parse` raises other than a syntax error (a recursion
    error on a very deeply nested expression), as the assembly's own parse did.
    """
    blanked = ["" if _BLANKED.match(line) else line for line in source.splitlines()]
    dropped: set[int] = set()
    try:
        found = _shared_tree(source, blanked, text, parsed)
        if found is None:
            tree = ast.parse("\n".join(blanked))
        else:
            tree, dropped = found
    except (SyntaxError, _NoOutline):
        return
    shown = facts.shown_names
    for node in _walk(tree, dropped):
        if isinstance(node, ast.For):
            facts.loops.append(
                LoopSpan(node.lineno, node.end_lineno or node.lineno, _iter_names(node.iter))
            )
        elif isinstance(node, ast.Assign):
            if (
                isinstance(node.value, ast.List | ast.Tuple)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                members = [e.id for e in node.value.elts if isinstance(e, ast.Name)]
                if members:
                    facts.listed_names[node.targets[0].id] = members
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _SHOWING
        ):
            # names whose values the cell prints, in order
            for a in node.args:
                shown.extend(_names_in(a))
            for k in node.keywords:
                shown.extend(_names_in(k.value))
    # then the value of its last expression
    body = [s for s in tree.body if id(s) not in dropped] if dropped else tree.body
    if body and isinstance(body[-1], ast.Expr):
        shown.extend(_names_in(body[-1].value))


# -------------------------------------------------------- one tree for both


def _shared_tree(
    source: str, blanked: list[str], text: str, parsed: ParsedCell | None
) -> tuple[ast.Module, set[int]] | None:
    """The reader's tree and the ids of the statements to drop, or None to parse again.

    Raises :class:`_NoOutline` when the blanked text would not parse.
    """
    if _OTHER_BREAKS.search(source):
        return None
    if not text.strip():
        if not any(line.strip() for line in blanked):
            return ast.Module(body=[], type_ignores=[]), set()
        return None  # a cell magic (``%%writefile``) the reader skipped: parse the rest
    if parsed is None:
        return None  # the reader failed before it parsed
    lines = text.split("\n")
    if any(line.strip() for line in lines[len(blanked) :]):
        return None
    differing = [
        k + 1 for k, (old, new) in enumerate(zip(blanked, lines, strict=False)) if old != new
    ]
    tree = parsed.tree
    if tree is None or not parsed.exact:
        if parsed.invalid and not differing:
            raise _NoOutline  # the same text: the same syntax error
        return None
    if not differing:
        return tree, set()
    dropped: set[int] = set()
    starting = _statements_by_line(tree)
    in_string = _string_lines(tree)
    for lineno in differing:
        old, new = blanked[lineno - 1], lines[lineno - 1]
        if not (old.strip() or new.strip()) or lineno in in_string:
            continue
        if old.strip():
            return None  # the reader rewrote a line the outline reads as it is
        if new.lstrip().startswith("#"):
            continue
        here = starting.get(lineno)
        if not here or any(_compound(s) or s.end_lineno != lineno for s in here):
            return None
        dropped.update(id(s) for s in here)
    if dropped and _empties_a_block(tree, dropped):
        raise _NoOutline
    return tree, dropped


def _statements_by_line(tree: ast.Module) -> dict[int, list[ast.stmt]]:
    out: dict[int, list[ast.stmt]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            out.setdefault(node.lineno, []).append(node)
    return out


def _string_lines(tree: ast.Module) -> set[int]:
    """Lines strictly inside a multi-line string literal (not an f-string)."""
    out: set[int] = set()
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.JoinedStr):
            continue
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str | bytes)
            and node.end_lineno is not None
        ):
            out.update(range(node.lineno + 1, node.end_lineno))
        todo.extend(ast.iter_child_nodes(node))
    return out


def _compound(node: ast.stmt) -> bool:
    return any(
        isinstance(value, list) and value and isinstance(value[0], ast.stmt | ast.excepthandler)
        for _name, value in ast.iter_fields(node)
    ) or isinstance(node, ast.Match)


def _empties_a_block(tree: ast.Module, dropped: set[int]) -> bool:
    """Whether dropping the statements leaves a block (not the cell itself) without any."""
    for node in ast.walk(tree):
        if node is tree:
            continue
        for _name, value in ast.iter_fields(node):
            if (
                isinstance(value, list)
                and value
                and isinstance(value[0], ast.stmt)
                and all(id(s) in dropped for s in value)
            ):
                return True
    return False


def _walk(tree: ast.Module, dropped: set[int]) -> Iterator[ast.AST]:
    """:func:`ast.walk` (same order) without the dropped statements."""
    if not dropped:
        yield from ast.walk(tree)
        return
    todo: deque[ast.AST] = deque([tree])
    while todo:
        node = todo.popleft()
        todo.extend(c for c in ast.iter_child_nodes(node) if id(c) not in dropped)
        yield node


# ------------------------------------------------------------------- names


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Subscript | ast.Attribute | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _names_in(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Tuple | ast.List):
        return [n for e in node.elts for n in _names_in(e)]
    if isinstance(node, ast.JoinedStr):
        return [
            n for v in node.values if isinstance(v, ast.FormattedValue) for n in _names_in(v.value)
        ]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _CONVERTING
    ):
        return [n for a in node.args[:1] for n in _names_in(a)]
    if isinstance(node, ast.BinOp):
        return _names_in(node.left) + _names_in(node.right)
    root = _root(node)
    return [root] if root else []


def _iter_names(node: ast.expr) -> list[str]:
    """Names a for-loop iterates over: `models.items()`, `zip(names, models)`, `enumerate(ms)`."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("items", "values", "keys"):
            return _iter_names(node.func.value)
        if isinstance(node.func, ast.Name) and node.func.id in (
            "zip",
            "enumerate",
            "list",
            "sorted",
            "reversed",
        ):
            return [n for a in node.args for n in _iter_names(a)]
    if isinstance(node, ast.List | ast.Tuple):
        out: list[str] = []
        for elt in node.elts:
            if isinstance(elt, ast.Name):
                out.append(elt.id)
            elif isinstance(elt, ast.Tuple | ast.List):
                out.extend(e.id for e in elt.elts if isinstance(e, ast.Name))
        return out
    return []
