"""The default scorecard (version 1, active) and the append-only guards of scoring.

Version 1 scores reliability, never wealth: bills paid on time, late payments, bookings
completed, no-shows, unpaid claims, account age and identity verification. It is
calibrated so that a new account with a verified phone scores 600 (good), three spotless
years score 860, and one unpaid claim puts even the best file at 540 (below 550). The
same table is in ``scoring/scorecard.py`` and the README.

On PostgreSQL, score snapshots and access-log rows refuse UPDATE and DELETE (a trigger
using the ledger's ``ledger_refuse_change()``), whoever asks.
"""

from django.db import migrations

DEFAULT_V1 = {
    "base_points": 400,
    "factors": [
        {
            "key": "on_time_payments",
            "fact": "on_time_ratio_12m",
            "label": "Bills paid on time (12 months)",
            "reason": "Not all of your recent bills were paid on time",
            "tip": "Pay each bill by its due date; your on-time share counts the last 12 months.",
            "history": True,
            "missing_points": 0,
            "bins": [
                {"from": 0, "points": 0},
                {"from": 50, "points": 30},
                {"from": 80, "points": 60},
                {"from": 90, "points": 90},
                {"from": 98, "points": 120},
            ],
        },
        {
            "key": "late_payments",
            "fact": "late_payments_24m",
            "label": "Late payments (24 months)",
            "reason": "You have late payments in the last 24 months",
            "tip": "Each late payment stops counting 24 months after it; paying on time from "
            "now on keeps new ones away.",
            "bins": [
                {"from": 0, "points": 60},
                {"from": 1, "points": 35},
                {"from": 2, "points": 15},
                {"from": 3, "points": 0},
            ],
        },
        {
            "key": "bookings_completed",
            "fact": "bookings_completed",
            "label": "Bookings completed (24 months)",
            "reason": "Few completed bookings so far",
            "tip": "Stays and rentals you complete without a problem add to your score.",
            "history": True,
            "bins": [
                {"from": 0, "points": 0},
                {"from": 1, "points": 20},
                {"from": 3, "points": 40},
                {"from": 6, "points": 60},
            ],
        },
        {
            "key": "no_shows",
            "fact": "no_shows_12m",
            "label": "No-shows (12 months)",
            "reason": "You missed a booking in the last 12 months",
            "tip": "Cancel a booking you cannot keep; a no-show stops counting after 12 months.",
            "bins": [
                {"from": 0, "points": 40},
                {"from": 1, "points": 10},
                {"from": 2, "points": 0},
            ],
        },
        {
            "key": "unpaid_claims",
            "fact": "unpaid_claims",
            "label": "Unpaid claims",
            "reason": "You have an unpaid damage claim",
            "tip": "Pay the claim from your wallet, or dispute it if it is wrong; a disputed "
            "claim does not count while it is reviewed.",
            "bins": [
                {"from": 0, "points": 60},
                {"from": 1, "points": -280},
                {"from": 2, "points": -400},
            ],
        },
        {
            "key": "account_age",
            "fact": "account_age_days",
            "label": "Account age",
            "reason": "Your account is new",
            "tip": "This grows by itself: points at 3 months and at 1, 2 and 3 years.",
            "bins": [
                {"from": 0, "points": 0},
                {"from": 90, "points": 20},
                {"from": 365, "points": 40},
                {"from": 730, "points": 60},
                {"from": 1095, "points": 80},
            ],
        },
        {
            "key": "identity",
            "fact": "identity_level",
            "label": "Identity verification",
            "reason": "Your identity is not fully verified",
            "tip": "Verify your phone, then an identity document, in the app.",
            "bins": [
                {"from": 0, "points": 0},
                {"from": 1, "points": 40},
                {"from": 2, "points": 60},
            ],
        },
    ],
}

GUARDS_SQL = """
CREATE TRIGGER scoring_scoresnapshot_append_only
    BEFORE UPDATE OR DELETE ON scoring_scoresnapshot
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER scoring_accesslogentry_append_only
    BEFORE UPDATE OR DELETE ON scoring_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""
GUARDS_REVERSE_SQL = """
DROP TRIGGER IF EXISTS scoring_scoresnapshot_append_only ON scoring_scoresnapshot;
DROP TRIGGER IF EXISTS scoring_accesslogentry_append_only ON scoring_accesslogentry;
"""


def create_default_scorecard(apps, schema_editor):
    Scorecard = apps.get_model("scoring", "Scorecard")
    if Scorecard.objects.exists():
        return
    Scorecard.objects.create(
        version=1,
        name="Reliability v1",
        status="active",
        definition=DEFAULT_V1,
        notes="The default scorecard: reliability only, never wealth.",
    )


def remove_default_scorecard(apps, schema_editor):
    apps.get_model("scoring", "Scorecard").objects.filter(version=1).delete()


def add_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS_SQL)


def remove_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS_REVERSE_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0001_initial"),
        ("wallet", "0002_ledger_guards_and_system_accounts"),
    ]

    operations = [
        migrations.RunPython(create_default_scorecard, remove_default_scorecard),
        migrations.RunPython(add_guards, remove_guards),
    ]
