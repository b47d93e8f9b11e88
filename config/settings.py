"""Settings, read from the environment (12-factor) with defaults that are safe to run.

Embedded default: SQLite in the project folder and eager Celery tasks, so ``make demo``
needs no server. Production sets ``DEBUG=0``, ``SECRET_KEY``, ``ALLOWED_HOSTS``,
``DATABASE_URL`` and ``CELERY_BROKER_URL``; with ``DEBUG=0`` the process refuses to start
without a ``SECRET_KEY``.
"""

import ipaddress
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

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
    # Django's admin on a site that asks staff for a second factor (governance.otp).
    "governance.admin_site.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "simple_history",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "common",
    "wallet",
    "scoring",
    "merchants",
    "merchants.perks",
    "merchants.bills",
    "merchants.privacy",
    "merchants.console",
    "governance",
    "merchants.demo",
    "client",
]

MIDDLEWARE = [
    # First, so that a request's time includes every other middleware.
    "common.metrics.RequestMetricsMiddleware",
    # Before anything reads a body: 413 for one over the limit.
    "common.middleware.RequestSizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "wallet.accounts.SignInMiddleware",
    # request.user.is_verified(): whether this session passed the staff's second factor.
    "django_otp.middleware.OTPMiddleware",
    # request.htmx; and the console's language (/merchant/ only: the API stays English).
    "django_htmx.middleware.HtmxMiddleware",
    "merchants.console.middleware.ConsoleLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # no-store on private paths, a CSP on the admin and the API docs.
    "common.middleware.PrivateResponseMiddleware",
    # The audit trail's rows name the signed-in member of staff who made the change
    # (simple-history's middleware, for people only: not a merchant's API key).
    "common.audit.HistoryRequestMiddleware",
    # Last, as django-axes documents: turns a locked-out login into its 429 (common.lockout).
    "axes.middleware.AxesMiddleware",
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

# Timeouts of every PostgreSQL connection, in seconds, so that nothing waits without end
# on the database: a web request must answer (or fail with a 503 the client can retry)
# well inside gunicorn's 30 s, and a worker must not hold locks that requests wait for.
# PROCESS_TYPE (web, the default, or worker: the Celery worker and beat, as the Procfile
# sets it) picks the defaults; each DB_* variable overrides one value.
#   connect: a reachable server accepts in milliseconds; 5 s rides out a busy one and still
#     fails a request long before gunicorn kills it.
#   statement: web 10 s (a decision takes milliseconds; an admin changelist over a large
#     table may take seconds); worker 60 s (pruning and periodic sweeps). The nightly
#     batch's chunks set a longer one in their own transaction (common.db.statement_timeout).
#   lock: web 3 s: a request that waits longer behind a lock answers 503 and is retried
#     with its Idempotency-Key instead of piling up behind the holder; worker 10 s.
#   idle in transaction: web 30 s, worker 60 s: a process stuck mid-transaction (paused,
#     waiting on something outside the database) loses its connection, and the row locks
#     it held are released for everyone else.
PROCESS_TYPE = env.str("PROCESS_TYPE", default="web")
if PROCESS_TYPE not in {"web", "worker"}:
    raise ImproperlyConfigured(f"PROCESS_TYPE={PROCESS_TYPE!r}: use web or worker.")
_DB_TIMEOUT_DEFAULTS = {
    "web": {"CONNECT": 5, "STATEMENT": 10, "LOCK": 3, "IDLE_IN_TRANSACTION": 30},
    "worker": {"CONNECT": 5, "STATEMENT": 60, "LOCK": 10, "IDLE_IN_TRANSACTION": 60},
}[PROCESS_TYPE]
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=_DB_TIMEOUT_DEFAULTS["CONNECT"])
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=_DB_TIMEOUT_DEFAULTS["STATEMENT"])
DB_LOCK_TIMEOUT = env.float("DB_LOCK_TIMEOUT", default=_DB_TIMEOUT_DEFAULTS["LOCK"])
DB_IDLE_IN_TRANSACTION_TIMEOUT = env.float(
    "DB_IDLE_IN_TRANSACTION_TIMEOUT", default=_DB_TIMEOUT_DEFAULTS["IDLE_IN_TRANSACTION"]
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # libpq's connect_timeout, and the server settings as start-up options (through a
    # pooler such as PgBouncer in transaction mode, set them on the database role instead:
    # ALTER ROLE ... SET statement_timeout = ...). 0 turns one off.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": DB_CONNECT_TIMEOUT,
            "options": " ".join(
                f"-c {name}={round(seconds * 1000)}"
                for name, seconds in (
                    ("statement_timeout", DB_STATEMENT_TIMEOUT),
                    ("lock_timeout", DB_LOCK_TIMEOUT),
                    ("idle_in_transaction_session_timeout", DB_IDLE_IN_TRANSACTION_TIMEOUT),
                )
            ),
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "wallet.User"

# --- Cache ---------------------------------------------------------------------------
# Only throttles use it (common.throttling). In production a Redis of its own, apart from
# a Redis broker (see the README, "Operations"): redis://host:6379/0 uses Django's own
# Redis backend. A cache that does not answer fails fast (CACHE_SOCKET_TIMEOUT) and the
# throttles then fail open or closed as each endpoint declares; never a 500.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.5)
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["BACKEND"] = "django.core.cache.backends.redis.RedisCache"
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", CACHE_SOCKET_TIMEOUT)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", CACHE_SOCKET_TIMEOUT)

