"""The database ties a dispute"s status, ``resolved_at``, ``resolution`` and
``resolved_by`` together (see ``scoring.models.DisputeBase``), now that every row has its
``resolution``.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0008_dispute_resolution_data"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="dispute",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(("resolution", ""), ("resolved_at__isnull", True), ("resolved_by__isnull", True), ("status", "open")), models.Q(models.Q(("status", "open"), _negated=True), ("resolved_at__isnull", False), ("resolution__in", ["automatic", "staff"])), _connector="OR"), name="scoring_dispute_resolved_once_ended"),
        ),
        migrations.AddConstraint(
            model_name="dispute",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(("resolution", "automatic"), _negated=True), models.Q(("resolved_by__isnull", True), ("status", "upheld")), _connector="OR"), name="scoring_dispute_automatic_upholds_alone"),
        ),
    ]
