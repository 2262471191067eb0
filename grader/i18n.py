"""The words the grader shows students and instructors, in Czech or English.

English is the source language: every message is written in English in the
code, marked with :func:`_` (or :func:`ngettext` when it counts something),
and looked up in the gettext catalog of the language in use
(``grader/locale/<lang>/LC_MESSAGES/grader.mo``, compiled from the ``.po``
file next to it; Babel extracts and compiles them, see ``docs/translating.md``).
Placeholders are named (``{model}``), never positional, so a translation may
reorder them. Codes that scripts read (a finding's ``code``, a criterion's
``status``) are never translated.

The language in use is a context variable: :func:`use_language` sets it for a
block (a command, one graded submission), so parallel gradings in threads keep
their own. A foundation module: it imports nothing from the rest of the package.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "_",
    "current_language",
    "language_from_environment",
    "ngettext",
    "resolve_language",
    "use_language",
]

#: the languages the grader speaks (English first: the language of the source)
LANGUAGES = ("en", "cs")
DEFAULT_LANGUAGE = "en"
DOMAIN = "grader"
LOCALE_DIR = Path(__file__).with_name("locale")

_language: ContextVar[str] = ContextVar("grader_language", default=DEFAULT_LANGUAGE)


@cache
def _catalog(language: str) -> _gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    try:
        return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language])
    except OSError:  # no compiled catalog: the English source text
        return _gettext.NullTranslations()


def _(message: str) -> str:
    """``message`` in the language in use (English when it has no translation)."""
    return _catalog(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for ``n`` things (Czech has three: 1, 2-4, 5 and more)."""
    return _catalog(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the conventional name of the marker
    """Mark a message for translation where it is defined; translate it with :func:`_` where
    it is shown (a table of labels built when a module is imported)."""
    return message


def current_language() -> str:
    return _language.get()


@contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Speak ``language`` (one of :data:`LANGUAGES`; None: leave it as it is) in the block."""
    if language is None:
        yield _language.get()
        return
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    token = _language.set(language)
    try:
        yield language
    finally:
        _language.reset(token)


def language_from_environment(environ: dict[str, str] | None = None) -> str | None:
    """The user's language from the locale variables (``LC_ALL``, ``LC_MESSAGES``, ``LANG``,
    ``LANGUAGE``), when the grader speaks it; Slovak readers get Czech."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        codes = [p.split(".")[0].split("_")[0].lower() for p in (env.get(name) or "").split(":")]
        codes = [c for c in codes if c and c not in ("c", "posix")]
        if not codes:
            continue  # not set: the next variable decides
        for code in codes:
            if code in LANGUAGES:
                return code
            if code == "sk":
                return "cs"
        return None
    return None


def resolve_language(given: str | None, rubric_language: str | None = None) -> str:
    """The language to speak: the one asked for, else the rubric's, else the locale's, else
    English."""
    for choice in (given, rubric_language, language_from_environment()):
        if choice in LANGUAGES:
            return choice
    return DEFAULT_LANGUAGE
