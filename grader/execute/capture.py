"""The capture record: what the prelude wrote in the kernel, read back and validated.

Everything in the capture folder was written by code running next to the
student's code, so none of it is trusted: files are read as JSON only (never
unpickled), each file and the whole folder are size-capped, symlinks and
unexpected names are skipped, and every record is validated against the
models below. What fails validation is dropped and listed in ``rejected``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = [
    "AccuracyEvent",
    "ApplicationEvent",
    "Architecture",
    "CaptureLimits",
    "CaptureRecord",
    "ConfusionEvent",
    "DataLoadEvent",
    "DataRef",
    "EvaluateEvent",
    "Event",
    "FigureEvent",
    "Fingerprint",
    "FitRecord",
    "NetworkEvent",
    "PredictEvent",
    "SessionEvent",
    "VerifyRef",
    "load_capture",
    "parse_event_line",
]

_Num = float | None
_E = TypeVar("_E")
_Shape = list[int | None]


class _Rec(BaseModel):
    # unknown keys are dropped, known ones are type-checked
    model_config = ConfigDict(extra="ignore")


class DataRef(_Rec):
    """What was passed to fit/evaluate/predict (before smoke caps)."""

    kind: str
    n: int | None = None
    shape: _Shape | None = None
    dtype: str | None = None
    min: _Num = None
    max: _Num = None
    fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{4,32}$")] | None = None
    label_counts: dict[str, int] | None = None
    y_shape: _Shape | None = None
    spec: str | None = None
    n_batches: int | None = None


class NestedModel(_Rec):
    name: str = ""
    class_name: str = ""
    application: str | None = None
    weights: str | None = None
    weights_loaded: bool | None = None
    fallback: str | None = None
    trainable: bool = True
    params: int | None = None
    params_trainable: int | None = None
    layers: int | None = None


class _Application(_Rec):
    """A Keras application (pretrained base) the notebook built, and its weights."""

    application: str
    model_name: str | None = None
    weights: str | None = None
    weights_loaded: bool | None = None
    fallback: str | None = None
    weights_file: str | None = None


class AppUse(_Application):
    params: int | None = None
    params_trainable: int | None = None


class Architecture(_Rec):
    class_name: str = ""
    name: str = ""
    layer_counts: dict[str, int] = Field(default_factory=dict)
    own_layer_counts: dict[str, int] | None = None
    op_counts: dict[str, int] = Field(default_factory=dict)
    top_layers: list[str] = Field(default_factory=list)
    n_layers: int | None = None
    nested: list[NestedModel] = Field(default_factory=list)
    applications: list[AppUse] = Field(default_factory=list)
    params_total: int | None = None
    params_trainable: int | None = None
    params_non_trainable: int | None = None
    input_shape: _Shape | None = None
    output_shape: _Shape | None = None

    def application_uses(self) -> list[AppUse]:
        """Pretrained application models inside this model, nested or flattened into it."""
        uses = [
            AppUse(
                application=n.application,
                model_name=n.name,
                weights=n.weights,
                weights_loaded=n.weights_loaded,
                fallback=n.fallback,
                params=n.params,
                params_trainable=n.params_trainable,
            )
            for n in self.nested
            if n.application
        ]
        return uses + list(self.applications)


class Optimizer(_Rec):
    class_name: str
    learning_rate: _Num = None
    schedule: str | None = None
    id: int | None = None


class FitError(_Rec):
    ename: str
    evalue: str = ""


class BaseInput(_Rec):
    """The value range a pretrained base received, measured on a few training images."""

    application: str
    weights: str | None = None
    n: int | None = None
    min: _Num = None
    max: _Num = None
    mean: _Num = None
    preprocessing: bool | None = Field(
        None, description="include_preprocessing as the notebook passed it (None: the default)"
    )


class FitRecord(_Rec):
    """One ``fit`` call, as recorded epoch by epoch."""

    id: Annotated[str, Field(pattern=r"^f\d{1,6}$")]
    model_key: str
    model_name: str = ""
    cell: int | None = None
    flavour: str | None = None
    started: _Num = None
    status: Literal["running", "finished", "failed"]
    epochs_requested: int | None = None
    epochs: int | None = None
    initial_epoch: int | None = None
    batch_size: int | None = None
    steps_per_epoch: int | None = None
    validation_split: _Num = None
    callbacks: list[str] = Field(default_factory=list)
    optimizer: Optimizer | None = None
    compile: dict[str, str] = Field(default_factory=dict)
    train: DataRef | None = None
    validation: DataRef | None = None
    history: dict[str, list[_Num]] = Field(default_factory=dict)
    epochs_run: int = 0
    seconds: _Num = None
    architecture: Architecture | None = None
    caps: list[str] = Field(default_factory=list)
    error: FitError | None = None
    base_inputs: list[BaseInput] = Field(default_factory=list)


class VerifyRef(_Rec):
    """Files the prelude saved for the harness's out-of-process check of an evaluation."""

    model_file: Annotated[str, Field(pattern=r"^m-\d{3,6}\.keras$")] | None = None
    inputs_file: Annotated[str, Field(pattern=r"^x-\d{3,6}\.npy$")] | None = None
    labels_file: Annotated[str, Field(pattern=r"^y-\d{3,6}\.npy$")] | None = None
    rows: int | None = None
    predicted_rows: int | None = None  # smoke profile: only these rows were predicted
    error: str | None = None


