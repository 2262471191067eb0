"""The one jinja2 environment of the HTML pages: templates next to this module, autoescaping
on (everything a student typed ends up on a page), and the gettext of the language in use.

Templates mark their words with ``{{ _("...") }}`` (placeholders by name:
``{{ _("%(n)s models", n=3) }}``) or ``{% trans %}``; ``make translations`` extracts them
with the code's messages.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from grader.i18n import _, current_language, ngettext
from grader.report.words import count, duration, pct

__all__ = ["environment", "render"]


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # the callables read the language in use at render time (a context variable)
    env.install_gettext_callables(_, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = current_language
    env.filters["pct"] = pct
    env.filters["duration"] = duration
    env.filters["count"] = count
    return env


def render(template: str, **context: object) -> str:
    """``template`` rendered in the language in use."""
    return environment().get_template(template).render(**context)
