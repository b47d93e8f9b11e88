"""The console's catalogs: every message translated into Spanish and Chinese, none
fuzzy, and each compiled ``.mo`` holding exactly what its ``.po`` says (a ``.po``
edited without ``compilemessages`` fails here, not in front of a hotel)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[3] / "merchants" / "console" / "locale"
LANGUAGES = ["es", "zh_Hans"]


def _entries(catalog: Catalog) -> dict[object, object]:
    entries: dict[object, object] = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else tuple(message.id)
        value = message.string if isinstance(message.string, str) else tuple(message.string or ())
        entries[(message.context, key)] = value
    return entries


def _done(message: Message) -> bool:
    if message.fuzzy:
        return False
    if isinstance(message.string, str):
        return bool(message.string)
    return all(message.string or ())


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language: str):
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    untranslated = [message.id for message in catalog if message.id and not _done(message)]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_matches_its_source(language: str):
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.po").open("rb") as handle:
        source = _entries(read_po(handle, locale=language))
    with (folder / "django.mo").open("rb") as handle:
        compiled = _entries(read_mo(handle))
    assert compiled == source
