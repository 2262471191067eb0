"""Slurm clusters for a batch: the ``slurm:`` section of a cluster config, the cluster
dask-jobqueue starts from it, and the job script it would submit (``docs/cluster.md``).
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.errors import UsageError
from grader.settings import did_you_mean

__all__ = [
    "SlurmConfig",
    "load_slurm_config",
    "slurm_cluster",
    "slurm_cluster_kwargs",
    "slurm_job_script",
]


class SlurmConfig(BaseModel):
    """The ``slurm:`` section of a cluster config file (documented in ``docs/cluster.md``).

    One Slurm job is one dask worker. Without GPUs it grades ``runs``
    submissions at once on ``cpus`` cores; with ``gpu: true`` it holds one GPU
    and grades ``per_gpu`` submissions on it.
    """

    model_config = ConfigDict(extra="forbid")

    jobs: int = Field(default=1, ge=1, description="Slurm jobs (dask workers) to start")
    queue: str | None = Field(default=None, description="partition (#SBATCH -p)")
    account: str | None = Field(default=None, description="account to charge (#SBATCH -A)")
    walltime: str = Field(default="04:00:00", description="time limit of each job")
    cpus: int = Field(default=4, ge=1, description="cores per job (--cpus-per-task)")
    memory: str = Field(default="16GB", description="memory per job")
    runs: int = Field(default=1, ge=1, description="submissions graded at once per job (no GPU)")
    gpu: bool = Field(default=False, description="one GPU per job (--gres=gpu:1)")
    per_gpu: int = Field(default=1, ge=1, description="submissions sharing the job's GPU")
    gres: str = Field(default="gpu:1", description="the --gres request of a GPU job")
    threads: int | None = Field(
        default=None, ge=1, description="TensorFlow threads per run (default: cpus / runs)"
    )
    python: str | None = Field(
        default=None, description="python with the grader installed on the compute nodes"
    )
    interface: str | None = Field(
        default=None, description="network interface the workers reach the scheduler by (ib0)"
    )
    scheduler_host: str | None = Field(
        default=None, description="address of this machine as the compute nodes see it"
    )
    local_directory: str | None = Field(default=None, description="node-local scratch folder")
    log_directory: str | None = Field(default=None, description="where job logs go")
    job_name: str = "grader"
    environment: dict[str, str] = Field(
        default_factory=dict, description="exported in each job (GRADER_HOME, ...)"
    )
    prologue: list[str] = Field(
        default_factory=list, description="shell lines run before the worker (module load ...)"
    )
    directives: list[str] = Field(
        default_factory=list, description="more #SBATCH options, e.g. --constraint=a100"
    )
    worker_args: list[str] = Field(
        default_factory=list, description="more dask worker options, e.g. --lifetime 3h50m"
    )
    dashboard: str | None = Field(default=None, description="dask dashboard address (:8787)")

    @property
    def threads_per_run(self) -> int:
        return self.threads or max(1, self.cpus // (self.per_gpu if self.gpu else self.runs))


def load_slurm_config(path: Path) -> SlurmConfig:
    """Read the ``slurm:`` section of a cluster config; unknown keys are errors with a hint."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the cluster config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("slurm"), dict):
        raise UsageError(f"{path}: expected a 'slurm:' section (see docs/cluster.md)")
    section = raw["slurm"]
    try:
        return SlurmConfig.model_validate(section)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                hint = did_you_mean(str(err["loc"][0]), SlurmConfig.model_fields)
                problems.append(f"unknown key {where!r}{hint}")
            else:
                problems.append(f"{where}: {err['msg']}")
        raise UsageError(f"{path}: " + "; ".join(problems)) from None


def slurm_cluster_kwargs(config: SlurmConfig) -> dict[str, Any]:
    """The keyword arguments of ``dask_jobqueue.SLURMCluster`` for a config.

    One worker process per job; its threads are the runs it grades at once.
    GPU jobs ask Slurm for a GPU (``--gres``) and declare ``--resources GPU=K``.
    """
    runs = config.per_gpu if config.gpu else config.runs
    directives = list(config.directives)
    worker_args = list(config.worker_args)
    env = dict(config.environment)
    if config.gpu:
        directives.append(f"--gres={config.gres}")
        worker_args += ["--resources", f"GPU={config.per_gpu}"]
        env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    prologue = [f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items())]
    prologue += list(config.prologue)
    scheduler_options: dict[str, Any] = {
        "allowed_failures": 0,
        "dashboard": config.dashboard is not None,
        "dashboard_address": config.dashboard or ":0",
    }
    if config.scheduler_host:
        scheduler_options["host"] = config.scheduler_host
    kwargs: dict[str, Any] = {
        "cores": runs,
        "processes": 1,
        "memory": config.memory,
        "job_cpu": config.cpus,
        "walltime": config.walltime,
        "job_name": config.job_name,
        "job_extra_directives": directives,
        "job_script_prologue": prologue,
        "worker_extra_args": worker_args,
        "python": config.python or sys.executable,
        "scheduler_options": scheduler_options,
    }
    for name in ("queue", "account", "interface", "local_directory", "log_directory"):
        value = getattr(config, name)
        if value is not None:
            kwargs[name] = value
    return kwargs


def _jobqueue() -> Any:
    try:
        import dask_jobqueue
    except ImportError:
        raise UsageError(
            "--cluster slurm needs dask-jobqueue: pip install 'hw-grader[cluster]'"
        ) from None
    return dask_jobqueue


def slurm_cluster(config: SlurmConfig) -> Any:
    """A ``dask_jobqueue.SLURMCluster`` for the config (no job submitted yet)."""
    jobqueue = _jobqueue()
    if shutil.which("sbatch") is None:
        raise UsageError(
            "--cluster slurm: sbatch is not on PATH; run the batch on a machine that submits "
            "Slurm jobs (a login node), or use --cluster local"
        )
    return jobqueue.SLURMCluster(**slurm_cluster_kwargs(config))


def slurm_job_script(config: SlurmConfig) -> str:
    """The batch script each Slurm job runs, to check before anything is submitted.

    Nothing is started: the scheduler's address, known only once it runs, is
    shown as ``tcp://SCHEDULER:8786``.
    """
    kwargs = slurm_cluster_kwargs(config)
    kwargs.pop("scheduler_options")
    job = _jobqueue().SLURMCluster.job_cls(
        scheduler="tcp://SCHEDULER:8786", name=f"{config.job_name}-worker", **kwargs
    )
    return str(job.job_script())
