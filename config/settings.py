"""Settings, read from the environment (12-factor) with defaults that are safe to run.

Embedded default: SQLite in the project folder and eager Celery tasks, so ``make demo``
needs no server. Production sets ``DEBUG=0``, ``SECRET_KEY``, ``ALLOWED_HOSTS``,
``DATABASE_URL`` and ``CELERY_BROKER_URL``; with ``DEBUG=0`` the process refuses to start
without a ``SECRET_KEY``.
"""

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment "
            "(or DEBUG=1 for local development only)."
        )
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "common",
    "wallet",
    "scoring",
    "merchants",
    "merchants.perks",
    "merchants.bills",
    "merchants.privacy",
    "merchants.demo",
    "client",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock up front, so two requests never
    # deadlock upgrading a read lock; WAL lets readers proceed while one writer works.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "wallet.User"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Auth ----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"


def _time_zone(name: str) -> str:
    """The deployment's zone, an IANA name; an unknown one stops the process here."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"TIME_ZONE={name!r} is not a known time zone. Set TIME_ZONE to an IANA zone "
            "name such as UTC, Europe/Madrid or Asia/Shanghai."
        ) from None
    return name


# The deployment's business day: a bill is paid on time, or overdue, by the local date
# here, and periodic tasks (CELERY_TIMEZONE) run by this clock.
TIME_ZONE = _time_zone(env.str("TIME_ZONE", default="") or "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "client.storage.AppStaticFilesStorage"
        )
    },
}

# --- Security (production values whenever DEBUG is off) ------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- REST framework ------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    # Token first: an unauthenticated request then gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("THROTTLE_AUTH_RATE", default="10/min"),
        # Per merchant API key. Processes share the count only through a shared cache
        # (CACHE_URL=redis://...); with the default local-memory cache each process counts
        # on its own.
        "merchant_key": env.str("THROTTLE_MERCHANT_KEY_RATE", default="600/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

# Native clients' tokens: only a digest is stored; a token unused for 30 days expires.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=env.int("AUTH_TOKEN_TTL_DAYS", default=30)),
    "AUTO_REFRESH": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Open Sesame API",
    "DESCRIPTION": (
        "A wallet with a trust score and the merchant perks it unlocks. Money is an "
        "integer in minor units with its currency beside it; errors are RFC 9457 "
        "problem details with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Choice sets that share a field name get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "TransferKindEnum": "wallet.models.TransferKind",
        "HoldStatusEnum": "wallet.models.HoldStatus",
        "EventKindEnum": "scoring.models.EventKind",
        "EventStatusEnum": "scoring.models.EventStatus",
        "DisputeStatusEnum": "scoring.models.DisputeStatus",
        "DisputeResolutionEnum": "scoring.models.DisputeResolution",
        "SnapshotTriggerEnum": "scoring.models.SnapshotTrigger",
        "AccessPurposeEnum": "scoring.purposes.AccessPurpose",
        "BandEnum": "scoring.facts.BAND_CODES",
        "ClaimStatusEnum": "merchants.perks.models.ClaimStatus",
        "BookingStatusEnum": "merchants.perks.models.BookingStatus",
        "BookingOutcomeEnum": "merchants.perks.models.BookingOutcome",
        "BillStatusEnum": "merchants.bills.models.BillStatus",
        "PerkKindEnum": "merchants.perks.models.PerkKind",
        "PerkStepCodeEnum": "merchants.perks.qualify.STEP_CODES",
    },
}

# SQLite (the demo) builds covering indexes without their extra columns; PostgreSQL
# uses them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Wallet --------------------------------------------------------------------------
WALLET_CURRENCY = env.str("WALLET_CURRENCY", default="CNY").upper()
# The largest single top-up, in minor units (default 50,000.00).
WALLET_MAX_TOP_UP = env.int("WALLET_MAX_TOP_UP", default=5_000_000)
# Idempotency keys are kept at least this long, 48 hours by default (as the README says);
# the hourly wallet.prune_idempotency_keys (below) deletes older ones.
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48))

# --- Celery --------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"scoring.*": {"queue": "scoring"}}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Defined in code; django-celery-beat copies it into the database on start, where admins
# see it (and may pause or re-time an entry) under "Periodic tasks".
CELERY_BEAT_SCHEDULE = {
    "wallet: expire holds past their expiry": {
        "task": "wallet.expire_due_holds",
        "schedule": timedelta(minutes=1),
    },
    "wallet: prune old idempotency keys": {
        "task": "wallet.prune_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    "scoring: nightly recompute of every score": {
        "task": "scoring.recompute_all",
        "schedule": crontab(hour=3, minute=5),
    },
    "scoring: uphold disputes open for 30 days": {
        "task": "scoring.uphold_stale_disputes",
        "schedule": crontab(hour=4, minute=10),
    },
    "merchants: uphold claim disputes open for 30 days": {
        "task": "merchants.uphold_stale_claim_disputes",
        "schedule": crontab(hour=4, minute=5),
    },
    # Early, so that the nightly recompute already counts yesterday's overdue bills.
    "merchants: record bills left unpaid past their due date": {
        "task": "merchants.record_overdue_bills",
        "schedule": crontab(hour=0, minute=15),
    },
}
# --- The recompute outbox (scoring.relay_recomputes; see the README) ---
# The relay claims this many accounts per transaction and drains the outbox for at most
# this long per run; beat runs it every 5 s (and each commit that wants a recompute
# kicks it, from a thread, at most every KICK_INTERVAL s per process). A relay that
# does not start before it expires is dropped: the next one does its work.
SCORING_RELAY_CHUNK = env.int("SCORING_RELAY_CHUNK", default=200)
SCORING_RELAY_BUDGET_SECONDS = 20.0
SCORING_RELAY_KICK_INTERVAL = 0.1
SCORING_RELAY_KICK_EXPIRES = 30
CELERY_BEAT_SCHEDULE["scoring: relay the recompute outbox"] = {
    "task": "scoring.relay_recomputes",
    "schedule": timedelta(seconds=5),
    "options": {"expires": 10},
}
# --- end of the recompute outbox ---
# The nightly batch: accounts per recompute_chunk task (an id range).
SCORING_BATCH_CHUNK_SIZE = env.int("SCORING_BATCH_CHUNK_SIZE", default=10_000)

# --- Logging -------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Python warnings become log records, so they too are JSON lines in production.
logging.captureWarnings(True)
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if DEBUG else "json",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
