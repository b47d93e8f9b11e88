"""Static files as Django collects them, less what the project never serves."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class ProjectStaticFilesConfig(StaticFilesConfig):
    """django-htmx ships htmx's extensions and its version 4 beside version 2; the console
    loads htmx 2 alone. Their ES modules import a bare ``htmx`` that the hashed storage
    cannot resolve, so they are not collected."""

    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "django_htmx/ext/*",
        "django_htmx/htmax-*",
        "django_htmx/htmx-4*",
    ]
