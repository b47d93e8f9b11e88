"""A snapshot's fingerprint is a digest of a canonical encoding: the same in every
process, whatever its hash seed, so a recompute elsewhere recognises an unchanged score."""

import hashlib
import os
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from scoring.facts import Features
from scoring.fingerprint import Fingerprinter, snapshot_fingerprint

FACTORS = ("on_time_payments", "late_payments", "identity")
FEATURES = Features(
    identity_level=2,
    account_age_days=400,
    on_time_payments_12m=9,
    late_payments_12m=1,
    late_payments_24m=1,
    bookings_completed=3,
    no_shows_12m=0,
    unpaid_claims=0,
    open_disputes=0,
    history_events=13,
)
POINTS = {"on_time_payments": 90, "late_payments": 40, "identity": 60}


def test_the_fingerprint_is_a_blake2b_digest_of_the_sorted_compact_json() -> None:
    # The encoding spelled out: keys sorted, no spaces, the account's age left out
    text = (
        '{"features":{"bookings_completed":3,"history_events":13,"identity_level":2,'
        '"late_payments_12m":1,"late_payments_24m":1,"no_shows_12m":0,"on_time_payments_12m":9,'
        '"open_disputes":0,"unpaid_claims":0},'
        '"points":{"identity":60,"late_payments":40,"on_time_payments":90},"scorecard":7}'
    )
    expected = int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )
    assert snapshot_fingerprint(scorecard_id=7, points=POINTS, features=FEATURES.as_dict()) == (
        expected
    )


def test_the_accounts_age_alone_changes_nothing_and_anything_else_does() -> None:
    def of(features: Features, points: dict = POINTS, scorecard_id: int = 7) -> int:
        return snapshot_fingerprint(
            scorecard_id=scorecard_id, points=points, features=features._asdict()
        )

    reference = of(FEATURES)
    assert of(FEATURES._replace(account_age_days=401)) == reference
    assert of(FEATURES._replace(no_shows_12m=1)) != reference
    assert of(FEATURES, points={**POINTS, "identity": 40}) != reference
    assert of(FEATURES, scorecard_id=8) != reference


def test_the_fingerprint_is_the_same_in_processes_with_other_hash_seeds() -> None:
    script = (
        "import django; django.setup();"
        "from scoring.facts import Features;"
        "from scoring.fingerprint import snapshot_fingerprint;"
        f"print(snapshot_fingerprint(scorecard_id=7, points={POINTS!r},"
        f" features=Features(*{tuple(FEATURES)!r}).as_dict()))"
    )
    seen = set()
    for seed in ("1", "2", "12345"):
        environment = {
            **os.environ,
            "PYTHONHASHSEED": seed,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
        }
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        seen.add(int(done.stdout.strip()))
    assert seen == {
        snapshot_fingerprint(scorecard_id=7, points=POINTS, features=FEATURES.as_dict())
    }


counts = st.integers(min_value=0, max_value=10**6)


@given(
    features=st.builds(Features, *(counts for _ in Features._fields)),
    points=st.tuples(*(st.integers(min_value=-500, max_value=500) for _ in FACTORS)),
    scorecard_id=st.integers(min_value=1, max_value=2**31),
)
def test_the_batchs_fingerprinter_digests_the_same_bytes(
    features: Features, points: tuple[int, ...], scorecard_id: int
) -> None:
    fingerprinter = Fingerprinter(scorecard_id, FACTORS)
    assert fingerprinter(points, features) == snapshot_fingerprint(
        scorecard_id=scorecard_id,
        points=dict(zip(FACTORS, points, strict=True)),
        features=features._asdict(),
    )
