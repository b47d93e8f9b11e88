"""System checks of the deployment's topology."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


def _redis_server(url: str | None) -> tuple[str, int] | None:
    """(host, port) of a Redis URL, or None for anything else."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        return None
    return (parts.hostname or "localhost").lower(), parts.port or 6379


def _redis_db(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


@checks.register(checks.Tags.caches)
def broker_and_cache_apart(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """In production the cache and a Redis broker must be different Redis servers: the
    cache runs with an evicting ``maxmemory-policy`` (allkeys-lru), which evicts keys of
    every database of the server, queued tasks included; the broker needs
    ``noeviction``. A different database number on the same server does not separate
    them."""
    if settings.DEBUG:
        return []
    cache = settings.CACHES["default"]
    if not cache["BACKEND"].endswith("RedisCache"):
        return []
    locations = cache["LOCATION"]
    broker_url = settings.CELERY_BROKER_URL
    broker = _redis_server(broker_url)
    if broker is None:
        return []
    for location in [locations] if isinstance(locations, str) else locations:
        if _redis_server(location) == broker:
            same_db = _redis_db(location) == _redis_db(broker_url or "")
            return [
                checks.Warning(
                    "The cache (CACHE_URL) and the Celery broker (CELERY_BROKER_URL) use "
                    f"the same Redis server{' and database' if same_db else ''}: "
                    f"{broker[0]}:{broker[1]}.",
                    hint=(
                        "Give the cache a Redis server of its own (maxmemory-policy "
                        "allkeys-lru) and the broker another (noeviction, appendonly yes), "
                        "or use RabbitMQ as the broker. Eviction on a shared server "
                        "deletes queued tasks. See the README, Operations."
                    ),
                    id="common.W001",
                )
            ]
    return []
