"""Catalogs are complete for az/en/ru and in step with the strings in the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from web.platform import i18n

ROOT = Path(__file__).resolve().parents[2]


def _catalog(language: str):
    with (i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _extracted_ids(tmp_path: Path) -> set[str]:
    output = tmp_path / "messages.pot"
    # The same extraction as `make messages`, run in-process.
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-o",
            str(output),
            "--omit-header",
            str(ROOT),
        ]
    )
    with output.open("rb") as handle:
        return {
            message.id if isinstance(message.id, str) else message.id[0]
            for message in read_po(handle)
            if message.id
        }


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_every_message_is_translated(language):
    missing = [
        message.id
        for message in _catalog(language)
        if message.id
        and (
            message.fuzzy
            or (isinstance(message.string, str) and not message.string.strip())
            or (isinstance(message.string, tuple) and not all(s.strip() for s in message.string))
        )
    ]
    assert missing == [], f"{language}: untranslated or fuzzy: {missing}"


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_catalog_holds_every_string_in_the_code(language, tmp_path):
    in_code = _extracted_ids(tmp_path)
    catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(language) if m.id}
    assert sorted(in_code - catalog) == [], "run `make messages` and translate the new strings"


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_every_string_in_the_catalog_is_seen_in_the_code(language, tmp_path):
    """The other way round: `make messages` drops what extraction no longer finds, so a
    string the code still shows but the extractor cannot see (`_()` inside an f-string, on
    Python before 3.12) would lose its translations at the next update."""
    in_code = _extracted_ids(tmp_path)
    catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(language) if m.id}
    assert sorted(catalog - in_code) == [], "unused, or used where extraction cannot see it"


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_placeholders_survive_translation(language):
    import re

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for message in _catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(placeholder.findall(ids[-1])) - {"num"}
        for string in strings:
            assert expected <= set(placeholder.findall(string)), (language, message.id)


def test_language_is_per_context_and_defaults_to_azerbaijani():
    assert i18n.get_language() == "az"
    token = i18n.set_language("ru")
    try:
        assert i18n.gettext("State Customs Committee") == "Государственный таможенный комитет"
    finally:
        i18n.reset_language(token)
    assert i18n.gettext("State Customs Committee") == "Dövlət Gömrük Komitəsi"
    token = i18n.set_language("xx")
    assert i18n.get_language() == "az"
    i18n.reset_language(token)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Gömrük", "gomruk"),
        ("Rəsmiləşdirmə", "resmilesdirme"),
        ("İDXAL", "idxal"),
        ("Çağrı", "cagri"),
        ("ŞÜŞƏ", "suse"),
        ("Таможня", "таможня"),
    ],
)
def test_search_folding_ignores_case_and_azerbaijani_diacritics(text, folded):
    assert i18n.fold_for_search(text) == folded


def test_formatting_builds_no_babel_locale_once_warm(monkeypatch):
    """CPU, counted: every signed-in page shows session spans and lookups show file sizes;
    Babel's Locale.parse (and pattern parsing) ran on each. Warm, they are looked up; each
    language still gets its own text."""
    texts = {}
    for language in i18n.LANGUAGES:
        token = i18n.set_language(language)
        texts[language] = (i18n.format_duration(120), i18n.format_size(1_500_000))
        i18n.get_locale()
        i18n.reset_language(token)
    parsed: list[str] = []
    original = i18n.Locale.parse
    monkeypatch.setattr(i18n.Locale, "parse", lambda *a, **k: parsed.append(a) or original(*a, **k))
    for language in i18n.LANGUAGES:
        token = i18n.set_language(language)
        assert (i18n.format_duration(120), i18n.format_size(1_500_000)) == texts[language]
        assert i18n.get_locale().language == language
        i18n.reset_language(token)
    assert parsed == []
    assert texts["az"] != texts["en"] != texts["ru"]
    assert texts["en"] == ("2 minutes", "1.5 MB")
