"""Disputes of credit events are answered by the record's furnisher.

Schema: a dispute's furnisher, response deadline, the furnisher's answer, the citizen's
escalation; its own states (``RecordDisputeStatus``) and one constraint for their shape.

Data, before the new constraint:

- open disputes get ``respond_by`` = opened + 30 days and the event's furnisher (the
  backfill of events' furnishers, ``merchants/bills/0002_event_furnisher``, copies it
  again once it has filled them);
- disputes upheld by the 30-day rule become ``removed_unanswered`` (that is what the rule
  was: nobody answered in 30 days);
- disputes staff decided were decided on escalation: ``escalated_at`` = opened;
- events ``disputed`` stay so, but now count again: their accounts want a recompute
  (the outbox).

Going back: the answered states have no equivalent in the old model and are refused.
"""

from datetime import timedelta

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


RESPONSE_PERIOD = timedelta(days=30)


def forwards(apps, schema_editor):
    Dispute = apps.get_model("scoring", "Dispute")
    CreditEvent = apps.get_model("scoring", "CreditEvent")
    RecomputeWanted = apps.get_model("scoring", "RecomputeWanted")
    for dispute in Dispute.objects.select_related("event").iterator():
        fields = {"furnisher_id": dispute.event.furnisher_id}
        if dispute.status == "open":
            fields["respond_by"] = dispute.opened_at + RESPONSE_PERIOD
        elif dispute.resolution == "automatic":
            fields["status"] = "removed_unanswered"
        else:
            fields["escalated_at"] = dispute.opened_at
        Dispute.objects.filter(pk=dispute.pk).update(**fields)
    accounts = (
        CreditEvent.objects.filter(status="disputed")
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    now = django.utils.timezone.now()
    for account_id in accounts.iterator():
        wanted, created = RecomputeWanted.objects.get_or_create(
            account_id=account_id, defaults={"first_wanted_at": now, "wanted_at": now}
        )
        if not created:
            RecomputeWanted.objects.filter(pk=wanted.pk).update(
                wanted_at=now, version=models.F("version") + 1, claimed_until=None
            )


def backwards(apps, schema_editor):
    Dispute = apps.get_model("scoring", "Dispute")
    if Dispute.objects.exclude(status__in=["open", "upheld", "rejected"]).exists():
        raise RuntimeError(
            "Disputes answered by their furnisher (verified, corrected, removed unanswered, "
            "escalated) have no equivalent before this migration."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0012_event_furnisher"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="dispute",
            name="scoring_dispute_resolved_once_ended",
        ),
        migrations.RemoveConstraint(
            model_name="dispute",
            name="scoring_dispute_automatic_upholds_alone",
        ),
        migrations.AddField(
            model_name="dispute",
            name="answer_note",
            field=models.TextField(blank=True, help_text="The furnisher's answer."),
        ),
        migrations.AddField(
            model_name="dispute",
            name="answered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="dispute",
            name="escalated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="dispute",
            name="escalation_reason",
            field=models.TextField(
                blank=True, help_text="Why the citizen asked staff to decide, if they said."
            ),
        ),
        migrations.AddField(
            model_name="dispute",
            name="furnisher_id",
            field=models.UUIDField(
                blank=True,
                help_text="The merchant that furnished the record (copied from the event): it answers the dispute. Empty: nobody furnished it, staff decide.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="dispute",
            name="respond_by",
            field=models.DateTimeField(
                blank=True,
                help_text="The furnisher answers by then, or the record is removed. Empty when the record has no furnisher.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="creditevent",
            name="status",
            field=models.CharField(
                choices=[
                    ("active", "Counts"),
                    ("disputed", "Disputed (still counts until the dispute is answered)"),
                    ("removed", "Removed (corrected, unanswered or upheld)"),
                ],
                default="active",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="resolution",
            field=models.CharField(
                blank=True,
                choices=[
                    ("furnisher", "By the furnisher"),
                    ("automatic", "Automatically (not answered in time)"),
                    ("staff", "By staff"),
                ],
                default="",
                help_text="Who ended it: the furnisher, the deadline or staff; blank until it ends.",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "Open: awaiting the furnisher's answer"),
                    ("verified", "Verified by the furnisher"),
                    ("corrected", "Corrected: the furnisher withdrew the record"),
                    ("removed_unanswered", "Removed: not answered in time"),
                    ("escalated", "Escalated to staff"),
                    ("upheld", "Upheld by staff"),
                    ("rejected", "Rejected by staff"),
                ],
                default="open",
                max_length=24,
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="dispute",
            index=models.Index(fields=["furnisher_id", "opened_at"], name="dispute_furnisher"),
        ),
        migrations.AddIndex(
            model_name="dispute",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["respond_by"],
                name="dispute_open_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="dispute",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("answered_at__isnull", True),
                        ("escalated_at__isnull", True),
                        ("resolution", ""),
                        ("resolved_at__isnull", True),
                        ("resolved_by__isnull", True),
                        ("respond_by__isnull", False),
                        ("status", "open"),
                    ),
                    models.Q(
                        ("answered_at__isnull", False),
                        ("escalated_at__isnull", True),
                        ("resolution", ""),
                        ("resolved_at__isnull", True),
                        ("resolved_by__isnull", True),
                        ("status", "verified"),
                    ),
                    models.Q(
                        ("escalated_at__isnull", False),
                        ("resolution", ""),
                        ("resolved_at__isnull", True),
                        ("resolved_by__isnull", True),
                        ("status", "escalated"),
                    ),
                    models.Q(
                        ("answered_at__isnull", False),
                        ("escalated_at__isnull", True),
                        ("resolution", "furnisher"),
                        ("resolved_at__isnull", False),
                        ("resolved_by__isnull", True),
                        ("status", "corrected"),
                    ),
                    models.Q(
                        ("answered_at__isnull", True),
                        ("escalated_at__isnull", True),
                        ("resolution", "automatic"),
                        ("resolved_at__isnull", False),
                        ("resolved_by__isnull", True),
                        ("status", "removed_unanswered"),
                    ),
                    models.Q(
                        ("escalated_at__isnull", False),
                        ("resolution", "staff"),
                        ("resolved_at__isnull", False),
                        ("status__in", ["upheld", "rejected"]),
                    ),
                    _connector="OR",
                ),
                name="dispute_state_shape",
            ),
        ),
    ]
