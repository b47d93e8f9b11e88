"""The retention schedule (``privacy.retention_run``, daily): each kind of row is
deleted once past its period and kept the moment before; what protects a row (a
consent's code, a booking's decision, a disputed event) keeps it. Time is pinned."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from knox.models import AuthToken

from common.models import IdempotencyKey
from config.schedule import PERIODIC_TASKS
from merchants import services
from merchants.models import AuthorizationCode, Merchant
from merchants.perks import services as perks_services
from merchants.perks.models import Decision
from merchants.privacy import retention, tasks
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import AccessLogEntry, CreditEvent
from tests.merchants.conftest import code_for, make_reliable
from wallet import services as wallet_services
from wallet.models import PhoneVerification, SignIn, User

NOW = datetime(2026, 6, 15, 4, 40, tzinfo=UTC)
SIX_YEARS = timedelta(days=2192)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hotel(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")


def nothing_deleted() -> dict[str, int]:
    return dict.fromkeys(
        (
            "sign_ins",
            "sessions",
            "tokens",
            "phone_codes",
            "authorization_codes",
            "idempotency_keys",
            "login_attempts",
            "access_log",
            "decisions",
            "credit_events",
        ),
        0,
    )


def sign_in(user: User, *, ended: datetime | None, key: str) -> SignIn:
    return SignIn.objects.create(
        user=user,
        kind="token",
        token_key=key,
        created_at=NOW - timedelta(days=90),
        last_used_at=NOW - timedelta(days=60),
        ended_at=ended,
    )


def phone_code(user: User, *, expires_at: datetime) -> PhoneVerification:
    return PhoneVerification.objects.create(
        user=user,
        number="+8613800138000",
        code_digest="0" * 64,
        created_at=expires_at - timedelta(minutes=10),
        expires_at=expires_at,
    )


def access_row(user: User, *, created_at: datetime) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        citizen=user,
        accessor_kind="staff",
        accessor_id="1",
        accessor_name="Open Sesame support",
        purpose_code="support_review",
        facts=["score"],
        created_at=created_at,
    )


def test_each_kind_is_deleted_past_its_period_and_kept_before(citizen, hotel, clock):
    # Sign-ins: ended 30 days and a second ago (gone), ended 30 days ago less a second
    # (kept), still open (kept).
    gone_sign_in = sign_in(citizen, ended=NOW - timedelta(days=30, seconds=1), key="a")
    kept_sign_ins = [
        sign_in(citizen, ended=NOW - timedelta(days=30) + timedelta(seconds=1), key="b"),
        sign_in(citizen, ended=None, key="c"),
    ]
    # Phone codes: kept one hour past their expiry.
    phone_code(citizen, expires_at=NOW - timedelta(hours=1, seconds=1))
    kept_code = phone_code(citizen, expires_at=NOW - timedelta(minutes=59))
    # One-time codes: unredeemed ones 30 days past expiry; a redeemed one stays with its
    # consent however old.
    code_for(citizen)
    code_for(citizen)
    redeemed = services.consent_redeem(merchant=hotel, code=code_for(citizen))
    codes = AuthorizationCode.objects.filter(citizen=citizen)
    codes.update(expires_at=NOW - timedelta(days=30, seconds=1))
    unredeemed = list(codes.exclude(pk=redeemed.code_id))
    assert len(unredeemed) == 2
    AuthorizationCode.objects.filter(pk=unredeemed[1].pk).update(
        expires_at=NOW - timedelta(days=29)
    )
    # An idempotency key past its 48 hours, and one within.
    with time_machine.travel(NOW - timedelta(hours=49), tick=False):
        IdempotencyKey.objects.create(scope="user:1", key="old", fingerprint="f")
    IdempotencyKey.objects.create(scope="user:1", key="new", fingerprint="f")
    # Login attempts: older than the longest lockout (24 h) go.
    old_attempt = AccessAttempt.objects.create(
        username="alice", ip_address="127.0.0.1", user_agent="x", failures_since_start=1
    )
    AccessAttempt.objects.filter(pk=old_attempt.pk).update(
        attempt_time=NOW - timedelta(hours=24, seconds=1)
    )
    AccessAttempt.objects.create(
        username="bob", ip_address="127.0.0.1", user_agent="x", failures_since_start=1
    )
    # Web sessions: an expired one and a live one; app tokens likewise.
    expired_session, live_session = SessionStore(), SessionStore()
    expired_session.create()
    live_session.create()
    Session.objects.filter(session_key=expired_session.session_key).update(
        expire_date=NOW - timedelta(seconds=1)
    )
    expired_token = wallet_services.auth_token_create(user=citizen)
    live_token = wallet_services.auth_token_create(user=citizen)
    AuthToken.objects.exclude(token_key=live_token[:15]).update(expiry=NOW - timedelta(seconds=1))
    # The access log: six years to the second.
    access_row(citizen, created_at=NOW - SIX_YEARS - timedelta(seconds=1))
    kept_access = access_row(citizen, created_at=NOW - SIX_YEARS + timedelta(seconds=1))

    deleted = retention.retention_run()

    assert deleted == {
        **nothing_deleted(),
        "sign_ins": 1,
        "sessions": 1,
        "tokens": 1,
        "phone_codes": 1,
        "authorization_codes": 1,
        "idempotency_keys": 1,
        "login_attempts": 1,
        "access_log": 1,
    }
    assert not SignIn.objects.filter(pk=gone_sign_in.pk).exists()
    listed = SignIn.objects.filter(pk__in=[row.pk for row in [gone_sign_in, *kept_sign_ins]])
    assert set(listed.values_list("pk", flat=True)) == {row.pk for row in kept_sign_ins}
    # The expired token's device ended with it; the live one's is still open.
    token_devices = SignIn.objects.filter(token_key__in=[expired_token[:15], live_token[:15]])
    assert sorted((row.token_key, row.ended_at) for row in token_devices) == sorted(
        [(expired_token[:15], NOW), (live_token[:15], None)]
    )
    assert list(PhoneVerification.objects.values_list("pk", flat=True)) == [kept_code.pk]
    assert set(AuthorizationCode.objects.values_list("pk", flat=True)) == {
        redeemed.code_id,
        unredeemed[1].pk,
    }
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert AccessAttempt.objects.count() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live_session.session_key]
    assert AuthToken.objects.filter(user=citizen).count() == 1
    assert list(AccessLogEntry.objects.filter(citizen=citizen).values_list("pk", flat=True)) == [
        kept_access.pk
    ]
    # Run again: nothing left to delete.
    assert retention.retention_run() == nothing_deleted()


def test_decisions_go_after_six_years_unless_a_booking_keeps_them(citizen, hotel, clock):
    make_reliable(citizen)
    decisions = [
        perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=10_000, code=code_for(citizen)
        )
        for _ in range(3)
    ]
    booked = decisions[0]
    perks_services.booking_create(
        merchant=hotel,
        decision_id=booked.pk,
        reference="R-1",
        check_in=timezone.localdate(),
        check_out=timezone.localdate() + timedelta(days=1),
        deposit_amount=10_000,
    )
    Decision.objects.filter(pk__in=[booked.pk, decisions[1].pk]).update(
        created_at=NOW - SIX_YEARS - timedelta(seconds=1)
    )
    Decision.objects.filter(pk=decisions[2].pk).update(
        created_at=NOW - SIX_YEARS + timedelta(seconds=1)
    )

    deleted = retention.retention_run()

    assert deleted["decisions"] == 1
    assert set(Decision.objects.values_list("pk", flat=True)) == {booked.pk, decisions[2].pk}


def test_credit_events_go_a_month_after_their_window_unless_disputed(citizen, clock):
    for name in ("gone", "kept", "disputed", "counting"):
        scoring_services.record_event(
            account=citizen,
            kind=EventKinds.BILL_PAID_LATE,
            occurred_at=NOW - timedelta(days=900),
            source=f"test:{name}",
        )
    events = {event.source.split(":")[1]: event for event in CreditEvent.objects.all()}
    scoring_services.dispute_open(citizen=citizen, event=events["disputed"], reason="Not mine.")
    past = NOW - timedelta(days=30, seconds=1)
    CreditEvent.objects.filter(pk__in=[events["gone"].pk, events["disputed"].pk]).update(
        counts_until=past
    )
    CreditEvent.objects.filter(pk=events["kept"].pk).update(counts_until=NOW - timedelta(days=29))
    CreditEvent.objects.filter(pk=events["counting"].pk).update(
        counts_until=NOW + timedelta(days=1)
    )

    deleted = retention.retention_run()

    assert deleted["credit_events"] == 1
    assert set(CreditEvent.objects.values_list("source", flat=True)) == {
        "test:kept",
        "test:disputed",
        "test:counting",
    }


def test_the_daily_task_runs_the_schedule(citizen, clock):
    phone_code(citizen, expires_at=NOW - timedelta(days=1))

    result = tasks.retention_run.delay().get()

    assert result == {**nothing_deleted(), "phone_codes": 1}
    entry = PERIODIC_TASKS["privacy: delete what the retention schedule says is past its period"]
    assert entry["task"] == "privacy.retention_run"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({4}, {40})


# --- The access log's guard on PostgreSQL --------------------------------------------


def refused(sql: str, params: list[int]) -> None:
    with (
        pytest.raises(IntegrityError, match="access-log rows are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_access_log_rows_outside_the_purge(citizen):
    row = access_row(citizen, created_at=timezone.now() - SIX_YEARS * 2)
    table = AccessLogEntry._meta.db_table

    refused(f"UPDATE {table} SET accessor_name = 'someone else' WHERE id = %s", [row.pk])  # noqa: S608
    refused(f"DELETE FROM {table} WHERE id = %s", [row.pk])  # noqa: S608
    # Even inside a purge, a row is never rewritten.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('open_sesame.retention_purge', 'on', true)")
        refused(f"UPDATE {table} SET accessor_name = 'someone else' WHERE id = %s", [row.pk])  # noqa: S608
    # Someone else's setting name, or another value, does not open the guard.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('open_sesame.retention_purge', 'yes', true)")
        refused(f"DELETE FROM {table} WHERE id = %s", [row.pk])  # noqa: S608
    assert AccessLogEntry.objects.filter(pk=row.pk, accessor_name="Open Sesame support").exists()

    # The purge deletes it; the setting ends with its transaction.
    assert retention.access_log_purge(before=timezone.now() - SIX_YEARS) == 1
    assert not AccessLogEntry.objects.filter(pk=row.pk).exists()
    other = access_row(citizen, created_at=timezone.now())
    refused(f"DELETE FROM {table} WHERE id = %s", [other.pk])  # noqa: S608
