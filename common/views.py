"""View bases shared by every app's API."""

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.serializers import Serializer

from common.schema import PAGE_NOT_FOUND, problem_responses
from wallet.models import User


def request_citizen(request: Request) -> User:
    """The signed-in person behind a citizen endpoint's request.

    Every such endpoint requires authentication (the default permission class), so by
    the time a handler runs the caller is a ``User``; anyone else is refused the way the
    permission refuses them."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user


class CitizenListView(generics.ListAPIView):
    """A paginated list of the caller's own rows: ``own_rows`` filters by the caller, so
    no one sees another citizen's."""

    model: type[Model]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return self.model._default_manager.none()
        return self.own_rows(request_citizen(self.request))

    def own_rows(self, user: User) -> QuerySet:
        raise NotImplementedError


def list_schema(operation_id: str, serializer: type[Serializer]) -> Any:
    """The schema of a citizen's list: its operation id, its rows, 401, and the 404 of a
    page past the last."""
    return extend_schema_view(
        get=extend_schema(
            operation_id=operation_id,
            responses={
                200: serializer(many=True),
                **problem_responses(401, 404, descriptions={404: PAGE_NOT_FOUND}),
            },
        )
    )
