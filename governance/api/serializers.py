"""The volunteered monitoring attributes over the API: the only serializers anywhere that
carry ``age_band`` or ``sex`` (``tests/governance/test_monitoring_walls.py`` checks that
no other one does)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.models import AgeBand, Sex


def _choice_field(choices: list[tuple[str, str]], what: str, **kwargs: Any) -> serializers.Field:
    values = ", ".join(value for value, _ in choices)
    return serializers.ChoiceField(
        choices=choices,
        allow_null=True,
        # The schema lists the choices after the text.
        help_text=f"{what}, or null for no answer (prefer not to say).",
        error_messages={
            "invalid_choice": f'"{{input}}" is not a choice. Choose one of {values}, '
            "or null for no answer.",
        },
        **kwargs,
    )


class MonitoringOutputSerializer(serializers.Serializer):
    age_band = _choice_field(AgeBand.choices, "The age band volunteered", required=False)
    sex = _choice_field(Sex.choices, "The sex volunteered", required=False)


class MonitoringInputSerializer(serializers.Serializer):
    """Both fields, each a choice or null: this replaces what was volunteered. Both null
    withdraws it, as ``DELETE`` does."""

    age_band = _choice_field(AgeBand.choices, "An age band")
    sex = _choice_field(Sex.choices, "A sex")
