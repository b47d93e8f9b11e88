"""Amounts of money: their limits, shared by serializers, admins and pure modules (no
Django here). How people read an amount is ``common.money.format_money``."""

# Far above any real amount, far below what a 64-bit column holds.
ABSURD_AMOUNT = 10**12
