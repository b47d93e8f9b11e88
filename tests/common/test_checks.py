"""The system check that keeps the cache and a Redis broker on different servers."""

import pytest

from common.checks import broker_and_cache_apart


def redis_cache(location: str) -> dict:
    return {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}
    }


@pytest.mark.parametrize(
    ("cache", "broker", "warned"),
    [
        # The same server and database: warned
        ("redis://cache.internal:6379/0", "redis://cache.internal:6379", True),
        # The same server, another database: warned too (eviction is per server)
        ("redis://10.0.0.5:6379/1", "redis://10.0.0.5:6379/0", True),
        # Different servers, or RabbitMQ: fine
        ("redis://cache.internal:6379/0", "redis://broker.internal:6379/0", False),
        ("redis://cache.internal:6379/0", "redis://cache.internal:6380/0", False),
        ("redis://cache.internal:6379/0", "amqp://guest:guest@broker.internal:5672//", False),
    ],
)
def test_cache_and_redis_broker_on_one_server_is_warned_in_production(
    settings, cache, broker, warned
):
    settings.DEBUG = False
    settings.CACHES = redis_cache(cache)
    settings.CELERY_BROKER_URL = broker
    messages = broker_and_cache_apart()
    assert [message.id for message in messages] == (["common.W001"] if warned else [])


def test_no_warning_in_development_or_with_a_local_memory_cache(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.DEBUG = True
    settings.CACHES = redis_cache("redis://127.0.0.1:6379/0")
    assert broker_and_cache_apart() == []
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert broker_and_cache_apart() == []
