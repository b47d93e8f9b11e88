from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    """Merchants, API keys, perks and rules, consents, decisions, bookings, claims, bills."""

    name = "merchants"
    verbose_name = "Merchants"
