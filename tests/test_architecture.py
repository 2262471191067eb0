"""The floor plan of the package, read from its code: stage order, no cycles, small rooms.

The stages run intake -> execute -> extract -> check -> grade -> report; a
stage may use what earlier stages produce, never the other way round.
``pipeline`` chains them; ``batch``, ``reference`` and ``jupyter`` (the
self-check from inside a notebook) are applications on top of it; the ``cli``
maps commands to them and nothing imports it. The files that run inside a
student's kernel (or beside it, confined like it) import only the standard
library, numpy and the frameworks.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "grader"

#: what each part of the package is, in the order data flows
LAYERS: dict[str, int] = {
    "errors": 0,
    "evidence": 0,
    "files": 0,
    "settings": 0,
    "i18n": 0,  # the language in use and the message catalogs
    "locale": 0,
    "intake": 1,
    "execute": 2,
    "extract": 3,
    "check": 4,
    "grade": 5,
    "report": 6,
    "similarity": 6,
    "bundled": 0,  # the rubric and band files the package carries (no code of the stages)
    "pipeline": 7,
    "reference": 8,
    "batch": 8,
    "jupyter": 8,  # grader.selfcheck(): the check from inside a notebook
    "ci": 8,  # the CI workflows `grader ci init` writes
    "": 8,  # grader/__init__.py: the library's public surface (check_notebook, selfcheck)
    "cli": 9,
    "__main__": 9,
}
#: stricter than the order: the report draws evidence and grades, never runs anything
FORBIDDEN: dict[str, set[str]] = {"report": {"batch", "execute", "pipeline"}}
#: run inside (or beside) the student's kernel: standard library, numpy and frameworks only
KERNEL_SIDE = {
    "execute/kernel_prelude.py",
    "execute/_reevaluate_worker.py",
    "execute/sandbox/launcher.py",
}
KERNEL_ALLOWED = {"numpy", "tensorflow", "keras", "tf_keras", "torch", "torchvision", "sklearn"}
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 120
LONG_MODULES_ALLOWED = {"execute/kernel_prelude.py"}  # ships into the kernel as one file


@dataclass(frozen=True)
class Edge:
    source: str  # module file, relative to the package
    target: str  # imported module (dotted)
    line: int


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([root.name, *parts])


def imports(root: Path) -> Iterator[Edge]:
    """Every import of the package's own modules, type-checking-only ones included."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Edge(rel, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".")
                    if path.name != "__init__.py":
                        base = base[:-1]
                    base = base[: len(base) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                if target != root.name:
                    yield Edge(rel, target, node.lineno)
                    continue
                for alias in node.names:  # from grader import x: x is a module, or a name
                    is_module = (root / f"{alias.name}.py").exists() or (root / alias.name).is_dir()
                    yield Edge(rel, f"{target}.{alias.name}" if is_module else target, node.lineno)


def part_of_file(rel: str) -> str:
    first = rel.split("/")[0]
    if first == "__init__.py":
        return ""
    return first.removesuffix(".py")


def part_of_module(dotted: str, root: str) -> str | None:
    """The part of the package a dotted name belongs to (None: not the package's)."""
    if dotted != root and not dotted.startswith(root + "."):
        return None
    rest = dotted[len(root) + 1 :]
    return rest.split(".")[0] if rest else ""


def violations(root: Path) -> list[str]:
    """Every broken rule of the floor plan, one line each."""
    out: list[str] = []
    graph: dict[str, set[str]] = {}
    for edge in imports(root):
        here = part_of_file(edge.source)
        if edge.source in KERNEL_SIDE:
            top = edge.target.split(".")[0]
            if top not in sys.stdlib_module_names and top not in KERNEL_ALLOWED:
                out.append(
                    f"{edge.source}:{edge.line}: runs in the kernel but imports {edge.target}"
                )
            continue
        there = part_of_module(edge.target, root.name)
        if there is None or there == here:
            continue
        if here not in LAYERS or there not in LAYERS:
            out.append(f"{edge.source}:{edge.line}: {here or there!r} has no place in LAYERS")
            continue
        graph.setdefault(here, set()).add(there)
        if there == "cli" and here != "__main__":  # python -m grader runs the cli
            out.append(f"{edge.source}:{edge.line}: imports the cli ({edge.target})")
        elif LAYERS[there] > LAYERS[here]:
            out.append(
                f"{edge.source}:{edge.line}: {here or 'grader'} (stage {LAYERS[here]}) imports "
                f"{edge.target} of a later stage ({there}, {LAYERS[there]})"
            )
        if there in FORBIDDEN.get(here, set()):
            out.append(f"{edge.source}:{edge.line}: {here} must not import {edge.target}")
    out += [f"cycle between parts of the package: {' -> '.join(c)}" for c in _cycles(graph)]
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycle = path[path.index(nxt) :] + [nxt]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle)
            elif len(path) < len(graph) + 1:
                walk(nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def oversized(root: Path) -> list[str]:
    """Modules over MAX_MODULE_LINES lines and functions over MAX_FUNCTION_LINES lines."""
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + 1
        if lines > MAX_MODULE_LINES and rel not in LONG_MODULES_ALLOWED:
            out.append(f"{rel}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    out.append(f"{rel}:{node.lineno}: {node.name}() is {length} lines")
    return out


def test_stages_import_only_earlier_stages_and_nothing_imports_the_cli() -> None:
    assert violations(PACKAGE) == []


def test_no_module_or_function_is_too_long_to_read() -> None:
    assert oversized(PACKAGE) == []


# ------------------------------------------------------------ the rules catch what they say


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "grader"
    for rel, text in files.items():
        target = pkg / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return pkg


CLEAN = {
    "__init__.py": "",
    "errors.py": "",
    "evidence.py": "from grader.errors import X\n",
    "intake/__init__.py": "",
    "intake/notebook.py": "from grader.errors import X\n",
    "extract/__init__.py": "from grader.intake.notebook import load\n",
    "report/__init__.py": "",
    "report/html.py": "from grader.evidence import E\nfrom grader import evidence\n",
    "cli/__init__.py": "from grader.report import html\n",
    "execute/__init__.py": "",
    "execute/kernel_prelude.py": "import json\nimport numpy\n",
}


@pytest.mark.parametrize(
    ("planted", "message"),
    [
        ({"intake/notebook.py": "from grader.extract import x\n"}, "of a later stage"),
        ({"intake/notebook.py": "from ..report.html import y\n"}, "of a later stage"),
        ({"report/html.py": "from grader.cli import main\n"}, "imports the cli"),
        ({"report/html.py": "from grader.execute import run\n"}, "must not import"),
        ({"execute/kernel_prelude.py": "import grader.evidence\n"}, "runs in the kernel"),
        ({"execute/kernel_prelude.py": "import requests\n"}, "runs in the kernel"),
        ({"errors.py": "from grader import intake\n"}, "of a later stage"),
        ({"newpart/__init__.py": "", "cli/x.py": "import grader.newpart\n"}, "no place in LAYERS"),
    ],
)
def test_a_planted_violation_is_found(
    tmp_path: Path, planted: dict[str, str], message: str
) -> None:
    assert violations(_write(tmp_path, CLEAN)) == []
    found = violations(_write(tmp_path, planted))
    assert any(message in line for line in found), found


def test_a_cycle_between_parts_is_found(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {**CLEAN, "batch/__init__.py": "import grader.reference\n", "reference/__init__.py": ""},
    )
    assert violations(pkg) == []
    (pkg / "reference" / "__init__.py").write_text("import grader.batch\n", encoding="utf-8")
    assert any("cycle" in line for line in violations(pkg))


def test_an_oversized_module_or_function_is_found(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(130))
    pkg = _write(tmp_path, {"__init__.py": "", "big.py": "def f():\n" + body + "\n"})
    assert any("f() is 131 lines" in line for line in oversized(pkg))
    (pkg / "big.py").write_text("x = 1\n" * 900, encoding="utf-8")
    assert any("big.py: 901 lines" in line for line in oversized(pkg))
