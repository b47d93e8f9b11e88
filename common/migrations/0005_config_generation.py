from django.db import migrations, models


def first_generation(apps, schema_editor):
    apps.get_model("common", "ConfigGeneration").objects.create(id=1, value=1)


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0004_beat_heartbeat"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConfigGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(first_generation, migrations.RunPython.noop),
    ]
