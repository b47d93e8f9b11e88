from django.apps import AppConfig


class PerksConfig(AppConfig):
    """Perks and their rules, eligibility decisions, bookings, claims and claim disputes."""

    name = "merchants.perks"
    label = "perks"
    verbose_name = "Perks"
