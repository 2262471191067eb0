"""The Czech catalog covers every message the code marks, keeps every placeholder, and is the
one the grader loads (the compiled ``.mo`` matches its ``.po``)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

babel_messages = pytest.importorskip("babel.messages")

from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.frontend import parse_mapping_cfg  # noqa: E402
from babel.messages.mofile import write_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

from grader import i18n  # noqa: E402
from grader.i18n import _, current_language, ngettext, resolve_language, use_language  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "grader" / "locale"
PO = LOCALE / "cs" / "LC_MESSAGES" / "grader.po"
MO = PO.with_suffix(".mo")
#: ``{name}``, ``{name!r}``, ``{value:.1%}`` (str.format) and ``%(name)s`` (the templates)
_PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*(?:![rsa])?(?::[^{}]*)?\}|%\([A-Za-z_]\w*\)[sdif]")


def _extracted() -> dict[str, tuple[str, ...]]:
    """msgid → every form (singular, plural) of each message the code and templates mark."""
    with (LOCALE / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        forms = (message,) if isinstance(message, str) else tuple(message)
        found[forms[0]] = forms
    return found


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as f:
        return read_po(f, locale="cs")


@pytest.fixture(scope="module")
def extracted() -> dict[str, tuple[str, ...]]:
    return _extracted()


def test_messages_are_marked_at_all(extracted: dict[str, tuple[str, ...]]) -> None:
    assert len(extracted) > 150


def test_every_message_has_a_czech_translation(catalog, extracted) -> None:  # type: ignore[no-untyped-def]
    missing = []
    for msgid in extracted:
        message = catalog.get(msgid)
        strings = (
            []
            if message is None
            else (list(message.string) if isinstance(message.string, tuple) else [message.string])
        )
        if message is None or message.fuzzy or not all(strings):
            missing.append(msgid)
    assert not missing, (
        f"{len(missing)} message(s) without a Czech translation (run `make translations`, then "
        "translate them in grader/locale/cs/LC_MESSAGES/grader.po):\n" + "\n".join(missing[:40])
    )


def test_czech_plurals_have_three_forms(catalog, extracted) -> None:  # type: ignore[no-untyped-def]
    assert catalog.num_plurals == 3
    for forms in extracted.values():
        if len(forms) > 1:
            message = catalog.get(forms[0])
            assert message is not None and isinstance(message.string, tuple), forms[0]
            assert len(message.string) == 3 and all(message.string), forms[0]


def test_translations_keep_every_placeholder(catalog) -> None:  # type: ignore[no-untyped-def]
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set().union(*(set(_PLACEHOLDER.findall(i)) for i in ids))
        for s in strings:
            got = set(_PLACEHOLDER.findall(s))
            # a plural's singular form may say "one" in words instead of {n}
            if got != wanted and not (len(ids) > 1 and got <= wanted):
                wrong.append(f"{ids[0]!r}: {sorted(wanted)} → {s!r}")
    assert not wrong, "translations that drop or invent placeholders:\n" + "\n".join(wrong)


def test_no_stale_translations(catalog, extracted) -> None:  # type: ignore[no-untyped-def]
    stale = [
        m.id
        for m in catalog
        if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in extracted
    ]
    assert not stale, (
        "translations of messages the code no longer has (run `make translations`):"
        + "\n".join(map(str, stale[:20]))
    )


def test_the_compiled_catalog_is_the_po_file(catalog) -> None:  # type: ignore[no-untyped-def]
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert MO.exists() and MO.read_bytes() == compiled.getvalue(), (
        "grader.mo is older than grader.po: run `make translations`"
    )


def test_czech_is_spoken_in_the_block_only() -> None:
    i18n._catalog.cache_clear()
    assert current_language() == "en"
    with use_language("cs"):
        assert current_language() == "cs"
    assert current_language() == "en"
    with pytest.raises(ValueError, match="unknown language"), use_language("de"):
        pass


_ONE = "separable/depthwise convolutions ({n} layer, runtime)"
_MANY = "separable/depthwise convolutions ({n} layers, runtime)"


def test_czech_plural_forms_follow_the_count() -> None:
    with use_language("cs"):
        forms = [ngettext(_ONE, _MANY, n).format(n=n) for n in (1, 3, 5, 22, 25)]
    assert len({f.replace(str(n), "#") for f, n in zip(forms, (1, 3, 5), strict=False)}) == 3
    # 22 and 25 take the form of 5 in Czech (CLDR: "few" is 2-4 only)
    assert forms[3].replace("22", "5") == forms[4].replace("25", "5") == forms[2]
    with use_language("en"):
        assert ngettext(_ONE, _MANY, 1) == _ONE


def test_the_language_comes_from_the_flag_then_the_rubric_then_the_locale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert resolve_language(None) == "en"
    monkeypatch.setenv("LANG", "cs_CZ.UTF-8")
    assert resolve_language(None) == "cs"
    assert resolve_language(None, "en") == "en"
    assert resolve_language("en", "cs") == "en"
    monkeypatch.setenv("LANG", "sk_SK.UTF-8")
    assert resolve_language(None) == "cs"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert resolve_language(None) == "en"


def test_an_unknown_message_falls_back_to_english() -> None:
    with use_language("cs"):
        assert _("a message nobody translated 123") == "a message nobody translated 123"
