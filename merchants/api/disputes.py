"""Disputes of the records a merchant furnished, answered by that merchant (API key).

A citizen's dispute of a record (a bill overdue or paid late, a no-show, an unpaid claim)
goes to the merchant that reported it, which answers within 30 days: ``verify`` (the
record stands; the citizen may escalate to staff) or ``correct`` (the record is removed
and the score recomputed). Unanswered, the record is removed. The merchant sees only the
disputes of records it furnished, and nothing about the citizen beyond the record and
the dispute's reason (no score, no other record). Thin: validate, call a
``scoring`` service or selector, serialize.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from common.schema import raises
from merchants.api import docs
from merchants.api.filters import (
    LocalDateFromFilter,
    LocalDateUntilFilter,
    MerchantFilterSet,
    StrictFilterBackend,
)
from merchants.api.views import MerchantAPIView
from merchants.models import ApiKeyScope
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.api.docs import FURNISHER_ANSWER
from scoring.errors import DisputeNotOpen
from scoring.models import CreditEvent, Dispute, EventKind, RecordDisputeStatus
from scoring.subjects import Subject, SubjectKind

# --- Serializers -------------------------------------------------------------------------


class MerchantDisputeRecordOutputSerializer(serializers.Serializer):
    """The disputed record, as the merchant reported it; the id of its bill, booking or
    claim (whichever it is about; null otherwise)."""

    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    occurred_at = serializers.DateTimeField()
    amount = serializers.IntegerField(allow_null=True, help_text="Minor units, if any.")
    currency = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    bill_id = serializers.SerializerMethodField()
    booking_id = serializers.SerializerMethodField()
    claim_id = serializers.SerializerMethodField()

    @staticmethod
    def _subject_id(event: CreditEvent, kind: SubjectKind) -> str | None:
        subject = Subject.parse(event.subject)
        return str(subject.id) if subject is not None and subject.kind == kind else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_bill_id(self, event: CreditEvent) -> str | None:
        return self._subject_id(event, SubjectKind.BILL)

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_booking_id(self, event: CreditEvent) -> str | None:
        return self._subject_id(event, SubjectKind.BOOKING)

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_claim_id(self, event: CreditEvent) -> str | None:
        return self._subject_id(event, SubjectKind.CLAIM)


class MerchantDisputeOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=RecordDisputeStatus.choices,
        help_text="`open` until answered; `verified` or `corrected` by the merchant, "
        "`removed_unanswered` when not answered by `respond_by`; a verified dispute the "
        "citizen escalated is `escalated`, then `upheld` or `rejected` by staff.",
    )
    reason = serializers.CharField(help_text="The citizen's words: why the record is wrong.")
    opened_at = serializers.DateTimeField()
    respond_by = serializers.DateTimeField(
        allow_null=True, help_text="Answer by then, or the record is removed."
    )
    answer_note = serializers.CharField(allow_blank=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    record = MerchantDisputeRecordOutputSerializer(source="event")


class MerchantDisputeVerifyInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        min_length=1,
        max_length=2000,
        help_text="What confirms the record (the citizen reads it; staff too if escalated).",
    )


class MerchantDisputeCorrectInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the record is withdrawn (optional; the citizen reads it).",
    )


class MerchantDisputeFilter(MerchantFilterSet):
    status = django_filters.ChoiceFilter(choices=RecordDisputeStatus.choices)
    kind = django_filters.ChoiceFilter(
        field_name="event__kind", choices=EventKind.choices, help_text="The record's kind."
    )
    opened_from = LocalDateFromFilter(
        field_name="opened_at", help_text="Opened on or after this (local) date."
    )
    opened_until = LocalDateUntilFilter(
        field_name="opened_at", help_text="Opened on or before this (local) date."
    )
    respond_by_until = LocalDateUntilFilter(
        field_name="respond_by", help_text="To be answered by the end of this (local) date."
    )

    ranges = (("opened_from", "opened_until"),)

    class Meta:
        model = Dispute
        fields = ("status", "kind", "opened_from", "opened_until", "respond_by_until")


# --- Views -------------------------------------------------------------------------------


@extend_schema(tags=["merchant"])
@extend_schema_view(
    get=extend_schema(
        operation_id="merchant_disputes",
        summary="List disputes of the records you furnished",
        description=(
            "Disputes of the records this merchant furnished, newest first; `status` "
            f"filters them (`open` ones await its answer). {FURNISHER_ANSWER}"
        ),
        responses={200: MerchantDisputeOutputSerializer(many=True)},
    )
)
class MerchantDisputeListView(MerchantAPIView, generics.ListAPIView):
    """Disputes of the records this merchant furnished, newest first; filtered by
    ``status`` (``open`` ones await its answer), the record's ``kind``, the (local) dates
    they were opened (``opened_from``, ``opened_until``, both included) and
    ``respond_by_until`` (those to answer by the end of that date)."""

    required_scope = ApiKeyScope.DISPUTES

    serializer_class = MerchantDisputeOutputSerializer
    filter_backends = (StrictFilterBackend,)
    filterset_class = MerchantDisputeFilter

    def get_queryset(self) -> QuerySet[Dispute]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Dispute.objects.none()
        return scoring_selectors.disputes_furnished_by(furnisher_id=self.merchant.pk)


class _MerchantDisputeAnswerView(MerchantAPIView):
    required_scope = ApiKeyScope.DISPUTES

    def dispute(self, pk: Any) -> Dispute:
        """The dispute, if it is of a record this merchant furnished (404 otherwise)."""
        return get_object_or_404(
            scoring_selectors.disputes_furnished_by(furnisher_id=self.merchant.pk), pk=pk
        )


@extend_schema(tags=["merchant"])
class MerchantDisputeVerifyView(_MerchantDisputeAnswerView):
    """The record is right: it stands, with the merchant's note."""

    @extend_schema(
        operation_id="merchant_dispute_verify",
        summary="Verify a disputed record",
        description=(
            "The record is right: it stands, with the merchant's note; the citizen may "
            f"escalate to staff. {FURNISHER_ANSWER}"
        ),
        request=MerchantDisputeVerifyInputSerializer,
        responses={200: MerchantDisputeOutputSerializer},
        examples=docs.DISPUTE_VERIFY_EXAMPLES,
    )
    @raises(DisputeNotOpen)
    def post(self, request: Request, pk: Any) -> Response:
        data = MerchantDisputeVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = scoring_services.dispute_verify(
            dispute=self.dispute(pk),
            furnisher_id=self.merchant.pk,
            note=data.validated_data["note"],
        )
        return Response(MerchantDisputeOutputSerializer(dispute).data)


@extend_schema(tags=["merchant"])
class MerchantDisputeCorrectView(_MerchantDisputeAnswerView):
    """The record is wrong: it is removed and the citizen's score recomputed."""

    @extend_schema(
        operation_id="merchant_dispute_correct",
        summary="Correct a disputed record",
        description=(
            "The record is wrong: it is removed and the citizen's score recomputed. "
            f"{FURNISHER_ANSWER}"
        ),
        request=MerchantDisputeCorrectInputSerializer,
        responses={200: MerchantDisputeOutputSerializer},
        examples=docs.DISPUTE_CORRECT_EXAMPLES,
    )
    @raises(DisputeNotOpen)
    def post(self, request: Request, pk: Any) -> Response:
        data = MerchantDisputeCorrectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = scoring_services.dispute_correct(
            dispute=self.dispute(pk),
            furnisher_id=self.merchant.pk,
            note=data.validated_data["note"],
        )
        return Response(MerchantDisputeOutputSerializer(dispute).data)
