from django.apps import AppConfig


class WalletConfig(AppConfig):
    """Users and accounts, identity level, the double-entry ledger, holds, and money in
    and out through a payment provider."""

    name = "wallet"
    verbose_name = "Wallet"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from wallet import accounts, checks  # noqa: F401  (registers the system checks)

        # Every session login (the API's, the admin's) records the device it signed in.
        user_logged_in.connect(accounts.session_signed_in, dispatch_uid="wallet.sign_in")
