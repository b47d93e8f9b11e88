"""The webhooks API's routes (``/api/v1/merchant/webhook-…``)."""

from django.urls import path

from merchants.console import api

urlpatterns = [
    path(
        "merchant/webhook-endpoints",
        api.WebhookEndpointListView.as_view(),
        name="merchant-webhook-endpoints",
    ),
    path(
        "merchant/webhook-endpoints/<uuid:pk>",
        api.WebhookEndpointView.as_view(),
        name="merchant-webhook-endpoint",
    ),
    path(
        "merchant/webhook-deliveries",
        api.WebhookDeliveryListView.as_view(),
        name="merchant-webhook-deliveries",
    ),
    path(
        "merchant/webhook-deliveries/<uuid:pk>/resend",
        api.WebhookDeliveryResendView.as_view(),
        name="merchant-webhook-delivery-resend",
    ),
]
