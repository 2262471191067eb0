"""Executing the prepared notebook: papermill with nbclient's hooks, limits and progress.

The second phase of a run. :class:`KernelRun` starts the run's kernel through
its backend (a sandbox, or local), executes the prepared notebook under a
per-cell and a whole-run time limit (nbclient's ``timeout_func``), reports
which cell runs and, from the prelude's events file, which model trains and at
which epoch. Every way a notebook can stop becomes a classified
:class:`~grader.execute.records.RunFailure`, never an exception of the tool.
papermill and nbclient are imported only here, when a run starts.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.execute.classify import ErrorFacts, classify_failure
from grader.execute.collect import GRADER_TAG, clean_executed, read_executed, stopped_early
from grader.execute.data import seed_keras_home
from grader.execute.prepare import RunContext, kernel_env, prepare_notebook
from grader.execute.records import RunFailure
from grader.execute.sandbox.finish import apply_verdict, finish_sandbox
from grader.execute.sandbox.launch import KERNEL_NAME, KernelLaunch
from grader.execute.sandbox.report import SandboxReport

__all__ = ["KernelRun"]


def _original_index(executed_index: int | None) -> int | None:
    """The index in the submitted notebook of a cell of the executed one (injected cell: None)."""
    if executed_index is None or executed_index < 1:
        return None
    return executed_index - 1


@dataclass
class KernelRun:
    """One execution of a prepared notebook, and what it observed while the kernel ran."""

    ctx: RunContext
    executed_path: Path
    output_log: Path
    kernel_log: Path
    kernel_cmd: str = ""
    current_cell: int | None = None  # index in the executed notebook (injected cell = 0)
    cells_started: int = 0
    limit_hit: str | None = None
    limit_seconds: float | None = None
    code_numbers: dict[int, int] = field(default_factory=dict)
    injected_count: int | None = None
    sandbox: SandboxReport | None = None

    @property
    def running_cell(self) -> int | None:
        """The submitted notebook's cell that was running last."""
        return _original_index(self.current_cell)

    def execute(self, nb: Any) -> tuple[RunFailure | None, Any]:
        """Run ``nb``; returns the failure (None: it ran to the end) and the executed notebook
        with the injected cell and papermill's error banners removed."""
        ctx = self.ctx
        keras_home = ctx.tmp / "keras_home"
        seed_keras_home(keras_home, ctx.data.spec, ctx.weights.paths())
        source, self.code_numbers = prepare_notebook(ctx, nb)
        spec = ctx.data.spec
        launch = KernelLaunch(
            python=ctx.python,
            env=kernel_env(ctx, keras_home),
            spec_dir=ctx.tmp / "kernels",
            log_path=self.kernel_log,
            workdir=ctx.work,
            readable=[ctx.harness / "prelude.py", ctx.harness / "config.json"]
            + ([Path(spec.dir)] if spec else [])
            + [Path(p).resolve() for p in ctx.weights.paths().values()],
            writable=[ctx.capture_dir, keras_home],  # Keras ignores a cache it cannot write
            limits=ctx.options.limits,
        )
        manager_class = ctx.backend.kernel_manager_class(launch)
        self.kernel_cmd = " ".join(ctx.backend.command(launch))
        error = self._papermill(source, launch, manager_class)
        seconds = ctx.elapsed()
        failure = self._classify(error, seconds, launch) if error is not None else None
        executed = read_executed(self.executed_path, source)
        for cell in executed.cells:
            if GRADER_TAG in cell.get("metadata", {}).get("tags", []):
                self.injected_count = cell.get("execution_count")
        if failure is None:
            failure = stopped_early(executed)
            if failure is not None:
                failure.seconds = seconds
        failure = apply_verdict(failure, self.sandbox, error)
        return failure, clean_executed(executed)

    # --- nbclient's hooks

    def _timeout_func(self) -> Callable[[Any], float | None]:
        options = self.ctx.options
        deadline = self.ctx.t0 + options.timeout_run if options.timeout_run else None

        def timeout_func(cell: Any) -> float | None:
            per = options.timeout_cell
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if per is None or remaining < per:
                    self.limit_hit, self.limit_seconds = "run", options.timeout_run
                    return max(remaining, 0.5)
            self.limit_hit, self.limit_seconds = ("cell", per) if per else (None, None)
            return per

        return timeout_func

    def _on_cell_start(self, cell: Any = None, cell_index: int | None = None, **_: Any) -> None:
        self.current_cell = cell_index
        self.cells_started += 1
        if cell_index and cell_index in self.code_numbers:
            number, total = self.code_numbers[cell_index], len(self.code_numbers)
            self.ctx.log(f"cell {_original_index(cell_index)} started ({number} of {total})")
            self.ctx.emit(
                phase="cell",
                cell=_original_index(cell_index),
                cell_number=number,
                code_cells=total,
                message=f"cell {number} of {total}",
            )

    def _papermill(
        self, source: Path, launch: KernelLaunch, manager_class: type[Any]
    ) -> BaseException | None:
        import papermill as pm

        ctx = self.ctx
        tail = _ProgressTail(ctx.capture_dir / "events.jsonl", self)
        ctx.log(f"kernel: {self.kernel_cmd}")
        tail.start()
        error: BaseException | None = None
        handler = _LogHandler(ctx.log)
        pm_logger = logging.getLogger("papermill")
        pm_logger.addHandler(handler)
        try:
            with self.output_log.open("w", encoding="utf-8") as out_fh:
                pm.execute_notebook(
                    str(source),
                    str(self.executed_path),
                    kernel_name=KERNEL_NAME,
                    language="python",
                    progress_bar=False,
                    log_output=False,
                    stdout_file=out_fh,
                    stderr_file=out_fh,
                    start_timeout=int(ctx.options.start_timeout),
                    request_save_on_cell_execute=True,
                    timeout_func=self._timeout_func(),
                    kernel_manager_class=manager_class,
                    resources={"metadata": {"path": str(ctx.work)}},
                    on_cell_start=self._on_cell_start,
                    interrupt_on_timeout=False,
                    shutdown_kernel="graceful",
                )
        except Exception as exc:  # every failure of the notebook becomes a classified result
            error = exc
        finally:
            tail.stop()
            pm_logger.removeHandler(handler)
            self.sandbox = finish_sandbox(
                ctx.backend,
                launch,
                self.executed_path.parent,
                {self.executed_path.name, self.output_log.name, self.kernel_log.name},
                ctx.log,
            )
        return error

    # --- what stopped it

    def _classify(self, error: BaseException, seconds: float, launch: KernelLaunch) -> RunFailure:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from papermill.exceptions import PapermillExecutionError

        log_tail = _tail_text(self.kernel_log)
        facts = ErrorFacts(
            error_type=type(error).__name__,
            message=str(error),
            seconds=seconds,
            kernel_log_tail=log_tail,
        )
        if isinstance(error, PapermillExecutionError):
            index = getattr(error, "cell_index", None)
            facts.cell = _original_index(index)
            facts.injected = index == 0
            facts.execution_count = getattr(error, "exec_count", None)
            facts.ename = getattr(error, "ename", None)
            facts.evalue = getattr(error, "evalue", None)
            facts.traceback = tuple(getattr(error, "traceback", None) or ())
        elif isinstance(error, CellTimeoutError):
            facts.error_type = "CellTimeoutError"
            facts.cell = self.running_cell
            facts.injected = self.current_cell == 0
            facts.limit_hit = self.limit_hit or "cell"
            facts.limit_seconds = self.limit_seconds
        elif isinstance(error, DeadKernelError):
            facts.error_type = "DeadKernelError"
            facts.cell = self.running_cell
            facts.injected = self.current_cell == 0
            facts.exit_code = _wait_exit(launch)
        elif self.cells_started == 0:
            facts.error_type = "KernelStartError"
            facts.exit_code = launch.handle.exit_code()
            if log_tail:
                facts.message = f"{error} (kernel output: {log_tail[-400:]})"
        else:
            facts.cell = self.running_cell
            facts.ename = type(error).__name__
            facts.evalue = str(error)
        failure = classify_failure(facts)
        self.ctx.log(f"execution stopped: {type(error).__name__}: {str(error)[:300]}")
        return failure


