"""Where data comes from: names that hold the whole test set whatever they are called.

A notebook often calls its test set "validation": ``valid_dataset =
CIFAR10(train=False)``, ``val_gen = datagen.flow_from_directory(test_dir)``,
``x_val, y_val = x_test, y_test``. The split a name's words suggest
(:func:`~grader.extract.source.vocabulary.split_of`) then says ``val`` where
the data is the test set. :func:`note_origin` records, at each assignment,
the names bound to the *whole* test set (a slice or a split of it is another
set), so that the reader's ``split_of_node`` says ``test`` for them.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.source.vocabulary import split_of

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["is_test_data", "note_origin"]

#: Calls that wrap or load a dataset without taking a part of it.
_WRAPPERS = frozenset(
    {
        "DataLoader",
        "DeviceDataLoader",
        "flow",
        "flow_from_directory",
        "flow_from_dataframe",
        "image_dataset_from_directory",
        "ImageFolder",
        "DatasetFolder",
        "TensorDataset",
        "from_tensor_slices",
        "CIFAR10",
        "CIFAR100",
        "MNIST",
        "FashionMNIST",
        "SVHN",
        "STL10",
        "EuroSAT",
        "load",
    }
)
#: Methods that keep every sample of the data they are called on.
_KEEPING = frozenset(
    {
        "batch",
        "map",
        "prefetch",
        "cache",
        "astype",
        "reshape",
        "to",
        "cuda",
        "float",
        "unbatch",
        "with_options",
        "apply",
    }
)
#: Path builders: the split is named by one of their string parts.
_PATHS = frozenset({"join", "Path", "PurePath", "format", "abspath", "expanduser"})
#: Arguments of a dataset call that hold the data or its folder.
_DATA_KEYWORDS = ("root", "directory", "dataset", "x", "data", "path", "root_dir", "tensors")


def _string_says_test(text: str) -> bool:
    return split_of(text) == "test"


def _path_says_test(r: Reader, node: ast.expr) -> bool:
    """A folder or file path naming the test split: ``'data/test'``, ``join(d, 'test')``."""
    strings = [
        sub.value
        for sub in ast.walk(node)
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
    ]
    if strings:
        splits = {split_of(s) for s in strings}
        return "test" in splits and not splits & {"train", "val"}
    if isinstance(node, ast.Name):
        return is_test_data(r, node.id)
    return False


def is_test_data(r: Reader, name: str) -> bool:
    """Whether ``name`` holds the whole test set (by its origin, or by its own name)."""
    name = r.frame.subst.get(name, name)
    return name in r.nb.test_data or split_of(name) == "test"


def _keyword_false(node: ast.Call, key: str) -> bool:
    for keyword in node.keywords:
        if keyword.arg == key and isinstance(keyword.value, ast.Constant):
            return keyword.value.value is False
    return False


def _keyword_string(node: ast.Call, key: str) -> str | None:
    for keyword in node.keywords:
        if keyword.arg == key and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            return value if isinstance(value, str) else None
    return None


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _whole_test_set(r: Reader, node: ast.expr, depth: int = 0) -> bool:
    """Whether ``node`` evaluates to the whole test set (or a view of all of it)."""
    if depth > 6:
        return False
    if isinstance(node, ast.Name):
        return is_test_data(r, node.id)
    if isinstance(node, (ast.Tuple, ast.List)):
        return bool(node.elts) and all(_whole_test_set(r, e, depth + 1) for e in node.elts)
    if isinstance(node, ast.BinOp):
        sides = [node.left, node.right]
        data = [s for s in sides if not isinstance(s, ast.Constant)]
        return len(data) == 1 and _whole_test_set(r, data[0], depth + 1)
    if not isinstance(node, ast.Call):
        return False
    name = _call_name(node)
    func = node.func
    if (
        isinstance(func, ast.Attribute)
        and name in _KEEPING
        and _whole_test_set(r, func.value, depth + 1)
    ):
        return True
    if name not in _WRAPPERS:
        return False
    if _keyword_false(node, "train"):
        return True
    split = _keyword_string(node, "split") or _keyword_string(node, "subset")
    if split is not None:
        return _string_says_test(split) and "[" not in split
    first: ast.expr | None = node.args[0] if node.args else None
    if first is None:
        for keyword in node.keywords:
            if keyword.arg in _DATA_KEYWORDS:
                first = keyword.value
                break
    if first is None:
        return False
    if isinstance(first, ast.Call) and _call_name(first) in _PATHS:
        return _path_says_test(r, first)
    if isinstance(first, (ast.Constant, ast.JoinedStr)) or (
        isinstance(first, ast.BinOp)
        and isinstance(first.op, (ast.Add, ast.Div))
        and any(isinstance(s, ast.Constant) for s in (first.left, first.right))
    ):
        return _path_says_test(r, first)
    return _whole_test_set(r, first, depth + 1)


def note_origin(r: Reader, targets: list[ast.expr], value: ast.expr) -> None:
    """Record the names an assignment binds to the whole test set (and forget rebound ones)."""
    if r.frame.globals_env is not None:
        return  # inside a function: its locals are not the notebook's names
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for sub_t, sub_v in zip(target.elts, value.elts, strict=True):
                    note_origin(r, [sub_t], sub_v)
            else:
                for sub_t in target.elts:
                    if isinstance(sub_t, ast.Name):
                        r.nb.test_data.discard(sub_t.id)
            continue
        if not isinstance(target, ast.Name):
            continue
        name = target.id
        if split_of(name) != "test" and _whole_test_set(r, value):
            r.nb.test_data.add(name)
        else:
            r.nb.test_data.discard(name)
