"""pytest plugin: reference notebooks as tests, for course staff.

Enabled by the ``pytest11`` entry point of the installed package (or with
``-p grader.reference.pytest_plugin``). Two ways to use it:

1. **Collect a reference folder.** ``pytest reference/`` collects the folder's
   ``expected.yaml``: one test per notebook listed, which executes the notebook
   (``--reference-profile``, default ``smoke``) and fails with the problems
   ``grader reference verify`` would print. Add a notebook to the course's
   references by adding it to ``expected.yaml``. Where the folder has a
   ``bands/`` folder (or ``--reference-bands`` is given) the notebook must also
   land inside the band of its profile. The tests are marked ``slow``.

2. **The** ``reference_verifier`` **fixture**, for a notebook kept anywhere::

       def test_my_solution(reference_verifier):
           verdict = reference_verifier.verify(
               "course/my_solution.ipynb",
               points=3,
               models=[{"label": "CNN", "kind": "scratch_cnn"}],
           )
           assert verdict.ok, "\\n".join(verdict.problems)

Options: ``--reference-profile``, ``--reference-bands`` (band file or folder),
``--reference-home`` (data store and run cache), ``--reference-data``,
``--reference-weights``. Importing this module imports only pytest; the
harness is imported when a reference test runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from grader.check.bands import BandSet
    from grader.reference.expectations import Expectations
    from grader.reference.runs import RunSettings
    from grader.reference.verify import NotebookVerdict, VerifyReport

__all__ = [
    "ReferenceFile",
    "ReferenceItem",
    "ReferenceVerifier",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
    "reference_verifier",
]

_EXPECTATIONS_FILE = "expected.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader-reference", "reference notebooks (grader)")
    group.addoption(
        "--reference-profile",
        default="smoke",
        choices=("smoke", "full"),
        help="profile reference notebooks run in (default: smoke)",
    )
    group.addoption(
        "--reference-bands",
        default=None,
        help="band file or folder (default: the bands/ folder beside expected.yaml)",
    )
    group.addoption(
        "--reference-home",
        default=None,
        help="data store and run cache (default: $GRADER_HOME or ~/.cache/grader)",
    )
    group.addoption(
        "--reference-data",
        default=None,
        help="dataset of the runs (default: synthetic for smoke, cifar10 for full)",
    )
    group.addoption(
        "--reference-weights", default=None, help="folder of Keras application weight files"
    )


def pytest_configure(config: pytest.Config) -> None:
    names = {str(line).split(":", 1)[0].strip() for line in config.getini("markers")}
    if "slow" not in names:
        config.addinivalue_line("markers", "slow: executes notebooks with TensorFlow")
    config.addinivalue_line(
        "markers", "reference_notebook: a reference notebook verified by grader"
    )


def _looks_like_expectations(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return "notebooks:" in text


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name == _EXPECTATIONS_FILE and _looks_like_expectations(file_path):
        return ReferenceFile.from_parent(parent, path=file_path)
    return None


def _settings(config: pytest.Config) -> RunSettings:
    from grader.reference.runs import RunSettings

    def opt(name: str) -> Any:
        return config.getoption(name)

    return RunSettings(
        profile=str(opt("reference_profile")),
        data=opt("reference_data"),
        weights=Path(opt("reference_weights")) if opt("reference_weights") else None,
        home=Path(opt("reference_home")) if opt("reference_home") else None,
    )


def _band_sets(config: pytest.Config, default: Path | None) -> list[BandSet]:
    from grader.check.bands import load_band_sets

    given = config.getoption("reference_bands")
    return load_band_sets(Path(given) if given else default)


class ReferenceFailure(Exception):
    """A reference notebook that did not hold to its expectations; the message lists why."""


class ReferenceFile(pytest.File):
    """``expected.yaml``: one test item per reference notebook it lists."""

    def collect(self) -> Iterator[pytest.Item]:
        from grader.reference.expectations import load_expectations

        expectations = load_expectations(self.path)
        for item in expectations.notebooks:
            yield ReferenceItem.from_parent(
                self, name=item.path, expectations=expectations, notebook=item.path
            )


class ReferenceItem(pytest.Item):
    """Executes one reference notebook and holds it to its expectations and bands."""

    def __init__(self, *, expectations: Expectations, notebook: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expectations = expectations
        self.notebook = notebook
        self.add_marker("slow")
        self.add_marker("reference_notebook")

    def runtest(self) -> None:
        from grader.reference.verify import verify_references

        folder = Path(self.expectations.folder) / "bands"
        given = self.config.getoption("reference_bands")
        report = verify_references(
            self.expectations,
            _settings(self.config),
            _band_sets(self.config, folder),
            only=[self.notebook],
            # a folder without bands is checked for its models and points only
            require_band=bool(given) or folder.is_dir(),
        )
        problems = report.all_problems()
        if problems:
            raise ReferenceFailure("\n".join(problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ReferenceFailure):
            return f"reference notebook {self.notebook} broke:\n" + str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"reference notebook {self.notebook}"


class ReferenceVerifier:
    """What the ``reference_verifier`` fixture returns: verify a notebook against expectations."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def verify(
        self,
        notebook: str | Path,
        *,
        points: int,
        models: Sequence[Mapping[str, Any]] = (),
        hw4: bool = False,
        requirements_met: bool = True,
        parameters: Mapping[str, Any] | None = None,
        bands: str | Path | None = None,
        seed: int | None = None,
    ) -> NotebookVerdict:
        """Execute ``notebook`` and judge it; ``verdict.ok`` and ``verdict.problems`` say how it went.

        ``models`` are ``{"label", "kind", "base"}`` mappings, matched in order
        with the models the run trained. Bands (``bands`` or
        ``--reference-bands``) are used when given; without them only the
        models and the points are checked.
        """
        from grader.reference.expectations import Expectations, NotebookExpectation
        from grader.reference.verify import verify_references

        path = Path(notebook).resolve()
        item = NotebookExpectation.model_validate(
            {
                "path": path.name,
                "points": points,
                "hw4": hw4,
                "requirements_met": requirements_met,
                "parameters": dict(parameters or {}),
                "models": [dict(m) for m in models],
            }
        )
        expectations = Expectations(notebooks=[item], folder=str(path.parent))
        given = bands if bands is not None else self.config.getoption("reference_bands")
        band_sets = _band_sets(self.config, None) if given is None else _load(Path(given))
        report: VerifyReport = verify_references(
            expectations,
            _settings(self.config),
            band_sets,
            seed=seed,
            require_band=bool(band_sets),
        )
        verdict = report.notebooks[0]
        if report.problems:
            verdict = verdict.model_copy(
                update={"ok": False, "problems": report.problems + verdict.problems}
            )
        return verdict


def _load(path: Path) -> list[BandSet]:
    from grader.check.bands import load_band_sets

    return load_band_sets(path)


@pytest.fixture
def reference_verifier(request: pytest.FixtureRequest) -> ReferenceVerifier:
    """Verify a reference notebook from a test: ``reference_verifier.verify(path, points=3)``."""
    return ReferenceVerifier(request.config)
