"""Throttles that fail deliberately when their cache does not answer.

DRF's throttles keep their counts in the cache; with the cache down, each call raised
and every throttled endpoint answered 500. Here a throttle whose cache fails decides by
the endpoint:

- **fail closed** (429 with ``Retry-After``) where a guess is the attack: login, token,
  register and redeeming a citizen's one-time code. Without a count, an attacker would
  get unlimited guesses; legitimate clients retry after a few seconds.
- **fail open** (the request goes through; a warning is logged) everywhere else: a
  merchant's reads and decisions by live consent are authenticated by their API key and
  their rate limit protects capacity, not secrets, so a cache outage must not stop
  business.

A view says which with ``throttle_fails_closed`` (an attribute or a property reading
``self.request``; open when absent). After a failure the process treats the cache as
down for ``THROTTLE_CACHE_OUTAGE_SECONDS``, so that a hung cache (each call waits up to
``CACHE_SOCKET_TIMEOUT``) slows one request per process, not every request.

:class:`AttemptLimiter` counts failed attempts rather than requests (codes redeemed in
vain, API keys that did not authenticate), per merchant and per client address.

Every count per client address, and every log line that names one, uses
:func:`client_address`: the socket's address, or behind proxies listed in
``TRUSTED_PROXIES`` the address they forwarded. A client's own ``X-Forwarded-For`` is
never believed, so it cannot buy itself a fresh count with each request.

Requests per account (:class:`AccountRateThrottle`) are counted under the account name
the request gives (a username, an e-mail address), normalised by
:func:`account_name_normalise`, so that ``Alice``, ``alice`` and its full-width twin share one
count whether or not such an account exists. How a view uses both::

    class PasswordResetView(AuthThrottledView):  # or any APIView
        throttle_classes = (ScopedRateThrottle, AccountRateThrottle)
        throttle_scope = "password_reset"          # rates "password_reset" (per address)
        throttle_account_fields = ("username", "email")  # and "password_reset_account"
        throttle_fails_closed = True
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
import time
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache
from rest_framework import throttling
from rest_framework.request import Request

logger = logging.getLogger(__name__)


class _CacheOutage:
    """This process's view of the cache: down until a moment (monotonic clock)."""

    down_until = 0.0

    @classmethod
    def is_down(cls) -> bool:
        return time.monotonic() < cls.down_until

    @classmethod
    def record_failure(cls) -> None:
        cls.down_until = time.monotonic() + settings.THROTTLE_CACHE_OUTAGE_SECONDS

    @classmethod
    def reset(cls) -> None:
        cls.down_until = 0.0


def cache_outage_reset() -> None:
    """Forget a recorded outage (tests, after the cache is back)."""
    _CacheOutage.reset()


class CacheUnavailable(Exception):
    """The cache failed a moment ago; not asked again until the outage window ends."""


