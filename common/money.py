"""Money as people read it, formatted on the server (no Django here).

Amounts are integers in minor units; how many minor units make a major one depends on the
currency (CLDR's figures, through Babel): none for JPY, two for CNY, three for KWD. Every
text the server writes with an amount in it (reasons, perk requirements, steps to
qualify, the access log, admin columns) goes through ``format_money``.
"""

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision

DEFAULT_LOCALE = "en"

# Grouped digits, then the ISO code: "1,234.56 CNY". The decimals shown are the
# currency's own (``currency_digits``), not the two this pattern spells out.
MONEY_PATTERN = "#,##0.00 ¤¤"


def minor_unit_exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit is: 2 for CNY, 0 for JPY."""
    return get_currency_precision(currency)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Minor units as an exact amount in major units: 123456 CNY → Decimal("1234.56")."""
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))


# A pure function of its arguments, called by every eligibility decision's reasons with
# the few amounts merchants ask for and their perks' tiers: Babel's formatting cost more
# than the rest of the rules together (bench/eligibility.py).
@lru_cache(maxsize=4096)
def format_money(amount_minor: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """Minor units as the citizen reads them: 123456 CNY → "1,234.56 CNY", 50000 JPY →
    "50,000 JPY", 1234 KWD → "1.234 KWD"."""
    return format_currency(
        to_major(amount_minor, currency),
        currency,
        format=MONEY_PATTERN,
        locale=locale,
        currency_digits=True,
    )