class _Event(_Rec):
    seq: int
    t: _Num = None
    cell: int | None = None


class EvaluateEvent(_Event):
    type: Literal["evaluate"]
    model_key: str
    model_name: str = ""
    fit: str | None = None
    result: float | list[_Num] | dict[str, _Num] | None = None
    metrics: dict[str, _Num] | None = None
    metrics_names: list[str] | None = None
    data: DataRef | None = None
    caps: list[str] = Field(default_factory=list)
    verify: VerifyRef | None = None

    def accuracy(self) -> float | None:
        """The accuracy metric of this evaluation, when the model was compiled with one."""
        names = (
            "accuracy",
            "acc",
            "sparse_categorical_accuracy",
            "categorical_accuracy",
            "binary_accuracy",
        )
        if self.metrics:
            for name in names:
                value = self.metrics.get(name)
                if value is not None:
                    return value
        if isinstance(self.result, dict):
            for name in names:
                value = self.result.get(name)
                if value is not None:
                    return value
        if isinstance(self.result, list) and self.metrics_names:
            for i, name in enumerate(self.metrics_names):
                if name in names and i < len(self.result):
                    return self.result[i]
        return None

    def loss(self) -> float | None:
        if self.metrics and self.metrics.get("loss") is not None:
            return self.metrics["loss"]
        if isinstance(self.result, float):
            return self.result
        if isinstance(self.result, list) and self.result:
            return self.result[0]
        if isinstance(self.result, dict):
            return self.result.get("loss")
        return None


class PredictEvent(_Event):
    type: Literal["predict"]
    model_key: str
    model_name: str = ""
    fit: str | None = None
    output_shape: _Shape | None = None
    label_hashes: list[str] = Field(default_factory=list)
    data: DataRef | None = None
    filled: str | None = None
    verify: VerifyRef | None = None


class ConfusionEvent(_Event):
    type: Literal["confusion"]
    source: Literal["sklearn", "sklearn-display", "tf"]
    matrix: list[list[float]] | None = None
    pred_hash: str | None = None
    true_counts: dict[str, int] | None = None
    labels: list[Any] | None = None

    def int_matrix(self) -> list[list[int]] | None:
        if not self.matrix or any(len(row) != len(self.matrix) for row in self.matrix):
            return None
        if any(v != int(v) for row in self.matrix for v in row):
            return None  # a normalised matrix: not counts
        return [[int(v) for v in row] for row in self.matrix]


class AccuracyEvent(_Event):
    type: Literal["accuracy_score"]
    value: _Num = None
    pred_hash: str | None = None


class LineInfo(_Rec):
    label: str | None = None
    n: int = 0
    y: list[_Num] = Field(default_factory=list)