class _GuardedCache:
    """The cache, or an immediate error while this process holds it down."""

    def get(self, key: str, default: Any = None) -> Any:
        if _CacheOutage.is_down():
            raise CacheUnavailable
        return default_cache.get(key, default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        if _CacheOutage.is_down():
            raise CacheUnavailable
        default_cache.set(key, value, timeout)


def fails_closed(view: Any) -> bool:
    return bool(getattr(view, "throttle_fails_closed", False))


class CacheOutageMixin:
    """For a ``SimpleRateThrottle``: a cache error fails the throttle open or closed, and
    a client is identified by :func:`client_address` (DRF's own ``get_ident`` believes any
    ``X-Forwarded-For`` the client sends)."""

    cache: BaseCache = cast(BaseCache, _GuardedCache())
    outage: bool = False

    def get_ident(self, request: Request) -> str:
        return client_address(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        self.outage = False
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except Exception as error:
            # Any error: the cache's client raises its own (redis.ConnectionError,
            # TimeoutError, OSError...), and no throttle may turn into a 500.
            if not isinstance(error, CacheUnavailable):
                _CacheOutage.record_failure()
            self.outage = True
            closed = fails_closed(view)
            logger.warning(
                "throttle cache unavailable (%s): failing %s",
                type(error).__name__,
                "closed" if closed else "open",
                extra={"view": type(view).__name__, "path": request.path},
            )
            return not closed

    def wait(self) -> float | None:
        if self.outage:
            return float(settings.THROTTLE_CACHE_OUTAGE_SECONDS)
        return super().wait()  # type: ignore[misc]


class SimpleRateThrottle(CacheOutageMixin, throttling.SimpleRateThrottle):
    pass


class ScopedRateThrottle(CacheOutageMixin, throttling.ScopedRateThrottle):
    """Requests per client address, at the rate named by the view's ``throttle_scope``."""


def account_name_normalise(value: str) -> str:
    """The form under which two spellings of one account name are the same: Unicode
    compatibility forms folded (NFKC: ``demo`` typed in full-width letters is ``demo``),
    case folded, and NFKC again (case folding can undo it: Unicode's NFKC_Casefold),
    surrounding spaces dropped. Usernames and e-mail addresses alike; usernames are
    stored in this form (``wallet.models.username_normalise``)."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


class AccountRateThrottle(CacheOutageMixin, throttling.SimpleRateThrottle):
    """Requests per account named in the body, whoever sends them: an attacker spreading
    guesses for one account over many addresses is counted once.

    The view names the body fields that name an account (``throttle_account_fields``,
    default ``("username",)``); each one given (a non-empty string) is counted under its
    normalised form (:func:`account_name_normalise`) at the rate
    ``"<throttle_scope>_account"`` of ``DEFAULT_THROTTLE_RATES``, and the request is
    refused if any of them is over. A request naming no account is not counted here (its
    validation refuses it). The cache key is a digest: no account name in the cache.
    Nothing is looked up, so a known and an unknown account are throttled alike."""

    account: str = ""

    def __init__(self) -> None:
        # The rate depends on the view (its scope): read in allow_request.
        pass

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if not scope:
            return True
        self.scope = f"{scope}_account"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        fields = getattr(view, "throttle_account_fields", ("username",))
        for name in account_names(request, fields):
            self.account = name
            if not super().allow_request(request, view):
                return False
        return True

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        digest = hashlib.sha256(self.account.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


def account_names(request: Request, fields: Iterable[str]) -> list[str]:
    """The normalised account names a request's body gives in these fields (none if the
    body is not an object). An unparsable body raises the parser's error (400)."""
    data = request.data
    if not hasattr(data, "get"):
        return []
    names = []
    for field in fields:
        value = data.get(field)
        if isinstance(value, str) and value.strip():
            name = account_name_normalise(value)
            if name and name not in names:
                names.append(name)
    return names


# --- Failed attempts -------------------------------------------------------------------


class AttemptLimiter:
    """Failed attempts (a code or a key that did not work) counted per identity (a
    merchant, a client address) in the shared cache: ``limit`` failures within ``window``
    seconds of the first, and every further attempt of that identity is refused, right
    or wrong, until the window ends (:meth:`wait`). A guesser gets ``limit`` guesses a
    window, whichever process answers.

    The window starts at an identity's first failure and is kept beside its count (two
    keys, both expiring with the window), so the wait told is exact. The count goes up
    with the cache's atomic ``incr``. With the cache down, :meth:`wait` fails closed (the
    outage's retry) or open as ``fails_closed`` says, and failures go uncounted."""

    def __init__(self, name: str, *, fails_closed: bool) -> None:
        self.name = name
        self.fails_closed = fails_closed

    @property
    def limit(self) -> int:
        return int(settings.CODE_ATTEMPTS_LIMIT)

    @property
    def window(self) -> int:
        return int(settings.CODE_ATTEMPTS_WINDOW)

    def _key(self, ident: str) -> str:
        return f"attempts:{self.name}:{ident}"

    def wait(self, idents: Sequence[str]) -> int | None:
        """Seconds until the identities may try again (the longest), or None if none of
        them has reached the limit."""
        try:
            if _CacheOutage.is_down():
                raise CacheUnavailable
            keys = [self._key(ident) for ident in idents]
            found = default_cache.get_many([*keys, *(f"{key}:start" for key in keys)])
        except Exception as error:
            return self._outage(error, "wait")
        now = time.time()
        waits = [
            math.ceil(float(found.get(f"{key}:start", now)) + self.window - now)
            for key in keys
            if int(found.get(key, 0)) >= self.limit
        ]
        return max(1, *waits) if waits else None

    def failed(self, idents: Sequence[str]) -> list[str]:
        """Count a failure of each identity; returns those that have just reached the
        limit."""
        reached = []
        now = time.time()
        try:
            if _CacheOutage.is_down():
                raise CacheUnavailable
            for ident in idents:
                key = self._key(ident)
                default_cache.add(f"{key}:start", now, self.window)
                if default_cache.add(key, 1, self.window):
                    count = 1
                else:
                    try:
                        count = default_cache.incr(key)
                    except ValueError:  # expired between the two calls: a new window
                        default_cache.set(key, 1, self.window)
                        count = 1
                if count == self.limit:
                    reached.append(ident)
        except Exception as error:
            self._outage(error, "count")
        return reached

    def _outage(self, error: Exception, what: str) -> int | None:
        if not isinstance(error, CacheUnavailable):
            _CacheOutage.record_failure()
        logger.warning(
            "attempt limiter cache unavailable (%s): failing %s",
            type(error).__name__,
            "closed" if self.fails_closed else "open",
            extra={"limiter": self.name, "operation": what},
        )
        if what == "wait" and self.fails_closed:
            return int(settings.THROTTLE_CACHE_OUTAGE_SECONDS)
        return None


# --- The client's address ------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES`` (addresses or CIDR blocks) as networks; settings checks them
    at start, so an entry that does not parse here is a programming error."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _parse_address(value: str) -> Address | None:
    """An address as a proxy writes it: ``203.0.113.7``, ``2001:db8::1``, and the forms
    some proxies add a port or brackets to (``203.0.113.7:4711``, ``[2001:db8::1]:443``).
    An IPv4 address mapped into IPv6 is the IPv4 address. None if it is not one."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(request: Any) -> str:
    """The caller's address: the one implementation every throttle, attempt limiter,
    login lockout and log line uses.

    Without ``TRUSTED_PROXIES`` (the default) it is the socket's address
    (``REMOTE_ADDR``), and forwarded headers are ignored: anyone can write one. When the
    socket's address is a trusted proxy, ``X-Forwarded-For`` is read from right to
    left, each proxy having appended the address it was called from: trusted proxies
    are skipped, and the first address that is not one is the client. Whatever the
    client wrote itself sits to the left of that and is never reached. If every entry
    is a trusted proxy (a proxy's own health check), the leftmost is the caller; an
    entry that is not an address stops the walk at the last proxy trusted."""
    meta = getattr(request, "META", {})
    remote = str(meta.get("REMOTE_ADDR") or "")
    peer = _parse_address(remote)
    if peer is None:
        return remote or "unknown"
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return str(peer)
    caller = peer
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    for entry in reversed([part for part in forwarded.split(",") if part.strip()]):
        hop = _parse_address(entry)
        if hop is None:
            break
        caller = hop
        if not _trusted(hop, networks):
            break
    return str(caller)
