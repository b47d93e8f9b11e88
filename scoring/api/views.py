"""The citizen's own score, events, disputes and access log. Thin: validate, call a
service or selector, serialize. These are the citizen's own reads: no access-log row."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.schema import raises
from common.views import list_schema
from scoring import selectors, services
from scoring.api import docs
from scoring.api.serializers import (
    AccessLogOutputSerializer,
    DisputeEscalateInputSerializer,
    DisputeInputSerializer,
    DisputeOutputSerializer,
    EventOutputSerializer,
    ScoreHistoryOutputSerializer,
    ScoreOutputSerializer,
    SimulateInputSerializer,
    SimulationOutputSerializer,
)
from scoring.errors import (
    AccountInactive,
    AlreadyDisputed,
    DisputeNotEscalatable,
    NoActiveScorecard,
)
from scoring.models import AccessLogEntry, CreditEvent, Dispute, ScoreSnapshot
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.models import User


@extend_schema(tags=["score"])
class ScoreView(APIView):
    @extend_schema(
        operation_id="me_score",
        summary="Get my score",
        description="The citizen's current score and band under the active scorecard, "
        "brought up to date if needed, with the reasons and the change since the last one. "
        "The citizen's own read: no access-log row.",
        responses={200: ScoreOutputSerializer},
    )
    @raises(AccountInactive, NoActiveScorecard)
    def get(self, request: Request) -> Response:
        citizen = request_citizen(request)
        snapshot = services.score_current_ensure(account=citizen)
        previous = selectors.score_history(account=citizen).exclude(pk=snapshot.pk).first()
        explained = selectors.score_explained(snapshot=snapshot, previous=previous)
        return Response(ScoreOutputSerializer(explained).data)


@extend_schema(tags=["score"])
@list_schema(
    "me_score_history",
    ScoreHistoryOutputSerializer,
    summary="List my past scores",
    description="Every score computed for the citizen, newest first, with its scorecard.",
)
class ScoreHistoryView(CitizenListView):
    model = ScoreSnapshot
    serializer_class = ScoreHistoryOutputSerializer

    def own_rows(self, user: User) -> QuerySet[ScoreSnapshot]:
        return selectors.score_history(account=user).select_related("scorecard")


@extend_schema(tags=["score"])
class ScoreSimulateView(APIView):
    """What if: the active scorecard applied to the citizen's features with the changes
    they propose. Writes nothing."""

    @extend_schema(
        operation_id="me_score_simulate",
        summary="Simulate my score with changes",
        request=SimulateInputSerializer,
        responses={200: SimulationOutputSerializer},
    )
    @raises(AccountInactive, NoActiveScorecard)
    def post(self, request: Request) -> Response:
        data = SimulateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        today, simulated = selectors.score_simulated(
            features=selectors.features_current(account=request_citizen(request)),
            changes=data.validated_data["changes"],
        )
        body = {
            "score": simulated.score,
            "band": simulated.band,
            "current_score": today.score,
            "delta": simulated.score - today.score,
            "reasons": simulated.reasons,
        }
        return Response(SimulationOutputSerializer(body).data)


@extend_schema(tags=["score"])
@list_schema(
    "me_events",
    EventOutputSerializer,
    summary="List my credit records",
    description="The records that make the citizen's score (bills paid or late, stays, "
    "claims), newest first, each with whether it still counts and until when.",
)
class EventListView(CitizenListView):
    model = CreditEvent
    serializer_class = EventOutputSerializer

    def own_rows(self, user: User) -> QuerySet[CreditEvent]:
        return selectors.events_for(account=user)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "now": timezone.now()}


@extend_schema(tags=["score"])
@list_schema(
    "me_disputes",
    DisputeOutputSerializer,
    summary="List my disputes",
    description=f"The citizen's disputes of their records, newest first. {docs.FURNISHER_ANSWER}",
)
class DisputeListView(CitizenListView):
    """The citizen's disputes; POST disputes one of their records: the merchant that
    reported it must answer within 30 days (verify or correct it), or it is removed. The
    record still counts meanwhile."""

    model = Dispute
    serializer_class = DisputeOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Dispute]:
        return selectors.disputes_for(citizen=user)

    @extend_schema(
        operation_id="me_dispute_open",
        summary="Dispute one of my records",
        description=(
            "Dispute one of the citizen's records; the record still counts meanwhile. "
            f"{docs.FURNISHER_ANSWER}"
        ),
        request=DisputeInputSerializer,
        responses={201: DisputeOutputSerializer},
    )
    @raises(exceptions.NotFound, AlreadyDisputed)
    def post(self, request: Request) -> Response:
        data = DisputeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        citizen = request_citizen(request)
        event = get_object_or_404(
            selectors.events_for(account=citizen), pk=data.validated_data["event_id"]
        )
        dispute = services.dispute_open(
            citizen=citizen, event=event, reason=data.validated_data["reason"]
        )
        return Response(DisputeOutputSerializer(dispute).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["score"])
class DisputeEscalateView(APIView):
    """Ask staff to decide a dispute the merchant verified: once."""

    @extend_schema(
        operation_id="me_dispute_escalate",
        summary="Ask staff to decide a verified dispute",
        request=DisputeEscalateInputSerializer,
        responses={200: DisputeOutputSerializer},
    )
    @raises(DisputeNotEscalatable)
    def post(self, request: Request, pk: Any) -> Response:
        data = DisputeEscalateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        citizen = request_citizen(request)
        dispute = get_object_or_404(selectors.disputes_for(citizen=citizen), pk=pk)
        dispute = services.dispute_escalate(
            citizen=citizen, dispute=dispute, reason=data.validated_data["reason"]
        )
        return Response(DisputeOutputSerializer(dispute).data)


@extend_schema(tags=["score"])
@list_schema("me_access_log", AccessLogOutputSerializer, summary="List who read my score")
class AccessLogView(CitizenListView):
    """Who read the citizen's score or facts, when and why."""

    model = AccessLogEntry
    serializer_class = AccessLogOutputSerializer

    def own_rows(self, user: User) -> QuerySet[AccessLogEntry]:
        return selectors.access_log_for(citizen=user)
