from django.apps import AppConfig


class WalletConfig(AppConfig):
    """Users and accounts, identity level, the double-entry ledger, holds, and money in
    and out through a payment provider."""

    name = "wallet"
    verbose_name = "Wallet"

    def ready(self) -> None:
        from wallet import checks  # noqa: F401  (registers the system checks)
