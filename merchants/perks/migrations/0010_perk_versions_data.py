"""Version 1 of every perk, and the guard that keeps versions as they went live.

Each perk's current terms become its version 1, active since the perk was last changed
(``updated_at``), stamped with the approved change that made them live when the perk's
latest applied change proposed exactly these terms (and its approver). Decisions made at
or after that moment were made under these terms and now name the version; older ones
keep no version (their rules are not known).

On PostgreSQL, perk versions refuse every DELETE and every UPDATE except setting
``retired_at`` once (from empty, nothing else changed), whoever asks.
"""

from django.db import migrations

BOUNDS = ("booking_max_days_ahead", "booking_max_nights", "claim_window_days")

GUARD_SQL = """
CREATE OR REPLACE FUNCTION perks_perkversion_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL
       AND (to_jsonb(NEW) - 'retired_at') = (to_jsonb(OLD) - 'retired_at') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'perk versions are immutable: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'A perk version is only retired, once, when the next one goes live.';
END
$$;
CREATE TRIGGER perks_perkversion_immutable
    BEFORE UPDATE OR DELETE ON perks_perkversion
    FOR EACH ROW EXECUTE FUNCTION perks_perkversion_guard();
"""
GUARD_REVERSE_SQL = """
DROP TRIGGER IF EXISTS perks_perkversion_immutable ON perks_perkversion;
DROP FUNCTION IF EXISTS perks_perkversion_guard();
"""


def _terms(obj):
    return (obj.rules, obj.max_amount, obj.is_active, *(getattr(obj, name) for name in BOUNDS))


def versions_create(apps, schema_editor):
    Perk = apps.get_model("perks", "Perk")
    PerkChange = apps.get_model("perks", "PerkChange")
    PerkVersion = apps.get_model("perks", "PerkVersion")
    Decision = apps.get_model("perks", "Decision")
    for perk in Perk.objects.order_by("pk").iterator():
        if PerkVersion.objects.filter(perk=perk).exists():
            continue
        change = (
            PerkChange.objects.filter(perk=perk, status="applied")
            .order_by("-decided_at")
            .first()
        )
        if change is not None and _terms(change) != _terms(perk):
            change = None
        version = PerkVersion.objects.create(
            perk=perk,
            version=1,
            rules=perk.rules,
            max_amount=perk.max_amount,
            is_active=perk.is_active,
            **{name: getattr(perk, name) for name in BOUNDS},
            change=change,
            activated_at=perk.updated_at,
            activated_by_id=change.decided_by_id if change is not None else None,
        )
        # .update(): no save, so updated_at (what pending changes compare with) stays.
        Perk.objects.filter(pk=perk.pk).update(version_number=1)
        Decision.objects.filter(
            perk=perk, perk_version__isnull=True, created_at__gte=perk.updated_at
        ).update(perk_version=version)


def versions_remove(apps, schema_editor):
    # The guard is gone by now (removed first, in reverse order).
    apps.get_model("perks", "Decision").objects.update(perk_version=None)
    apps.get_model("perks", "PerkVersion").objects.all().delete()


def add_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SQL, params=None)


def remove_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_REVERSE_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("perks", "0009_perk_versions"),
    ]

    operations = [
        migrations.RunPython(versions_create, versions_remove),
        migrations.RunPython(add_guard, remove_guard),
    ]
