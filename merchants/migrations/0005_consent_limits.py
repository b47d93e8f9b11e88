"""Billing limits, consent texts and renewals.

Schema: codes and consents carry the billing limits the citizen set and the consent text
they were shown (version, language); consents a ``renewed_at``; a billing consent's
``expires_at`` may be empty (until revoked); at most one consent not revoked per citizen,
merchant and scope; limits only (and always) on billing.

Data, before the constraints are added:

- A redeemed code names the merchant that redeemed it (its consent's).
- Billing codes and consents made before limits existed get the proposed defaults
  (``BILLING_DEFAULT_MAX_BILL``, ``BILLING_DEFAULT_MAX_MONTHLY``): the citizen never set
  any, and the app shows these until they make a new code (which renews the consent with
  their own). Their text stays empty: none was shown.
- Live billing consents (not revoked, not expired) last until revoked, as new ones do;
  expired ones stay expired.
- Duplicates collapse: of a citizen's consents not revoked for one merchant and scope,
  the newest stays and each older one is revoked when the next newer one was granted
  (or when it expired, if that was earlier).
"""

from datetime import timedelta

from django.conf import settings
import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

BILLING = "billing"


def forwards(apps, schema_editor):
    AuthorizationCode = apps.get_model("merchants", "AuthorizationCode")
    Consent = apps.get_model("merchants", "Consent")
    max_bill = getattr(settings, "BILLING_DEFAULT_MAX_BILL", 50_000)
    max_monthly = max(getattr(settings, "BILLING_DEFAULT_MAX_MONTHLY", 100_000), max_bill)
    AuthorizationCode.objects.filter(redeemed_at__isnull=False).update(
        redeemed_by_id=models.Subquery(
            Consent.objects.filter(code_id=models.OuterRef("pk")).values("merchant_id")[:1]
        )
    )
    for model in (AuthorizationCode, Consent):
        model.objects.filter(scope=BILLING, max_bill_amount__isnull=True).update(
            max_bill_amount=max_bill, max_monthly_amount=max_monthly
        )
    now = timezone.now()
    Consent.objects.filter(scope=BILLING, revoked_at__isnull=True, expires_at__gt=now).update(
        expires_at=None
    )
    unrevoked = (
        Consent.objects.filter(revoked_at__isnull=True)
        .order_by("citizen_id", "merchant_id", "scope", "-granted_at", "-id")
        .values_list("pk", "citizen_id", "merchant_id", "scope", "granted_at", "expires_at")
    )
    newer = None
    for pk, citizen_id, merchant_id, scope, granted_at, expires_at in list(unrevoked):
        group = (citizen_id, merchant_id, scope)
        if newer is not None and newer[0] == group:
            ended = newer[1] if expires_at is None else min(newer[1], expires_at)
            Consent.objects.filter(pk=pk).update(revoked_at=max(ended, granted_at))
        newer = (group, granted_at)
    if schema_editor.connection.vendor == "postgresql":
        # The foreign keys' checks of the rows just updated are deferred to the commit;
        # PostgreSQL does not alter a table with such events pending. Run them now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def backwards(apps, schema_editor):
    """Before this migration every consent had an end: a billing consent without one
    gets the 30 days it would have had from its last grant or renewal."""
    Consent = apps.get_model("merchants", "Consent")
    for pk, granted_at, renewed_at in Consent.objects.filter(expires_at__isnull=True).values_list(
        "pk", "granted_at", "renewed_at"
    ):
        since = renewed_at or granted_at
        Consent.objects.filter(pk=pk).update(expires_at=since + timedelta(days=30))


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0004_merchant_payout_destination"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="authorizationcode",
            name="language",
            field=models.CharField(blank=True, db_default="", max_length=8),
        ),
        migrations.AddField(
            model_name="authorizationcode",
            name="max_bill_amount",
            field=models.BigIntegerField(
                blank=True, help_text="Billing: the largest single bill, in minor units.", null=True
            ),
        ),
        migrations.AddField(
            model_name="authorizationcode",
            name="max_monthly_amount",
            field=models.BigIntegerField(
                blank=True,
                help_text="Billing: the most billed in one calendar month, in minor units.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="authorizationcode",
            name="text",
            field=models.TextField(
                blank=True, db_default="", help_text="The consent text the citizen was shown."
            ),
        ),
        migrations.AddField(
            model_name="authorizationcode",
            name="text_version",
            field=models.CharField(blank=True, db_default="", max_length=16),
        ),
        migrations.AddField(
            model_name="authorizationcode",
            name="redeemed_by",
            field=models.ForeignKey(
                blank=True,
                help_text="The merchant that redeemed it: the only one told it is used.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="merchants.merchant",
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="language",
            field=models.CharField(blank=True, db_default="", max_length=8),
        ),
        migrations.AddField(
            model_name="consent",
            name="max_bill_amount",
            field=models.BigIntegerField(
                blank=True, help_text="Billing: the largest single bill, in minor units.", null=True
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="max_monthly_amount",
            field=models.BigIntegerField(
                blank=True,
                help_text="Billing: the most billed in one calendar month, in minor units.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="renewed_at",
            field=models.DateTimeField(
                blank=True, help_text="When a new code last renewed it.", null=True
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="text",
            field=models.TextField(
                blank=True, db_default="", help_text="The consent text the citizen was shown."
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="text_version",
            field=models.CharField(blank=True, db_default="", max_length=16),
        ),
        migrations.AlterField(
            model_name="consent",
            name="expires_at",
            field=models.DateTimeField(
                blank=True, help_text="Empty: until revoked (billing).", null=True
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
        migrations.AddConstraint(
            model_name="authorizationcode",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("max_bill_amount__gt", 0),
                        ("max_bill_amount__isnull", False),
                        ("max_monthly_amount__gte", models.F("max_bill_amount")),
                        ("max_monthly_amount__isnull", False),
                        ("scope", "billing"),
                    ),
                    models.Q(
                        models.Q(("scope", "billing"), _negated=True),
                        ("max_bill_amount__isnull", True),
                        ("max_monthly_amount__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="code_limits_billing",
            ),
        ),
        migrations.AddConstraint(
            model_name="consent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("revoked_at__isnull", True)),
                fields=("citizen", "merchant", "scope"),
                name="consent_one_unrevoked",
            ),
        ),
        migrations.AddConstraint(
            model_name="consent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("max_bill_amount__gt", 0),
                        ("max_bill_amount__isnull", False),
                        ("max_monthly_amount__gte", models.F("max_bill_amount")),
                        ("max_monthly_amount__isnull", False),
                        ("scope", "billing"),
                    ),
                    models.Q(
                        models.Q(("scope", "billing"), _negated=True),
                        ("max_bill_amount__isnull", True),
                        ("max_monthly_amount__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="consent_limits_billing",
            ),
        ),
    ]
