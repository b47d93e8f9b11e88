"""Factories shared by the whole suite."""

import factory
from django.conf import settings

from wallet.models import AccountKind, LedgerAccount, User


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"citizen{n}")
    display_name = factory.Faker("name")
    password = factory.django.Password("correct-horse-battery")


class SettlementAccountFactory(factory.django.DjangoModelFactory[LedgerAccount]):
    """A merchant's settlement account (the merchants app links it to a merchant)."""

    class Meta:
        model = LedgerAccount

    code = factory.Sequence(lambda n: f"settlement:test-{n}")
    kind = AccountKind.SETTLEMENT
    name = factory.Sequence(lambda n: f"Test merchant {n}")
    currency = factory.LazyFunction(lambda: settings.WALLET_CURRENCY)
