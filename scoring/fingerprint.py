"""What a score snapshot says, as a number that is the same in every process, on every
machine and under every Python version: a 64-bit BLAKE2b digest of a canonical JSON
encoding (no database here).

It lets a recompute skip writing a snapshot identical to the current one, so it is
stored with each snapshot and compared with one computed later, maybe elsewhere: Python's
``hash()`` is not fit for that (salted per process for strings, and its algorithm and
width belong to the interpreter).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from scoring.facts import Features

# Every feature except the account's age, which changes daily (its bin is in the points).
FINGERPRINTED_FEATURES = tuple(name for name in Features._fields if name != "account_age_days")
# Features added after snapshots were first fingerprinted, with their defaults: left out
# of the encoding at their default (or absent, in an older snapshot), so that a snapshot
# written before one was added keeps its fingerprint while the new feature says nothing
# new. Otherwise every account would get one more, identical, snapshot once.
LATER_FEATURES: dict[str, int] = {"no_shows_24m": 0}


def canonical(
    scorecard_id: int, points: Mapping[str, int], features: Mapping[str, int | None]
) -> bytes:
    """The encoding that is digested: sorted keys, no spaces, ASCII only."""
    document = {
        "scorecard": scorecard_id,
        "points": points,
        "features": {
            name: value
            for name in FINGERPRINTED_FEATURES
            if (value := features.get(name)) not in (None, LATER_FEATURES.get(name))
            or name not in LATER_FEATURES
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def snapshot_fingerprint(
    *, scorecard_id: int, points: Mapping[str, int], features: Mapping[str, int | None]
) -> int:
    """The fingerprint of a snapshot by its scorecard, its points per factor key and its
    features (as stored with it), as a signed 64-bit integer (the column's type)."""
    digest = hashlib.blake2b(canonical(scorecard_id, points, features), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Fingerprinter:
    """``snapshot_fingerprint`` of many accounts under one scorecard, as the nightly batch
    needs it: the same bytes digested, built from a template rather than a JSON encoder
    (which costs most of the time), with each points' part encoded once."""

    def __init__(self, scorecard_id: int, factor_keys: Sequence[str]) -> None:
        self.scorecard_id, self.factor_keys = scorecard_id, tuple(factor_keys)
        self._tails: dict[tuple[int, ...], str] = {}
        # The template is of the common case: every later feature at its default (left
        # out); any other goes through ``snapshot_fingerprint``.
        self._defaults = tuple(
            (Features._fields.index(name), default) for name, default in LATER_FEATURES.items()
        )
        names = sorted(name for name in FINGERPRINTED_FEATURES if name not in LATER_FEATURES)
        self._positions = [Features._fields.index(name) for name in names]
        self._head = '{{"features":{{' + ",".join(f'"{name}":{{}}' for name in names) + "}},"

    def __call__(self, points: tuple[int, ...], features: Features) -> int:
        values = [features[position] for position in self._positions]
        if not all(type(value) is int for value in values) or any(
            features[position] != default for position, default in self._defaults
        ):
            return snapshot_fingerprint(
                scorecard_id=self.scorecard_id,
                points=dict(zip(self.factor_keys, points, strict=True)),
                features=features._asdict(),
            )
        tail = self._tails.get(points)
        if tail is None:
            by_key = dict(zip(self.factor_keys, points, strict=True))
            tail = self._tails[points] = (
                f'"points":{json.dumps(by_key, sort_keys=True, separators=(",", ":"))},'
                f'"scorecard":{self.scorecard_id:d}}}'
            )
        text = self._head.format(*values) + tail
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)
