"""``GET /api/v1/me/perks``: what each merchant's perk asks for, thresholds included,
and where the citizen stands: eligible now or not, how much would be waived, why, and
the cheapest plan that would flip a refusal. The citizen's own view: it writes nothing
(no snapshot, no access-log row)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from common.schema import raises
from merchants.api.serializers import MerchantSummaryOutputSerializer
from merchants.perks import listing
from merchants.perks.api.serializers import ReasonItemOutputSerializer
from merchants.perks.models import Perk, PerkKind
from merchants.perks.qualify import NOTE_CODES, QUALIFY_STATUSES, STEP_CODES, WAITS_FOR
from merchants.perks.rules import OPERATORS
from scoring.errors import AccountInactive, NoActiveScorecard
from scoring.facts import BAND_CODES, FACTS
from wallet.api.citizen import request_citizen

REQUIREMENT_KINDS = ("condition", "tier")


class PerkRequirementOutputSerializer(serializers.Serializer):
    fact = serializers.ChoiceField(choices=list(FACTS), help_text="The fact the line is about.")
    text = serializers.CharField(help_text="The requirement in plain words, threshold included.")
    kind = serializers.ChoiceField(
        choices=REQUIREMENT_KINDS,
        help_text="`condition`: must hold for any waiver. `tier`: how much the band waives.",
    )
    op = serializers.ChoiceField(
        choices=list(OPERATORS), allow_null=True, help_text="A condition's operator."
    )
    threshold = serializers.IntegerField(
        allow_null=True, help_text="A numeric condition's value (null for a band)."
    )
    band = serializers.ChoiceField(
        choices=list(BAND_CODES),
        allow_null=True,
        help_text="A band condition's value, or the band a tier is for.",
    )
    amount = serializers.IntegerField(
        allow_null=True,
        help_text="A tier's most waived, minor units, capped by the perk's max_amount.",
    )


class PerkQualifyClaimOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        source="claim_id",
        allow_null=True,
        help_text="The claim to pay at /api/v1/me/claims/{id}/pay (null for a record with "
        "no claim here).",
    )
    merchant = serializers.CharField(source="merchant_name", help_text="Empty if unknown.")
    amount = serializers.IntegerField(allow_null=True, help_text="Unpaid, minor units.")
    currency = serializers.CharField()


class PerkQualifyStepOutputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=STEP_CODES,
        help_text="`await_dispute_resolution` informs only and has no changes; every other "
        "step's changes are what it does in a what-if.",
    )
    text = serializers.CharField(help_text="The step in plain words, with counts and amounts.")
    changes = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="The step as /api/v1/me/score/simulate changes. Steps never share a key: "
        "merge every step's changes to simulate the whole plan.",
    )
    date = serializers.DateField(
        source="on",
        allow_null=True,
        help_text="The day a wait ends, or by which a dispute is resolved at the latest.",
    )
    claims = PerkQualifyClaimOutputSerializer(
        many=True, help_text="The unpaid claims a settle step names, smallest first."
    )
    waits_for = serializers.ListField(
        child=serializers.ChoiceField(choices=WAITS_FOR),
        help_text="A `wait_until` step's: what the wait brings about (a no-show or a late "
        "payment stops counting, the account reaches an age that scores); empty otherwise.",
    )


class PerkViewOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="perk.id")
    merchant = MerchantSummaryOutputSerializer()
    kind = serializers.ChoiceField(
        choices=PerkKind.choices, source="perk.kind", help_text="The perk."
    )
    max_amount = serializers.IntegerField(
        source="perk.max_amount", help_text="The most that may be waived, minor units."
    )
    currency = serializers.CharField()
    requirements = PerkRequirementOutputSerializer(
        many=True,
        help_text="The merchant's rules in plain words: each condition, then what each band "
        "waives.",
    )
    eligible_now = serializers.BooleanField(
        source="outcome.eligible",
        help_text="What the merchant's decision would say now for a deposit of max_amount.",
    )
    waivable_amount = serializers.IntegerField(source="outcome.waived_amount")
    reasons = ReasonItemOutputSerializer(source="outcome.reasons", many=True)
    to_qualify = PerkQualifyStepOutputSerializer(
        source="qualification.steps",
        many=True,
        help_text="The cheapest plan that would flip a refusal; empty when eligible now.",
    )
    to_qualify_status = serializers.ChoiceField(
        source="qualification.status",
        choices=QUALIFY_STATUSES,
        help_text="`eligible`: nothing to do. `reachable`: every step of to_qualify, done, "
        "flips the decision (their merged changes simulate it). `out_of_reach`: no plan "
        "within reach does; to_qualify holds what still helps, to_qualify_note says why.",
    )
    to_qualify_note = serializers.CharField(source="qualification.note", allow_blank=True)
    to_qualify_note_code = serializers.ChoiceField(
        source="qualification.note_code",
        choices=NOTE_CODES,
        help_text="Which note `to_qualify_note` is: empty (none), `rescoring` (reachable "
        "with no steps: the score is being brought up to date), `blocked_by_dispute` "
        "(only an open dispute's end can meet a condition), `no_tier_waives` (no band "
        "waives anything), `out_of_reach` (nothing within reach flips the decision).",
    )


class PerksView(generics.ListAPIView):
    """Every perk on offer: its requirements (shown before any consent: no hidden
    admission criteria), whether the citizen qualifies now, how much would be waived and
    why, and the cheapest plan that would flip a refusal. Writes nothing: no snapshot,
    and no access-log row, since it is the citizen's own look."""

    serializer_class = PerkViewOutputSerializer

    def get_queryset(self) -> QuerySet[Perk]:
        return listing.perks_offered()

    @extend_schema(
        tags=["perks"],
        operation_id="me_perks",
        summary="List the perks on offer and where I stand",
        responses={200: PerkViewOutputSerializer(many=True)},
    )
    @raises(AccountInactive, NoActiveScorecard)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        standings = listing.perks_for_citizen(citizen=request_citizen(request), perks=page)
        return self.get_paginated_response(PerkViewOutputSerializer(standings, many=True).data)
