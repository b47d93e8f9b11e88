"""``/api/v1/me/monitoring``: what the citizen volunteers for the fairness audit (an age
band and a sex), read, replaced or withdrawn. Thin: validate, call
:mod:`governance.monitoring`, serialize. Only the citizen reads their own; no other
endpoint answers these values (the export aside, which is theirs too)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import InvalidRequest
from common.schema import raises
from governance import monitoring
from governance.api.serializers import MonitoringInputSerializer, MonitoringOutputSerializer
from governance.models import MonitoringAttributes
from wallet.api.citizen import request_citizen

WHY = (
    "Volunteered, optional and for one purpose only: to check that the score treats "
    "groups fairly (the fairness audit). Never used to compute a score, never read by "
    "perks' rules, never shown to merchants or answered by any other endpoint; in the "
    "citizen's export; withdrawn at any time, and then erased, not kept."
)


def _shown(attributes: MonitoringAttributes | None) -> dict[str, Any]:
    if attributes is None:
        return {"age_band": None, "sex": None}
    return {"age_band": attributes.age_band or None, "sex": attributes.sex or None}


@extend_schema(tags=["me"])
class MonitoringView(APIView):
    """The citizen's own monitoring attributes, for the fairness audit only."""

    @extend_schema(
        operation_id="me_monitoring",
        summary="Get what I volunteered for the fairness audit",
        description=f"The age band and sex the citizen volunteered, each null when not "
        f"given (both null: nothing volunteered). {WHY}",
        responses={200: MonitoringOutputSerializer},
        examples=[
            OpenApiExample(
                "Volunteered", response_only=True, value={"age_band": "25-34", "sex": None}
            )
        ],
    )
    def get(self, request: Request) -> Response:
        attributes = monitoring.monitoring_of(request_citizen(request).pk)
        return Response(MonitoringOutputSerializer(_shown(attributes)).data)

    @extend_schema(
        operation_id="me_monitoring_set",
        summary="Volunteer my age band and sex for the fairness audit",
        description="Replace what the citizen volunteered: both fields, each one of its "
        "choices or null for no answer (prefer not to say). Both null withdraws it, as "
        f"`DELETE` does. A value outside the choices is refused, listing them. {WHY}",
        request=MonitoringInputSerializer,
        responses={200: MonitoringOutputSerializer},
        examples=[
            OpenApiExample(
                "An age band only",
                request_only=True,
                value={"age_band": "25-34", "sex": None},
            )
        ],
    )
    @raises(InvalidRequest)
    def put(self, request: Request) -> Response:
        data = MonitoringInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attributes = monitoring.monitoring_set(
            user=request_citizen(request),
            age_band=data.validated_data["age_band"],
            sex=data.validated_data["sex"],
        )
        return Response(MonitoringOutputSerializer(_shown(attributes)).data)

    @extend_schema(
        operation_id="me_monitoring_withdraw",
        summary="Withdraw what I volunteered for the fairness audit",
        description="Erase the citizen's age band and sex: deleted, not kept (no "
        "history). Answers 204 whether or not anything was volunteered.",
        request=None,
        responses={204: OpenApiResponse(description="Withdrawn; nothing is kept.")},
    )
    def delete(self, request: Request) -> Response:
        monitoring.monitoring_withdraw(user=request_citizen(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
