"""The words a scorecard fitted from outcomes takes for its factors (``FACTOR_WORDS``):
one entry per scorable fact, under the keys the hand-written versions use, so that the
app says a fitted draft's reasons in every language as it says version 1's and 2's."""

import importlib
import re
from pathlib import Path

from scoring.facts import FACTOR_WORDS, FACTS
from scoring.scorecard import _TEXT_LIMITS

V1 = importlib.import_module("scoring.migrations.0002_default_scorecard_and_guards").DEFAULT_V1
V2 = importlib.import_module("scoring.migrations.0016_scorecard_v2_draft").DEFAULT_V2
APP_MESSAGES = Path(__file__).resolve().parents[2] / (
    "client/static/client/screens/score/messages.js"
)


def test_every_scorable_fact_has_words_and_nothing_else_has():
    scorable = {key for key, fact in FACTS.items() if fact.scorable}
    assert set(FACTOR_WORDS) == scorable


def test_factor_keys_are_those_of_the_hand_written_versions():
    written = {f["fact"]: f for f in V1["factors"] + V2["factors"]}
    for fact, words in FACTOR_WORDS.items():
        factor = written[fact]
        assert words.key == factor["key"], fact
        assert words.label == factor["label"], fact
        assert words.reason == factor["reason"], fact
        assert words.history == factor.get("history", False), fact
    assert len({words.key for words in FACTOR_WORDS.values()}) == len(FACTOR_WORDS)


def test_words_fit_a_scorecard_definition():
    for words in FACTOR_WORDS.values():
        for name, limit in _TEXT_LIMITS.items():
            text = getattr(words, name)
            assert text.strip(), (words.key, name)
            assert len(text) <= limit, (words.key, name)


def test_the_app_has_a_reason_and_a_tip_for_every_factor_in_each_language():
    source = APP_MESSAGES.read_text()
    languages = len(re.findall(r'"score\.reason\.thin_file"', source))
    assert languages == 3
    for words in FACTOR_WORDS.values():
        for kind in ("reason", "tip"):
            found = re.findall(rf'"score\.{kind}\.{words.key}"', source)
            assert len(found) == languages, (kind, words.key)


def test_tips_name_no_bin_edges():
    """A fitted scorecard cuts its bins where the data says: a tip that named version 1's
    edges ("points at 3 months and at 1, 2 and 3 years") would be wrong of it."""
    for words in FACTOR_WORDS.values():
        assert not re.search(r"\bat \d", words.tip), words.key
