"""The transparency page's catalogs (governance/locale): every message translated into
Spanish and Chinese, none fuzzy, each compiled ``.mo`` holding exactly what its ``.po``
says, and every fixed word of the registry the page shows (facts, bands, what may never
be a fact) among them: a fact added to ``scoring.facts`` without its translation fails
here, not on the public page."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from governance.transparency_words import REGISTRY_WORDS
from scoring.facts import BANDS, FACTS, NEVER_FACTS
from scoring.scorecard import THIN_FILE_LABEL
from tests.merchants.console.test_catalogs import _done, _entries

LOCALE = Path(__file__).resolve().parents[2] / "governance" / "locale"
LANGUAGES = ["es", "zh_Hans"]


def _catalog(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    catalog = _catalog(language)
    untranslated = [message.id for message in catalog if message.id and not _done(message)]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_matches_its_source(language: str) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.po").open("rb") as handle:
        source = _entries(read_po(handle, locale=language))
    with (folder / "django.mo").open("rb") as handle:
        compiled = _entries(read_mo(handle))
    assert compiled == source


def _registry_words() -> set[str]:
    words = {THIN_FILE_LABEL}
    for fact in FACTS.values():
        words |= {fact.label, fact.description}
    words |= {label for _, _, label in BANDS}
    for never in NEVER_FACTS:
        words |= {never.label, never.why}
    return words


def test_every_registry_word_is_marked_for_translation() -> None:
    assert _registry_words() - set(REGISTRY_WORDS) == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_registry_word_is_translated(language: str) -> None:
    translated = {
        message.id
        for message in _catalog(language)
        if isinstance(message.id, str) and message.id and _done(message)
    }
    assert _registry_words() - translated == set()
