"""Input and output serializers of the scoring API (separate, uniquely named)."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common import descriptions
from scoring import selectors
from scoring.facts import BAND_CODES, FACTS
from scoring.models import (
    CreditEvent,
    DisputeResolution,
    DisputeStatus,
    EventKind,
    EventStatus,
    RecordDisputeResolution,
    RecordDisputeStatus,
    SnapshotTrigger,
)
from scoring.purposes import AccessPurpose
from scoring.scorecard import ACTIONS, SIMULATED_FACTS

# The most a simulation may ask for, per key: enough for any real what-if.
_SIMULATION_LIMITS: dict[str, int] = {
    **dict.fromkeys(ACTIONS, 100),
    **{key: FACTS[key].maximum or 1_000 for key in SIMULATED_FACTS},
    "account_age_days": 36_500,
}


# Output fields named like attributes of DRF's Field (``label``, ``source``): the
# serializer metaclass takes declared fields off the class, so they shadow nothing at run
# time, but the stubs see an assignment to the inherited attribute.


class FactorOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, see above
    fact = serializers.CharField(help_text="The fact this factor scores.")
    value = serializers.IntegerField(allow_null=True, help_text="The fact's value used.")
    points = serializers.IntegerField()
    max_points = serializers.IntegerField()


class ReasonOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, see above
    points_lost = serializers.IntegerField()
    tip = serializers.CharField()


class ScoreOutputSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=350, max_value=950)
    band = serializers.ChoiceField(choices=BAND_CODES)
    computed_at = serializers.DateTimeField()
    scorecard_version = serializers.IntegerField()
    previous_score = serializers.IntegerField(
        allow_null=True, help_text="The score before this one, if any."
    )
    factors = FactorOutputSerializer(many=True)
    reasons = ReasonOutputSerializer(many=True, help_text="At most 4, largest loss first.")


class ScoreHistoryOutputSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    band = serializers.ChoiceField(choices=BAND_CODES)
    computed_at = serializers.DateTimeField()
    trigger = serializers.ChoiceField(choices=SnapshotTrigger.choices)
    scorecard_version = serializers.IntegerField(source="scorecard.version")


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            key: {"type": "integer", "minimum": 0, "maximum": limit}
            for key, limit in _SIMULATION_LIMITS.items()
        },
        "additionalProperties": False,
        "minProperties": 1,
    }
)
class SimulationChangesField(serializers.DictField):
    """Facts and actions to simulate: the schema names each key and its range, exactly
    what ``SimulateInputSerializer.validate_changes`` accepts."""


class SimulateInputSerializer(serializers.Serializer):
    changes = SimulationChangesField(
        child=serializers.JSONField(),
        allow_empty=False,
        help_text=(
            "Facts set to a new value ("
            + ", ".join(SIMULATED_FACTS)
            + ") or actions taken N times ("
            + ", ".join(ACTIONS)
            + "). Whole numbers."
        ),
    )

    def validate_changes(self, changes: dict[str, Any]) -> dict[str, int]:
        errors = {}
        for key, value in changes.items():
            limit = _SIMULATION_LIMITS.get(key)
            if limit is None:
                errors[key] = "Not a fact or action that can be simulated."
            elif isinstance(value, bool) or not isinstance(value, int):
                errors[key] = "Send a whole number."
            elif not 0 <= value <= limit:
                errors[key] = f"Must be from 0 to {limit}."
        if errors:
            raise serializers.ValidationError(errors)
        return changes


class SimulationOutputSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    band = serializers.ChoiceField(choices=BAND_CODES)
    current_score = serializers.IntegerField(help_text="Today's score under the same scorecard.")
    delta = serializers.IntegerField(help_text="score - current_score")
    reasons = ReasonOutputSerializer(many=True)


_EVENT_KIND_LABELS = frozenset(str(label) for label in EventKind.labels)


class EventOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    occurred_at = serializers.DateTimeField()
    amount = serializers.IntegerField(allow_null=True, help_text="Minor units, if any.")
    currency = serializers.CharField(allow_blank=True)
    source = serializers.CharField()  # type: ignore[assignment]  # a field, see above
    description = serializers.CharField(allow_blank=True)
    description_code = serializers.SerializerMethodField(
        help_text="`description` as a code, with its parts in `description_params`: "
        "`bill` (merchant, and due_date on an overdue record), `claim` (merchant), "
        "`kind_only` (nothing beyond the kind); null for free text."
    )
    description_params = serializers.SerializerMethodField(
        help_text="The parts of `description` its code names; empty when it is null."
    )
    status = serializers.ChoiceField(choices=EventStatus.choices)
    counts = serializers.SerializerMethodField(
        help_text="Whether it counts towards the score now (a disputed record still "
        "counts, until it is corrected or removed)."
    )
    counts_until = serializers.DateTimeField(help_text="When it stops counting.")
    settled_at = serializers.DateTimeField(allow_null=True)
    dispute_id = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.ChoiceField(choices=descriptions.DESCRIPTION_CODES, allow_null=True)
    )
    def get_description_code(self, event: CreditEvent) -> str | None:
        return descriptions.read(event.description, kind_labels=_EVENT_KIND_LABELS).code

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_description_params(self, event: CreditEvent) -> dict[str, str]:
        return descriptions.read(event.description, kind_labels=_EVENT_KIND_LABELS).params

    @extend_schema_field(serializers.BooleanField())
    def get_counts(self, event: CreditEvent) -> bool:
        return selectors.event_counts(event, at=self.context.get("now") or timezone.now())

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_dispute_id(self, event: CreditEvent) -> str | None:
        dispute = getattr(event, "dispute", None)
        return str(dispute.pk) if dispute is not None else None


class DisputeInputSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    reason = serializers.CharField(max_length=2000, help_text="Why the record is wrong.")


class DisputeBaseOutputSerializer(serializers.Serializer):
    """What a dispute that staff decide says (a claim's: ``scoring.models.DisputeBase``);
    a dispute of a record says more (``DisputeOutputSerializer``)."""

    id = serializers.UUIDField()
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=DisputeStatus.choices)
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_note = serializers.CharField(allow_blank=True)
    resolution = serializers.ChoiceField(
        choices=DisputeResolution.choices,
        allow_blank=True,
        help_text="Who ended the dispute: staff, or the 30-day rule; blank while open.",
    )
    resolved_automatically = serializers.BooleanField(
        read_only=True, help_text="Upheld because nobody decided it within 30 days."
    )


class DisputeOutputSerializer(serializers.Serializer):
    """A dispute of one of the citizen's records, with its furnisher's answer."""

    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    event_kind = serializers.ChoiceField(source="event.kind", choices=EventKind.choices)
    reason = serializers.CharField()
    status = serializers.ChoiceField(
        choices=RecordDisputeStatus.choices,
        help_text="`open` (awaiting the merchant that reported the record) → `verified` | "
        "`corrected` | `removed_unanswered`; `verified` → `escalated` → `upheld` | "
        "`rejected`. A record with no merchant behind it goes to staff at once "
        "(`escalated`).",
    )
    opened_at = serializers.DateTimeField()
    respond_by = serializers.DateTimeField(
        allow_null=True,
        help_text="The merchant answers by then, or the record is removed; null when no "
        "merchant reported the record.",
    )
    answer_note = serializers.CharField(allow_blank=True, help_text="The merchant's answer.")
    answered_at = serializers.DateTimeField(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)
    escalation_reason = serializers.CharField(
        allow_blank=True, help_text="What the citizen told staff when escalating, if anything."
    )
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_note = serializers.CharField(allow_blank=True)
    resolution = serializers.ChoiceField(
        choices=RecordDisputeResolution.choices,
        allow_blank=True,
        help_text="Who ended it: the merchant (corrected), the deadline (removed "
        "unanswered) or staff; blank until it ends.",
    )
    resolved_automatically = serializers.BooleanField(
        read_only=True, help_text="Removed because the merchant did not answer in time."
    )
    can_escalate = serializers.BooleanField(
        read_only=True, help_text="Verified by the merchant: staff can be asked to decide."
    )


class DisputeEscalateInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the merchant's answer is wrong (optional).",
    )


class AccessLogOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    accessor = serializers.CharField(source="accessor_name")
    accessor_kind = serializers.CharField()
    purpose = serializers.CharField(
        help_text="Why, in English, from the typed fields below (kept for older clients)."
    )
    purpose_code = serializers.ChoiceField(
        choices=AccessPurpose.choices,
        help_text="Why, as a code. `other` is an entry logged before purposes had codes.",
    )
    amount = serializers.IntegerField(
        allow_null=True, help_text="Minor units the purpose was about (a deposit), or null."
    )
    currency = serializers.CharField(
        allow_blank=True, help_text="The currency of `amount`; empty when it is null."
    )
    purpose_note = serializers.CharField(
        allow_blank=True,
        help_text="With `support_review`: the staff member's own reason for opening the "
        "citizen's record. With `other`: the words of an entry logged before purposes had "
        "codes. Empty otherwise.",
    )
    facts = serializers.ListField(child=serializers.CharField(), help_text="What was read.")
    decision_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()