# --- Auth ----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The merchant console's languages (the browser's, or the one chosen with its switcher).
LANGUAGES = [("en", "English"), ("es", "Español"), ("zh-hans", "简体中文")]
# The console's catalogs come first, before Django's own (whose "Change" is the admin's).
LOCALE_PATHS = [
    BASE_DIR / "merchants" / "console" / "locale",
    BASE_DIR / "governance" / "locale",
]


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
# The apps' static folders less what the project never serves (config.staticfiles).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "config.staticfiles.ProjectAppDirectoriesFinder",
]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# --- Uploaded files (claim evidence) ---------------------------------------------------
# Stored with the default storage (local files under MEDIA_ROOT here); never served from
# a public MEDIA_URL: only the API and the admin hand a file to those allowed to see it.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# How long a guest has to accept or dispute a damage claim before it is charged.
CLAIM_RESPONSE_HOURS = env.int("CLAIM_RESPONSE_HOURS", default=72)
# The largest evidence file a merchant may attach to a claim, in bytes.
CLAIM_EVIDENCE_MAX_BYTES = env.int("CLAIM_EVIDENCE_MAX_BYTES", default=5 * 1024 * 1024)
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
    "DEFAULT_PARSER_CLASSES": ["common.parsers.SafeJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "common.schema.DocumentedAutoSchema",
    "EXCEPTION_HANDLER": "common.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Register, login and token: per client address, and per account name given
        # (common.throttling.AccountRateThrottle), whoever asks.
        "auth": env.str("THROTTLE_AUTH_RATE", default="10/min"),
        "auth_account": env.str("THROTTLE_AUTH_ACCOUNT_RATE", default="10/min"),
        # Asking for a password-reset e-mail: per client address and per username or
        # e-mail address given.
        "password_reset": env.str("THROTTLE_PASSWORD_RESET_RATE", default="10/hour"),
        "password_reset_account": env.str("THROTTLE_PASSWORD_RESET_ACCOUNT_RATE", default="3/hour"),
        # Per merchant API key. Processes share the count only through a shared cache
        # (CACHE_URL=redis://...); with the default local-memory cache each process counts
        # on its own.
        "merchant_key": env.str("THROTTLE_MERCHANT_KEY_RATE", default="600/min"),
    },
    # A throttle whose cache does not answer never answers 500: login, token, register
    # and redeeming a citizen's code fail closed (429 with Retry-After), the rest fail
    # open (common.throttling; the README, "Operations").
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# After a cache failure, a process treats the cache as down for this many seconds (no
# request waits on a hung cache again), and a closed throttle asks clients to retry after it.
THROTTLE_CACHE_OUTAGE_SECONDS = env.int("THROTTLE_CACHE_OUTAGE_SECONDS", default=5)
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

