"""POST /api/v1/payments/<provider>/webhook: only a genuine, fresh notification counts,
and it counts once."""

import json
import logging
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.wallet.payments.conftest import balance_of, confirmation, events, pending_top_up
from wallet.models import ProviderEvent, TopUp, TopUpStatus, Transfer, TransferKind
from wallet.payments import sandbox
from wallet.payments.providers import NotificationKind

pytestmark = pytest.mark.django_db

ANOTHER_SECRET = "whsec_bm90LXRoZS1zYW5kYm94LXNlY3JldC1hdC1hbGwtYXQtYWxs"


def top_up_credits() -> int:
    return Transfer.objects.filter(kind=TransferKind.TOP_UP).count()


def assert_refused_as_forged(response) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_signature"
    assert ProviderEvent.objects.count() == 0
    assert top_up_credits() == 0


@pytest.fixture
def top_up(citizen):
    return pending_top_up(citizen, 12_345)


def test_a_genuine_confirmation_credits_the_wallet_once(citizen, top_up, deliver):
    signed = confirmation(top_up, payer_label="Sandbox account ···4821")

    response = deliver(signed)

    assert response.status_code == 200
    assert response.json() == {"received": True}
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.SUCCEEDED
    assert top_up.payer_label == "Sandbox account ···4821"
    assert top_up.transfer.reference == f"sandbox:{top_up.provider_reference}"
    assert balance_of(citizen) == 12_345
    assert events() == [(signed.headers["webhook-id"], "applied")]


def test_a_replayed_confirmation_changes_nothing(citizen, top_up, deliver):
    signed = confirmation(top_up)
    deliver(signed)

    again = deliver(signed)

    assert again.status_code == 200
    assert balance_of(citizen) == 12_345
    assert top_up_credits() == 1
    assert events() == [(signed.headers["webhook-id"], "applied")]


def test_another_confirmation_of_a_credited_top_up_credits_nothing(citizen, top_up, deliver):
    deliver(confirmation(top_up))

    response = deliver(confirmation(top_up))  # a new event id, the same payment

    assert response.status_code == 200
    assert balance_of(citizen) == 12_345
    assert top_up_credits() == 1
    assert [outcome for _, outcome in events()] == ["applied", "ignored"]


def sign_with_another_secret(top_up):
    with override_settings(PAYMENTS_SANDBOX_SECRET=ANOTHER_SECRET):
        return confirmation(top_up)


def altered_body(top_up):
    signed = confirmation(top_up)
    return signed, signed.body.replace(b'"amount":12345', b'"amount":99999')


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda t: (sign_with_another_secret(t), None, None), id="another secret"),
        pytest.param(lambda t: (*altered_body(t), None), id="altered body"),
        pytest.param(
            lambda t: (s := confirmation(t), None, {**s.headers, "webhook-id": "evt_other"}),
            id="another event id than signed",
        ),
        pytest.param(
            lambda t: (s := confirmation(t), None, {**s.headers, "webhook-signature": "v1,Zm9v"}),
            id="garbage signature",
        ),
        pytest.param(
            lambda t: (s := confirmation(t), None, {**s.headers, "webhook-signature": "%%%"}),
            id="malformed signature",
        ),
        pytest.param(
            lambda t: (s := confirmation(t), None, {**s.headers, "webhook-timestamp": "nan"}),
            id="malformed timestamp",
        ),
        pytest.param(lambda t: (confirmation(t), None, {}), id="no headers"),
        *(
            pytest.param(
                lambda t, h=header: (
                    s := confirmation(t),
                    None,
                    {k: v for k, v in s.headers.items() if k != h},
                ),
                id=f"no {header}",
            )
            for header in ("webhook-id", "webhook-timestamp", "webhook-signature")
        ),
    ],
)
def test_a_forged_notification_is_refused_and_recorded_nowhere(top_up, deliver, forge):
    signed, body, headers = forge(top_up)

    assert_refused_as_forged(deliver(signed, body=body, headers=headers))
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.PENDING


def signed_bytes(body: bytes):
    return sandbox.sign_body(body, event_id="evt_shape")


