"""The staff roles that ship with Open Sesame: a group each, with the least permissions
the role needs to do its work in the admin, and nothing that lets it change who may do
what.

The table below is the only definition. ``roles_sync`` makes the groups match it: after
every ``migrate`` (``governance.apps``) and on demand (``manage.py staff_roles_sync``).
A permission added to a role's group by hand is removed by the next sync; a group that
is not a role is left alone. Users' permissions, groups, staff and superuser status, and
the Group and Permission admin, belong to no role: only superusers have them.

Reading a citizen's records (events, snapshots, bills, claims) is ``view`` here; the
admin pages that open one citizen's record write the citizen's access log, so a
support member's reads are visible to the citizen.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    purpose: str
    permissions: tuple[str, ...]
    """``app_label.codename`` of each permission the role's group holds."""


SUPPORT = Role(
    name="support",
    purpose="Answer citizens: read their records (each opening is logged for the citizen), "
    "decide disputes, review identity documents.",
    permissions=(
        "wallet.view_user",
        "wallet.view_identitydocument",
        "wallet.change_identitydocument",
        "wallet.review_identitydocument",
        "scoring.view_creditevent",
        "scoring.view_scoresnapshot",
        "scoring.view_dispute",
        "scoring.change_dispute",
        "bills.view_bill",
        "perks.view_claim",
        "perks.view_claimdispute",
        "perks.change_claimdispute",
    ),
)
RISK_ANALYST = Role(
    name="risk_analyst",
    purpose="Write scorecard drafts, backtest, audit and dry-run them and submit them for "
    "approval; propose perk changes. Cannot make either go live.",
    permissions=(
        "scoring.view_scorecard",
        "scoring.add_scorecard",
        "scoring.change_scorecard",
        "scoring.submit_scorecard",
        "scoring.view_batchrun",
        "perks.view_perk",
        "perks.view_perkchange",
        "perks.add_perkchange",
        "governance.request_analysisrun",
        "governance.view_analysisrun",
    ),
)
RISK_APPROVER = Role(
    name="risk_approver",
    purpose="Approve (and so activate) a scorecard or a perk change someone else wrote, "
    "with a fresh fairness audit of it; cannot write one.",
    permissions=(
        "scoring.view_scorecard",
        "scoring.approve_scorecard",
        "perks.view_perk",
        "perks.view_perkchange",
        "perks.approve_perkchange",
        "governance.request_analysisrun",
        "governance.view_analysisrun",
        "governance.view_approval",
    ),
)
MERCHANT_OPS = Role(
    name="merchant_ops",
    purpose="Take merchants on and look after them: their details, API keys (create, "
    "revoke), their console members (read; reset a lost second factor) and the invitation "
    "of a new merchant's first owner; read their perks and propose changes to them.",
    permissions=(
        "merchants.view_merchant",
        "merchants.add_merchant",
        "merchants.change_merchant",
        "merchants.view_apikey",
        "merchants.change_apikey",
        "merchants.view_merchantmember",
        "merchants.view_memberinvite",
        "merchants.add_memberinvite",
        "perks.view_perk",
        "perks.view_perkchange",
        "perks.add_perkchange",
    ),
)

ROLES: tuple[Role, ...] = (SUPPORT, RISK_ANALYST, RISK_APPROVER, MERCHANT_OPS)
ROLES_BY_NAME: Mapping[str, Role] = {role.name: role for role in ROLES}

# Whoever holds one of these can make themselves (or anyone) a superuser in all but
# name. No role may ever include one; ``tests/governance/test_roles.py`` holds the line.
ESCALATING_PERMISSIONS = frozenset(
    {
        "wallet.change_user",
        "wallet.add_user",
        "wallet.delete_user",
        "auth.add_group",
        "auth.change_group",
        "auth.delete_group",
        "auth.add_permission",
        "auth.change_permission",
        "auth.delete_permission",
        "otp_totp.add_totpdevice",
        "otp_totp.change_totpdevice",
        "otp_totp.delete_totpdevice",
        "otp_static.add_staticdevice",
        "otp_static.change_staticdevice",
        "otp_static.delete_staticdevice",
    }
)


def roles_sync(*, apps: Apps = global_apps, strict: bool = True) -> dict[str, int]:
    """Create each role's group if missing and give it exactly the role's permissions.
    Idempotent: a second run changes nothing. Returns how many permissions each group
    holds.

    A permission named here that does not exist is an error (``strict``, the command):
    a role must never be silently different from its table. After a ``migrate`` to an
    older state some models may not exist yet; then (``strict=False``) the role gets
    what exists and a warning is logged."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    held: dict[str, int] = {}
    with transaction.atomic():
        for role in ROLES:
            wanted = set(role.permissions)
            found = {
                f"{app_label}.{codename}": pk
                for pk, app_label, codename in permission_model.objects.filter(
                    content_type__app_label__in={name.split(".")[0] for name in wanted},
                    codename__in={name.split(".")[1] for name in wanted},
                ).values_list("pk", "content_type__app_label", "codename")
            }
            missing = wanted - set(found)
            if missing:
                message = (
                    f"Role {role.name!r} names unknown permissions: {', '.join(sorted(missing))}."
                )
                if strict:
                    raise LookupError(message)
                logger.warning(message)
            group, _ = group_model.objects.get_or_create(name=role.name)
            group.permissions.set(sorted(found.values()))
            held[role.name] = len(found)
    return held