class ArrayInfo(_Rec):
    shape: _Shape | None = None
    values: list[list[_Num]] | None = None


class AxesInfo(_Rec):
    title: str | None = None
    xlabel: str | None = None
    ylabel: str | None = None
    lines: list[LineInfo] = Field(default_factory=list)
    images: list[ArrayInfo] = Field(default_factory=list)
    meshes: list[ArrayInfo] = Field(default_factory=list)
    bars: int = 0
    texts: int = 0
    legend: list[str | None] = Field(default_factory=list)


class FigureInfo(_Rec):
    suptitle: str | None = None
    axes: list[AxesInfo] = Field(default_factory=list)


class FigureEvent(_Event):
    type: Literal["figure"]
    via: str = ""
    figure: FigureInfo


class ApplicationEvent(_Event, _Application):
    type: Literal["application"]
    error: str | None = None


class DataLoadEvent(_Event):
    type: Literal["data_load"]
    dataset: str | None = None
    identity: str | None = None
    served: str | None = None
    shapes: list[_Shape] | None = None
    error: str | None = None


class NetworkEvent(_Event):
    type: Literal["network_blocked"]
    url: str
    target: str | None = None


class SessionEvent(_Event):
    type: Literal["session"]
    prelude_version: str | None = None
    python: str | None = None
    pid: int | None = None
    profile: str | None = None
    seed: int | None = None
    deterministic: bool = False
    data: str | None = None
    preloaded: list[str] = Field(default_factory=list)


class TensorflowEvent(_Event):
    type: Literal["tensorflow"]
    tensorflow: str | None = None
    cuda: str | None = None
    cudnn: str | None = None


class KerasEvent(_Event):
    type: Literal["keras"]
    version: str | None = None
    module: str | None = None


class FitBoundaryEvent(_Event):
    type: Literal["fit_start", "fit_end"]
    fit: str
    status: str | None = None


class ProgressEvent(_Event):
    type: Literal["progress"]
    fit: str
    model: str | None = None
    epoch: int
    epochs: int | None = None


class ProblemEvent(_Event):
    type: Literal["problem"]
    message: str


Event = Annotated[
    EvaluateEvent
    | PredictEvent
    | ConfusionEvent
    | AccuracyEvent
    | FigureEvent
    | ApplicationEvent
    | DataLoadEvent
    | NetworkEvent
    | SessionEvent
    | TensorflowEvent
    | KerasEvent
    | FitBoundaryEvent
    | ProgressEvent
    | ProblemEvent,
    Field(discriminator="type"),
]
_EVENT = TypeAdapter(Event)


class Fingerprint(_Rec):
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{4,32}$")]
    shape: _Shape
    dtype: str
    n: int
    hashes: list[Annotated[str, Field(pattern=r"^[0-9a-f]{4,32}$")]]
    signatures: list[Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]] = Field(
        default_factory=list, description="preprocessing-invariant per-image signatures"
    )


class CaptureLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events_bytes: int = 32 * 1024 * 1024
    fit_bytes: int = 4 * 1024 * 1024
    fingerprint_bytes: int = 8 * 1024 * 1024
    total_bytes: int = 160 * 1024 * 1024
    max_fits: int = 500
    max_fingerprints: int = 200
    max_rejected: int = 100


class CaptureRecord(BaseModel):
    """The validated capture of one run."""

    model_config = ConfigDict(extra="forbid")

    fits: list[FitRecord] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    fingerprints: dict[str, Fingerprint] = Field(default_factory=dict)
    rejected: list[str] = Field(default_factory=list, description="what was dropped and why")

    def of_type(self, cls: type[_E]) -> list[_E]:
        return [e for e in self.events if isinstance(e, cls)]

    def session(self) -> SessionEvent | None:
        found = self.of_type(SessionEvent)
        return found[0] if found else None


def _constant(name: str) -> None:
    return None  # NaN / Infinity tokens become null


