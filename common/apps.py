from django.apps import AppConfig


class CommonConfig(AppConfig):
    """HTTP plumbing shared by every app: errors, idempotency keys, pagination, health."""

    name = "common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from common import checks  # noqa: F401 - registers the system checks
