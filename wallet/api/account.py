"""The citizen's account over the API: the profile's e-mail address and its
verification, changing and resetting the password, the signed-in devices and logging out
everywhere. Thin views over :mod:`wallet.accounts`."""

from typing import Any
from uuid import UUID

from django.contrib.auth import logout, update_session_auth_hash
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import InvalidRequest
from common.schema import problem_responses, raises
from common.throttling import ScopedRateThrottle
from wallet import accounts
from wallet.api import views
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.api.serializers import MeOutputSerializer, ProfileOutputSerializer
from wallet.errors import TokenInvalid
from wallet.models import SignIn, SignInKind, User


def _password_field() -> serializers.CharField:
    """A password as typed: never trimmed, at most what Django's hashers take."""
    return serializers.CharField(max_length=128, trim_whitespace=False)


# --- Serializers -------------------------------------------------------------------------


class ProfileUpdateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    email = serializers.EmailField(
        max_length=254,
        allow_blank=True,
        required=False,
        help_text="A new address is unverified until the link e-mailed to it is followed; "
        'the current unverified address again sends the e-mail again; "" removes it.',
    )


class EmailVerifyInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512, help_text="From the e-mailed link.")


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = _password_field()
    new_password = _password_field()


class PasswordResetInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("username") or attrs.get("email")):
            raise serializers.ValidationError(
                "Give a username or an e-mail address.", code="required"
            )
        return attrs


class PasswordResetAcceptedOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64, help_text="From the e-mailed link.")
    token = serializers.CharField(max_length=128, help_text="From the e-mailed link.")
    new_password = _password_field()


class SignInOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(
        choices=SignInKind.choices, help_text="`session` (the web app) or `token` (an app)."
    )
    created_at = serializers.DateTimeField(help_text="When it signed in.")
    last_used_at = serializers.DateTimeField(
        help_text="Its latest request, to within a few minutes."
    )
    client = serializers.CharField(help_text="The device's User-Agent, as it sent it.")
    current = serializers.SerializerMethodField(help_text="The device making this request.")

    def get_current(self, sign_in: SignIn) -> bool:
        return str(sign_in.pk) == self.context.get("current_id")


# --- Views -------------------------------------------------------------------------------

RESET_ACCEPTED = (
    "If the account exists and has a verified e-mail address, a link to choose a new "
    "password has been sent to it."
)


@extend_schema(tags=["me"])
class MeView(views.MeView):
    """The profile: read it, or change the display name and the e-mail address."""

    @extend_schema(
        operation_id="me_profile_update",
        summary="Change my display name or e-mail address",
        description="Change the display name and the e-mail address; a new address is "
        "unverified until the citizen follows the link e-mailed to it.",
        request=ProfileUpdateInputSerializer,
        responses={200: MeOutputSerializer},
    )
    def patch(self, request: Request) -> Response:
        data = ProfileUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = accounts.profile_update(user=request_citizen(request), **data.validated_data)
        return Response(MeOutputSerializer(user).data)


@extend_schema(tags=["auth"])
class EmailVerifyView(views.AuthThrottledView):
    """Follow the e-mailed verification link. The token is the credential: it works
    signed in or not (the link may be opened on another device)."""

    throttle_account_fields = ()

    @extend_schema(
        operation_id="auth_email_verify",
        summary="Verify an e-mail address",
        request=EmailVerifyInputSerializer,
        responses={200: ProfileOutputSerializer},
    )
    @raises(TokenInvalid)
    def post(self, request: Request) -> Response:
        data = EmailVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = accounts.email_verify(**data.validated_data)
        return Response(ProfileOutputSerializer(user).data)


