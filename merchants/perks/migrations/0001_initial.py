"""Perks, decisions, bookings, claims and claim disputes move here from ``merchants``:
state only, their tables (``merchants_perk`` and the others) and every row stay where
they are. ``merchants`` 0003 then forgets the models and moves their content types."""

import django.db.models.deletion
import django.db.models.expressions
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("merchants", "0002_bills"),
        ("scoring", "0002_default_scorecard_and_guards"),
        ("wallet", "0002_ledger_guards_and_system_accounts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Booking',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('reference', models.CharField(help_text="The merchant's own reference.", max_length=100)),
                        ('check_in', models.DateField()),
                        ('check_out', models.DateField()),
                        ('deposit_amount', models.BigIntegerField()),
                        ('waived_amount', models.BigIntegerField()),
                        ('hold_amount', models.BigIntegerField()),
                        ('currency', models.CharField(max_length=3)),
                        ('status', models.CharField(choices=[('confirmed', 'Confirmed'), ('completed', 'Completed')], default='confirmed', max_length=16)),
                        ('outcome', models.CharField(blank=True, choices=[('ok', 'Completed without a problem'), ('damage', 'Damage claimed'), ('no_show', 'No-show')], max_length=16)),
                        ('created_at', models.DateTimeField()),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('citizen', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to=settings.AUTH_USER_MODEL)),
                        ('hold', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='booking', to='wallet.hold')),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='merchants.merchant')),
                    ],
                    options={
                        'db_table': 'merchants_booking',
                        'ordering': ('-created_at',),
                    },
                ),
                migrations.CreateModel(
                    name='Claim',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('amount', models.BigIntegerField()),
                        ('paid_amount', models.BigIntegerField(default=0)),
                        ('refunded_amount', models.BigIntegerField(default=0)),
                        ('currency', models.CharField(max_length=3)),
                        ('description', models.CharField(max_length=500)),
                        ('status', models.CharField(choices=[('paid', 'Paid'), ('unpaid', 'Unpaid'), ('disputed', 'Disputed (not collected until resolved)'), ('cancelled', 'Cancelled (dispute upheld, refunded)')], max_length=16)),
                        ('created_at', models.DateTimeField()),
                        ('paid_at', models.DateTimeField(blank=True, null=True)),
                        ('booking', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='claim', to='perks.booking')),
                        ('citizen', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='claims', to=settings.AUTH_USER_MODEL)),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='claims', to='merchants.merchant')),
                    ],
                    options={
                        'db_table': 'merchants_claim',
                        'ordering': ('-created_at',),
                    },
                ),
                migrations.CreateModel(
                    name='ClaimDispute',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('reason', models.TextField(max_length=2000)),
                        ('status', models.CharField(choices=[('open', 'Open'), ('upheld', 'Upheld (claim cancelled, collected money refunded)'), ('rejected', 'Rejected (claim stands)')], default='open', max_length=16)),
                        ('opened_at', models.DateTimeField()),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('resolution_note', models.TextField(blank=True)),
                        ('citizen', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='claim_disputes', to=settings.AUTH_USER_MODEL)),
                        ('claim', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='dispute', to='perks.claim')),
                        ('record_dispute', models.OneToOneField(blank=True, help_text="The dispute of the claim's credit record, if it had one.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='claim_dispute', to='scoring.dispute')),
                        ('resolved_by', models.ForeignKey(blank=True, help_text='Empty when upheld automatically after 30 days.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'merchants_claimdispute',
                        'ordering': ('-opened_at',),
                    },
                ),
                migrations.CreateModel(
                    name='Decision',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('requested_amount', models.BigIntegerField()),
                        ('eligible', models.BooleanField()),
                        ('waived_amount', models.BigIntegerField()),
                        ('held_amount', models.BigIntegerField()),
                        ('currency', models.CharField(max_length=3)),
                        ('reasons', models.JSONField(help_text='[{code, message}] as the merchant saw them.')),
                        ('created_at', models.DateTimeField()),
                        ('expires_at', models.DateTimeField()),
                        ('citizen', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('consent', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='merchants.consent')),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='merchants.merchant')),
                        ('snapshot', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scoring.scoresnapshot')),
                    ],
                    options={
                        'db_table': 'merchants_decision',
                        'ordering': ('-created_at',),
                    },
                ),
                migrations.AddField(
                    model_name='booking',
                    name='decision',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='booking', to='perks.decision'),
                ),
                migrations.CreateModel(
                    name='Perk',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('kind', models.CharField(choices=[('deposit_waiver', 'Deposit waiver')], max_length=32)),
                        ('max_amount', models.BigIntegerField(help_text='The most that may be waived, minor units.')),
                        ('rules', models.JSONField(help_text='Conditions over facts, and waiver tiers by band.')),
                        ('is_active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='perks', to='merchants.merchant')),
                    ],
                    options={
                        'db_table': 'merchants_perk',
                        'ordering': ('merchant__name', 'kind'),
                    },
                ),
                migrations.AddField(
                    model_name='decision',
                    name='perk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='perks.perk'),
                ),
                migrations.AddIndex(
                    model_name='claim',
                    index=models.Index(fields=['citizen', '-created_at'], name='claim_citizen_created'),
                ),
                migrations.AddConstraint(
                    model_name='claim',
                    constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0), ('paid_amount__gte', 0), ('paid_amount__lte', models.F('amount')), ('refunded_amount__gte', 0), ('refunded_amount__lte', models.F('paid_amount'))), name='claim_amounts_within'),
                ),
                migrations.AddConstraint(
                    model_name='claim',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'paid'), _negated=True), ('paid_amount', models.F('amount')), _connector='OR'), name='claim_paid_in_full'),
                ),
                migrations.AddIndex(
                    model_name='claimdispute',
                    index=models.Index(fields=['status', 'opened_at'], name='claim_dispute_status_opened'),
                ),
                migrations.AddIndex(
                    model_name='booking',
                    index=models.Index(fields=['merchant', '-created_at'], name='booking_merchant_created'),
                ),
                migrations.AddIndex(
                    model_name='booking',
                    index=models.Index(fields=['citizen', '-created_at'], name='booking_citizen_created'),
                ),
                migrations.AddConstraint(
                    model_name='booking',
                    constraint=models.CheckConstraint(condition=models.Q(('waived_amount__gte', 0), ('hold_amount__gte', 0), ('deposit_amount', django.db.models.expressions.CombinedExpression(models.F('waived_amount'), '+', models.F('hold_amount')))), name='booking_amounts_add_up'),
                ),
                migrations.AddConstraint(
                    model_name='booking',
                    constraint=models.CheckConstraint(condition=models.Q(('check_out__gte', models.F('check_in'))), name='booking_dates_ordered'),
                ),
                migrations.AddConstraint(
                    model_name='booking',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('outcome', ''), ('status', 'confirmed')), models.Q(('status', 'completed'), models.Q(('outcome', ''), _negated=True)), _connector='OR'), name='booking_outcome_when_completed'),
                ),
                migrations.AddConstraint(
                    model_name='perk',
                    constraint=models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('merchant', 'kind'), name='perk_one_active_per_kind'),
                ),
                migrations.AddConstraint(
                    model_name='perk',
                    constraint=models.CheckConstraint(condition=models.Q(('max_amount__gte', 0)), name='perk_max_not_negative'),
                ),
                migrations.AddIndex(
                    model_name='decision',
                    index=models.Index(fields=['merchant', '-created_at'], name='decision_merchant_created'),
                ),
                migrations.AddConstraint(
                    model_name='decision',
                    constraint=models.CheckConstraint(condition=models.Q(('waived_amount__gte', 0), ('held_amount__gte', 0), ('requested_amount', django.db.models.expressions.CombinedExpression(models.F('waived_amount'), '+', models.F('held_amount')))), name='decision_amounts_add_up'),
                ),
            ],
            database_operations=[],
        ),
    ]
