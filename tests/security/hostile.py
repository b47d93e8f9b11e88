"""Bodies as an attacker sends them (issue 18), shared by the table-driven test of every
operation (``test_hostile_inputs.py``) and the Schemathesis run (``tests/test_api_fuzz.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    """A body as an attacker sends it, and what an operation that reads JSON answers."""

    name: str
    body: bytes
    content_type: str = "application/json"
    status: int = 400
    code: str = ""


def nested(depth: int) -> bytes:
    """``{"a": {"a": ... 1}}``: ``depth`` objects, one inside the other."""
    return b'{"a": ' * depth + b"1" + b"}" * depth


HOSTILE = [
    Hostile("arrays 100,000 deep", b"[" * 100_000 + b"]" * 100_000, code="json_too_deep"),
    Hostile("objects 33 deep", nested(33), code="json_too_deep"),
    Hostile("lone surrogate in a value", b'{"reason": "\\ud800"}', code="invalid_unicode"),
    Hostile("lone surrogate in a key", b'{"\\udfff": 1}', code="invalid_unicode"),
    Hostile(
        "surrogate deep in a list", b'{"lines": [[["ok", "\\udc00"]]]}', code="invalid_unicode"
    ),
    Hostile("NUL in a value", b'{"description": "lamp\\u0000"}', code="invalid_unicode"),
    Hostile("not UTF-8", b'{"reason": "\xff\xfe"}', code="invalid_unicode"),
    Hostile(
        "wrong content type",
        b"<reason>x</reason>",
        content_type="application/xml",
        status=415,
        code="unsupported_media_type",
    ),
]
