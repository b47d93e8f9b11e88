"""Recompute scores now: every account (``--all``) or one (``--account``)."""

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring import selectors, services
from scoring.errors import NoActiveScorecard
from scoring.models import SnapshotTrigger


class Command(BaseCommand):
    help = (
        "Recompute scores now, in this process: every account in id-range chunks (--all, "
        "a batch run like the nightly one, recorded with its control totals) or one "
        "account (--account, by username or public id). "
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
        run, chunk_ids = services.batch_run_start(trigger=SnapshotTrigger.MANUAL)
        written = sum(services.batch_chunk_run(chunk_id=chunk_id) for chunk_id in chunk_ids)
        run.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {len(chunk_ids)} chunk(s): {written} score(s) changed, "
                "the others were already current. "
                f"Batch run {run.pk}: {run.get_status_display().lower()}, "
                f"{run.accounts_seen} of {run.accounts_expected} account(s) seen."
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
