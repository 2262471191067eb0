"""From a code cell's text to a syntax tree: IPython syntax neutralised, syntax errors survived.

:func:`strip_magics` turns IPython-only lines into Python (line numbers kept),
:func:`parse_cell` parses the result; where a statement has a syntax error it
blanks that top-level statement and tries again, so one bad line does not hide
the rest of a cell. Each cell is parsed here once per grading: the reader and
the assembly's outline of the cell (:mod:`grader.extract.source.outline`) share
the tree.
"""

from __future__ import annotations

import ast
import contextlib
import re
import textwrap
import warnings
from dataclasses import dataclass

__all__ = ["ParsedCell", "parse_cell", "strip_magics", "uncommented"]

_CELL_MAGICS_PYTHON = frozenset(
    {"time", "timeit", "capture", "prun", "debug", "memit", "tensorflow_version", "skip", "python"}
)
_LINE_MAGICS_WITH_CODE = re.compile(
    r"^%(?:time|timeit|prun|memit)\s+((?:-\w+\s+(?:\d+\s+)?)*)(.*)$"
)
_MAGIC_ASSIGN = re.compile(r"^([\w.,\s\[\]()'\"]+?)\s*=\s*[!%].*$")
_HELP_SUFFIX = re.compile(r"^[\w.\[\]()'\"]+\?{1,2}$")


def strip_magics(source: str) -> str:
    """``source`` with IPython-only lines neutralised, line numbers unchanged.

    ``%time stmt`` keeps ``stmt``; other line magics, shell escapes and help
    queries become ``pass``; ``x = !cmd`` becomes ``x = None``. A cell magic
    that runs other languages (``%%bash``, ``%%html``...) empties the cell.
    """
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first_code = True
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped:
            continue
        indent = line[: len(line) - len(stripped)]
        head = stripped[0]
        if head == "#":
            continue
        if stripped.startswith("%%"):
            name = stripped[2:].split(None, 1)[0] if len(stripped) > 2 else ""
            if first_code and name and name not in _CELL_MAGICS_PYTHON:
                return "\n" * (len(lines) - 1)
            lines[i] = ""
            first_code = False
            continue
        first_code = False
        if head == "%" and len(stripped) > 1 and (stripped[1].isalpha() or stripped[1] == "%"):
            found = _LINE_MAGICS_WITH_CODE.match(stripped)
            lines[i] = indent + (found.group(2) if found and found.group(2) else "pass")
        elif (
            head == "!"
            and not stripped.startswith("!=")
            or head == "?"
            or stripped.endswith("?")
            and _HELP_SUFFIX.match(stripped)
        ):
            lines[i] = indent + "pass"
        elif ("=!" in stripped or "= !" in stripped or "= %" in stripped or "=%" in stripped) and (
            found := _MAGIC_ASSIGN.match(stripped)
        ):
            lines[i] = indent + found.group(1) + " = None"
    return "\n".join(lines)


@dataclass(frozen=True)
class ParsedCell:
    """A cell's syntax tree, and how much of the text as written it is the tree of."""

    tree: ast.Module | None  # None: no statement of the cell is Python
    exact: bool  # the tree of the whole text as written
    invalid: bool  # the whole text as written raised a SyntaxError


def _compile(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = compile(
            text,
            "<cell>",
            "exec",
            flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
            dont_inherit=True,
        )
    assert isinstance(tree, ast.Module)
    return tree


_CONTINUATION = ("else", "elif", "except", "finally", ")", "]", "}", "#", "@", "case")


def _dedent_code(text: str) -> str:
    """Remove the indentation every code line shares (comments may be indented less)."""
    lines = text.split("\n")
    code = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not code:
        return text
    cut = min(len(ln) - len(ln.lstrip()) for ln in code)
    if cut == 0:
        return textwrap.dedent(text)
    out = []
    for ln in lines:
        lead = len(ln) - len(ln.lstrip())
        out.append(ln[min(cut, lead) :])
    return "\n".join(out)


def parse_cell(text: str) -> ParsedCell:
    """Parse ``text``; on a syntax error blank the top-level statement holding it and retry."""
    try:
        return ParsedCell(_compile(text), exact=True, invalid=False)
    except SyntaxError:
        invalid = True
    except ValueError:
        invalid = False
    return ParsedCell(_recover(text), exact=False, invalid=invalid)


def _recover(text: str) -> ast.Module | None:
    dedented = _dedent_code(text)
    if dedented != text:
        # a whole cell indented by accident (pasted from a function body)
        with contextlib.suppress(SyntaxError, ValueError):
            return _compile(dedented)
        text = dedented
    lines = text.split("\n")
    starts = [
        i
        for i, line in enumerate(lines)
        if line.strip() and not line[0].isspace() and not line.startswith(_CONTINUATION)
    ]
    for _ in range(40):
        try:
            tree = _compile("\n".join(lines))
            return tree if tree.body else None
        except SyntaxError as err:
            at = (err.lineno or 1) - 1
            at = min(max(at, 0), len(lines) - 1)
            begin = max((i for i in starts if i <= at), default=0)
            end = min((i for i in starts if i > begin), default=len(lines))
            if end <= at:
                end = at + 1
            if not any(lines[k].strip() for k in range(begin, end)):
                return None
            for k in range(begin, end):
                lines[k] = ""
        except ValueError:
            return None
    return None


def uncommented(source: str) -> str | None:
    """The code of a cell whose every line is commented out, or None.

    A student comments out a cell after running it; its stored outputs still
    show what it did, so the assembly reads the code they came from. Prose
    comments do not parse and are blanked as any syntax error is.
    """
    lines = source.replace("\r\n", "\n").split("\n")
    code = [ln for ln in lines if ln.strip()]
    if not code or not all(ln.lstrip().startswith("#") for ln in code):
        return None
    out = []
    for ln in lines:
        stripped = ln.lstrip()
        if stripped.startswith("#"):
            body = stripped[1:]
            out.append(body[1:] if body.startswith(" ") else body)
        else:
            out.append(ln)
    text = "\n".join(out)
    parsed = parse_cell(strip_magics(text))
    return text if parsed.tree is not None and parsed.tree.body else None
