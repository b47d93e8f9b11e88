"""Claim disputes gain an explicit ``resolution`` (staff or automatic, blank while
open) instead of "resolved automatically" being inferred from an empty ``resolved_by``;
the status keeps its values (open, upheld, rejected) with the labels every dispute
shares. The column is filled by the next migration, then constrained.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("perks", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="claimdispute",
            name="resolution",
            field=models.CharField(blank=True, choices=[("staff", "By staff"), ("automatic", "Automatically (30 days without a decision)")], default="", help_text="Who ended it: staff, or the 30-day rule; blank while open.", max_length=16),
        ),
        migrations.AlterField(
            model_name="claimdispute",
            name="resolved_by",
            field=models.ForeignKey(blank=True, help_text="The staff member who decided. Empty while open, when upheld automatically after 30 days, or when their account was deleted since.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="claimdispute",
            name="status",
            field=models.CharField(choices=[("open", "Open"), ("upheld", "Upheld"), ("rejected", "Rejected")], default="open", max_length=16),
        ),
    ]