# Native clients' tokens: only a digest is stored; a token expires AUTH_TOKEN_TTL_DAYS
# after it was issued, however often it is used (no refresh on use), so a lost phone's
# token dies on a known date.
AUTH_TOKEN_TTL_DAYS = env.int("AUTH_TOKEN_TTL_DAYS", default=90)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=AUTH_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": False,
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
        "TopUpStatusEnum": "wallet.models.TopUpStatus",
        "PayoutStatusEnum": "wallet.models.PayoutStatus",
        "EventKindEnum": "scoring.models.EventKind",
        "EventStatusEnum": "scoring.models.EventStatus",
        "DisputeStatusEnum": "scoring.models.DisputeStatus",
        "DisputeResolutionEnum": "scoring.models.DisputeResolution",
        "RecordDisputeStatusEnum": "scoring.models.RecordDisputeStatus",
        "RecordDisputeResolutionEnum": "scoring.models.RecordDisputeResolution",
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
# --- Payments: money in and out through a payment provider ----------------------------
# The provider behind top-ups, withdrawals and merchant payouts (wallet/payments/). The
# sandbox is the reference implementation: a checkout page of our own and signed
# notifications through the same webhook a real provider calls. With DEBUG=0 the process
# refuses to start on it unless PAYMENTS_SANDBOX=1 says so on purpose.
PAYMENTS_PROVIDER = env.str("PAYMENTS_PROVIDER", default="sandbox")
PAYMENTS_PROVIDERS = {"sandbox": "wallet.payments.sandbox.SandboxProvider"}
PAYMENTS_SANDBOX = env.bool("PAYMENTS_SANDBOX", default=DEBUG)
if PAYMENTS_PROVIDER == "sandbox" and not DEBUG and not PAYMENTS_SANDBOX:
    raise ImproperlyConfigured(
        "The payment provider is the sandbox, which moves no real money, and DEBUG=0. "
        "Set PAYMENTS_PROVIDER to a real provider, or PAYMENTS_SANDBOX=1 to run on the "
        "sandbox on purpose (a staging system)."
    )
# The sandbox confirms a top-up at once, without its checkout page (the demo: DEBUG=1).
PAYMENTS_SANDBOX_AUTO_CONFIRM = env.bool("PAYMENTS_SANDBOX_AUTO_CONFIRM", default=DEBUG)
# The secret the sandbox signs its notifications with (Standard Webhooks: whsec_ + base64).
# The default is public (it is here): `check --deploy` warns while it is in use.
PAYMENTS_SANDBOX_PUBLIC_SECRET = "whsec_c2FuZGJveC1ub3RpZmljYXRpb25zLW5vdC1zZWNyZXQ="  # noqa: S105
PAYMENTS_SANDBOX_SECRET = env.str("PAYMENTS_SANDBOX_SECRET", default=PAYMENTS_SANDBOX_PUBLIC_SECRET)
# A top-up the payer has not completed by then expires; a later confirmation is refused.
PAYMENTS_TOP_UP_EXPIRES_AFTER = timedelta(
    minutes=env.int("PAYMENTS_TOP_UP_EXPIRES_MINUTES", default=30)
)
# The daily merchant payout pays a settlement balance of at least this (minor units).
PAYMENTS_PAYOUT_THRESHOLD = env.int("PAYMENTS_PAYOUT_THRESHOLD", default=10_000)
# Limits by identity level (0 none, 1 phone, 2 identity document), minor units: top-ups
# per day and per calendar month (in TIME_ZONE, pending ones included), the wallet's
# balance ceiling, and withdrawals per day. PAYMENTS_LIMITS (JSON, same shape) replaces
# them.
PAYMENTS_LIMITS: dict[int, dict[str, int]] = {
    int(level): limits
    for level, limits in env.json(
        "PAYMENTS_LIMITS",
        default={
            0: {
                "top_up_daily": 200_000,
                "top_up_monthly": 1_000_000,
                "balance_max": 1_000_000,
                "withdrawal_daily": 200_000,
            },
            1: {
                "top_up_daily": 500_000,
                "top_up_monthly": 2_000_000,
                "balance_max": 5_000_000,
                "withdrawal_daily": 500_000,
            },
            2: {
                "top_up_daily": 5_000_000,
                "top_up_monthly": 20_000_000,
                "balance_max": 50_000_000,
                "withdrawal_daily": 5_000_000,
            },
        },
    ).items()
}
# Idempotency keys are kept at least this long, 48 hours by default (as the README says);
# the hourly wallet.prune_idempotency_keys (below) deletes older ones.
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48))

