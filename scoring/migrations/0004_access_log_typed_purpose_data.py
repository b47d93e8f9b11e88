"""Fill the access log's typed purpose from the sentence each row was logged with.

Until now a merchant's read was logged as "<perk kind> of <amount>", the amount written
by a formatter that always showed two decimals of the minor units ("Deposit waiver of
1,234.56 CNY" is 123456 minor units, whatever the currency), and a staff review as
"support_review". Those become their code, amount and currency; any other words become
the purpose ``other`` with the words kept as its note. This is the one place that reads
the old sentence.

Access-log rows are append-only: on PostgreSQL a trigger refuses UPDATE. The trigger is
set aside for this migration's transaction only, and only on this table.
"""

import re

from django.db import migrations

OLD_WAIVER = re.compile(
    r"^Deposit waiver of (?P<sign>-?)(?P<whole>\d{1,3}(?:,\d{3})*)\.(?P<cents>\d{2}) "
    r"(?P<currency>[A-Z]{3})$"
)
GUARD = "scoring_accesslogentry_append_only"
BATCH = 2000


def typed(purpose):
    """(code, amount, currency, note) of an old purpose sentence."""
    waiver = OLD_WAIVER.match(purpose)
    if waiver:
        amount = int(waiver["whole"].replace(",", "")) * 100 + int(waiver["cents"])
        return "deposit_waiver", -amount if waiver["sign"] else amount, waiver["currency"], ""
    if purpose == "support_review":
        return "support_review", None, "", ""
    return "other", None, "", purpose or "(none given)"


def sentence(code, amount, currency, note):
    """The old sentence of a typed purpose (for going back to ``0003``)."""
    if code == "deposit_waiver":
        whole, cents = divmod(abs(amount), 100)
        return f"Deposit waiver of {'-' if amount < 0 else ''}{whole:,}.{cents:02d} {currency}"
    return note if code == "other" else code


def _guard(schema_editor, action):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE scoring_accesslogentry {action} TRIGGER {GUARD}")


def fill(apps, schema_editor):
    AccessLogEntry = apps.get_model("scoring", "AccessLogEntry")
    _guard(schema_editor, "DISABLE")
    last = 0
    while True:
        rows = list(
            AccessLogEntry.objects.filter(pk__gt=last).order_by("pk").only("pk", "purpose")[:BATCH]
        )
        if not rows:
            break
        for row in rows:
            row.purpose_code, row.amount, row.currency, row.purpose_note = typed(row.purpose)
        AccessLogEntry.objects.bulk_update(
            rows, ["purpose_code", "amount", "currency", "purpose_note"]
        )
        last = rows[-1].pk
    _guard(schema_editor, "ENABLE")


def empty(apps, schema_editor):
    AccessLogEntry = apps.get_model("scoring", "AccessLogEntry")
    _guard(schema_editor, "DISABLE")
    for row in AccessLogEntry.objects.order_by("pk").iterator(chunk_size=BATCH):
        row.purpose = sentence(row.purpose_code, row.amount, row.currency, row.purpose_note)
        row.save(update_fields=["purpose"])
    _guard(schema_editor, "ENABLE")


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0003_access_log_typed_purpose"),
    ]

    operations = [
        migrations.RunPython(fill, empty),
    ]
