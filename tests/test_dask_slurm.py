"""``--cluster slurm``: the config file, the SLURMCluster arguments and the job script (no Slurm needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from grader.batch.slurm import SlurmConfig, load_slurm_config, slurm_cluster_kwargs
from grader.cli.batch import register
from grader.errors import UsageError

GPU_CONFIG = """\
slurm:
  jobs: 4
  queue: gpu
  account: nn2-course
  walltime: "06:00:00"
  cpus: 8
  memory: 48GB
  gpu: true
  per_gpu: 2
  python: /opt/grader/.venv/bin/python
  interface: ib0
  log_directory: /scratch/grader/logs
  environment:
    GRADER_HOME: /scratch/grader/home
  prologue:
    - module load cuda/12.4
  directives:
    - --constraint=a100
  worker_args: [--lifetime, 5h50m, --lifetime-stagger, 5m]
"""

CPU_CONFIG = """\
slurm:
  jobs: 10
  queue: cpu
  cpus: 4
  runs: 2
  memory: 16GB
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_gpu_config_becomes_one_gpu_worker_per_job(tmp_path: Path) -> None:
    config = load_slurm_config(_write(tmp_path, GPU_CONFIG))
    kw = slurm_cluster_kwargs(config)
    assert kw["cores"] == 2 and kw["processes"] == 1  # two runs share the job's GPU
    assert kw["job_cpu"] == 8 and kw["memory"] == "48GB" and kw["walltime"] == "06:00:00"
    assert kw["queue"] == "gpu" and kw["account"] == "nn2-course" and kw["interface"] == "ib0"
    assert kw["job_extra_directives"] == ["--constraint=a100", "--gres=gpu:1"]
    assert kw["worker_extra_args"][-2:] == ["--resources", "GPU=2"]
    assert "--lifetime" in kw["worker_extra_args"]
    assert kw["job_script_prologue"] == [
        "export GRADER_HOME=/scratch/grader/home",
        "export TF_FORCE_GPU_ALLOW_GROWTH=true",
        "module load cuda/12.4",
    ]
    assert kw["python"] == "/opt/grader/.venv/bin/python"
    assert kw["scheduler_options"]["allowed_failures"] == 0
    assert config.threads_per_run == 4


def test_cpu_config(tmp_path: Path) -> None:
    config = load_slurm_config(_write(tmp_path, CPU_CONFIG))
    kw = slurm_cluster_kwargs(config)
    assert kw["cores"] == 2 and kw["job_cpu"] == 4
    assert not any("gres" in d for d in kw["job_extra_directives"])
    assert "--resources" not in kw["worker_extra_args"]
    assert kw["python"] == sys.executable and "account" not in kw
    assert config.threads_per_run == 2 and config.jobs == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("slurm:\n  jobz: 3\n", "unknown key 'jobz' \\(did you mean 'jobs'\\?\\)"),
        ("slurm:\n  jobs: 0\n", "jobs: Input should be greater than or equal to 1"),
        ("pbs:\n  jobs: 3\n", "expected a 'slurm:' section"),
        ("slurm: [\n", "not valid YAML"),
    ],
)
def test_bad_configs_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_slurm_config(_write(tmp_path, text))


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the cluster config"):
        load_slurm_config(tmp_path / "nope.yaml")


def test_the_job_script(tmp_path: Path) -> None:
    pytest.importorskip("dask_jobqueue")
    from grader.batch.slurm import slurm_job_script

    script = slurm_job_script(load_slurm_config(_write(tmp_path, GPU_CONFIG)))
    for needle in (
        "#SBATCH -p gpu",
        "#SBATCH -A nn2-course",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH -t 06:00:00",
        "#SBATCH --gres=gpu:1",
        "#SBATCH --constraint=a100",
        "export TF_FORCE_GPU_ALLOW_GROWTH=true",
        "module load cuda/12.4",
        "/opt/grader/.venv/bin/python -m distributed.cli.dask_worker",
        "--nthreads 2",
        "--resources GPU=2",
    ):
        assert needle in script, needle


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """grader"""

    register(app)
    return app


