"""Login lockout: repeated failed logins lock the account, with a delay that grows.

django-axes watches every ``django.contrib.auth.authenticate()`` call (its
``AxesStandaloneBackend`` comes first in ``AUTHENTICATION_BACKENDS``, and its signal
handlers count each failure), so the API's session login, its token login and the
admin's login form are covered alike. The settings in ``config/settings.py`` point axes
at the functions here:

- the lockout is keyed by the account name only (``AXES_LOCKOUT_PARAMETERS``), normalised
  like every account name (:func:`lockout_username`): an attacker rotating addresses is
  still stopped, and ``Alice`` and ``alice`` are one account;
- the address axes records and logs is :func:`common.throttling.client_address`
  (:func:`lockout_address`);
- ``LOGIN_FAILURE_LIMIT`` failures lock the account for ``LOGIN_LOCKOUT_BASE_SECONDS``,
  each further failure once that lock has passed doubles the delay, up to
  ``LOGIN_LOCKOUT_MAX_SECONDS`` (:func:`lockout_delay`; :class:`LoginLockoutHandler`).
  Attempts during a lock are refused without being tried or counted, the right password
  included. A failure is remembered for ``LOGIN_LOCKOUT_MAX_SECONDS``; a successful
  login forgets them all;
- a locked attempt answers 429 with ``Retry-After`` (:func:`lockout_response`): problem
  details ``too_many_attempts`` under ``/api/``, an HTML page elsewhere (the admin).
  Nothing in it depends on whether the account exists: axes counts unknown names too.

Axes' access log (successful logins with addresses and user agents) is off; the attempt
rows it keeps hold an address and a user agent only while their failures count.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone

from common.errors import PROBLEM_CONTENT_TYPE, problem
from common.throttling import account_name_normalise, client_address

logger = logging.getLogger(__name__)

# The longest account name axes' attempt rows hold.
USERNAME_MAX_LENGTH = 255


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the account an attempt is counted against, normalised
    (:func:`common.throttling.account_name_normalise`). From the credentials given to
    ``authenticate()``, or else the request's body."""
    value: Any = None
    if credentials:
        value = credentials.get("username")
    elif request is not None:
        data = getattr(request, "data", None)
        if data is None:
            data = getattr(request, "POST", {})
        value = data.get("username") if hasattr(data, "get") else None
    if not isinstance(value, str) or not value.strip():
        return None
    name = account_name_normalise(value)
    if len(name) > USERNAME_MAX_LENGTH:
        # NFKC may lengthen a name (one character can become eighteen); axes keeps 255.
        name = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
    return name


def lockout_address(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: :func:`common.throttling.client_address`, or None
    when the server was not given an IP address (a Unix socket): axes stores an IP
    address or nothing."""
    address = client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


def failure_limit(request: HttpRequest | None, credentials: dict[str, Any] | None) -> int:
    """``AXES_FAILURE_LIMIT``: read when used, so a test may change the setting."""
    return int(settings.LOGIN_FAILURE_LIMIT)


def failures_kept(request: HttpRequest | None = None) -> timedelta:
    """``AXES_COOLOFF_TIME``: how long a failure counts (then axes deletes its row)."""
    return timedelta(seconds=int(settings.LOGIN_LOCKOUT_MAX_SECONDS))


def lockout_delay(failures: int) -> int:
    """Seconds an account with this many recent failures stays locked after the last:
    none below the limit, ``LOGIN_LOCKOUT_BASE_SECONDS`` at it, doubling with each
    failure beyond it, never over ``LOGIN_LOCKOUT_MAX_SECONDS``."""
    limit = int(settings.LOGIN_FAILURE_LIMIT)
    if failures < limit:
        return 0
    base = int(settings.LOGIN_LOCKOUT_BASE_SECONDS)
    cap = int(settings.LOGIN_LOCKOUT_MAX_SECONDS)
    doublings = min(failures - limit, 64)  # 2**64 seconds is past any cap
    return min(base * 2**doublings, cap)


def _failures(username: str | None, now: datetime) -> tuple[int, datetime | None]:
    """Recent failures of an account (every address and user agent together) and the
    moment of the last."""
    if not username:
        return 0, None
    found = AccessAttempt.objects.filter(
        username=username, attempt_time__gt=now - failures_kept()
    ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    return int(found["failures"] or 0), found["last"]


def lockout_remaining(username: str | None, now: datetime | None = None) -> int:
    """Whole seconds until a normalised account name may try again; 0 if not locked."""
    now = now or timezone.now()
    failures, last = _failures(username, now)
    delay = lockout_delay(failures)
    if not delay or last is None:
        return 0
    remaining = (last + timedelta(seconds=delay) - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0


class LoginLockoutHandler(AxesDatabaseHandler):
    """``AXES_HANDLER``: axes' database handler (it records each failure per account,
    address and user agent), deciding the lockout by the account's failures together
    and the growing delay since the last one, instead of a fixed count in a fixed
    window."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        username = get_client_username(request, credentials)
        return _failures(username, _attempt_time(request))[0]

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        username = get_client_username(request, credentials)
        return lockout_remaining(username, _attempt_time(request)) > 0


def _attempt_time(request: HttpRequest | None) -> datetime:
    return getattr(request, "axes_attempt_time", None) or timezone.now()


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with ``Retry-After``. Under ``/api/`` problem
    details ``too_many_attempts``; elsewhere (the admin's login) an HTML page. The same
    for an account that exists and one that does not: nothing here looks it up."""
    username = get_client_username(request, credentials)
    retry_after = max(1, lockout_remaining(username, _attempt_time(request)))
    logger.warning(
        "login locked out",
        extra={"address": client_address(request), "retry_after": retry_after},
    )
    detail = f"Too many failed logins for this account; try again in {retry_after} seconds."
    response: HttpResponse
    if request.path.startswith("/api/"):
        body = problem(
            status_code=429,
            code="too_many_attempts",
            title="Too many attempts",
            detail=detail,
        )
        response = JsonResponse(body, status=429, content_type=PROBLEM_CONTENT_TYPE)
    else:
        html = render_to_string(
            "common/login_locked.html",
            {"detail": detail, "retry_after": retry_after},
            request=request,
        )
        response = HttpResponse(html, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def lockout_reset(*, username: str) -> int:
    """Forget an account's failed logins (a password reset, a support unlock); the name
    as given, normalised here like every attempt's. Returns the attempt rows removed."""
    return int(AxesProxyHandler.reset_attempts(username=account_name_normalise(username)))
