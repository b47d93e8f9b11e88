from django.apps import AppConfig


class WalletConfig(AppConfig):
    """Users and accounts, identity level, the double-entry ledger, holds, top-ups."""

    name = "wallet"
    verbose_name = "Wallet"
