"""What every citizen endpoint shares: the caller as a ``User``, and the base of a list
of the caller's own rows. Here, with the users, so that ``common`` knows no app."""

from django.db.models import Model, QuerySet
from rest_framework import generics
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

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
