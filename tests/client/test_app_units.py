"""The app's own arithmetic, run in the browser itself: reading an amount a person types
(which becomes money moved), and writing amounts in each language."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (language, what the person types, currency) → minor units, or None when refused
TYPED = [
    ("en", "100", "CNY", 10000),
    ("en", " 50 ", "CNY", 5000),
    ("en", "1,234.50", "CNY", 123450),
    ("en", "1234.5", "CNY", 123450),
    ("en", "0.01", "CNY", 1),
    ("en", "1.234", "CNY", None),  # three decimals in a two-decimal currency: ambiguous
    ("en", "50.001", "CNY", None),
    ("en", "0", "CNY", None),
    ("en", "-5", "CNY", None),
    ("en", "1e3", "CNY", None),
    ("en", "abc", "CNY", None),
    ("en", "", "CNY", None),
    ("es", "25,50", "CNY", 2550),
    ("es", "1.234", "CNY", 123400),  # a thousands separator in Spanish
    ("es", "1.234,56", "CNY", 123456),
    ("es", "1 234,56", "CNY", 123456),
    ("zh-Hans", "1,234.56", "CNY", 123456),
    ("en", "500", "JPY", 500),
    ("en", "500.5", "JPY", None),  # yen have no minor unit
]


def test_typed_amounts_become_the_minor_units_meant_or_are_refused(i18n) -> None:
    results = [
        i18n(
            "(m.setLanguage(args[0], {remember: false}), m.parseMoney(args[1], args[2]))", *case[:3]
        )
        for case in TYPED
    ]
    assert results == [case[3] for case in TYPED]


def test_amounts_are_written_the_way_each_language_writes_them(i18n) -> None:
    def money(language: str, amount: int, currency: str = "CNY", signed: bool = False) -> str:
        return i18n(
            "(m.setLanguage(args[0], {remember: false}),"
            " m.formatMoney(args[1], args[2], {signed: args[3]}))",
            language,
            amount,
            currency,
            signed,
        )

    assert money("en", 123456) == "CN¥1,234.56"
    assert money("en", 123456, signed=True) == "+CN¥1,234.56"
    assert money("en", -500, signed=True) == "-CN¥5.00"
    assert money("es", 123456).replace("\u00a0", " ") == "1234,56 CNY"
    assert money("zh-Hans", 123456) == "¥1,234.56"
    assert money("en", 500, "JPY") == "¥500"
