"""A merchant's registered payout destination. Merchants that exist already get none:
their settlement balances are not paid out until staff enter one in the admin (new
merchants on the sandbox provider get a sandbox label when they are created)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("merchants", "0003_move_perks_and_bills"),
    ]

    operations = [
        migrations.AddField(
            model_name="merchant",
            name="payout_destination",
            field=models.CharField(
                blank=True,
                help_text="Where its settlement balance is paid out, as the payment provider "
                "names it (a bank account). Empty: its balance is never paid out.",
                max_length=200,
            ),
        ),
    ]
