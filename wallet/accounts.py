"""Signed-in devices of a citizen: ending them.

:func:`sign_ins_end` is the one way another module (closing an account) ends a citizen's
sessions and app tokens.
"""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from wallet.models import SignIn, User

logger = logging.getLogger(__name__)


def sign_ins_end(*, user: User, keep: SignIn | None = None) -> int:
    """End every sign-in of ``user`` except ``keep``: each listed web session is deleted
    from the session store, every app token of the account is deleted (but ``keep``'s),
    and each open ``SignIn`` row is marked ended. Returns how many rows were ended."""
    now = timezone.now()
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    with transaction.atomic():
        ending = SignIn.objects.select_for_update().filter(user=user, ended_at__isnull=True)
        if keep is not None:
            ending = ending.exclude(pk=keep.pk)
        rows = list(ending.order_by("pk"))
        for row in rows:
            if row.session_key:
                session_store(session_key=row.session_key).delete()
        tokens = AuthToken.objects.filter(user=user)
        if keep is not None and keep.token_key:
            tokens = tokens.exclude(token_key=keep.token_key)
        tokens.delete()
        ended = SignIn.objects.filter(pk__in=[row.pk for row in rows]).update(ended_at=now)
    logger.info("sign-ins ended", extra={"user_id": user.pk, "ended": ended})
    return ended
