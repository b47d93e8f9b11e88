"""Scorecard version 2 as a draft (created by the system, not active): version 1 with
"bookings completed" replaced by the share of stays completed well.

Why. Version 1 takes no wealth input, but "bookings completed" is a count, and people
with more money travel more: its points follow wealth (on the demo city, the lowest
wealth fifth earns about a fifteenth of the highest's). Version 2 scores how stays went,
not how many there were: the percent of the stays of 24 months (completed, not turned up
to, or with a damage claim left unpaid) that were completed with nothing unpaid. Below
two such stays the share says too little and earns what a share of 50% does (either way
one stay of two is 50%, so the stays that make the share count never lower the score);
a thin file folds the factor into "your history is short". Its points: under 50% none,
50% to 99% 50, every stay well 60; so the factor mostly takes points from a poor record
of stays and gives few for many good ones (which those who travel more would collect).
The base is 50 points lower, so a new account with a verified phone still starts at 600
(good).

It stays a draft until it is audited against version 1 on the population and approved
through the four-eyes path. The same table is in ``scoring/scorecard.py`` and the README.
"""

import copy
import importlib

from django.db import migrations

# Version 1 as its own migration froze it.
DEFAULT_V1 = importlib.import_module(
    "scoring.migrations.0002_default_scorecard_and_guards"
).DEFAULT_V1

# The factor that replaces "bookings completed", in its place.
STAYS_COMPLETED_WELL = {
    "key": "stays_completed_well",
    "fact": "stays_completed_well_24m",
    "label": "Stays completed well (24 months)",
    "reason": "Some of your recent stays did not end well",
    "tip": "Turn up to the stays you book and settle any damage claim: the share of your "
    "stays that end well counts, not how many you can afford.",
    "history": True,
    "missing_points": 50,
    "bins": [
        {"from": 0, "points": 0},
        {"from": 50, "points": 50},
        {"from": 100, "points": 60},
    ],
}


def _v2() -> dict:
    definition = copy.deepcopy(DEFAULT_V1)
    definition["base_points"] = 350
    definition["factors"] = [
        STAYS_COMPLETED_WELL if factor["key"] == "bookings_completed" else factor
        for factor in definition["factors"]
    ]
    return definition


DEFAULT_V2 = _v2()
NAME = "Reliability v2: stays completed well"
NOTES = (
    "Draft made by the system. Version 1 with 'bookings completed' (a count, which grows "
    "with how often someone can afford to travel: a wealth proxy) replaced by the share "
    "of stays completed well over 24 months (no no-show, no unpaid claim), counted from "
    "2 stays; fewer earn what a share of 50% does (50 of 60 points), and a thin file says "
    "its history is short. Base 350 instead of 400, so a new phone-verified account still "
    "starts at 600. "
    "On the demo city every wealth fifth's waiver rate is within 0.9 of the highest and "
    "bad outcomes rank at least as well by score as under version 1. Audit it before "
    "approving."
)


def create_v2_draft(apps, schema_editor):
    Scorecard = apps.get_model("scoring", "Scorecard")
    if Scorecard.objects.filter(name=NAME).exists():
        return
    latest = Scorecard.objects.order_by("-version").values_list("version", flat=True).first()
    Scorecard.objects.create(
        version=(latest or 1) + 1,
        name=NAME,
        status="draft",
        definition=DEFAULT_V2,
        notes=NOTES,
    )


def remove_v2_draft(apps, schema_editor):
    apps.get_model("scoring", "Scorecard").objects.filter(name=NAME, status="draft").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0015_access_log_retention"),
    ]

    operations = [
        migrations.RunPython(create_v2_draft, remove_v2_draft),
    ]