def parse_event_line(line: str) -> Event:
    """One line of ``events.jsonl`` -> a validated event (raises ValueError when invalid)."""
    raw = json.loads(line, parse_constant=_constant)
    return _EVENT.validate_python(raw)


def _regular_file(path: Path) -> int | None:
    """Size of ``path`` when it is a regular file (symlinks refused)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _read_head(path: Path, n: int) -> bytes | None:
    """At most ``n`` bytes of a regular file, opened without following a link swapped in."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        return fh.read(n)


def _read_capped(path: Path, limit: int) -> bytes | None:
    data = _read_head(path, limit + 1)
    return data if data is not None and len(data) <= limit else None


_FIT_NAME = re.compile(r"^f\d{1,6}\.json$")
_FP_NAME = re.compile(r"^[0-9a-f]{4,32}\.json$")


def load_capture(folder: Path, limits: CaptureLimits | None = None) -> CaptureRecord:
    """Read and validate a run's capture folder; never raises on bad content."""
    limits = limits or CaptureLimits()
    record = CaptureRecord()
    budget = [limits.total_bytes]

    def reject(message: str) -> None:
        if len(record.rejected) < limits.max_rejected:
            record.rejected.append(message[:300])

    def take(path: Path, limit: int) -> bytes | None:
        size = _regular_file(path)
        if size is None:
            reject(f"{path.name}: not a regular file")
            return None
        if size > limit or size > budget[0]:
            reject(f"{path.name}: {size} bytes is over the limit")
            return None
        try:
            data = _read_capped(path, min(limit, budget[0]))
        except OSError as exc:
            reject(f"{path.name}: unreadable ({exc})")
            return None
        if data is None:
            reject(f"{path.name}: grew over the limit while reading")
            return None
        budget[0] -= len(data)
        return data

    events_path = folder / "events.jsonl"
    if events_path.exists():
        size = _regular_file(events_path)
        if size is None:
            reject("events.jsonl: not a regular file")
        else:
            try:
                data = _read_head(events_path, min(limits.events_bytes, budget[0])) or b""
            except OSError as exc:
                reject(f"events.jsonl: unreadable ({exc})")
                data = b""
            if size > len(data):
                reject(f"events.jsonl: only the first {len(data)} of {size} bytes were read")
            budget[0] -= len(data)
            for number, raw in enumerate(data.splitlines(), start=1):
                if not raw.strip():
                    continue
                try:
                    event = parse_event_line(raw.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    reject(f"events.jsonl line {number}: {_short(exc)}")
                    continue
                if isinstance(event, ProgressEvent):
                    continue
                record.events.append(event)
    record.events.sort(key=lambda e: e.seq)

    fits_dir = folder / "fits"
    if fits_dir.is_dir() and not fits_dir.is_symlink():
        names = sorted(
            (p for p in fits_dir.iterdir() if _FIT_NAME.match(p.name)),
            key=lambda p: int(p.name[1:-5]),
        )
        for path in names[: limits.max_fits]:
            fit_data = take(path, limits.fit_bytes)
            if fit_data is None:
                continue
            try:
                record.fits.append(FitRecord.model_validate_json(fit_data))
            except ValidationError as exc:
                reject(f"fits/{path.name}: {_short(exc)}")
        if len(names) > limits.max_fits:
            reject(f"fits: {len(names) - limits.max_fits} records over the limit were dropped")

    fp_dir = folder / "fingerprints"
    if fp_dir.is_dir() and not fp_dir.is_symlink():
        names = sorted(p for p in fp_dir.iterdir() if _FP_NAME.match(p.name))
        for path in names[: limits.max_fingerprints]:
            fp_data = take(path, limits.fingerprint_bytes)
            if fp_data is None:
                continue
            try:
                fp = Fingerprint.model_validate_json(fp_data)
            except ValidationError as exc:
                reject(f"fingerprints/{path.name}: {_short(exc)}")
                continue
            if fp.id == path.name[:-5]:
                record.fingerprints[fp.id] = fp
            else:
                reject(f"fingerprints/{path.name}: id does not match the file name")
    return record


def _short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return text[:200]
