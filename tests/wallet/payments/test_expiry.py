"""Pending top-ups expire; a confirmation that comes too late credits nothing."""

from datetime import timedelta

import pytest
from django.conf import settings

from tests.wallet.payments.conftest import balance_of, confirmation, events, pending_top_up
from wallet.models import TopUpStatus
from wallet.payments import tasks

pytestmark = pytest.mark.django_db


def test_the_sweeper_expires_a_pending_top_up_past_its_time(citizen, travel):
    top_up = pending_top_up(citizen, 5_000)
    assert top_up.expires_at - top_up.created_at == settings.PAYMENTS_TOP_UP_EXPIRES_AFTER

    travel(settings.PAYMENTS_TOP_UP_EXPIRES_AFTER - timedelta(seconds=5))
    assert tasks.expire_top_ups.apply().get() == 0
    travel(timedelta(seconds=10))
    assert tasks.expire_top_ups.apply().get() == 1
    assert tasks.expire_top_ups.apply().get() == 0  # twice is harmless

    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.EXPIRED
    assert top_up.resolved_at is not None
    assert top_up.failure_reason == "Not paid in time."


def test_a_confirmation_after_the_sweeper_is_refused(citizen, travel, deliver):
    top_up = pending_top_up(citizen, 5_000)
    travel(settings.PAYMENTS_TOP_UP_EXPIRES_AFTER + timedelta(seconds=1))
    tasks.expire_top_ups.apply()

    response = deliver(confirmation(top_up))

    assert response.status_code == 200
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.EXPIRED
    assert balance_of(citizen) == 0
    assert [outcome for _, outcome in events()] == ["refused"]


def test_a_confirmation_after_the_time_but_before_the_sweeper_is_refused(citizen, travel, deliver):
    top_up = pending_top_up(citizen, 5_000)
    travel(settings.PAYMENTS_TOP_UP_EXPIRES_AFTER + timedelta(seconds=1))

    response = deliver(confirmation(top_up))

    assert response.status_code == 200
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.EXPIRED
    assert balance_of(citizen) == 0
    assert [outcome for _, outcome in events()] == ["refused"]
    assert tasks.expire_top_ups.apply().get() == 0


def test_a_confirmation_in_time_is_not_expired_afterwards(citizen, travel, deliver):
    top_up = pending_top_up(citizen, 5_000)
    travel(settings.PAYMENTS_TOP_UP_EXPIRES_AFTER - timedelta(seconds=30))
    deliver(confirmation(top_up))
    travel(timedelta(minutes=5))

    assert tasks.expire_top_ups.apply().get() == 0
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.SUCCEEDED
    assert balance_of(citizen) == 5_000
