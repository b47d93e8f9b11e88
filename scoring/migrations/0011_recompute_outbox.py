"""The recompute outbox: a row per account whose score must be recomputed, written in
the transaction of the change (``scoring.models.RecomputeWanted``)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0010_batch_runs'),
        ('wallet', '0003_move_idempotencykey_to_common'),
    ]

    operations = [
        migrations.CreateModel(
            name='RecomputeWanted',
            fields=[
                ('account', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('first_wanted_at', models.DateTimeField(help_text='The oldest change waiting.')),
                ('wanted_at', models.DateTimeField(help_text='The newest change waiting.')),
                ('version', models.BigIntegerField(default=1)),
                ('claimed_until', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'recompute wanted',
                'verbose_name_plural': 'recomputes wanted (outbox)',
                'indexes': [models.Index(fields=['first_wanted_at'], name='recompute_wanted_oldest')],
            },
        ),
    ]
