"""The sandbox provider's hosted checkout page: what a real provider shows the payer,
played by us. Confirm takes the money (in the sandbox's books) and sends the signed
confirmation through the webhook's verification path; Decline sends a failure. Either way
the payer goes back to the app, which reads the top-up's outcome."""

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from common.money import format_money
from wallet.models import TopUpStatus
from wallet.payments import sandbox, selectors, services
from wallet.payments.providers import UnknownProvider, provider


def _return_url(top_up_id: object) -> str:
    return f"/app/#/wallet?top_up={top_up_id}"


@require_http_methods(["GET", "POST"])
def sandbox_checkout(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        provider(sandbox.NAME)  # listed and enabled (PAYMENTS_SANDBOX), or no such page
    except UnknownProvider as error:
        raise Http404 from error
    top_up = selectors.top_up_by_reference(provider=sandbox.NAME, reference=reference)
    if top_up is None:
        raise Http404
    expired = top_up.status == TopUpStatus.PENDING and top_up.expires_at <= timezone.now()
    payable = top_up.status == TopUpStatus.PENDING and not expired
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("confirm", "decline"):
            return HttpResponseBadRequest("Choose Confirm or Decline.")
        if payable:
            if action == "confirm":
                signed = sandbox.checkout_pay(
                    reference=reference,
                    top_up_id=top_up.pk,
                    amount=top_up.amount,
                    currency=top_up.currency,
                )
            else:
                signed = sandbox.checkout_decline(
                    reference=reference, amount=top_up.amount, currency=top_up.currency
                )
            services.notification_receive(provider_name=sandbox.NAME, signed=signed)
        return HttpResponseRedirect(_return_url(top_up.pk))
    context = {
        "amount": format_money(top_up.amount, top_up.currency),
        "payable": payable,
        "status": TopUpStatus.EXPIRED.label if expired else top_up.get_status_display(),
        "return_url": _return_url(top_up.pk),
        "payer": sandbox.payer_label(top_up.pk),
    }
    return render(request, "wallet/sandbox/checkout.html", context)
