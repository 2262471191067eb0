"""What each reference notebook must train and earn: ``reference/expected.yaml``.

::

    notebooks:
      - path: hw5_model_solution.ipynb
        hw4: false          # graded as a student who did not submit homework 4
        points: 3
        models:
          - {label: "model 1: bipyramidal CNN", kind: scratch_cnn}
          - {label: "model 3a: MobileNetV2, frozen", kind: transfer_frozen, base: MobileNetV2}

The models listed are matched, in order, with the models a run of the notebook
trained (same kind, same base); the matched ones make the bands and are held to
them. Unknown keys are errors with a "did you mean".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.errors import GraderError
from grader.evidence import ModelKind, ModelRun
from grader.settings import did_you_mean

__all__ = [
    "EXPECTATIONS_FILE",
    "ExpectedModel",
    "Expectations",
    "NotebookExpectation",
    "ReferenceSolutionError",
    "load_expectations",
    "match_models",
    "parse_expectations",
]

EXPECTATIONS_FILE = "expected.yaml"


class ReferenceSolutionError(GraderError):
    """Reference notebooks, expectations or bands that cannot be used as they are."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExpectedModel(_Strict):
    label: str = Field(description="how messages name the model, e.g. 'model 2a: Xception-like'")
    kind: ModelKind
    base: str | None = Field(None, description="pretrained base, for transfer models")

    def describe(self) -> str:
        return f"{self.label} ({self.kind.value}{', ' + self.base if self.base else ''})"


class NotebookExpectation(_Strict):
    path: str = Field(description="the notebook, relative to the expectations file")
    title: str | None = None
    hw4: bool = Field(False, description="grade as a student who submitted homework 4")
    points: int = Field(ge=0, description="points the notebook must earn")
    requirements_met: bool = True
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="papermill parameters for every run of it"
    )
    models: list[ExpectedModel] = Field(default_factory=list)
    in_band: bool = Field(True, description="hold each model's test accuracy to its band")
    bands: bool = Field(True, description="the notebook's runs make the bands")


class Expectations(_Strict):
    rubric: str | None = Field(None, description="rubric file, relative to this file")
    notebooks: list[NotebookExpectation]
    folder: str = Field("", description="where the file lies (set when it is read)")

    def notebook_path(self, item: NotebookExpectation) -> Path:
        return Path(self.folder) / item.path

    def rubric_path(self) -> Path | None:
        return Path(self.folder) / self.rubric if self.rubric else None


_KEYS = {
    (): list(Expectations.model_fields),
    ("notebooks",): list(NotebookExpectation.model_fields),
    ("notebooks", "models"): list(ExpectedModel.model_fields),
}


def _friendly(exc: ValidationError, where: str) -> ReferenceSolutionError:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            shape = tuple(p for p in err["loc"][:-1] if isinstance(p, str))
            options = _KEYS.get(shape, [])
            lines.append(f"  {loc}: unknown key{did_you_mean(key, options)}")
        else:
            lines.append(f"  {loc}: {err['msg']}")
    return ReferenceSolutionError(f"{where}: invalid expectations\n" + "\n".join(lines), path=where)


def parse_expectations(text: str, folder: Path, where: str = EXPECTATIONS_FILE) -> Expectations:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ReferenceSolutionError(f"{where}: not valid YAML ({exc})", path=where) from exc
    if not isinstance(raw, dict):
        raise ReferenceSolutionError(f"{where}: expected a mapping with 'notebooks'", path=where)
    raw = {k: v for k, v in raw.items() if k != "folder"}
    try:
        exp = Expectations.model_validate({**raw, "folder": str(folder)})
    except ValidationError as exc:
        raise _friendly(exc, where) from None
    paths = [n.path for n in exp.notebooks]
    twice = sorted({p for p in paths if paths.count(p) > 1})
    if twice:
        raise ReferenceSolutionError(
            f"{where}: notebooks listed twice: {', '.join(twice)}", path=where
        )
    return exp


def load_expectations(path: Path) -> Expectations:
    """The expectations file, or ``expected.yaml`` inside a folder."""
    file = path / EXPECTATIONS_FILE if path.is_dir() else path
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReferenceSolutionError(
            f"{file}: cannot read the reference expectations ({exc.strerror or exc})",
            path=str(file),
        ) from exc
    return parse_expectations(text, file.parent, str(file))


def _same_base(a: str | None, b: str | None) -> bool:
    return a is None or (b is not None and a.lower() == b.lower())


def match_models(
    expected: Sequence[ExpectedModel], models: Sequence[ModelRun]
) -> list[tuple[ExpectedModel, ModelRun | None]]:
    """Each expected model with the run's model that it is (same kind and base), in order."""
    used: set[str] = set()
    out: list[tuple[ExpectedModel, ModelRun | None]] = []
    for exp in expected:
        found = None
        for m in models:
            if m.id not in used and m.kind == exp.kind and _same_base(exp.base, m.base):
                found = m
                used.add(m.id)
                break
        out.append((exp, found))
    return out
