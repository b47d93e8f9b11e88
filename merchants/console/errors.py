"""The webhooks' refusals, each with a stable code and kind (``common.domain``)."""

from common.domain import Conflict, InvalidRequest


class WebhookUrlNotAllowed(InvalidRequest):
    """The URL is not one deliveries may go to: not https (plain http only to loopback
    where ``WEBHOOKS_ALLOW_LOOPBACK`` allows it), credentials in it, a host that does not
    resolve, or one that resolves to a private, loopback, link-local, reserved or
    multicast address (a request forger's way into our own network)."""

    code = "webhook_url_not_allowed"
    title = "Webhook URL not allowed"
    default_detail = (
        "Webhooks are sent only to https:// URLs on public addresses; this URL is not one."
    )


class WebhookEventsInvalid(InvalidRequest):
    code = "webhook_events_invalid"
    title = "Unknown webhook events"
    default_detail = "Choose one or more of the event types this API sends."


class WebhookEndpointNotLive(Conflict):
    """A resend to an endpoint that was deleted or disabled: enable it first (a deleted
    endpoint is gone for good)."""

    code = "webhook_endpoint_not_live"
    title = "Webhook endpoint not live"
    default_detail = "This endpoint was deleted or disabled; enable it before resending."
