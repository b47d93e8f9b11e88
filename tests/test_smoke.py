import pytest

from tests.money import top_up_paid
from wallet.models import LedgerAccount


@pytest.mark.django_db
def test_top_up_moves_money_from_funding(citizen):
    top_up_paid(citizen, 500)
    wallet = LedgerAccount.objects.get(user=citizen)
    assert wallet.balance == 500
