"""Fill ``furnisher_id`` of the credit events recorded before events named their
furnisher, from what each is about, and copy it to their disputes.

An event's ``subject`` (or, where it is blank, its ``source``) starts with the key of
the object it is about (``scoring.subjects``: ``bill:<id>``, ``booking:<id>``,
``claim:<id>``); that object's merchant furnished the record. The keys are read here,
once, as stored text. Events whose object is gone, or that name none, keep no furnisher:
a dispute of them goes to staff.

Then each dispute without a furnisher takes its event's: an open one goes to that
merchant, who answers it by its ``respond_by`` (set by ``scoring`` 0013). An open
dispute whose record still has no furnisher is escalated to staff, as a new one would be.

In its own app's migrations because it reads bills, bookings and claims, which
``scoring`` sits below. Going back leaves the column filled: nothing to undo.
"""

import uuid

from django.db import migrations

CHUNK = 2000
KINDS = ("bill", "booking", "claim")


def _key(text):
    """(kind, uuid) of a stored subject or source key, or None."""
    kind, _, rest = text.partition(":")
    if kind not in KINDS:
        return None
    try:
        return kind, uuid.UUID(rest.split(":", 1)[0])
    except ValueError:
        return None


def forwards(apps, schema_editor):
    CreditEvent = apps.get_model("scoring", "CreditEvent")
    Dispute = apps.get_model("scoring", "Dispute")
    owners = {
        "bill": apps.get_model("bills", "Bill"),
        "booking": apps.get_model("perks", "Booking"),
        "claim": apps.get_model("perks", "Claim"),
    }
    unfurnished = CreditEvent.objects.filter(furnisher_id__isnull=True).order_by("pk")
    last = None
    while True:
        page = unfurnished if last is None else unfurnished.filter(pk__gt=last)
        rows = list(page.values_list("pk", "subject", "source")[:CHUNK])
        if not rows:
            break
        last = rows[-1][0]
        wanted = {kind: {} for kind in KINDS}  # kind -> object id -> [event ids]
        for pk, subject, source in rows:
            key = _key(subject) or _key(source)
            if key is not None:
                wanted[key[0]].setdefault(key[1], []).append(pk)
        for kind, events_by_object in wanted.items():
            if not events_by_object:
                continue
            merchants = owners[kind].objects.filter(pk__in=list(events_by_object)).values_list(
                "pk", "merchant_id"
            )
            by_merchant = {}
            for object_id, merchant_id in merchants:
                by_merchant.setdefault(merchant_id, []).extend(events_by_object[object_id])
            for merchant_id, event_ids in by_merchant.items():
                CreditEvent.objects.filter(pk__in=event_ids).update(furnisher_id=merchant_id)
    disputes = Dispute.objects.filter(furnisher_id__isnull=True).select_related("event")
    for dispute in disputes.iterator():
        furnisher_id = dispute.event.furnisher_id
        if furnisher_id is not None:
            Dispute.objects.filter(pk=dispute.pk).update(furnisher_id=furnisher_id)
        elif dispute.status == "open":
            Dispute.objects.filter(pk=dispute.pk).update(
                status="escalated", escalated_at=dispute.opened_at, respond_by=None
            )


class Migration(migrations.Migration):
    dependencies = [
        ("bills", "0001_initial"),
        ("perks", "0005_bounded_powers"),
        ("scoring", "0013_furnisher_disputes"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
