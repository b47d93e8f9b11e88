"""Limits on amounts of money, shared by serializers and pure modules (no Django here)."""

# Far above any real amount, far below what a 64-bit column holds.
ABSURD_AMOUNT = 10**12
