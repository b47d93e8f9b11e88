"""``rows_insert``: plain rows in, the same values out through the ORM."""

import uuid
from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.bulk import row_instance, rows_insert
from merchants.models import AuthorizationCode
from scoring.models import Scorecard, ScoreSnapshot
from wallet.models import User

pytestmark = pytest.mark.django_db


def test_rows_come_back_through_the_orm_as_they_went_in(citizen):
    # Given rows with ids, times in another zone, an empty value and JSON
    scorecard = Scorecard.objects.get(status="active")
    in_tokyo = timezone.now().astimezone(dt_timezone(timedelta(hours=9)))
    code_id = uuid.uuid4()
    written = rows_insert(
        AuthorizationCode,
        ("id", "citizen_id", "scope", "merchant_id", "digest", "created_at", "expires_at"),
        [(code_id, citizen.pk, "deposit_waiver", None, "d" * 64, in_tokyo, in_tokyo)],
    )
    rows_insert(
        ScoreSnapshot,
        (
            "account_id",
            "scorecard_id",
            "score",
            "band",
            "points",
            "reasons",
            "features",
            "fingerprint",
            "trigger",
            "computed_at",
        ),
        [
            (
                citizen.pk,
                scorecard.pk,
                600,
                "good",
                {"identity": 40},
                [["thin_file", 20]],
                {"identity_level": 1},
                7,
                "batch",
                in_tokyo,
            )
        ],
    )
    # Then the ORM reads the same values back
    assert written == 1
    code = AuthorizationCode.objects.get(pk=code_id)
    assert (code.citizen_id, code.merchant_id, code.created_at, code.redeemed_at) == (
        citizen.pk,
        None,
        in_tokyo,
        None,
    )
    snapshot = ScoreSnapshot.objects.get(account=citizen)
    assert (snapshot.points, snapshot.reasons, snapshot.features, snapshot.computed_at) == (
        {"identity": 40},
        [["thin_file", 20]],
        {"identity_level": 1},
        in_tokyo,
    )
    # And a time-range query finds it where the ORM would
    assert ScoreSnapshot.objects.filter(computed_at__gte=in_tokyo).count() == 1
    assert ScoreSnapshot.objects.filter(computed_at__gt=in_tokyo).count() == 0


def test_a_naive_time_or_a_short_row_is_refused(citizen):
    # Each in a transaction of its own: on PostgreSQL a refused COPY aborts the transaction
    with pytest.raises(ValueError, match="naive"), transaction.atomic():
        rows_insert(
            AuthorizationCode,
            ("id", "citizen_id", "scope", "digest", "created_at", "expires_at"),
            [
                (
                    uuid.uuid4(),
                    citizen.pk,
                    "deposit_waiver",
                    "e" * 64,
                    timezone.now().replace(tzinfo=None),
                    timezone.now(),
                )
            ],
        )
    with pytest.raises(ValueError, match="A row of 2 values for 3 columns"), transaction.atomic():
        rows_insert(AuthorizationCode, ("id", "citizen_id", "scope"), [(uuid.uuid4(), citizen.pk)])
    assert AuthorizationCode.objects.count() == 0


def test_a_refused_row_raises_djangos_integrity_error_and_writes_nothing(citizen: User) -> None:
    # Given a code already written
    row = (uuid.uuid4(), citizen.pk, "deposit_waiver", "f" * 64, timezone.now(), timezone.now())
    columns = ("id", "citizen_id", "scope", "digest", "created_at", "expires_at")
    rows_insert(AuthorizationCode, columns, [row])
    # When it is written again (with another), then the database refuses it as it would
    # refuse save(): a Django IntegrityError, which callers can catch and retry
    other = (uuid.uuid4(), *row[1:])
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(AuthorizationCode, columns, [other, row])
    assert AuthorizationCode.objects.count() == 1


def test_row_instance_is_the_row_as_the_orm_reads_it_back(citizen: User) -> None:
    now = timezone.now()
    columns = ("id", "citizen_id", "scope", "merchant_id", "digest", "created_at", "expires_at")
    row = (
        uuid.uuid4(),
        citizen.pk,
        "deposit_waiver",
        None,
        "a" * 64,
        now,
        now + timedelta(minutes=5),
    )
    rows_insert(AuthorizationCode, columns, [row])

    code = row_instance(AuthorizationCode, columns, row)

    stored = AuthorizationCode.objects.get(pk=row[0])
    assert (code._state.adding, code._state.db) == (False, "default")
    assert code == stored
    assert [getattr(code, name) for name in columns] == [getattr(stored, name) for name in columns]
    assert code.citizen == citizen
