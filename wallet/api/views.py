"""Citizen accounts and wallet endpoints. Thin: validate, call a service or selector,
serialize."""

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.db.models import QuerySet
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import exceptions, generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import TooManyAttempts
from common.idempotency import HEADER as IDEMPOTENCY_HEADER
from common.idempotency import MAX_KEY_LENGTH as IDEMPOTENCY_MAX_KEY_LENGTH
from common.lockout import lockout_reset
from common.schema import raises
from common.throttling import AccountRateThrottle, ScopedRateThrottle
from wallet import accounts, selectors, services
from wallet.api.citizen import request_citizen
from wallet.api.filters import TransactionFilter
from wallet.api.serializers import (
    CredentialsInputSerializer,
    CsrfOutputSerializer,
    MeOutputSerializer,
    ProfileOutputSerializer,
    RegisterInputSerializer,
    TokenOutputSerializer,
    TransactionOutputSerializer,
    WalletOutputSerializer,
)
from wallet.errors import UsernameTaken
from wallet.models import Entry

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    # The limits the decorator enforces (400 outside them), so clients see them too.
    {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any string up to 255 characters. The same key with the same body replays the "
        "first answer; with a different body it answers 409 idempotency_key_reused."
    ),
)


class AuthThrottledView(APIView):
    """Unauthenticated endpoints that take a password: throttled per client address and
    per account name given (rates ``<throttle_scope>`` and ``<throttle_scope>_account``;
    ``common.throttling``). A subclass may set its own scope and account fields, e.g.
    ``throttle_scope = "password_reset"`` and ``throttle_account_fields = ("username",
    "email")``. Logins through ``authenticate()`` are also locked per account after
    repeated failures (``common.lockout``)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ScopedRateThrottle, AccountRateThrottle)
    throttle_scope = "auth"
    throttle_account_fields: tuple[str, ...] = ("username",)
    # Password guessing: with the throttle's cache down, 429 rather than unlimited tries.
    throttle_fails_closed = True

    def get_authenticate_header(self, request: Request) -> str:
        # Wrong credentials answer 401 (not DRF's 403 for views without authenticators).
        return "Token"


def _invalid_credentials() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed("Invalid username or password.")


@extend_schema(tags=["auth"])
class CsrfView(APIView):
    """Sets the CSRF cookie for the web client and returns the token to echo back in the
    ``X-CSRFToken`` header."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="auth_csrf",
        summary="Get the CSRF token",
        responses={200: CsrfOutputSerializer},
    )
    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Request) -> Response:
        return Response({"csrf_token": get_token(request)})


@extend_schema(tags=["auth"])
class RegisterView(AuthThrottledView):
    @extend_schema(
        operation_id="auth_register",
        summary="Create an account",
        description="Create a citizen's account with a username and a password (checked "
        "against the password rules); sign in afterwards with a session or a token.",
        request=RegisterInputSerializer,
        responses={201: ProfileOutputSerializer},
    )
    @raises(UsernameTaken)
    def post(self, request: Request) -> Response:
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = accounts.account_register(**data.validated_data)
        return Response(ProfileOutputSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["auth"])
class LoginView(AuthThrottledView):
    """Session login for the web client. CSRF is enforced (get the cookie from
    ``/auth/csrf`` first); native clients use ``/auth/token`` instead."""

    @extend_schema(
        operation_id="auth_login",
        summary="Sign in (web session)",
        request=CredentialsInputSerializer,
        responses={200: ProfileOutputSerializer},
    )
    # A wrong password; the CSRF check; an account locked after failed logins.
    @raises(exceptions.AuthenticationFailed, exceptions.PermissionDenied, TooManyAttempts)
    def post(self, request: Request) -> Response:
        SessionAuthentication().enforce_csrf(request)
        data = CredentialsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, **data.validated_data)
        if user is None:
            raise _invalid_credentials()
        login(request._request, user)  # records the device (wallet.accounts.session_signed_in)
        return Response(ProfileOutputSerializer(user).data)


@extend_schema(tags=["auth"])
class TokenView(AuthThrottledView):
    @extend_schema(
        operation_id="auth_token",
        summary="Sign in (app token)",
        description="Sign in a native client: a token to send as `Authorization: Token "
        f"<token>`, valid for {settings.AUTH_TOKEN_TTL_DAYS} days from now however often it "
        "is used. Failed attempts lock the account like a web login.",
        request=CredentialsInputSerializer,
        responses={200: TokenOutputSerializer},
    )
    @raises(exceptions.AuthenticationFailed, TooManyAttempts)
    def post(self, request: Request) -> Response:
        data = CredentialsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, **data.validated_data)
        if user is None:
            raise _invalid_credentials()
        # A session login forgets the account's failed logins through axes' handler of
        # user_logged_in; a token login sends no such signal, so it forgets them here.
        lockout_reset(username=user.get_username())
        token = services.auth_token_create(user=user, client=accounts.client_of(request._request))
        return Response({"token": token})


@extend_schema(tags=["auth"])
class LogoutView(APIView):
    """Ends the session; called with a token, it revokes that token. Either way the
    device leaves the citizen's list of signed-in devices."""

    @extend_schema(
        operation_id="auth_logout",
        summary="Sign out this device",
        request=None,
        responses={204: OpenApiResponse(description="Logged out.")},
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            services.auth_token_revoke(token=request.auth)
        elif (sign_in := accounts.sign_in_current(request)) is not None:
            accounts.sign_in_end(sign_in=sign_in)
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["me"])
class MeView(APIView):
    @extend_schema(
        operation_id="me_profile",
        summary="Get my profile",
        description="The signed-in citizen's profile (username, display name, e-mail and "
        "whether it is verified, phone, identity level) and the server's business date and "
        "time zone.",
        responses={200: MeOutputSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(request.user).data)


@extend_schema(tags=["wallet"])
class WalletView(APIView):
    @extend_schema(
        operation_id="me_wallet",
        summary="Get my wallet",
        description="The wallet's balance, what is held and what is available, in minor "
        "units with the currency and its decimals, and the limits of the citizen's identity "
        "level.",
        responses={200: WalletOutputSerializer},
    )
    def get(self, request: Request) -> Response:
        summary = selectors.wallet_summary(user=request_citizen(request))
        return Response(WalletOutputSerializer(summary).data)


@extend_schema(tags=["wallet"])
class TransactionListView(generics.ListAPIView):
    serializer_class = TransactionOutputSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = TransactionFilter

    @extend_schema(
        operation_id="me_transactions",
        summary="List my transactions",
        description="The wallet's ledger entries, newest first; `kind`, `since` and "
        "`until` filter them.",
        responses={200: TransactionOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def get_queryset(self) -> QuerySet[Entry]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Entry.objects.none()
        return selectors.wallet_entries(user=request_citizen(self.request))
