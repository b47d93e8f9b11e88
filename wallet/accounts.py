"""The citizen's account: the e-mail address and its verification, changing and
resetting the password, and the signed-in devices (web sessions and app tokens).

Writes are services (keyword-only, one transaction each); the few reads the account API
needs sit beside them. Every signed-in device is a :class:`~wallet.models.SignIn` row:
written when a session logs in or a token is issued, and ended (``ended_at``) when the
citizen revokes it, logs out everywhere, changes or resets the password, or closes the
account. Ending a sign-in also removes what it stands for, at once: the session is
deleted from the session store, the token deleted, so the device's next request answers
401. :class:`SignInMiddleware` keeps ``last_used_at`` fresh (at most one UPDATE every
``SIGN_IN_TOUCH_SECONDS``) and, at that moment, logs out a session whose sign-in ended.

E-mails are sent by a task (``wallet.account_email``) enqueued once the transaction
that decided them commits: the password-reset answer must not tell a known address from
an unknown one, neither by its body nor by its time.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, logout
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from knox.models import AuthToken

from common.domain import FieldError, InvalidRequest, NotFound
from common.lockout import lockout_reset
from wallet import services
from wallet.errors import TokenInvalid
from wallet.models import SignIn, SignInKind, User

logger = logging.getLogger(__name__)

# What a session remembers of its sign-in: the row's id, and when ``last_used_at`` was
# last written (a POSIX timestamp), so the middleware writes it at most that often.
SESSION_SIGN_IN_ID = "_sign_in_id"
SESSION_SIGN_IN_TOUCHED = "_sign_in_touched"

CLIENT_MAX_LENGTH = SignIn._meta.get_field("client").max_length or 200
EMAIL_VERIFICATION_SALT = "wallet.accounts.email_verification"
# Django's one-time reset tokens: bound to the password (and last login) they were made
# for, so a token dies once the password changes, and to PASSWORD_RESET_TIMEOUT.
_reset_tokens = PasswordResetTokenGenerator()


def client_of(request: HttpRequest) -> str:
    """The device as the citizen will recognise it in their list: its User-Agent."""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:CLIENT_MAX_LENGTH]


# --- E-mail --------------------------------------------------------------------------


def app_link(route: str) -> str:
    """A link into the citizen's app (a hash route such as ``reset?uid=..``)."""
    return f"{settings.APP_BASE_URL}/app/#/{route}"


class MailKind:
    """The account's e-mails, as the task that sends them names them."""

    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105  # a kind of e-mail, not a secret


def _mail_after_commit(*, user: User, kind: str) -> None:
    """Hand the e-mail to the ``wallet.account_email`` task once the transaction commits.
    The task builds the link itself (no token travels through the broker) and, with a
    broker, runs apart from the request: a reset request for a known account answers as
    fast as one for an unknown account. A broker that refuses the message is logged."""
    from wallet.tasks import account_email  # the tasks module imports this one

    transaction.on_commit(lambda: account_email.delay(user.pk, kind), robust=True)


