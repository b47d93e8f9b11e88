from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    """Merchants, their API keys, citizens' one-time codes and consents."""

    name = "merchants"
    label = "merchants"
    verbose_name = "Merchants"
