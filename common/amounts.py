"""Amounts of money: their limits and how people read them, shared by serializers, admins
and pure modules (no Django here)."""

# Far above any real amount, far below what a 64-bit column holds.
ABSURD_AMOUNT = 10**12


def format_amount(amount: int, currency: str) -> str:
    """Minor units as the citizen reads them: 123456, "CNY" → "1,234.56 CNY"."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole:,}.{cents:02d} {currency}"
