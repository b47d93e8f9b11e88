"""The API's JSON parser: the one ``DEFAULT_PARSER_CLASSES`` entry.

DRF's own parser hands any JSON to Python's ``json`` module and the result to the view.
Three kinds of body got through it to a 500:

- nesting deep enough to exhaust the parser's recursion (``[[[[...]]]]`` a hundred
  thousand deep) raised ``RecursionError``;
- a lone surrogate (``"\\ud800"``, legal JSON but not Unicode) reached code that encodes
  text (a database driver, the response's renderer) and raised ``UnicodeEncodeError``;
- NUL (``"\\u0000"``) reached PostgreSQL, which cannot store it in text.

This parser measures the nesting before parsing (a linear scan, no recursion) and refuses
more than ``JSON_MAX_DEPTH`` levels with 400 ``json_too_deep``; after parsing it refuses
any key or string holding a lone surrogate or NUL, and a body that is not UTF-8, with 400
``invalid_unicode``. Nothing the API accepts is nested anywhere near the limit, and no
field of it has a use for either character.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from common.errors import InvalidUnicode, JsonTooDeep

# A JSON string, escapes included (possessive, so a long string is one linear match).
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
# Text no database stores and no encoder writes: lone surrogates, and NUL.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether the JSON ``text`` nests arrays and objects more than ``limit`` deep.

    Brackets inside strings do not count; the text need not be valid JSON (invalid text
    is refused by the parser afterwards, whatever this answers)."""
    depth = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def holds_unstorable_text(data: Any) -> bool:
    """Whether any key or string in parsed JSON holds a lone surrogate or NUL.

    Iterative: the depth was bounded before parsing, but a wide document needs no stack
    either way."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class SafeJSONParser(JSONParser):
    """JSON with bounded nesting and storable text; see the module's docstring."""

    # What it refuses besides malformed JSON, for the schema (common.schema).
    domain_errors = (JsonTooDeep, InvalidUnicode)

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return None
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise InvalidUnicode(f"The body is not valid {encoding}.") from error
        limit = settings.JSON_MAX_DEPTH
        if json_depth_exceeds(text, limit):
            raise JsonTooDeep(f"The JSON body is nested more than {limit} levels deep.")
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        if holds_unstorable_text(data):
            raise InvalidUnicode(
                "The JSON body holds a lone surrogate (such as \\ud800) or a NUL character "
                "(\\u0000); neither can be stored."
            )
        return data
