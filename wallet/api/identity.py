"""The citizen raises their identity level: a phone number verified by code (level 1),
an identity document reviewed by staff (level 2). Thin views: an input serializer, one
service (``wallet.identity``), an output serializer."""

from __future__ import annotations

from functools import cache

from babel import Locale
from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import TooManyAttempts
from common.schema import raises
from wallet import identity
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.api.serializers import ProfileOutputSerializer
from wallet.errors import CodeInvalid, DocumentPending, SmsUnavailable
from wallet.models import IdentityDocument, IdentityDocumentKind, IdentityDocumentStatus, User

# Babel's territories that are regions or placeholders rather than countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "ZZ"})


@cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes (as Babel knows them), sorted."""
    codes = (str(code) for code in Locale("en").territories)
    return tuple(
        sorted(
            code
            for code in codes
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
        )
    )


# --- Phone ---------------------------------------------------------------------------


class PhoneInputSerializer(serializers.Serializer):
    number = serializers.RegexField(
        r"^\+[1-9][0-9]{6,14}\Z",
        max_length=16,
        help_text="E.164: a plus, the country code and the number, digits only (`+8613800138000`).",
        error_messages={
            "invalid": "An international number: + then 7 to 15 digits, e.g. +8613800138000."
        },
    )


class PhoneCodeSentOutputSerializer(serializers.Serializer):
    number = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="The code works until then.")


class PhoneVerifyInputSerializer(serializers.Serializer):
    code = serializers.RegexField(
        r"^[0-9]{6}\Z",
        error_messages={"invalid": "The six digits of the code."},
    )


@extend_schema(tags=["me"])
class PhoneView(APIView):
    """Send a one-time code by text message to the number to verify."""

    @extend_schema(
        operation_id="me_phone_code_send",
        summary="Send a code to my phone",
        description=(
            "Send a one-time code by text message to the number to verify. The code lives "
            f"{settings.PHONE_CODE_TTL_MINUTES} minutes; at most "
            f"{settings.PHONE_CODES_PER_HOUR} codes are sent in any hour."
        ),
        request=PhoneInputSerializer,
        responses={202: PhoneCodeSentOutputSerializer},
    )
    @raises(TooManyAttempts, SmsUnavailable)
    def post(self, request: Request) -> Response:
        data = PhoneInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        verification = identity.phone_code_send(
            user=request_citizen(request), number=data.validated_data["number"]
        )
        return Response(
            PhoneCodeSentOutputSerializer(verification).data, status=status.HTTP_202_ACCEPTED
        )


@extend_schema(tags=["me"])
class PhoneVerifyView(APIView):
    """Verify the number with the code it received: identity level 1."""

    @extend_schema(
        operation_id="me_phone_verify",
        summary="Verify my phone with its code",
        description=(
            "Verify the number with the code it received: identity level 1. A code dies "
            f"after {settings.PHONE_CODE_ATTEMPTS} wrong tries; ask for a new one."
        ),
        request=PhoneVerifyInputSerializer,
        responses={200: ProfileOutputSerializer},
    )
    @raises(CodeInvalid, TooManyAttempts)
    def post(self, request: Request) -> Response:
        data = PhoneVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = identity.phone_verify(
            user=request_citizen(request), code=data.validated_data["code"]
        )
        return Response(ProfileOutputSerializer(user).data)


# --- Identity documents --------------------------------------------------------------


class IdentityDocumentInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A JPEG, PNG or WebP image, or a PDF (told by its content), at most "
        "`IDENTITY_DOCUMENT_MAX_BYTES` (5 MB by default)."
    )
    kind = serializers.ChoiceField(choices=IdentityDocumentKind.choices)
    country = serializers.ChoiceField(
        choices=country_codes(), help_text="The issuing country, ISO 3166-1 alpha-2 (`CN`)."
    )


class IdentityDocumentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=IdentityDocumentKind.choices)
    country = serializers.CharField()
    status = serializers.ChoiceField(choices=IdentityDocumentStatus.choices)
    reason = serializers.CharField(help_text="Why it was rejected; empty otherwise.")
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


@extend_schema(tags=["me"])
class IdentityDocumentListView(CitizenListView):
    """The citizen's identity documents (newest first), and sending one for review."""

    model = IdentityDocument
    serializer_class = IdentityDocumentOutputSerializer
    # Multipart for the upload; the list takes no body.
    parser_classes = (MultiPartParser,)

    def own_rows(self, user: User) -> QuerySet[IdentityDocument]:
        return IdentityDocument.objects.filter(user=user).order_by("-submitted_at", "-pk")

    @extend_schema(
        operation_id="me_identity_documents",
        summary="List my identity documents",
        description="The citizen's identity documents sent for review, newest first.",
        responses={200: IdentityDocumentOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    @extend_schema(
        operation_id="me_identity_document_submit",
        summary="Send an identity document for review",
        description="Send an identity document (an image or a PDF) for staff to review; "
        "approved, it raises the identity level to 2. One waits for review at a time.",
        request={"multipart/form-data": IdentityDocumentInputSerializer},
        responses={201: IdentityDocumentOutputSerializer},
    )
    @raises(DocumentPending)
    def post(self, request: Request) -> Response:
        data = IdentityDocumentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = identity.identity_document_submit(
            user=request_citizen(request),
            upload=data.validated_data["file"],
            kind=data.validated_data["kind"],
            country=data.validated_data["country"],
        )
        return Response(
            IdentityDocumentOutputSerializer(document).data, status=status.HTTP_201_CREATED
        )
