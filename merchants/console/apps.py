from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The merchant console (``/merchant/``: web pages for hotel and biller staff) and
    the webhooks that tell merchants' systems what changed."""

    name = "merchants.console"
    label = "console"
    verbose_name = "Merchant console and webhooks"
