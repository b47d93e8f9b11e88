"""The limit of a merchant request that must durably record something.

``POST /bench/limit`` takes the eligibility endpoint's body and does the least that such
a request can do: it authenticates the merchant's API key exactly as every merchant
endpoint does (the same authentication, permission and throttle classes), then in one
transaction reads one row (the merchant's consent) and inserts one row (an access-log
entry), and answers with a small JSON document. Served only by ``bench.settings``; the
product's URLs never carry it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from merchants.api.views import MerchantAPIView
from merchants.errors import NotFound
from merchants.models import ApiKeyScope, Consent
from scoring.models import AccessLogEntry
from scoring.purposes import AccessPurpose

# The limit's access-log rows say what they are, so the bench can count them apart from
# the decisions' rows.
LIMIT_ACCESSOR_KIND = "bench"
LIMIT_PURPOSE = "bench limit"


class LimitView(MerchantAPIView):
    required_scope = ApiKeyScope.ELIGIBILITY

    def post(self, request: Request) -> Response:
        merchant = self.merchant
        consent_id = request.data.get("consent_id")
        if consent_id is None:
            raise NotFound("No such consent.")
        with transaction.atomic():
            citizen_id = (
                Consent.objects.filter(pk=consent_id, merchant=merchant)
                .values_list("citizen_id", flat=True)
                .first()
            )
            if citizen_id is None:
                raise NotFound("No such consent.")
            entry = AccessLogEntry.objects.create(
                citizen_id=citizen_id,
                accessor_kind=LIMIT_ACCESSOR_KIND,
                accessor_id=str(merchant.pk),
                accessor_name=merchant.name,
                purpose_code=AccessPurpose.OTHER,
                purpose_note=LIMIT_PURPOSE,
                facts=[],
                created_at=timezone.now(),
            )
        return Response({"id": entry.pk})