def account_email_send(*, user_id: int, kind: str) -> bool:
    """Send one of the account's e-mails to the account's address now (the task's work).
    False when there is nothing to send any more: no such active account, no address,
    or (for a reset) an address no longer verified."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return False
    if kind == MailKind.VERIFY_EMAIL:
        if user.email_verified:
            return False
        link = app_link(f"verify-email?token={email_verification_token(user=user)}")
        subject = "Confirm your e-mail address for Open Sesame"
        body = (
            f"Hello {user},\n\n"
            "Please confirm that this is your e-mail address by opening this link:\n\n"
            f"{link}\n\n"
            "If you did not give this address to Open Sesame, ignore this message.\n"
        )
    elif kind == MailKind.PASSWORD_RESET:
        if not user.email_verified:
            return False
        link = app_link(f"reset?uid={user.public_id}&token={_reset_tokens.make_token(user)}")
        subject = "Reset your Open Sesame password"
        body = (
            f"Hello {user},\n\n"
            f"Someone asked to reset the password of the account {user.username}. "
            "To choose a new password, open this link (it works once):\n\n"
            f"{link}\n\n"
            "If it was not you, ignore this message: your password stays as it is.\n"
        )
    else:
        raise ValueError(f"unknown account e-mail {kind!r}")
    send_mail(subject, body, None, [user.email])
    return True


def email_normalise(address: str) -> str:
    """Surrounding spaces removed and the domain lower-cased (the local part is the
    mailbox owner's to interpret)."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else address


def email_verification_token(*, user: User) -> str:
    """A signed, timestamped token naming the account and the address it verifies: it
    stops working when the address changes or after ``PASSWORD_RESET_TIMEOUT``."""
    return signing.dumps(
        {"user": str(user.public_id), "email": user.email}, salt=EMAIL_VERIFICATION_SALT
    )


@transaction.atomic
def profile_update(
    *, user: User, display_name: str | None = None, email: str | None = None
) -> User:
    """Change what the citizen may change of their profile (``None``: leave as is).

    A new address is unverified until its link is followed; a verification e-mail goes
    to it. Giving the current, still unverified address again sends the e-mail again;
    ``""`` removes the address (password resets then have nowhere to go)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    changed: list[str] = []
    if display_name is not None and display_name != user.display_name:
        user.display_name = display_name
        changed.append("display_name")
    send_verification = False
    if email is not None:
        email = email_normalise(email)
        if email != user.email:
            user.email, user.email_verified = email, False
            changed += ["email", "email_verified"]
            send_verification = bool(email)
        else:
            send_verification = bool(email) and not user.email_verified
    if changed:
        user.save(update_fields=changed)
    if send_verification:
        _mail_after_commit(user=user, kind=MailKind.VERIFY_EMAIL)
    return user


@transaction.atomic
def account_register(
    *, username: str, password: str, display_name: str = "", email: str = ""
) -> User:
    """Register a citizen (with their wallet) and, if they gave one, their e-mail
    address, verified the same way as a later change."""
    user = services.user_register(username=username, password=password, display_name=display_name)
    if email:
        user = profile_update(user=user, email=email)
    return user


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Mark the address the token names as verified, if it is still the account's."""
    try:
        claims = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT
        )
        public_id = uuid.UUID(str(claims["user"]))
        email = str(claims["email"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise TokenInvalid from error
    user = User.objects.select_for_update().filter(public_id=public_id, is_active=True).first()
    if user is None or not email or user.email != email:
        raise TokenInvalid
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


# --- Passwords -----------------------------------------------------------------------


def _password_validated(password: str, *, user: User, field: str) -> None:
    """The configured validators, their refusals as field errors with each validator's
    code (``password_too_short``, ...), so a client can say them in its language."""
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        errors = [
            FieldError(field, message, item.code or "invalid")
            for item in error.error_list
            for message in item.messages
        ]
        raise InvalidRequest(_detail(errors), errors=errors) from error


def _detail(errors: list[FieldError]) -> str:
    return "; ".join(f"{error.field}: {error.message}" for error in errors[:5])


@transaction.atomic
def password_change(
    *, user: User, old_password: str, new_password: str, keep: SignIn | None
) -> int:
    """Set a new password, the old one proven; every other sign-in of the account ends
    (``keep``, the caller's own, stays). Returns how many ended.

    The caller keeps a session signed in by updating its auth hash afterwards
    (``update_session_auth_hash``) and :func:`sign_in_session_rekey`."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(old_password):
        errors = [FieldError("old_password", "The password is not correct.", "password_incorrect")]
        raise InvalidRequest(_detail(errors), errors=errors)
    _password_validated(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    logger.info("password changed", extra={"user_id": user.pk})
    return sign_ins_end(user=user, keep=keep)


def password_reset_request(*, username: str = "", email: str = "") -> int:
    """E-mail a one-time reset link to each active account named (by username, or by its
    verified address) that has a verified address. Writes nothing; the caller answers
    the same whatever this finds. Returns how many e-mails were sent (for tests)."""
    if username:
        accounts = User.objects.with_username(username)
    elif email:
        accounts = User.objects.filter(email__iexact=email_normalise(email))
    else:
        return 0
    accounts = accounts.filter(is_active=True, email_verified=True).exclude(email="")
    sent = 0
    for user in accounts:
        _mail_after_commit(user=user, kind=MailKind.PASSWORD_RESET)
        sent += 1
    logger.info("password reset requested", extra={"sent": sent})
    return sent


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link. The token is one-time: it is bound to the
    password it was made for, so it dies once the password changes. Every sign-in of the
    account ends, and its login lockout is lifted (the owner has proven the address)."""
    try:
        public_id = uuid.UUID(uid)
    except ValueError as error:
        raise TokenInvalid from error
    user = User.objects.select_for_update().filter(public_id=public_id, is_active=True).first()
    if user is None or not _reset_tokens.check_token(user, token):
        raise TokenInvalid
    _password_validated(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    sign_ins_end(user=user)
    lockout_reset(username=user.username)
    logger.info("password reset", extra={"user_id": user.pk})
    return user


# --- Sign-ins: reads -----------------------------------------------------------------


def sign_ins_listed(*, user: User, now: datetime | None = None) -> QuerySet[SignIn]:
    """The account's devices still signed in, most recently used first: open sign-ins,
    without tokens past their expiry or sessions idle past the session's age."""
    now = now or timezone.now()
    token_born_after = now - timedelta(days=settings.AUTH_TOKEN_TTL_DAYS)
    session_used_after = now - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return (
        SignIn.objects.filter(user=user, ended_at__isnull=True)
        .filter(
            Q(kind=SignInKind.TOKEN, created_at__gt=token_born_after)
            | Q(kind=SignInKind.SESSION, last_used_at__gt=session_used_after)
        )
        .order_by("-last_used_at", "-created_at", "pk")
    )


def sign_in_current(request: Any) -> SignIn | None:
    """The sign-in the request came with: its token's, or its session's."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return None
    token = getattr(request, "auth", None)
    open_sign_ins = SignIn.objects.filter(user=user, ended_at__isnull=True)
    if isinstance(token, AuthToken):
        return open_sign_ins.filter(kind=SignInKind.TOKEN, token_key=token.token_key).first()
    sign_in_id = request.session.get(SESSION_SIGN_IN_ID)
    if sign_in_id is None:
        return None
    return open_sign_ins.filter(kind=SignInKind.SESSION, pk=sign_in_id).first()


# --- Sign-ins: writes ----------------------------------------------------------------


@transaction.atomic
def sign_in_session_start(*, user: User, session_key: str, client: str = "") -> SignIn:
    """Record a web session that has just logged in."""
    now = timezone.now()
    return SignIn.objects.create(
        user=user,
        kind=SignInKind.SESSION,
        session_key=session_key,
        client=client[:CLIENT_MAX_LENGTH],
        created_at=now,
        last_used_at=now,
    )


@transaction.atomic
def sign_in_session_rekey(*, sign_in: SignIn, session_key: str) -> SignIn:
    """The session kept its sign-in under a new key (Django cycles the key when the
    password changes)."""
    sign_in.session_key = session_key
    sign_in.save(update_fields=["session_key"])
    return sign_in


def sign_in_touch(*, sign_in_id: Any, now: datetime) -> bool:
    """Write ``last_used_at`` (one UPDATE); False if the sign-in has ended or is gone."""
    return bool(
        SignIn.objects.filter(pk=sign_in_id, ended_at__isnull=True).update(last_used_at=now)
    )


def _session_store(session_key: str) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)


def _sign_ins_end(sign_ins: Iterable[SignIn], *, now: datetime) -> int:
    """End these sign-ins and what they stand for: their sessions leave the session
    store, their tokens are deleted."""
    sign_ins = list(sign_ins)
    if not sign_ins:
        return 0
    SignIn.objects.filter(pk__in=[sign_in.pk for sign_in in sign_ins]).update(ended_at=now)
    for sign_in in sign_ins:
        if sign_in.kind == SignInKind.SESSION:
            _session_store(sign_in.session_key).delete()
    token_keys = [sign_in.token_key for sign_in in sign_ins if sign_in.kind == SignInKind.TOKEN]
    if token_keys:
        AuthToken.objects.filter(user_id=sign_ins[0].user_id, token_key__in=token_keys).delete()
    return len(sign_ins)


@transaction.atomic
def sign_ins_end(*, user: User, keep: SignIn | None = None) -> int:
    """End every sign-in of the account but ``keep``: sessions deleted, tokens deleted
    (also tokens issued before sign-ins were recorded). Returns how many sign-ins ended.

    Password change and reset, logging out everywhere and closing the account use it."""
    open_sign_ins = SignIn.objects.select_for_update().filter(user=user, ended_at__isnull=True)
    if keep is not None:
        open_sign_ins = open_sign_ins.exclude(pk=keep.pk)
    ended = _sign_ins_end(open_sign_ins.order_by("pk"), now=timezone.now())
    tokens = AuthToken.objects.filter(user=user)
    if keep is not None and keep.kind == SignInKind.TOKEN:
        tokens = tokens.exclude(token_key=keep.token_key)
    tokens.delete()
    logger.info("sign-ins ended", extra={"user_id": user.pk, "ended": ended})
    return ended


@transaction.atomic
def sign_ins_purge(*, ended_before: datetime) -> int:
    """Delete sign-ins that ended before ``ended_before`` (the retention schedule)."""
    return SignIn.objects.filter(ended_at__lt=ended_before).delete()[0]


@transaction.atomic
def tokens_expired_purge(*, now: datetime) -> int:
    """Delete expired app tokens; the devices they were listed as end with them (and are
    deleted by :func:`sign_ins_purge` later). Returns how many tokens were deleted."""
    expired = AuthToken.objects.filter(expiry__lt=now)
    keys = list(expired.values_list("token_key", flat=True))
    SignIn.objects.filter(kind=SignInKind.TOKEN, token_key__in=keys, ended_at__isnull=True).update(
        ended_at=now
    )
    deleted, _ = expired.delete()
    return deleted


@transaction.atomic
def sign_in_end(*, sign_in: SignIn) -> None:
    """End one sign-in (a logout)."""
    _sign_ins_end([sign_in], now=timezone.now())


@transaction.atomic
def sign_in_revoke(*, user: User, sign_in_id: Any) -> None:
    """End one of the account's devices; another account's, an ended one or an unknown
    id is not found."""
    sign_in = (
        SignIn.objects.select_for_update()
        .filter(user=user, pk=sign_in_id, ended_at__isnull=True)
        .first()
    )
    if sign_in is None:
        raise NotFound("No such signed-in device.")
    _sign_ins_end([sign_in], now=timezone.now())


# --- The middleware ------------------------------------------------------------------


def session_sign_in_remember(session: SessionBase, sign_in: SignIn) -> None:
    """Tie the session to its sign-in row (read back by the middleware)."""
    session[SESSION_SIGN_IN_ID] = str(sign_in.pk)
    session[SESSION_SIGN_IN_TOUCHED] = timezone.now().timestamp()


def session_signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Record the sign-in of a session that has just logged in: Django's
    ``user_logged_in`` signal, so the API's login, the admin's and the test client's
    ``force_login`` alike. A sign-in the session carried before (a second login in one
    browser) ends: ``login`` has cycled its session key away."""
    session = getattr(request, "session", None)
    if request is None or session is None or not isinstance(user, User):
        return
    previous = session.get(SESSION_SIGN_IN_ID)
    if previous is not None:
        SignIn.objects.filter(pk=previous, ended_at__isnull=True).update(ended_at=timezone.now())
    if session.session_key is None:
        session.save()
    sign_in = sign_in_session_start(
        user=user, session_key=str(session.session_key), client=client_of(request)
    )
    session_sign_in_remember(session, sign_in)


class SignInMiddleware:
    """Keeps each signed-in device's ``last_used_at`` fresh and ends sessions whose
    sign-in ended. Placed right after ``AuthenticationMiddleware``.

    - A session: at most every ``SIGN_IN_TOUCH_SECONDS`` one UPDATE of its sign-in (the
      time of the last one is kept in the session, so no query otherwise); an UPDATE that
      finds the sign-in ended logs the session out, so its request answers 401. A logged-in
      session with no sign-in yet (the admin's login, or one from before sign-ins were
      recorded) gets one.
    - A token (DRF authenticates it in the view, and sets ``request.auth`` on the Django
      request): after the response, the same UPDATE at most every
      ``SIGN_IN_TOUCH_SECONDS`` (the first one that long after the token was issued),
      remembered in the cache. A revoked token is deleted, so knox refuses it already.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES and SESSION_KEY in request.session:
            self._session_seen(request)
        response = self.get_response(request)
        token = getattr(request, "auth", None)
        if isinstance(token, AuthToken):
            self._token_seen(token)
        return response

    def _session_seen(self, request: HttpRequest) -> None:
        session = request.session
        now = timezone.now()
        sign_in_id = session.get(SESSION_SIGN_IN_ID)
        if sign_in_id is None:
            user = request.user
            if isinstance(user, User) and session.session_key and BACKEND_SESSION_KEY in session:
                sign_in = sign_in_session_start(
                    user=user, session_key=session.session_key, client=client_of(request)
                )
                session_sign_in_remember(session, sign_in)
            return
        touched = session.get(SESSION_SIGN_IN_TOUCHED)
        if (
            touched is not None
            and now.timestamp() - float(touched) < settings.SIGN_IN_TOUCH_SECONDS
        ):
            return
        if sign_in_touch(sign_in_id=sign_in_id, now=now):
            session[SESSION_SIGN_IN_TOUCHED] = now.timestamp()
        else:
            logout(request)

    def _token_seen(self, token: AuthToken) -> None:
        now = timezone.now()
        if (now - token.created).total_seconds() < settings.SIGN_IN_TOUCH_SECONDS:
            return  # issued moments ago: its sign-in's last_used_at is the issue
        key = f"sign-in-touched:{token.token_key}"
        try:
            due = cache.add(key, 1, settings.SIGN_IN_TOUCH_SECONDS)
        except Exception:  # the cache's own errors: a timestamp is not worth a 500
            logger.warning("sign-in touch skipped: cache unavailable", exc_info=True)
            return
        if due:
            SignIn.objects.filter(
                user_id=token.user_id, token_key=token.token_key, ended_at__isnull=True
            ).update(last_used_at=now)
