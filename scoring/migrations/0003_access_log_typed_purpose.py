"""The access log's purpose as typed columns: a code, and the amount (minor units) and
currency a deposit waiver was asked for. ``0004`` fills them from the old sentence."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_default_scorecard_and_guards"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="purpose_code",
            field=models.CharField(
                choices=[
                    ("deposit_waiver", "Deposit waiver"),
                    ("support_review", "Support review"),
                    ("other", "Other"),
                ],
                default="other",
                max_length=32,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="amount",
            field=models.BigIntegerField(
                blank=True, help_text="Minor units: what a deposit waiver was asked for.", null=True
            ),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="currency",
            field=models.CharField(blank=True, default="", max_length=3),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="purpose_note",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="The words of a purpose logged before purposes had codes, if none fits.",
                max_length=64,
            ),
        ),
    ]
