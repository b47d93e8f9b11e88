"""The access log's purpose sentence is no longer stored: it is rendered from the typed
columns that ``0004`` filled. A purpose about money has its amount and currency, any
other has neither."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0004_access_log_typed_purpose_data'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(
            model_name='accesslogentry',
            name='purpose',
        ),
        migrations.AddConstraint(
            model_name='accesslogentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('amount__isnull', False), ('purpose_code__in', ['deposit_waiver']), models.Q(('currency', ''), _negated=True)), models.Q(models.Q(('purpose_code__in', ['deposit_waiver']), _negated=True), ('amount__isnull', True), ('currency', '')), _connector='OR'), name='access_log_amount_with_its_purpose'),
        ),
    ]
