"""Bills move here from ``merchants``: state only, the table (``merchants_bill``) and
every row stay where they are. ``merchants`` 0003 then forgets the model and moves its
content type."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("merchants", "0002_bills"),
        ("wallet", "0002_ledger_guards_and_system_accounts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Bill',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('amount', models.BigIntegerField()),
                        ('currency', models.CharField(max_length=3)),
                        ('description', models.CharField(max_length=500)),
                        ('due_date', models.DateField()),
                        ('status', models.CharField(choices=[('open', 'Open'), ('paid', 'Paid')], default='open', max_length=8)),
                        ('issued_at', models.DateTimeField()),
                        ('paid_at', models.DateTimeField(blank=True, null=True)),
                        ('overdue_recorded_at', models.DateTimeField(blank=True, help_text='When the "bill overdue" record was written (once, the day after the due date).', null=True)),
                        ('citizen', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bills', to=settings.AUTH_USER_MODEL)),
                        ('consent', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bills', to='merchants.consent')),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bills', to='merchants.merchant')),
                        ('payment', models.OneToOneField(blank=True, help_text='The ledger transfer that paid the bill.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='bill', to='wallet.transfer')),
                    ],
                    options={
                        'db_table': 'merchants_bill',
                        'ordering': ('-issued_at',),
                        'indexes': [models.Index(fields=['citizen', '-issued_at'], name='bill_citizen_issued'), models.Index(fields=['merchant', '-issued_at'], name='bill_merchant_issued'), models.Index(condition=models.Q(('overdue_recorded_at__isnull', True), ('status', 'open')), fields=['due_date'], name='bill_open_not_overdue_due')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='bill_amount_positive'), models.CheckConstraint(condition=models.Q(models.Q(('paid_at__isnull', True), ('payment__isnull', True), ('status', 'open')), models.Q(('paid_at__isnull', False), ('payment__isnull', False), ('status', 'paid')), _connector='OR'), name='bill_paid_with_payment')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
