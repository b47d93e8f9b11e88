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
"""

from __future__ import annotations

import logging
import time
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