# --- Merchants: billing limits, bills and code guessing --------------------------------
# The billing limits the app proposes (minor units: 500.00 a bill, 1,000.00 a month); the
# citizen sets their own with each billing code. Billing consents made before limits
# existed were given these (merchants/migrations/0005_consent_limits.py).
BILLING_DEFAULT_MAX_BILL = env.int("BILLING_DEFAULT_MAX_BILL", default=50_000)
BILLING_DEFAULT_MAX_MONTHLY = env.int("BILLING_DEFAULT_MAX_MONTHLY", default=100_000)
# A bill unpaid this many days after its due date becomes a "bill overdue" record; paid
# by then it counts as paid on time (merchants.bills.models.overdue_at).
BILL_OVERDUE_AFTER_DAYS = env.int("BILL_OVERDUE_AFTER_DAYS", default=30)
# Failed code redemptions (and failed API-key authentications) allowed per merchant and
# per client address in a window of this many seconds, counted in the shared cache;
# then 429 too_many_attempts with Retry-After (merchants.api.auth).
CODE_ATTEMPTS_LIMIT = env.int("CODE_ATTEMPTS_LIMIT", default=20)
CODE_ATTEMPTS_WINDOW = env.int("CODE_ATTEMPTS_WINDOW", default=600)

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
# Every task is idempotent: its message is acked when it ends, and put back on the queue
# if its worker process dies, so a killed worker loses no work (config/celery_app.py
# retries database errors and records what still fails).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis: a message taken but not acked is handed out again after visibility_timeout,
# whoever holds it. So it must exceed the longest a task may hold one: the hard time limit
# (15 min) plus the longest retry countdown (60 s, ProjectTask.retry_backoff_max), or a
# slow task would run twice. 20 min; a chunk lost with its worker comes back after at
# most that (batch_watch resumes an overdue run too). RabbitMQ ignores it: it redelivers
# as soon as the consumer's connection closes.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "visibility_timeout": env.int("BROKER_VISIBILITY_TIMEOUT", default=20 * 60),
}
# Three queues: per-account work (the recompute after an event) on "scoring", the nightly
# batch (recompute_all and its chunks) on "scoring-batch" so that it never holds up
# per-account work, the rest on "celery" (batch_watch too: it alerts even when no batch
# worker runs). Declared explicitly: durable on RabbitMQ (they and their persistent
# messages survive a broker restart).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange("celery", type="direct", durable=True), routing_key=name, durable=True)
    for name in ("celery", "scoring", "scoring-batch")
)
CELERY_TASK_ROUTES = {
    "scoring.recompute_all": {"queue": "scoring-batch"},
    "scoring.recompute_chunk": {"queue": "scoring-batch"},
    "scoring.recompute_account": {"queue": "scoring"},
    "scoring.relay_recomputes": {"queue": "scoring"},
    # Audits, backtests and dry-runs read the whole population: beside the batch, never
    # ahead of a citizen's recompute.
    "governance.analysis_run": {"queue": "scoring-batch"},
}
CELERY_TIMEZONE = TIME_ZONE
# Broker timeouts, so that neither a request nor /readyz waits without end on a broker
# that is down or paused: connecting gives up after CELERY_BROKER_CONNECTION_TIMEOUT
# (both transports), a Redis command after socket_timeout (it must stay above kombu's
# 1 s BRPOP wait, or idle workers would see timeouts), and a publish is retried once,
# at once, then fails to the caller.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    {
        "socket_connect_timeout": env.float("CELERY_BROKER_SOCKET_CONNECT_TIMEOUT", default=1.0),
        "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
    }
)
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Periodic tasks: their defaults are defined once, in config/schedule.py, and written to
# the database only where missing (config.beat.Scheduler at beat start, or
# `manage.py sync_periodic_tasks`), so an admin's changes under "Periodic tasks" survive
# restarts. django-celery-beat would overwrite them from CELERY_BEAT_SCHEDULE on every
# start: it stays empty.
CELERY_BEAT_SCHEDULER = "config.beat:Scheduler"
CELERY_BEAT_SCHEDULE: dict[str, Any] = {}
# Beat's heartbeat (common.beat_heartbeat, every 30 s) older than this is reported late
# by /readyz and /metrics.
BEAT_HEARTBEAT_LATE_SECONDS = env.int("BEAT_HEARTBEAT_LATE_SECONDS", default=120)
# --- The recompute outbox (scoring.relay_recomputes; see the README) ---
# The relay claims this many accounts per transaction and drains the outbox for at most
# this long per run; beat runs it every 5 s (config/schedule.py), and each commit that
# wants a recompute kicks it (OUTBOX_KICK_* below).
SCORING_RELAY_CHUNK = env.int("SCORING_RELAY_CHUNK", default=200)
SCORING_RELAY_BUDGET_SECONDS = 20.0
# Every outbox's relay (scoring's recomputes, the payments' payouts) is kicked after a
# commit from a thread (common.kick), at most every OUTBOX_KICK_INTERVAL s per process; a
# kick not started within OUTBOX_KICK_EXPIRES s is dropped (the periodic relay does it).
OUTBOX_KICK_INTERVAL = 0.1
OUTBOX_KICK_EXPIRES = 30
# --- end of the recompute outbox ---
# The nightly batch: accounts per recompute_chunk task (an id range).
SCORING_BATCH_CHUNK_SIZE = env.int("SCORING_BATCH_CHUNK_SIZE", default=10_000)
# A batch run not complete this long after it started is overdue: an error in the log,
# "needs attention" in the admin, and its unfinished chunks are sent again (at most once
# per SCORING_BATCH_RESUME_EVERY, so slow chunks are not piled up in copies).
SCORING_BATCH_DEADLINE = timedelta(minutes=env.int("SCORING_BATCH_DEADLINE_MINUTES", default=60))
SCORING_BATCH_RESUME_EVERY = timedelta(
    minutes=env.int("SCORING_BATCH_RESUME_EVERY_MINUTES", default=20)
)
# A chunk's own database limits, longer than a request's: below the task's soft time
# limit (14 min), and a lock held longer than 30 s fails the attempt, which is retried.
SCORING_BATCH_STATEMENT_TIMEOUT_MS = env.int("SCORING_BATCH_STATEMENT_TIMEOUT_MS", default=600_000)
SCORING_BATCH_LOCK_TIMEOUT_MS = env.int("SCORING_BATCH_LOCK_TIMEOUT_MS", default=30_000)

