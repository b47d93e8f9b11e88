"""Static files as Django collects them, less what the project never serves."""

from collections.abc import Iterable
from typing import Any

from django.contrib.staticfiles.finders import AppDirectoriesFinder

# django-htmx ships htmx's extensions and its version 4 beside version 2; the console
# loads htmx 2 alone. Their ES modules import a bare ``htmx`` that the hashed storage
# cannot resolve, so they are not collected.
NOT_SERVED = ["django_htmx/ext/*", "django_htmx/htmax-*", "django_htmx/htmx-4*"]


class ProjectAppDirectoriesFinder(AppDirectoriesFinder):
    """Django's finder of the apps' ``static/`` folders, which lists (and so collects)
    nothing of ``NOT_SERVED``."""

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterable[Any]:
        return super().list([*(ignore_patterns or []), *NOT_SERVED])
