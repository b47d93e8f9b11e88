"""Recompute scores now: every account (``--all``) or one (``--account``)."""

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from scoring import selectors, services
from scoring.errors import NoActiveScorecard
from scoring.models import SnapshotTrigger


class Command(BaseCommand):
    help = (
        "Recompute scores now, in this process: every account in id-range chunks (--all, "
        "the nightly batch's code) or one account (--account, by username or public id). "
        "A score that would not change gets no new snapshot."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--all", action="store_true", help="Every account.")
        target.add_argument("--account", metavar="ID", help="A username or public id.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["all"]:
                self._recompute_all()
            else:
                self._recompute_one(options["account"])
        except NoActiveScorecard as error:
            raise CommandError(error.detail) from error

    def _recompute_all(self) -> None:
        at = timezone.now()
        chunks = selectors.account_id_chunks(size=settings.SCORING_BATCH_CHUNK_SIZE)
        written = 0
        for first_id, last_id in chunks:
            written += services.scores_recompute(
                first_id=first_id, last_id=last_id, trigger=SnapshotTrigger.MANUAL, at=at
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {len(chunks)} chunk(s): {written} score(s) changed, "
                "the others were already current."
            )
        )

    def _recompute_one(self, reference: str) -> None:
        users = get_user_model().objects
        try:
            public_id = uuid.UUID(reference)
        except ValueError:
            account = users.filter(username=reference).first()
        else:
            account = users.filter(public_id=public_id).first()
        if account is None:
            raise CommandError(f"No account with the username or public id {reference!r}.")
        if not account.is_active:
            raise CommandError(f"Account {reference!r} is inactive: it has no score.")
        changed = services.score_recompute(account_id=account.pk, trigger=SnapshotTrigger.MANUAL)
        snapshot = selectors.score_current(account=account)
        if snapshot is None:  # the recompute writes one for every active account
            raise CommandError(f"Account {reference!r} has no score.")
        state = "changed" if changed else "unchanged"
        self.stdout.write(
            self.style.SUCCESS(f"{account.username}: {snapshot.score} ({snapshot.band}), {state}.")
        )