def test_cli_prints_the_job_script(tmp_path: Path) -> None:
    pytest.importorskip("dask_jobqueue")
    config = _write(tmp_path, CPU_CONFIG)
    args = ["batch", str(tmp_path), "--cluster", "slurm", "--cluster-config", str(config)]
    result = CliRunner().invoke(_app(), [*args, "--job-script"])
    assert result.exit_code == 0, result.output
    assert "#SBATCH -p cpu" in result.output and "--nthreads 2" in result.output


def test_cli_says_what_to_install_without_dask_jobqueue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # import fails
    config = _write(tmp_path, CPU_CONFIG)
    args = ["batch", str(tmp_path), "--cluster", "slurm", "--cluster-config", str(config)]
    result = CliRunner().invoke(_app(), [*args, "--job-script"])
    assert result.exit_code == 2
    assert "needs dask-jobqueue" in " ".join(result.output.split())


def test_job_script_needs_slurm(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["batch", str(tmp_path), "--job-script"])
    assert result.exit_code == 2
    assert "--job-script goes with --cluster slurm" in " ".join(result.output.split())


def test_defaults_are_a_small_cpu_job() -> None:
    config = SlurmConfig()
    kw = slurm_cluster_kwargs(config)
    assert kw["cores"] == 1 and kw["job_cpu"] == 4 and config.threads_per_run == 4


def test_a_batch_on_slurm_needs_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    from grader.batch import slurm as slurm_module
    from grader.batch.options import BatchOptions
    from grader.batch.scheduler import run_batch
    from tests.test_batch_support import write_notebook

    monkeypatch.setattr(slurm_module.shutil, "which", lambda name: None)
    write_notebook(tmp_path / "class" / "a.ipynb")
    options = BatchOptions(
        source=tmp_path / "class",
        out=tmp_path / "out",
        run=None,
        cluster="slurm",
        cluster_config=_write(tmp_path, CPU_CONFIG),
    )
    with pytest.raises(UsageError, match="sbatch is not on PATH|needs dask-jobqueue"):
        run_batch(options)
    assert (tmp_path / "out" / "index.html").is_file()  # the class pages are still written


_SBATCH = """#!/usr/bin/env bash
# stands in for sbatch: runs the job script in its own process group, prints a job id
dir="$(dirname "$0")"
id=$RANDOM$RANDOM
cp "$1" "$dir/job-$id.sh"
setsid nohup bash "$dir/job-$id.sh" > "$dir/job-$id.log" 2>&1 < /dev/null &
echo $! > "$dir/job-$id.pid"
echo "Submitted batch job $id"
"""

_SCANCEL = """#!/usr/bin/env bash
# stands in for scancel: ends the process group of each job
dir="$(dirname "$0")"
for id in "$@"; do
  pid=$(cat "$dir/job-$id.pid" 2>/dev/null) && kill -- "-$pid" 2>/dev/null
done
exit 0
"""


def test_a_batch_on_a_stand_in_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole path: config -> SLURMCluster -> sbatch'ed workers -> graded class."""
    jobqueue = pytest.importorskip("dask_jobqueue")
    from grader.batch.options import BatchOptions
    from grader.batch.scheduler import run_batch
    from tests.test_batch_support import fake_grade, write_notebook

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", _SBATCH), ("scancel", _SCANCEL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    for i in range(4):
        write_notebook(tmp_path / "class" / f"s{i}.ipynb")
    root = Path(__file__).resolve().parent.parent
    pythonpath = f"{Path(jobqueue.__file__).parent.parent}:{root}"
    config = _write(
        tmp_path,
        f"slurm:\n  jobs: 2\n  cpus: 1\n  memory: 2GB\n  walltime: '00:10:00'\n"
        f"  python: {sys.executable}\n  environment:\n    PYTHONPATH: {pythonpath}\n",
    )
    summary = run_batch(
        BatchOptions(
            source=tmp_path / "class",
            out=tmp_path / "out",
            run=None,
            cluster="slurm",
            cluster_config=config,
        ),
        grade=fake_grade,
    )
    assert summary.executor == "Slurm: 2 job(s) x 1 run(s)"
    assert [r.state for r in summary.results.rows] == ["graded"] * 4
    assert len(list(bin_dir.glob("job-*.sh"))) == 2
