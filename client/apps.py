from django.apps import AppConfig


class ClientConfig(AppConfig):
    """The citizen app: one shell page and static files. It talks to the server only
    through ``/api/v1/``, like a native client, so it imports nothing from the domain."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "client"
    verbose_name = "Citizen app"
