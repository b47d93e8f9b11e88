from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The merchant console (``/merchant/``: web pages for hotel and biller staff) and
    the webhooks that tell merchants' systems what changed."""

    name = "merchants.console"
    label = "console"
    verbose_name = "Merchant console and webhooks"

    def ready(self) -> None:
        # Register the webhook tasks in every process, not only in workers (Celery's
        # autodiscovery runs at worker start): ``common.events`` kicks the relay by its
        # name (``common.kick.kick_by_name``), after the commit of a web request too.
        from merchants.console import checks, tasks  # noqa: F401  (checks register themselves)
