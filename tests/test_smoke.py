import pytest

from wallet import services
from wallet.models import LedgerAccount


@pytest.mark.django_db
def test_top_up_moves_money_from_funding(citizen):
    services.top_up_create(user=citizen, amount=500)
    wallet = LedgerAccount.objects.get(user=citizen)
    assert wallet.balance == 500
