"""The webhooks API a merchant's systems call with an API key (scope ``webhooks``):
register, list and delete endpoints; list deliveries with their attempts; resend one.
Thin: validate, call a service or selector, serialize."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from common.events import EventType
from common.schema import raises
from merchants.api.views import MerchantAPIView
from merchants.console.errors import (
    WebhookEndpointNotLive,
    WebhookEventsInvalid,
    WebhookUrlNotAllowed,
)
from merchants.console.models import (
    DeliveryStatus,
    EndpointDisabledReason,
    WebhookDelivery,
    WebhookEndpoint,
)
from merchants.console.selectors import webhooks as selectors
from merchants.console.services import webhooks as services
from merchants.errors import NotFound
from merchants.models import ApiKey

# --- Serializers -------------------------------------------------------------------------


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(
        max_length=2000,
        help_text="https:// on a public address (plain http:// to loopback only where "
        "the server allows it, for development).",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=False,
        help_text="The event types to receive (at least one).",
    )
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class WebhookEndpointOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))
    description = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    disabled_at = serializers.DateTimeField(
        allow_null=True, help_text="Set when it stopped receiving; enable it in the console."
    )
    disabled_reason = serializers.ChoiceField(
        choices=[("", ""), *EndpointDisabledReason.choices],
        help_text="`gone` (it answered 410) or `failing` (five days of failures); empty "
        "while live.",
    )
    failing_since = serializers.DateTimeField(
        allow_null=True, help_text="The first failure since the last success, if failing."
    )


class WebhookEndpointCreatedOutputSerializer(WebhookEndpointOutputSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (`whsec_` + base64), shown this once: keep it to "
        "verify the `webhook-signature` of every delivery."
    )


class WebhookAttemptOutputSerializer(serializers.Serializer):
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(
        allow_null=True, help_text="Empty: no answer (refused, timed out, not allowed)."
    )
    duration_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField(
        allow_blank=True, help_text="The answer's first 500 characters."
    )
    error = serializers.CharField(allow_blank=True)


class WebhookEventOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=EventType.choices)
    occurred_at = serializers.DateTimeField()
    # The serializer metaclass moves declared fields off the class, so this field does not
    # replace Serializer.data at run time; the stubs cannot know that.
    data = serializers.JSONField(help_text="The event's payload.")  # type: ignore[assignment]


class WebhookDeliveryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    endpoint_id = serializers.UUIDField()
    webhook_id = serializers.SerializerMethodField(
        help_text="The `webhook-id` header of its every request (`msg_` + the event id)."
    )
    event = WebhookEventOutputSerializer()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    succeeded_at = serializers.DateTimeField(allow_null=True)
    resent_at = serializers.DateTimeField(allow_null=True)
    recent_attempts = WebhookAttemptOutputSerializer(
        many=True, help_text="The latest attempts, newest first (at most 5)."
    )

    def get_webhook_id(self, delivery: WebhookDelivery) -> str:
        return services.webhook_message_id(delivery.event)


class WebhookDeliveryFilterSerializer(serializers.Serializer):
    endpoint = serializers.UUIDField(required=False)
    type = serializers.ChoiceField(choices=EventType.choices, required=False)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)


# --- Views -------------------------------------------------------------------------------


class _WebhooksView(MerchantAPIView):
    required_scope = "webhooks"


@extend_schema(tags=["merchant"])
class WebhookEndpointListView(_WebhooksView, generics.ListAPIView):
    """The merchant's webhook endpoints (deleted ones left out), newest first; POST
    registers one and answers its signing secret, once."""

    serializer_class = WebhookEndpointOutputSerializer

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return WebhookEndpoint.objects.none()
        return selectors.webhook_endpoints_of(merchant=self.merchant)

    @extend_schema(
        operation_id="merchant_webhook_endpoints",
        summary="List webhook endpoints",
        description="The merchant's webhook endpoints (deleted ones left out), newest "
        "first, with the events each receives and whether it is live or disabled.",
        responses={200: WebhookEndpointOutputSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="merchant_webhook_endpoint_create",
        summary="Register a webhook endpoint",
        description=(
            "Register an HTTPS endpoint for the events it names; the answer carries its "
            "signing secret (`whsec_` + base64), once. Deliveries are signed as Standard "
            "Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). A delivery "
            "that fails is retried with backoff for "
            f"{settings.WEBHOOKS_RETRY_FOR.days} days, then `failed`; an endpoint answering "
            "410 is disabled at once, one failing for "
            f"{settings.WEBHOOKS_DISABLE_AFTER.days} days is disabled."
        ),
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointCreatedOutputSerializer},
        examples=[
            OpenApiExample(
                "Bookings and claims",
                request_only=True,
                value={
                    "url": "https://hooks.example.com/open-sesame",
                    "events": ["booking.cancelled", "claim.accepted", "claim.disputed"],
                    "description": "Property management system",
                },
            )
        ],
    )
    @raises(WebhookUrlNotAllowed, WebhookEventsInvalid)
    def post(self, request: Request) -> Response:
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(
            merchant=self.merchant,
            url=data.validated_data["url"],
            events=data.validated_data["events"],
            description=data.validated_data["description"],
            api_key=request.auth if isinstance(request.auth, ApiKey) else None,
        )
        body = {**WebhookEndpointOutputSerializer(endpoint).data, "secret": secret}
        return Response(
            WebhookEndpointCreatedOutputSerializer(body).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["merchant"])
class WebhookEndpointView(_WebhooksView):
    """Delete an endpoint: it receives nothing more and its pending deliveries end
    `failed`; its delivery log is kept."""

    @extend_schema(
        operation_id="merchant_webhook_endpoint_delete",
        summary="Delete a webhook endpoint",
        responses={204: None},
    )
    @raises(NotFound)
    def delete(self, request: Request, pk: uuid.UUID) -> Response:
        services.webhook_endpoint_delete(merchant=self.merchant, endpoint_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["merchant"])
class WebhookDeliveryListView(_WebhooksView, generics.ListAPIView):
    """Deliveries of events to the merchant's endpoints, newest first, each with its
    latest attempts; filters `endpoint`, `type`, `status`."""

    serializer_class = WebhookDeliveryOutputSerializer
    domain_errors = (ValidationError,)  # a filter's value

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return WebhookDelivery.objects.none()
        filters = WebhookDeliveryFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.webhook_deliveries_of(
            merchant=self.merchant,
            endpoint_id=filters.validated_data.get("endpoint"),
            type=filters.validated_data.get("type"),
            status=filters.validated_data.get("status"),
        )

    @extend_schema(
        operation_id="merchant_webhook_deliveries",
        summary="List webhook deliveries",
        description=(
            "Deliveries of events to the merchant's endpoints, newest first, each with "
            "its latest attempts; filters `endpoint`, `type`, `status`. A delivery is "
            f"retried for {settings.WEBHOOKS_RETRY_FOR.days} days, then `failed`."
        ),
        parameters=[
            OpenApiParameter("endpoint", uuid.UUID, description="One endpoint's deliveries."),
            OpenApiParameter("type", str, enum=EventType.values, description="An event type."),
            OpenApiParameter("status", str, enum=DeliveryStatus.values),
        ],
        responses={200: WebhookDeliveryOutputSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["merchant"])
class WebhookDeliveryResendView(_WebhooksView):
    """Send a delivery again now, with the same `webhook-id`; retried as a new one if
    it fails. 409 when its endpoint was deleted or is disabled."""

    @extend_schema(
        operation_id="merchant_webhook_delivery_resend",
        summary="Resend a webhook delivery",
        request=None,
        responses={202: WebhookDeliveryOutputSerializer},
    )
    @raises(NotFound, WebhookEndpointNotLive)
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        services.webhook_delivery_resend(merchant=self.merchant, delivery_id=pk)
        delivery = selectors.webhook_delivery_of(merchant=self.merchant, delivery_id=pk)
        return Response(
            WebhookDeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
