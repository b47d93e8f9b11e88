"""The server's one money formatter: minor units, in the currency's own precision."""

import pytest

from common.money import format_money, minor_unit_exponent


@pytest.mark.parametrize(("currency", "exponent"), [("CNY", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)])
def test_the_minor_unit_is_the_currencys_own(currency: str, exponent: int) -> None:
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (123456, "CNY", "1,234.56 CNY"),
        (100000, "CNY", "1,000.00 CNY"),
        (0, "CNY", "0.00 CNY"),
        (-150, "CNY", "-1.50 CNY"),
        (50000, "JPY", "50,000 JPY"),
        (0, "JPY", "0 JPY"),
        (-7, "JPY", "-7 JPY"),
        (1234, "KWD", "1.234 KWD"),
        (5, "KWD", "0.005 KWD"),
        (1234567, "KWD", "1,234.567 KWD"),
    ],
)
def test_format_money(amount: int, currency: str, expected: str) -> None:
    assert format_money(amount, currency) == expected


def test_format_money_in_another_locale() -> None:
    assert format_money(123456, "CNY", "de") == "1.234,56 CNY"


def test_format_money_is_exact_for_amounts_no_float_holds() -> None:
    # 2**53 + 1 minor units cannot be a float; the text must not round
    assert format_money(2**53 + 1, "CNY") == "90,071,992,547,409.93 CNY"
