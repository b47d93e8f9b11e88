"""Serializer fields shared by every app's API."""

import copy
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


class PlainFieldsSerializer(serializers.Serializer):
    """A serializer of plain fields (no nested serializer, no field whose state changes
    after it is made) that copies its declared fields cheaply for each instance.

    DRF deep-copies every declared field for every serializer instance, re-running each
    field's ``__init__``: on the eligibility endpoint, which reads one small body and
    writes one small answer, that cost more than its three statements' round trips
    (bench/eligibility.py). Here the fields are deep-copied once per class, and each
    instance gets a shallow copy of each, which it binds to itself as usual."""

    _fields_made: dict[str, serializers.Field]

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        made = cls.__dict__.get("_fields_made")
        if made is None:
            made = super().get_fields()
            cls._fields_made = made
        return {name: copy.copy(field) for name, field in made.items()}
