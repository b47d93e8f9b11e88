"""How long an account has been open, in words (``scoring.facts.duration_in_words``), and
the account-age reason said at the citizen's own age."""

import pytest

from scoring.facts import REASON_AT_VALUE, duration_in_words


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0, "0 days"),
        (1, "1 day"),
        (29, "29 days"),
        (30, "1 month"),
        (89, "2 months"),
        (364, "12 months"),
        (365, "1 year"),
        (800, "2 years"),
        (1_095, "3 years"),
    ],
)
def test_duration_in_words(days: int, words: str) -> None:
    assert duration_in_words(days) == words


def test_the_account_age_reason_is_said_at_the_value() -> None:
    say = REASON_AT_VALUE["account_age_days"]
    assert say(12) == "Your account has been open for 12 days: accounts gain points as they age"
    assert say(800) == "Your account has been open for 2 years: accounts gain points as they age"
