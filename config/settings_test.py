"""Settings for the test suite: the real settings, with test-only speed-ups.

The database and the broker still come from the environment, so CI runs the same
suite against PostgreSQL and Redis that a laptop runs against SQLite.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
# The web process's database timeouts apply in tests too, but one: a test's whole body
# runs in one transaction, which a slow machine or a debugger may leave idle for a while.
os.environ.setdefault("DB_IDLE_IN_TRANSACTION_TIMEOUT", "600")
# The tests run on the sandbox payment provider, on purpose.
os.environ.setdefault("PAYMENTS_SANDBOX", "1")

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

# Hashing passwords properly costs ~100 ms each; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Requests made by tests are plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Uploaded files (claim evidence) go to a directory of this test process, never the
# project's media folder.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="open-sesame-test-media-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tasks run in-process unless a test starts a real worker (tests/test_celery_worker.py),
# so no test leaves stray messages on a shared broker.
CELERY_TASK_ALWAYS_EAGER = True

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "auth": "1000/min",
        "auth_account": "1000/min",
        "password_reset": "1000/min",
        "password_reset_account": "1000/min",
        "merchant_key": "10000/min",
    },
}

# Tests fail codes and keys on purpose, all from one address: the tests of the attempt
# limits (tests/merchants/api/test_attempts.py) set CODE_ATTEMPTS_LIMIT themselves.
CODE_ATTEMPTS_LIMIT = 1_000_000

# Tests fail logins on purpose (and many log in as the same few names): no account locks
# unless a test of the lockout (tests/security/test_lockout.py) lowers the limit itself.
LOGIN_FAILURE_LIMIT = 1_000_000

# The sandbox provider confirms top-ups at once, so tests fund citizens through the real
# path (tests.money.top_up_paid); tests of the checkout page turn it off.
PAYMENTS_SANDBOX = True
PAYMENTS_SANDBOX_AUTO_CONFIRM = True
# Tests fund their citizens freely; the tests of the limits set PAYMENTS_LIMITS themselves
# (config.settings.PAYMENTS_LIMITS are the production defaults).
_UNLIMITED = 10**15
PAYMENTS_LIMITS = {
    level: dict.fromkeys(
        ("top_up_daily", "top_up_monthly", "balance_max", "withdrawal_daily"), _UNLIMITED
    )
    for level in (0, 1, 2)
}

# Text messages (phone codes) are kept in wallet.sms.outbox, never printed or sent.
SMS_BACKEND = "wallet.sms.LocmemBackend"

# E-mails stay in django.core.mail.outbox, where the tests read them.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
APP_BASE_URL = "https://app.example"
# Admin tests sign staff in with force_login, without a second factor; the tests of the
# two-factor login (tests/governance/test_staff_otp.py) turn it on.
STAFF_OTP_REQUIRED = False
# The console asks owners and managers for their second factor in the tests, as in production.
CONSOLE_OTP_REQUIRED = True
# Tests deliver webhooks to a receiver on 127.0.0.1.
WEBHOOKS_ALLOW_LOOPBACK = True