# --- Login protection (issue 18) ---------------------------------------------------------
# The proxies in front of the application (addresses or CIDR blocks, comma-separated). A
# request from one of them is from the address it forwarded (X-Forwarded-For, read from
# the right, skipping the proxies); without any, or from anywhere else, the socket's
# address counts and forwarded headers are ignored (common.throttling.client_address).
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or CIDR block "
            "(e.g. 10.0.0.0/8,2001:db8::1)."
        ) from None
# Failed logins on one account (any address): LOGIN_FAILURE_LIMIT of them lock it for
# LOGIN_LOCKOUT_BASE_SECONDS, each further failure doubles that, up to
# LOGIN_LOCKOUT_MAX_SECONDS, which is also how long a failure is remembered; a successful
# login forgets them (common.lockout, through django-axes).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_BASE_SECONDS = env.int("LOGIN_LOCKOUT_BASE_SECONDS", default=60)
LOGIN_LOCKOUT_MAX_SECONDS = env.int("LOGIN_LOCKOUT_MAX_SECONDS", default=24 * 60 * 60)
# Axes first: it refuses a locked account before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "common.lockout.LoginLockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username"]
# Axes warns when the lockout does not include the address, for fear of rotated user
# agents; here an account's failures from every address and user agent count together,
# and addresses are limited by the throttles. Adding the address would also let one
# successful login from an address wipe the failures it made against other accounts.
SILENCED_SYSTEM_CHECKS.append("axes.W006")
AXES_USERNAME_CALLABLE = "common.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "common.lockout.lockout_address"
AXES_FAILURE_LIMIT = "common.lockout.failure_limit"
AXES_COOLOFF_TIME = "common.lockout.failures_kept"
AXES_LOCKOUT_CALLABLE = "common.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# An attempt during a lock is refused untried and not counted: hammering a locked
# account neither lengthens the lock nor tells anything.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Personal data axes need not keep: no log of successful logins (address, user agent),
# no permanent log of failures.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# --- Phone, identity documents, closure and retention (issue 18) ---
# Where one-time codes to phones go (wallet/sms.py): a dotted path to a BaseSmsBackend.
# The console backend (the default) only prints them: `check --deploy` warns about it.
SMS_BACKEND = env.str("SMS_BACKEND", default="wallet.sms.ConsoleBackend")
# A phone code lives this long; at most PHONE_CODES_PER_HOUR are sent per account in any
# hour, and a code dies after PHONE_CODE_ATTEMPTS wrong tries.
PHONE_CODE_TTL_MINUTES = env.int("PHONE_CODE_TTL_MINUTES", default=10)
PHONE_CODES_PER_HOUR = env.int("PHONE_CODES_PER_HOUR", default=5)
PHONE_CODE_ATTEMPTS = env.int("PHONE_CODE_ATTEMPTS", default=5)
# The largest identity document a citizen may upload, in bytes.
IDENTITY_DOCUMENT_MAX_BYTES = env.int("IDENTITY_DOCUMENT_MAX_BYTES", default=5 * 1024 * 1024)
# The retention schedule (merchants/privacy/retention.py, run daily by beat), in days:
# the access log and merchants' decisions are kept six years; ended sign-ins and
# expired, unredeemed one-time codes 30 days; a credit event past its window stays
# RETENTION_EVENTS_GRACE_DAYS more (a dispute opened on its last day can be answered).
RETENTION_ACCESS_LOG_DAYS = env.int("RETENTION_ACCESS_LOG_DAYS", default=2192)
RETENTION_DECISIONS_DAYS = env.int("RETENTION_DECISIONS_DAYS", default=2192)
RETENTION_SIGN_INS_DAYS = env.int("RETENTION_SIGN_INS_DAYS", default=30)
RETENTION_AUTHORIZATION_CODES_DAYS = env.int("RETENTION_AUTHORIZATION_CODES_DAYS", default=30)
RETENTION_EVENTS_GRACE_DAYS = env.int("RETENTION_EVENTS_GRACE_DAYS", default=30)
# The identity API's choice sets, named in the OpenAPI schema.
_ENUM_NAMES = SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
if isinstance(_ENUM_NAMES, dict):
    _ENUM_NAMES.update(
        {
            "IdentityDocumentKindEnum": "wallet.models.IdentityDocumentKind",
            "IdentityDocumentStatusEnum": "wallet.models.IdentityDocumentStatus",
            "SignInKindEnum": "wallet.models.SignInKind",
        }
    )

