"""Which notebook is this? Each front end says it its own way; :data:`FRONT_ENDS` asks them in turn.

* VS Code's Jupyter extension puts the notebook's path in the kernel's
  namespace as ``__vsc_ipynb_file__``;
* Google Colab keeps the notebook in the browser (or on Drive) and hands it over
  through its own API, ``google.colab._message.blocking_request('get_ipynb')``;
* Jupyter Lab and Notebook (jupyter_server 2) start the kernel with
  ``JPY_SESSION_NAME`` set to the notebook's path, which ipykernel also puts in
  the namespace as ``__session__``.

Nothing here runs the notebook or talks to a server; a front end that says
nothing leaves the question to the next one, and when none can answer the
student is told how to pass the path.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.i18n import _

__all__ = ["FRONT_ENDS", "Located", "NotebookNotFound", "Surroundings", "locate_notebook"]

#: how long Colab may take to hand over the notebook
COLAB_TIMEOUT_S = 30


class NotebookNotFound(GraderError):
    """The notebook to check cannot be found; the message says what the student can do."""


@dataclass(frozen=True)
class Surroundings:
    """What the self-check can see of where it runs (tests pass their own)."""

    user_ns: Mapping[str, Any] = field(default_factory=dict)  # the kernel's namespace
    environ: Mapping[str, str] = field(default_factory=dict)
    modules: Mapping[str, Any] = field(default_factory=dict)  # sys.modules
    cwd: Path = field(default_factory=Path.cwd)
    in_kernel: bool = False  # a Jupyter kernel (output shown in a notebook), not a terminal

    @classmethod
    def here(cls, shell: Any | None) -> Surroundings:
        """The surroundings of this process; ``shell`` is IPython's, when there is one."""
        user_ns = getattr(shell, "user_ns", None)
        return cls(
            user_ns=user_ns if isinstance(user_ns, Mapping) else {},
            environ=dict(os.environ),
            modules=sys.modules,
            cwd=Path.cwd(),
            in_kernel=getattr(shell, "kernel", None) is not None,
        )


@dataclass(frozen=True)
class Located:
    """The notebook found: a saved file (``path``), or its content (``content``, Colab)."""

    front_end: str  # a key of FRONT_ENDS, or "path" when it was named
    name: str  # the file name, as the student knows it
    path: Path | None = None
    content: dict[str, Any] | None = None

    @property
    def is_saved_file(self) -> bool:
        """Whether the check reads a saved file (which may be older than the kernel's state)."""
        return self.path is not None


Detector = Callable[[Surroundings], Located | None]


def _call(name: str = "my_hw5.ipynb") -> str:
    """The call that names the notebook, as the student would type it."""
    return f'grader.selfcheck("{name}")'


def _vscode(env: Surroundings) -> Located | None:
    value = env.user_ns.get("__vsc_ipynb_file__")
    if not isinstance(value, str) or not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise NotebookNotFound(
            _(
                "VS Code says this notebook is {path}, but that file does not exist yet. "
                "Save the notebook (Ctrl+S) under a name of your own, then run this cell again."
            ).format(path=value)
        )
    return Located("vscode", path.name, path=path)


def _colab(env: Surroundings) -> Located | None:
    if "google.colab" not in env.modules:
        return None
    hint = _(
        "Download it (File → Download → Download .ipynb), upload it to the files of this "
        "Colab session (the folder icon on the left), then pass the notebook's file name: "
        "{call}"
    ).format(call=_call())
    try:
        message = importlib.import_module("google.colab._message")
        reply = message.blocking_request("get_ipynb", request="", timeout_sec=COLAB_TIMEOUT_S)
    except Exception as exc:  # Colab's private API: any failure means "ask the student"
        raise NotebookNotFound(
            _("Colab did not hand over this notebook ({error}). {hint}").format(
                error=f"{type(exc).__name__}: {exc}", hint=hint
            )
        ) from None
    content = reply.get("ipynb") if isinstance(reply, Mapping) else None
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        raise NotebookNotFound(_("Colab did not hand over this notebook. {hint}").format(hint=hint))
    meta = content.get("metadata")
    colab = meta.get("colab") if isinstance(meta, Mapping) else None
    name = colab.get("name") if isinstance(colab, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        name = "notebook.ipynb"
    return Located("colab", Path(name.strip()).name, content=content)


def _jupyter(env: Surroundings) -> Located | None:
    session = env.user_ns.get("__session__") or env.environ.get("JPY_SESSION_NAME")
    if not isinstance(session, str) or not session.lower().endswith(".ipynb"):
        return None  # no session, or a console rather than a notebook
    given = Path(session)
    if given.is_absolute():
        candidates = [given]
    else:  # a path from the server's root: the kernel runs in the notebook's folder
        candidates = [env.cwd / given.name, env.cwd / given, Path.home() / given]
    for path in candidates:
        if path.is_file():
            return Located("jupyter", path.name, path=path)
    raise NotebookNotFound(
        _(
            "Jupyter started this kernel for {path}, but that file is not there any more "
            "(renamed or moved since?). Save the notebook, then pass the notebook's file "
            "name: {call}"
        ).format(path=session, call=_call(given.name))
    )


#: the front ends, asked in this order (VS Code and Colab also run Jupyter kernels)
FRONT_ENDS: dict[str, Detector] = {"vscode": _vscode, "colab": _colab, "jupyter": _jupyter}

#: how each front end is named to the student
FRONT_END_NAMES = {
    "path": "",
    "vscode": "VS Code",
    "colab": "Google Colab",
    "jupyter": "Jupyter",
}


def locate_notebook(path: str | os.PathLike[str] | None, env: Surroundings) -> Located:
    """The notebook to check: ``path`` when given, else the one this kernel runs.

    Raises :class:`NotebookNotFound` with what the student can do instead.
    """
    if path is not None:
        given = Path(path).expanduser()
        if not given.is_absolute():
            given = env.cwd / given
        if given.is_file():
            return Located("path", given.name, path=given)
        raise NotebookNotFound(
            _(
                "There is no file {path} (looked in {folder}). Check the name; a path without "
                "a folder is taken from the folder this notebook runs in."
            ).format(path=os.fspath(path), folder=given.parent)
        )
    for detect in FRONT_ENDS.values():
        found = detect(env)
        if found is not None:
            return found
    if env.in_kernel:
        raise NotebookNotFound(
            _(
                "grader.selfcheck() cannot tell which notebook it runs in (this Jupyter does "
                "not say). Save the notebook, then pass the notebook's file name: {call}"
            ).format(call=_call())
        )
    raise NotebookNotFound(
        _(
            "Outside a notebook there is none to find: pass the notebook's file name: {call}, "
            "or run {command} in a terminal."
        ).format(call=_call(), command="`grader check my_hw5.ipynb`")
    )


def write_content(found: Located, folder: Path) -> Path:
    """Write a notebook handed over as content (Colab) into ``folder``; returns the file."""
    assert found.content is not None
    target = folder / found.name
    if target.suffix.lower() != ".ipynb":
        target = target.with_name(target.name + ".ipynb")
    target.write_text(json.dumps(found.content, ensure_ascii=False), encoding="utf-8")
    return target