def _tail_text(path: Path, size: int = 4000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            n = fh.tell()
            fh.seek(max(0, n - size))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _wait_exit(launch: KernelLaunch, wait: float = 3.0) -> int | None:
    proc = launch.handle.process
    if proc is None:
        return None
    try:
        return int(proc.wait(timeout=wait))
    except Exception:
        return launch.handle.exit_code()


class _LogHandler(logging.Handler):
    """Sends papermill's and nbclient's warnings to the run log instead of the terminal."""

    def __init__(self, log: Callable[[str], None]) -> None:
        super().__init__(level=logging.WARNING)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._log(f"papermill: {record.getMessage()[:500]}")
        except Exception:  # logging must never raise
            self.handleError(record)


class _ProgressTail:
    """Follows the prelude's events file and reports epochs as they end."""

    def __init__(self, path: Path, run: KernelRun, interval: float = 0.5) -> None:
        self.path = path
        self.run = run
        self.interval = interval
        self.offset = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="grader-progress", daemon=True)

    def start(self) -> None:
        if self.run.ctx.progress is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._poll()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def _poll(self) -> None:
        if self.run.ctx.progress is None:
            return
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read(1 << 20)
        except OSError:
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        for line in chunk[: end + 1].splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if not isinstance(ev, dict) or ev.get("type") != "progress":
                continue
            epoch, epochs = ev.get("epoch"), ev.get("epochs")
            self.run.ctx.emit(
                phase="epoch",
                cell=self.run.running_cell,
                model=str(ev.get("model") or "")[:100] or None,
                epoch=epoch if isinstance(epoch, int) else None,
                epochs=epochs if isinstance(epochs, int) else None,
                message=f"{ev.get('model')}: epoch {epoch}/{epochs}",
            )
