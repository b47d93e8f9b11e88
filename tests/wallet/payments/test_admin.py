"""The payments' admin: reports, top-ups, payouts and provider events, read-only, with
their filters and search; a report's page shows each problem and the providers' totals;
"Run the reconciliation now" stores a new report."""

import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import SettlementAccountFactory
from tests.money import top_up_paid
from wallet import services as ledger
from wallet.models import (
    Payout,
    PayoutStatus,
    ProviderEvent,
    ReconciliationReport,
    TopUp,
    TopUpStatus,
    User,
)
from wallet.payments import services as payments
from wallet.payments.reconciliation import reconcile

pytestmark = pytest.mark.django_db

MODELS = [ReconciliationReport, TopUp, Payout, ProviderEvent]


@pytest.fixture
def admin_client(client):
    superuser = User.objects.create_superuser(username="root", password="root-password-123")
    client.force_login(superuser)
    return client


@pytest.fixture
def payments_rows(citizen, other_citizen, settings):
    """A top-up of each outcome, a paid and a failed withdrawal, a merchant payout, and two
    reports: one clean, one with a difference."""
    top_up_paid(citizen, 10_000)
    top_up_paid(other_citizen, 5_000)
    settings.PAYMENTS_SANDBOX_AUTO_CONFIRM = False
    payments.top_up_start(user=citizen, amount=2_500)  # left pending
    settings.PAYMENTS_SANDBOX_AUTO_CONFIRM = True
    payments.withdrawal_create(user=citizen, amount=1_000)
    TopUp.objects.filter(user=other_citizen).update(payer_label="failing account")
    payments.withdrawal_create(user=other_citizen, amount=700)
    shop = SettlementAccountFactory(name="Corner shop")
    ledger.payment_create(user=citizen, destination=shop, amount=4_000)
    payments.settlement_payout_create(account=shop, destination="Shop bank ···7788", threshold=1)
    payments.payouts_send()
    clean = reconcile()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_ledgeraccount SET held = held + 5 WHERE id = %s",
            [ledger.wallet_open(user=citizen).pk],
        )
    differing = reconcile()
    return {"clean": clean, "differing": differing, "shop": shop}


def admin_url(model, view, *args):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_changelist_and_change_page_renders(admin_client, payments_rows, model):
    changelist = admin_client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    for obj in model.objects.all():
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_nothing_can_be_added_changed_or_deleted(admin_client, payments_rows, model):
    obj = model.objects.first()
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    delete = admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})
    assert delete.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
    page = admin_client.get(admin_url(model, "change", obj.pk)).content.decode()
    assert 'name="_save"' not in page


def test_changelist_queries_are_bounded(admin_client, payments_rows, django_assert_max_num_queries):
    # A row more does not cost a query more (list_select_related).
    for model in (TopUp, Payout):
        with django_assert_max_num_queries(12):
            assert admin_client.get(admin_url(model, "changelist")).status_code == 200


def test_money_is_formatted(admin_client, payments_rows):
    page = admin_client.get(admin_url(TopUp, "changelist")).content.decode()
    assert "100.00 CNY" in page
    assert "25.00 CNY" in page


# --- The reports ----------------------------------------------------------------------------


def test_report_list_shows_date_result_and_difference(admin_client, payments_rows):
    page = admin_client.get(admin_url(ReconciliationReport, "changelist")).content.decode()
    assert str(payments_rows["clean"].business_date.year) in page
    assert "0.00 CNY" in page
    assert "Run the reconciliation now" in page


def test_reports_filter_by_result(admin_client, payments_rows):
    response = admin_client.get(admin_url(ReconciliationReport, "changelist"), {"ok__exact": "0"})
    assert list(response.context["cl"].result_list) == [payments_rows["differing"]]
    response = admin_client.get(admin_url(ReconciliationReport, "changelist"), {"ok__exact": "1"})
    assert list(response.context["cl"].result_list) == [payments_rows["clean"]]


