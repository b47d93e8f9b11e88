"""The bills API: billers (API key) issue bills and read them; citizens list and pay
theirs. Thin: validate, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import InvalidRequest
from common.idempotency import idempotent
from common.schema import raises
from merchants.api.docs import BILLING_CONSENT_LIFETIME
from merchants.api.filters import StrictFilterBackend
from merchants.api.views import MerchantAPIView
from merchants.bills import selectors, services
from merchants.bills.api import docs
from merchants.bills.api.filters import BillFilter, MerchantBillFilter
from merchants.bills.api.serializers import (
    BillInputSerializer,
    BillOutputSerializer,
    CitizenBillOutputSerializer,
)
from merchants.bills.errors import BillAlreadyPaid, BillOverLimit, DueDateTooSoon, NotABiller
from merchants.bills.models import Bill
from merchants.errors import ConsentExpired, ConsentRevoked, ConsentScopeMismatch, NotFound
from merchants.models import ApiKeyScope
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.api.views import IDEMPOTENCY_PARAMETER
from wallet.errors import InsufficientFunds
from wallet.models import User


@extend_schema(tags=["merchant"])
@extend_schema_view(
    get=extend_schema(
        operation_id="merchant_bills",
        summary="List bills",
        description="The biller's bills, newest first.",
        responses={200: BillOutputSerializer(many=True)},
    )
)
class MerchantBillListView(MerchantAPIView, generics.ListAPIView):
    """A biller's bills, newest first; filtered by ``status``, ``overdue``,
    ``consent_id`` and due dates (``due_from``, ``due_until``, both included). Issuing
    one needs the citizen's live ``billing`` consent."""

    required_scope = ApiKeyScope.BILLS

    serializer_class = BillOutputSerializer
    filter_backends = (StrictFilterBackend,)
    filterset_class = MerchantBillFilter

    def get_queryset(self) -> QuerySet[Bill]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Bill.objects.none()
        return selectors.bills_for_merchant(merchant=self.merchant)

    @extend_schema(
        operation_id="merchant_bill_create",
        summary="Issue a bill",
        description=(
            "Issue a bill under the citizen's live `billing` consent, within the limits "
            "the citizen set on it (the largest single bill, the most in a calendar "
            f"month). {docs.BILL_DUE} {BILLING_CONSENT_LIFETIME}"
        ),
        request=BillInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: BillOutputSerializer},
        examples=docs.BILL_CREATE_EXAMPLES,
    )
    @raises(
        InvalidRequest,
        NotABiller,
        NotFound,
        ConsentExpired,
        ConsentRevoked,
        ConsentScopeMismatch,
        DueDateTooSoon,
        BillOverLimit,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = BillInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bill = services.bill_issue(merchant=self.merchant, **data.validated_data)
        return Response(BillOutputSerializer(bill).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["merchant"])
class MerchantBillDetailView(MerchantAPIView):
    required_scope = ApiKeyScope.BILLS

    @extend_schema(
        operation_id="merchant_bill",
        summary="Get a bill",
        description="One of the biller's bills, with whether it is paid or overdue.",
        responses={200: BillOutputSerializer},
    )
    def get(self, request: Request, pk: Any) -> Response:
        bill = get_object_or_404(selectors.bills_for_merchant(merchant=self.merchant), pk=pk)
        return Response(BillOutputSerializer(bill).data)


@extend_schema(tags=["bills"])
@extend_schema_view(
    get=extend_schema(
        operation_id="me_bills",
        summary="List my bills",
        responses={200: CitizenBillOutputSerializer(many=True)},
    )
)
class CitizenBillListView(CitizenListView):
    """My bills, newest first; ``status`` filters open or paid ones."""

    model = Bill
    serializer_class = CitizenBillOutputSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = BillFilter

    def own_rows(self, user: User) -> QuerySet[Bill]:
        return selectors.bills_for_citizen(citizen=user)


@extend_schema(tags=["bills"])
class BillPayView(APIView):
    """Pay a bill from the wallet, all of it: on or before the due date it counts as
    paid on time."""

    @extend_schema(
        operation_id="me_bill_pay",
        summary="Pay a bill",
        description=(
            "Pay a bill from the wallet, all of it: on or before the due date it counts "
            f"as paid on time. {docs.BILL_DUE}"
        ),
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CitizenBillOutputSerializer},
    )
    @raises(BillAlreadyPaid, InsufficientFunds)
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        citizen = request_citizen(request)
        services.bill_pay(citizen=citizen, bill_id=pk)
        bill = selectors.bills_for_citizen(citizen=citizen).get(pk=pk)
        return Response(CitizenBillOutputSerializer(bill).data)
