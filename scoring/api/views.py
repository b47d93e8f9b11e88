"""The citizen's own score, events, disputes and access log. Thin: validate, call a
service or selector, serialize. These are the citizen's own reads: no access-log row."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.schema import problem_responses
from common.views import list_schema
from scoring import selectors, services
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
from scoring.models import AccessLogEntry, CreditEvent, Dispute, ScoreSnapshot
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.models import User


@extend_schema(tags=["score"])
class ScoreView(APIView):
    @extend_schema(
        operation_id="me_score",
        responses={200: ScoreOutputSerializer, **problem_responses(401)},
    )
    def get(self, request: Request) -> Response:
        citizen = request_citizen(request)
        snapshot = services.score_current_ensure(account=citizen)
        previous = selectors.score_history(account=citizen).exclude(pk=snapshot.pk).first()
        explained = selectors.score_explained(snapshot=snapshot, previous=previous)
        return Response(ScoreOutputSerializer(explained).data)


@extend_schema(tags=["score"])
@list_schema("me_score_history", ScoreHistoryOutputSerializer)
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
        request=SimulateInputSerializer,
        responses={200: SimulationOutputSerializer, **problem_responses(400, 401)},
    )
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
@list_schema("me_events", EventOutputSerializer)
class EventListView(CitizenListView):
    model = CreditEvent
    serializer_class = EventOutputSerializer

    def own_rows(self, user: User) -> QuerySet[CreditEvent]:
        return selectors.events_for(account=user)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "now": timezone.now()}


@extend_schema(tags=["score"])
@list_schema("me_disputes", DisputeOutputSerializer)
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
        request=DisputeInputSerializer,
        responses={201: DisputeOutputSerializer, **problem_responses(400, 401, 404, 409)},
    )
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
        request=DisputeEscalateInputSerializer,
        responses={200: DisputeOutputSerializer, **problem_responses(400, 401, 404, 409)},
    )
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
@list_schema("me_access_log", AccessLogOutputSerializer)
class AccessLogView(CitizenListView):
    """Who read the citizen's score or facts, when and why."""

    model = AccessLogEntry
    serializer_class = AccessLogOutputSerializer

    def own_rows(self, user: User) -> QuerySet[AccessLogEntry]:
        return selectors.access_log_for(citizen=user)