def test_a_report_page_names_each_problem_and_shows_the_providers(
    admin_client, payments_rows, citizen
):
    report = payments_rows["differing"]
    page = admin_client.get(admin_url(ReconciliationReport, "change", report.pk)).content.decode()
    wallet = ledger.wallet_open(user=citizen)
    assert "held_is_sum_of_active_holds" in page
    assert wallet.code in page
    assert "DIFFERENCE" in page
    # The providers' totals: 150.00 received, 10.00 + 40.00 paid out
    assert "sandbox" in page
    assert "150.00 CNY" in page
    assert "50.00 CNY" in page


def test_running_the_reconciliation_now_stores_a_report(admin_client, payments_rows):
    before = ReconciliationReport.objects.count()

    response = admin_client.post(reverse("admin:wallet_reconciliationreport_run"))

    assert ReconciliationReport.objects.count() == before + 1
    newest = ReconciliationReport.objects.order_by("-started_at").first()
    assert response.status_code == 302
    assert response["Location"] == admin_url(ReconciliationReport, "change", newest.pk)
    # The tampered held amount is still there
    assert not newest.ok


def test_running_it_needs_a_post(admin_client, db):
    response = admin_client.get(reverse("admin:wallet_reconciliationreport_run"))
    assert response.status_code == 405
    assert ReconciliationReport.objects.count() == 0


def test_running_it_needs_staff(client, citizen):
    client.force_login(citizen)
    response = client.post(reverse("admin:wallet_reconciliationreport_run"))
    assert response.status_code == 302
    assert ReconciliationReport.objects.count() == 0


# --- Filters and search ------------------------------------------------------------------------


def results(client, model, params):
    response = client.get(admin_url(model, "changelist"), params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_top_ups_filter_by_status_and_search(admin_client, payments_rows, citizen):
    pending = results(admin_client, TopUp, {"status__exact": TopUpStatus.PENDING})
    assert [top_up.amount for top_up in pending] == [2_500]
    assert {t.user_id for t in results(admin_client, TopUp, {"q": "alice"})} == {citizen.pk}
    top_up = TopUp.objects.get(amount=5_000)
    assert results(admin_client, TopUp, {"q": str(top_up.pk)}) == [top_up]
    assert results(admin_client, TopUp, {"q": top_up.provider_reference}) == [top_up]
    assert results(admin_client, TopUp, {"provider": "sandbox"}) != []


def test_payouts_filter_by_kind_status_and_search(admin_client, payments_rows):
    withdrawals = results(admin_client, Payout, {"kind": "wallet"})
    assert sorted(p.amount for p in withdrawals) == [700, 1_000]
    merchant = results(admin_client, Payout, {"kind": "settlement"})
    assert [p.account_id for p in merchant] == [payments_rows["shop"].pk]
    failed = results(admin_client, Payout, {"status__exact": PayoutStatus.FAILED})
    assert [p.amount for p in failed] == [700]
    assert [p.amount for p in results(admin_client, Payout, {"q": "bob"})] == [700]
    payout = Payout.objects.get(amount=1_000)
    assert results(admin_client, Payout, {"q": str(payout.pk)}) == [payout]
    page = admin_client.get(admin_url(Payout, "changelist"), {"kind": "settlement"})
    assert "Merchant payout" in page.content.decode()


def test_provider_events_filter_by_outcome_and_kind(admin_client, payments_rows):
    applied = results(admin_client, ProviderEvent, {"outcome": "applied"})
    assert len(applied) == ProviderEvent.objects.count()
    failed = results(admin_client, ProviderEvent, {"kind": "payout.failed"})
    assert len(failed) == 1
    assert results(admin_client, ProviderEvent, {"provider": "nowhere"}) == []


def test_a_search_that_is_no_id_finds_nothing_and_does_not_fail(admin_client, payments_rows):
    assert results(admin_client, Payout, {"q": "not-a-uuid"}) == []
