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
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
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
    """For a ``SimpleRateThrottle``: a cache error fails the throttle open or closed."""

    cache: BaseCache = cast(BaseCache, _GuardedCache())
    outage: bool = False

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
    pass


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


def client_address(request: Any) -> str:
    """The caller's address as the server saw it (``REMOTE_ADDR``). Behind a proxy this
    is the proxy's: trusting a forwarded header is a deployment's decision, not made
    here."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")
