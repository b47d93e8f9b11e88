"""The citizen's own score, events, disputes and access log. Thin: validate, call a
service or selector, serialize. These are the citizen's own reads: no access-log row."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.schema import problem_responses
from scoring import selectors, services
from scoring.api.serializers import (
    AccessLogOutputSerializer,
    DisputeInputSerializer,
    DisputeOutputSerializer,
    EventOutputSerializer,
    ScoreHistoryOutputSerializer,
    ScoreOutputSerializer,
    SimulateInputSerializer,
    SimulationOutputSerializer,
)
from scoring.models import AccessLogEntry, CreditEvent, Dispute, ScoreSnapshot


@extend_schema(tags=["score"])
class ScoreView(APIView):
    @extend_schema(
        operation_id="me_score",
        responses={200: ScoreOutputSerializer, **problem_responses(401)},
    )
    def get(self, request: Request) -> Response:
        snapshot = services.score_current_ensure(account=request.user)
        previous = selectors.score_history(account=request.user).exclude(pk=snapshot.pk).first()
        explained = selectors.score_explained(snapshot=snapshot, previous=previous)
        return Response(ScoreOutputSerializer(explained).data)


@extend_schema(tags=["score"])
class ScoreHistoryView(generics.ListAPIView):
    serializer_class = ScoreHistoryOutputSerializer

    @extend_schema(
        operation_id="me_score_history",
        responses={200: ScoreHistoryOutputSerializer(many=True), **problem_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def get_queryset(self) -> QuerySet[ScoreSnapshot]:
        if getattr(self, "swagger_fake_view", False):
            return ScoreSnapshot.objects.none()
        return selectors.score_history(account=self.request.user).select_related("scorecard")


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
            features=selectors.features_current(account=request.user),
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
class EventListView(generics.ListAPIView):
    serializer_class = EventOutputSerializer

    @extend_schema(
        operation_id="me_events",
        responses={200: EventOutputSerializer(many=True), **problem_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def get_queryset(self) -> QuerySet[CreditEvent]:
        if getattr(self, "swagger_fake_view", False):
            return CreditEvent.objects.none()
        return selectors.events_for(account=self.request.user)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "now": timezone.now()}


@extend_schema(tags=["score"])
class DisputeListView(generics.ListAPIView):
    """The citizen's disputes; POST disputes one of their records, which stops counting
    at once until staff resolve it (or for good after 30 days unresolved)."""

    serializer_class = DisputeOutputSerializer

    @extend_schema(
        operation_id="me_disputes",
        responses={200: DisputeOutputSerializer(many=True), **problem_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    @extend_schema(
        operation_id="me_dispute_open",
        request=DisputeInputSerializer,
        responses={201: DisputeOutputSerializer, **problem_responses(400, 401, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = DisputeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = get_object_or_404(
            selectors.events_for(account=request.user), pk=data.validated_data["event_id"]
        )
        dispute = services.dispute_open(
            citizen=request.user, event=event, reason=data.validated_data["reason"]
        )
        return Response(DisputeOutputSerializer(dispute).data, status=status.HTTP_201_CREATED)

    def get_queryset(self) -> QuerySet[Dispute]:
        if getattr(self, "swagger_fake_view", False):
            return Dispute.objects.none()
        return selectors.disputes_for(citizen=self.request.user)


@extend_schema(tags=["score"])
class AccessLogView(generics.ListAPIView):
    """Who read the citizen's score or facts, when and why."""

    serializer_class = AccessLogOutputSerializer

    @extend_schema(
        operation_id="me_access_log",
        responses={200: AccessLogOutputSerializer(many=True), **problem_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def get_queryset(self) -> QuerySet[AccessLogEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AccessLogEntry.objects.none()
        return selectors.access_log_for(citizen=self.request.user)