def shaped(top_up, **changes):
    payload = {
        "type": "top_up.succeeded",
        "data": {
            "reference": top_up.provider_reference,
            "amount": top_up.amount,
            "currency": top_up.currency,
        },
    }
    payload.update(changes)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda t: b"\xff\xfe\x00garbage", id="not UTF-8"),
        pytest.param(lambda t: b"amount=12345", id="not JSON"),
        pytest.param(lambda t: b"[1, 2, 3]", id="a list"),
        pytest.param(lambda t: b'"top_up.succeeded"', id="a string"),
        pytest.param(lambda t: b"[" * 100_000, id="nested past the parser"),
        pytest.param(lambda t: shaped(t, type="top_up.refunded"), id="unknown type"),
        pytest.param(lambda t: shaped(t, data=None), id="no data"),
        pytest.param(lambda t: shaped(t, data=["x"]), id="data a list"),
        pytest.param(lambda t: shaped(t, data={"reference": t.provider_reference}), id="no amount"),
        pytest.param(
            lambda t: shaped(
                t, data={"reference": t.provider_reference, "amount": "12345", "currency": "CNY"}
            ),
            id="amount a string",
        ),
        pytest.param(
            lambda t: shaped(
                t, data={"reference": t.provider_reference, "amount": True, "currency": "CNY"}
            ),
            id="amount a boolean",
        ),
        pytest.param(
            lambda t: shaped(t, data={"reference": "cs_\u0000", "amount": 1, "currency": "CNY"}),
            id="a NUL character",
        ),
        pytest.param(
            lambda t: (
                b'{"type":"top_up.succeeded","data":{"reference":"\\ud800","amount":1,'
                b'"currency":"CNY"}}'
            ),
            id="half a surrogate pair",
        ),
    ],
)
def test_a_signed_body_of_the_wrong_shape_is_refused_and_recorded_nowhere(top_up, deliver, body):
    """Even signed with the secret (a provider's bug, a leaked secret), a body that is not
    a notification is refused the same way, never a server error."""
    assert_refused_as_forged(deliver(signed_bytes(body(top_up))))


@pytest.mark.parametrize("age", [timedelta(minutes=6), -timedelta(minutes=6)])
def test_a_notification_signed_too_long_ago_or_ahead_is_refused(top_up, deliver, age):
    signed = sandbox.sign(
        json.loads(confirmation(top_up).body), event_id="evt_stale", at=timezone.now() - age
    )

    assert_refused_as_forged(deliver(signed))


def test_a_notification_signed_within_five_minutes_counts(citizen, top_up, deliver):
    signed = sandbox.sign(
        json.loads(confirmation(top_up).body),
        event_id="evt_late",
        at=timezone.now() - timedelta(minutes=4),
    )

    assert deliver(signed).status_code == 200
    assert balance_of(citizen) == 12_345


@pytest.mark.parametrize("change", [{"amount": 12_344}, {"amount": 1_234_500}, {"currency": "USD"}])
def test_a_confirmation_of_another_amount_is_refused_and_logged(
    citizen, top_up, deliver, caplog, change
):
    signed = confirmation(top_up, **change)

    with caplog.at_level(logging.ERROR, logger="wallet.payments.services"):
        response = deliver(signed)

    assert response.status_code == 200  # received; the provider must not retry it
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.PENDING
    assert balance_of(citizen) == 0
    assert events() == [(signed.headers["webhook-id"], "refused")]
    [record] = [r for r in caplog.records if r.message == "payment notification refused"]
    assert record.reference == top_up.provider_reference
    assert "does not match" in record.detail

    # The genuine confirmation still counts.
    deliver(confirmation(top_up))
    assert balance_of(citizen) == 12_345


def test_a_notification_about_no_top_up_of_ours_is_recorded_as_refused(deliver, caplog):
    signed = sandbox.notification_for(
        NotificationKind.TOP_UP_SUCCEEDED, reference="cs_unknown", amount=100, currency="CNY"
    )

    with caplog.at_level(logging.ERROR, logger="wallet.payments.services"):
        response = deliver(signed)

    assert response.status_code == 200
    assert events() == [(signed.headers["webhook-id"], "refused")]
    assert ProviderEvent.objects.get().detail == "no top-up with this reference"
    assert "payment notification refused" in caplog.messages
    assert top_up_credits() == 0


def test_an_unknown_provider_is_not_found(top_up, deliver):
    response = deliver(confirmation(top_up), url="/api/v1/payments/acme/webhook")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert ProviderEvent.objects.count() == 0


@override_settings(PAYMENTS_SANDBOX=False)
def test_without_the_sandbox_its_webhook_is_not_found(top_up, deliver):
    """The sandbox's secret has a public default: where the sandbox is not allowed, a
    notification signed with it must count for nothing."""
    response = deliver(confirmation(top_up))

    assert response.status_code == 404
    assert ProviderEvent.objects.count() == 0
    assert top_up_credits() == 0


def test_a_declined_top_up_fails_and_a_later_confirmation_is_refused(citizen, top_up, deliver):
    deliver(
        sandbox.checkout_decline(
            reference=top_up.provider_reference, amount=top_up.amount, currency=top_up.currency
        )
    )

    deliver(confirmation(top_up))

    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.FAILED
    assert balance_of(citizen) == 0
    assert [outcome for _, outcome in events()] == ["applied", "refused"]


def test_the_webhook_needs_no_credentials_and_no_csrf_token(citizen, top_up, deliver):
    """``deliver`` posts from a client that enforces CSRF, with no session or token."""
    assert deliver(confirmation(top_up)).status_code == 200
    assert TopUp.objects.get(pk=top_up.pk).status == TopUpStatus.SUCCEEDED
