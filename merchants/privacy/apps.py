from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """The citizen's own data: the export of everything held about them."""

    name = "merchants.privacy"
    label = "privacy"
    verbose_name = "Privacy"