# --- The citizen's account: e-mail, sessions, tokens (issue 18) ---------------------
# E-mail (verification links, password resets): printed to the console in development;
# in production EMAIL_URL says how to send (django-environ: smtp+tls://user:pass@host:587,
# consolemail://, ...). Without it a production process sends through localhost:25.
vars().update(
    env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Open Sesame <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where the citizen's app is served, for the links in e-mails (no trailing slash).
APP_BASE_URL = env.str("APP_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# A password-reset or e-mail verification link stays valid this long (Django's setting).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=24 * 60 * 60)
# A signed-in device's "last used" is written at most this often (one UPDATE), and a
# session whose sign-in was ended elsewhere is noticed at the latest then.
SIGN_IN_TOUCH_SECONDS = env.int("SIGN_IN_TOUCH_SECONDS", default=300)
# --- Staff: two-factor login, roles, audit trail (issue 18) ---------------------------
# Every staff account signs in to the admin with a password and a TOTP code
# (governance.otp.StaffAdminSite); enrol a device with `manage.py staff_otp_enrol USER`.
# On by default in production (DEBUG=0); the demo (DEBUG=1) may turn it on too.
STAFF_OTP_REQUIRED = env.bool("STAFF_OTP_REQUIRED", default=not DEBUG)
# The name an authenticator app shows beside the staff member's code.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Open Sesame")
# The audit trail (django-simple-history) is read, never replayed: no "Revert" in the
# admin, and its tables are append-only on PostgreSQL (governance/0001_audit_trail).
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Hostile input (issue 18) ---
# The Content Security Policy of the citizen app (client.views), the admin and the API
# docs (common.middleware): only our own files run (no inline script or style) and only
# our own origin is talked to; images may be inline (the app's QR codes, Swagger UI's
# icons: data: SVG) and the app's downloads are blob: URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The admin's: the same, but style attributes are allowed (style-src-attr; never <style>
# elements, never script). Our admin pages and third-party ones (django-simple-history's
# history list) still set a few; remove them, and this exception with them.
ADMIN_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY + "; style-src-attr 'unsafe-inline'"
# A JSON body nested deeper than this answers 400 json_too_deep (common.parsers).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
# The largest body of a request, in bytes: 413 request_too_large above it, checked on
# Content-Length before anything reads the body (common.middleware). Multipart uploads
# (claim evidence, identity documents: files up to 5 MB each) may be this large instead.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
UPLOAD_MAX_REQUEST_BYTES = env.int("UPLOAD_MAX_REQUEST_BYTES", default=12 * 1024 * 1024)
# The schema documents these refusals (413, and 400/415 where a body is read) on every
# operation (common.schema.DocumentedAutoSchema); the enum hook is drf-spectacular's
# default, the other lists each operation's responses in status order.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "common.schema.responses_in_status_order",
]

# --- The merchant console and webhooks (issue 19) ---
# Owners and managers sign in to /merchant/ with a password and a TOTP code (enrolled
# in the console on first sign-in). On by default in production; the demo may turn it on.
CONSOLE_OTP_REQUIRED = env.bool("CONSOLE_OTP_REQUIRED", default=not DEBUG)
# The API reference's sections, in this order: the merchant API first (what a hotel's or a
# biller's developer builds from), then the citizen's app. Every tag an operation uses is
# listed here (tests/common/test_schema_docs.py).
SPECTACULAR_SETTINGS["TAGS"] = [
    {
        "name": "merchant",
        "description": (
            "For a merchant's own systems (a hotel's booking system, a biller's). "
            "Authenticate with `Authorization: Bearer <API key>`; a key answers only for its "
            "merchant, and another merchant's object is a 404. Writes that move money or "
            "grant consent take an `Idempotency-Key`. Every error is problem details with a "
            "stable `code`; each operation lists the codes it can answer, with an example "
            "of each. The lifetimes (a code, a consent, a decision, a hold, the claim "
            "window, the guest's and the merchant's time to answer) are stated on the "
            "operations they govern."
        ),
    },
    {"name": "auth", "description": "The citizen's app: accounts, sessions and tokens."},
    {"name": "me", "description": "The citizen's profile, identity, devices, closing."},
    {"name": "wallet", "description": "The citizen's wallet: balance, ledger, money in and out."},
    {"name": "score", "description": "The citizen's score, records, disputes and access log."},
    {"name": "consents", "description": "The citizen's codes for merchants, and consents."},
    {"name": "perks", "description": "The perks on offer and where the citizen stands."},
    {"name": "bookings", "description": "The citizen's stays, decisions and claims."},
    {"name": "bills", "description": "The citizen's bills."},
    {"name": "export", "description": "Everything held about the citizen, for download."},
    {"name": "payments", "description": "Payment providers' notifications (not for clients)."},
]
# Webhooks (merchants/console/services/webhooks.py). Plain http:// to a loopback address
# is accepted only with WEBHOOKS_ALLOW_LOOPBACK (the demo and the tests); otherwise only
# https:// to public addresses, checked at registration and at every delivery.
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=DEBUG)
# Each socket operation of a delivery (connect, send, each read) gives up after this.
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=5.0)
# A sender's lease on a delivery: past it, a sender that died mid-call loses it and the
# delivery is tried again. Above the longest a request can take (a few timeouts).
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=120)
# Retries: RETRY_BASE doubled after each failure up to RETRY_MAX (±25 % jitter), for
# WEBHOOKS_RETRY_FOR from the delivery (or its resend), then the delivery fails.
WEBHOOKS_RETRY_BASE_SECONDS = env.int("WEBHOOKS_RETRY_BASE_SECONDS", default=30)
WEBHOOKS_RETRY_MAX_SECONDS = env.int("WEBHOOKS_RETRY_MAX_SECONDS", default=6 * 60 * 60)
WEBHOOKS_RETRY_FOR = timedelta(days=env.int("WEBHOOKS_RETRY_DAYS", default=3))
# An endpoint that has failed without a success for this long is disabled (a 410 Gone
# disables it at once).
WEBHOOKS_DISABLE_AFTER = timedelta(days=env.int("WEBHOOKS_DISABLE_AFTER_DAYS", default=5))
# The relay (console.relay_webhook_events) claims this many events per transaction and
# runs at most this long; the periodic sender (console.deliver_webhooks) sends at most
# WEBHOOKS_SEND_LIMIT deliveries or for WEBHOOKS_SEND_BUDGET_SECONDS per run.
WEBHOOKS_RELAY_CHUNK = env.int("WEBHOOKS_RELAY_CHUNK", default=100)
WEBHOOKS_RELAY_BUDGET_SECONDS = 20.0
WEBHOOKS_SEND_LIMIT = env.int("WEBHOOKS_SEND_LIMIT", default=200)
WEBHOOKS_SEND_BUDGET_SECONDS = 50.0
# The webhooks API's choice sets, named in the OpenAPI schema.
_WEBHOOK_ENUMS = SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
if isinstance(_WEBHOOK_ENUMS, dict):
    _WEBHOOK_ENUMS.update(
        {
            "WebhookEventTypeEnum": "common.events.EventType",
            "WebhookDeliveryStatusEnum": "merchants.console.models.DeliveryStatus",
        }
    )
