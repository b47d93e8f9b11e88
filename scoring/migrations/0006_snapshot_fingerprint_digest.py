"""Snapshot fingerprints become a BLAKE2b digest of a canonical encoding (see
``scoring.fingerprint``) instead of Python's ``hash()``, and every stored one is
recomputed here from the snapshot's own columns.

The fingerprint only decides whether a recompute may skip writing a snapshot identical
to the current one. Left as they were, the old values would match nothing: the next
recompute would write one more, identical, snapshot for every account (a step in each
citizen's score history that changed nothing). Recomputed here, nothing changes.

Snapshots are append-only: on PostgreSQL a trigger refuses UPDATE. The trigger is set
aside for this migration's transaction only, and only on this table. Going back keeps
the new values; the old code would then write one identical snapshot per account once.
"""

import hashlib
import json

from django.db import migrations

# As at this migration, in ``scoring.fingerprint``: every feature but the account's age.
FINGERPRINTED_FEATURES = (
    "identity_level",
    "on_time_payments_12m",
    "late_payments_12m",
    "late_payments_24m",
    "bookings_completed",
    "no_shows_12m",
    "unpaid_claims",
    "open_disputes",
    "history_events",
)
GUARD = "scoring_scoresnapshot_append_only"
BATCH = 2000


def fingerprint(scorecard_id, points, features):
    document = {
        "scorecard": scorecard_id,
        "points": points,
        "features": {name: features.get(name) for name in FINGERPRINTED_FEATURES},
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


def _guard(schema_editor, action):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE scoring_scoresnapshot {action} TRIGGER {GUARD}")


def recompute(apps, schema_editor):
    ScoreSnapshot = apps.get_model("scoring", "ScoreSnapshot")
    _guard(schema_editor, "DISABLE")
    last = 0
    while True:
        rows = list(
            ScoreSnapshot.objects.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "scorecard_id", "points", "features")[:BATCH]
        )
        if not rows:
            break
        for row in rows:
            row.fingerprint = fingerprint(row.scorecard_id, row.points, row.features)
        ScoreSnapshot.objects.bulk_update(rows, ["fingerprint"])
        last = rows[-1].pk
    _guard(schema_editor, "ENABLE")


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0005_access_log_purpose_text_rendered"),
    ]

    operations = [
        migrations.RunPython(recompute, migrations.RunPython.noop),
    ]
