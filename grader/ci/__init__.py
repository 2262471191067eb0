"""``grader ci init``: the CI workflow that checks every notebook of a course or student repository.

On each push the workflow installs the grader (``GRADER_PIP_SPEC``: the
published package, a version or a git URL), runs ``grader check`` over the
notebooks (``GRADER_NOTEBOOKS``), and publishes the result: GitHub Actions as
the run's job summary (Markdown), GitLab CI as the pipeline's test report
(JUnit) with the Markdown as an artifact. It fails when a notebook misses a
requirement, or only warns (``GRADER_FAIL_ON_MISSING``). With ``reference`` a
second job runs ``grader reference verify --profile smoke``, for the staff
repository that keeps the reference solutions.

The install is one step of its own (GitHub: the step ``id: install``; GitLab:
``before_script``) and every setting is a variable at the top, so a person can
change the file after it is written, and the tests can run the other steps
against a grader that is already installed. :data:`PROVIDERS` holds what
differs between the CI services; the YAML lives in ``templates/``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from grader.errors import UsageError
from grader.files import atomic_write_text
from grader.settings import __version__

__all__ = [
    "PROVIDERS",
    "CiOptions",
    "Provider",
    "run_pip_spec",
    "workflow_text",
    "write_workflows",
]

#: the grader's name on PyPI
PACKAGE = "hw-grader"


@dataclass(frozen=True)
class Provider:
    """One CI service: where its workflow file goes, the template that writes it."""

    title: str
    path: str  # relative to the repository's root
    template: str
    where_results: str  # what the student looks at after a push


PROVIDERS: dict[str, Provider] = {
    "github": Provider(
        "GitHub Actions",
        ".github/workflows/grader.yml",
        "github.yml.j2",
        "the summary of each run on the Actions tab",
    ),
    "gitlab": Provider(
        "GitLab CI",
        ".gitlab-ci.yml",
        "gitlab-ci.yml.j2",
        "the Tests tab of each pipeline (and the artifact grader-summary.md)",
    ),
}


@dataclass(frozen=True)
class CiOptions:
    """What the written workflow does (each becomes a variable at the top of the file)."""

    pip_spec: str = PACKAGE
    notebooks: str = "."
    check_options: str = ""
    fail_on_missing: bool = True
    reference: bool = False
    python: str = "3.11"


_NAME_SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def run_pip_spec(pip_spec: str) -> str:
    """The same install with the ``run`` extra (what executes notebooks), for the reference job."""
    spec = pip_spec.strip()
    if spec.startswith(("git+", "http://", "https://")):
        return f"{PACKAGE}[run] @ {spec}"
    match = _NAME_SPEC.match(spec)
    if match and not spec.startswith((".", "/")) and "/" not in spec:
        name, extras, rest = match.groups()
        names = [e.strip() for e in (extras or "[]")[1:-1].split(",") if e.strip()]
        if "run" not in names:
            names.append("run")
        return f"{name}[{','.join(names)}]{rest}"
    return f"{spec}[run]"  # a local path or an archive


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=False,  # YAML, not HTML: every value goes through the yaml filter
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["yaml"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    return env


def _command(provider: str, options: CiOptions) -> str:
    words = ["grader ci init", f"--{provider}"]
    if options.reference:
        words.append("--reference")
    if not options.fail_on_missing:
        words.append("--warn-only")
    return " ".join(words)


def workflow_text(provider: str, options: CiOptions) -> str:
    """The workflow file for ``provider`` (a key of :data:`PROVIDERS`)."""
    if provider not in PROVIDERS:
        raise UsageError(f"no CI service {provider!r}: choose one of {', '.join(PROVIDERS)}")
    if "\n" in options.pip_spec + options.notebooks + options.check_options + options.python:
        raise UsageError("the options of the workflow must each be one line")
    env = _env()
    check_script = env.get_template("_check.sh.j2").render().rstrip("\n")
    return env.get_template(PROVIDERS[provider].template).render(
        o=options,
        run_pip_spec=run_pip_spec(options.pip_spec),
        check_script=check_script,
        command=_command(provider, options),
        version=__version__,
    )


def write_workflows(
    root: Path, providers: list[str], options: CiOptions, *, force: bool = False
) -> list[Path]:
    """Write the workflow of each of ``providers`` into the repository at ``root``.

    Nothing is written when one of the files exists and ``force`` is off
    (:class:`~grader.errors.UsageError`); returns the files written.
    """
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder (the repository to write the workflow into)")
    texts = {name: workflow_text(name, options) for name in providers}
    targets = {name: root / PROVIDERS[name].path for name in providers}
    existing = [str(t) for t in targets.values() if t.exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(existing)} {'exists' if len(existing) == 1 else 'exist'} already; "
            "nothing was written. Add --force to "
            "replace it (your changes to it would be lost), or print the workflow with "
            "--print and copy what you need."
        )
    for name, target in targets.items():
        atomic_write_text(target, texts[name], durable=False)
    return list(targets.values())