# How long a console invitation link (merchants.console.members.invite_create) can be accepted.
CONSOLE_INVITE_TTL = timedelta(days=env.int("CONSOLE_INVITE_TTL_DAYS", default=7))
# The Content Security Policy of every /merchant/ page: no inline script or style (htmx's
# indicator styles are off through its <meta name="htmx-config">); the TOTP QR is inline SVG.
CONSOLE_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
# --- end of the merchant console and webhooks ---
# --- Metrics -------------------------------------------------------------------------
# /metrics (Prometheus text format) answers only a scraper sending
# "Authorization: Bearer <METRICS_TOKEN>"; unset, the endpoint is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

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
        # No start-up banner on every command, no line per login: failures, lockouts stay.
        "axes": {"level": "WARNING"},
    },
}


# --- Governance: fairness audits, drift, the transparency page ---
# A group's rate under this share of the highest group's is flagged (the four-fifths
# rule): red in the reports, a notice and an error log line from the nightly audit, and
# an approval resting on such an audit needs a written justification.
FAIRNESS_RATIO_FLOOR = env.float("FAIRNESS_RATIO_FLOOR", default=0.8)
# A group with fewer members than this shows no figures (it could single people out).
FAIRNESS_MIN_GROUP_SIZE = env.int("FAIRNESS_MIN_GROUP_SIZE", default=20)
# A scorecard or perk draft is approved only with an audit of it at most this old.
FAIRNESS_AUDIT_MAX_AGE_HOURS = env.int("FAIRNESS_AUDIT_MAX_AGE_HOURS", default=24)
# The population stability index over which the nightly drift check raises a notice.
DRIFT_PSI_ALERT = env.float("DRIFT_PSI_ALERT", default=0.25)
# A queued or running analysis not finished this long after it was last touched is sent
# again by the watcher (its task message was lost, or its worker died).
ANALYSIS_STALE_AFTER = timedelta(minutes=env.int("ANALYSIS_STALE_AFTER_MINUTES", default=15))
# -- the transparency page --
# Paths answered in the visitor's language (Accept-Language, or the switcher's cookie) and
# under the console's Content Security Policy (merchants.console.middleware): the console
# and the public transparency page; never the API, whose messages clients match on.
LOCALIZED_PATH_PREFIXES: tuple[str, ...] = ("/merchant/", "/transparency")