@extend_schema(tags=["auth"])
class PasswordChangeView(APIView):
    """Change the password, the old one proven. Every other session and token of the
    account ends; the device asking stays signed in."""

    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"
    # Guessing the old password from a stolen session: no unlimited tries.
    throttle_fails_closed = True

    @extend_schema(
        operation_id="auth_password_change",
        summary="Change my password",
        request=PasswordChangeInputSerializer,
        responses={
            204: OpenApiResponse(description="Changed; other devices signed out."),
            **problem_responses(
                400,
                descriptions={
                    400: "Invalid input: `old_password` `password_incorrect`, or "
                    "`new_password` refused by a password rule (`password_too_short`, "
                    "`password_too_common`, `password_entirely_numeric`, "
                    "`password_too_similar`)."
                },
            ),
        },
    )
    @raises(InvalidRequest)
    def post(self, request: Request) -> Response:
        data = PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_citizen(request)
        current = accounts.sign_in_current(request)
        accounts.password_change(user=user, keep=current, **data.validated_data)
        if request.auth is None:  # a web session: keep it signed in under the new password
            user.refresh_from_db(fields=["password"])
            update_session_auth_hash(request._request, user)
            if current is not None:
                accounts.sign_in_session_rekey(
                    sign_in=current, session_key=str(request.session.session_key)
                )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class PasswordResetView(views.AuthThrottledView):
    """Ask for a password-reset link by username or e-mail address. The answer is the
    same whether or not an account is found; the link goes only to a verified address.
    Throttled per client address and per account named, so nobody floods a mailbox."""

    throttle_scope = "password_reset"
    throttle_account_fields = ("username", "email")

    @extend_schema(
        operation_id="auth_password_reset",
        summary="Ask for a password-reset link",
        request=PasswordResetInputSerializer,
        responses={202: PasswordResetAcceptedOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = PasswordResetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        accounts.password_reset_request(**data.validated_data)
        return Response({"detail": RESET_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["auth"])
class PasswordResetConfirmView(views.AuthThrottledView):
    """Choose a new password with the e-mailed link. Every session and token of the
    account ends, and the account's login lockout is lifted. Throttled like a login, per
    client address and per account (``uid``)."""

    throttle_account_fields = ("uid",)

    @extend_schema(
        operation_id="auth_password_reset_confirm",
        summary="Choose a new password with a reset link",
        request=PasswordResetConfirmInputSerializer,
        responses={
            204: OpenApiResponse(description="The password is changed; sign in with it."),
            **problem_responses(
                400,
                descriptions={
                    400: "A refused `new_password` names its rule in the field error's "
                    "`code`, as for a change."
                },
            ),
        },
    )
    @raises(TokenInvalid)
    def post(self, request: Request) -> Response:
        data = PasswordResetConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        accounts.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class LogoutAllView(APIView):
    """Log out everywhere: every session and token of the account ends, this one too."""

    @extend_schema(
        operation_id="auth_logout_all",
        summary="Sign out everywhere",
        request=None,
        responses={204: OpenApiResponse(description="Every device signed out.")},
    )
    def post(self, request: Request) -> Response:
        accounts.sign_ins_end(user=request_citizen(request))
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["me"])
class SignInListView(CitizenListView):
    """The devices signed in to the account (web sessions and app tokens)."""

    model = SignIn
    serializer_class = SignInOutputSerializer

    @extend_schema(
        operation_id="me_sessions",
        summary="List my signed-in devices",
        responses={200: SignInOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def own_rows(self, user: User) -> QuerySet[SignIn]:
        return accounts.sign_ins_listed(user=user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            current = accounts.sign_in_current(self.request)
            context["current_id"] = str(current.pk) if current is not None else None
        return context


@extend_schema(tags=["me"])
class SignInRevokeView(APIView):
    """Sign one device out: its session ends or its token is deleted."""

    @extend_schema(
        operation_id="me_session_revoke",
        summary="Sign one device out",
        request=None,
        responses={
            204: OpenApiResponse(description="That device is signed out."),
            **problem_responses(
                404,
                descriptions={404: "No such device of yours, or it is already signed out."},
            ),
        },
    )
    def post(self, request: Request, id: UUID) -> Response:
        accounts.sign_in_revoke(user=request_citizen(request), sign_in_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)
