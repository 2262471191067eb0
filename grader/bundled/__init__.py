"""Files that ship inside the package: the rubrics and the reference bands.

In the repository they live where instructors edit them, ``rubrics/`` and
``reference/bands/``. ``pyproject.toml`` maps those folders into the wheel as
the data packages ``grader.bundled.rubrics`` and ``grader.bundled.bands``
(setuptools ``package-dir``), so git keeps one copy and an installed grader
reads them here with :mod:`importlib.resources`, from any working folder.

An editable install (``pip install -e .``, what ``make setup`` does) cannot map
a data package onto another folder (setuptools issue 4943): the data packages
are then not importable, and the same folders are read in the checkout instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["bands_folder", "checkout_root", "rubric_files"]

#: the repository the package was imported from, when it was (an editable install)
_CHECKOUT = Path(__file__).resolve().parents[2]
#: where each kind of bundled file is kept in the repository
_FOLDERS = {"rubrics": "rubrics", "bands": "reference/bands"}


def checkout_root() -> Path | None:
    """The repository the package is imported from (an editable install); None when installed."""
    return _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else None


def _files(kind: str, suffix: str) -> list[Path]:
    try:
        root = resources.files(f"{__name__}.{kind}")
    except ModuleNotFoundError:  # an editable install or a checkout on sys.path
        repo = checkout_root()
        return sorted((repo / _FOLDERS[kind]).glob(f"*{suffix}")) if repo is not None else []
    # a namespace package (no __init__.py) installed as files: its entries are paths
    return sorted(
        Path(entry)
        for entry in root.iterdir()
        if isinstance(entry, Path) and entry.name.endswith(suffix) and entry.is_file()
    )


def rubric_files() -> list[Path]:
    """The rubric files the grader comes with (``hw5.yaml``...), by name."""
    return _files("rubrics", ".yaml")


def bands_folder() -> Path | None:
    """The folder of the reference band files the grader comes with; None when there is none."""
    files = _files("bands", ".json")
    return files[0].parent if files else None
