"""Serializer fields shared by every app's API."""

from typing import Any

from rest_framework import serializers

from common.amounts import ABSURD_AMOUNT


class MinorUnitsField(serializers.IntegerField):
    """An amount of money: a JSON integer in minor units (30000 is 300.00).

    Stricter than IntegerField on purpose: ``"100"``, ``100.0``, ``1e2`` and ``true`` are
    refused, so a client that sends a float or a string learns at once rather than
    having its amount silently coerced.
    """

    default_error_messages = {
        **serializers.IntegerField.default_error_messages,
        "not_integer": "Send an integer number of minor units (for 12.34 send 1234).",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ABSURD_AMOUNT)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_integer")
        return super().to_internal_value(data)
