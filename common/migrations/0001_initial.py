"""``IdempotencyKey`` moves here from ``wallet``: state only, the table
(``wallet_idempotencykey``) and its rows stay where they are. ``wallet`` 0003 then
forgets the model and moves its content type."""

import django.core.serializers.json
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("wallet", "0002_ledger_guards_and_system_accounts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("scope", models.CharField(help_text="Whose key: 'user:<id>' and so on.", max_length=100)),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(help_text="SHA-256 of method, path and body.", max_length=64)),
                        ("response_status", models.PositiveSmallIntegerField(null=True)),
                        ("response_body", models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                    ],
                    options={
                        "db_table": "wallet_idempotencykey",
                        "constraints": [models.UniqueConstraint(fields=("scope", "key"), name="idempotency_key_unique")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
