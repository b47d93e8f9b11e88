"""The shipped staff roles: a group each with exactly the permissions of its table, kept
that way by every migrate and by ``staff_roles_sync``; none can change who may do what;
and each role reaches the admin pages of its work and no others."""

from collections.abc import Callable
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from governance.roles import ESCALATING_PERMISSIONS, ROLES, ROLES_BY_NAME, roles_sync
from tests.governance.conftest import signed_in
from wallet.models import User

pytestmark = pytest.mark.django_db


def held(group_name: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_migrate_made_every_role_with_exactly_its_permissions():
    # Given the database as migrate left it (post_migrate synced the roles)
    # Then each role is a group holding exactly its table's permissions
    assert sorted(Group.objects.values_list("name", flat=True)) == [
        "merchant_ops",
        "risk_analyst",
        "risk_approver",
        "support",
    ]
    for role in ROLES:
        assert held(role.name) == set(role.permissions), role.name


def test_the_roles_table():
    assert ROLES_BY_NAME["support"].permissions == (
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
    )
    analyst, approver = ROLES_BY_NAME["risk_analyst"], ROLES_BY_NAME["risk_approver"]
    # Four eyes: whoever writes a scorecard or a perk change cannot approve one, and
    # whoever approves cannot write one
    assert "scoring.submit_scorecard" in analyst.permissions
    assert "scoring.approve_scorecard" not in analyst.permissions
    assert "perks.approve_perkchange" not in analyst.permissions
    assert "scoring.approve_scorecard" in approver.permissions
    assert "perks.approve_perkchange" in approver.permissions
    assert not {"scoring.add_scorecard", "scoring.change_scorecard", "perks.add_perkchange"} & set(
        approver.permissions
    )
    # Both ask for audits, backtests and dry-runs and read them; an approval rests on an
    # audit the approver may ask for, and the approver reads the approvals
    for role in (analyst, approver):
        assert {"governance.request_analysisrun", "governance.view_analysisrun"} <= set(
            role.permissions
        )
    assert "governance.view_approval" in approver.permissions
    assert "governance.view_approval" not in analyst.permissions
    assert set(ROLES_BY_NAME["merchant_ops"].permissions) == {
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
    }


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_no_role_can_change_who_may_do_what(role):
    names = set(role.permissions)
    assert not names & ESCALATING_PERMISSIONS
    # Nor anything of auth, of the two-factor devices, or of the audit trail's tables
    assert not {name for name in names if name.split(".")[0] in {"auth", "otp_totp", "otp_static"}}
    assert not {name for name in names if "historical" in name}
    # Nor of the users beyond reading them
    assert not {name for name in names if name.startswith("wallet.") and name.endswith("_user")} - {
        "wallet.view_user"
    }


def test_sync_is_idempotent_and_undoes_changes_made_by_hand():
    # Given a role's group given an extra permission by hand, one of its own removed, and
    # a group that is not a role
    support = Group.objects.get(name="support")
    support.permissions.add(Permission.objects.get(codename="change_user"))
    support.permissions.remove(Permission.objects.get(codename="change_dispute"))
    other = Group.objects.create(name="auditors")
    other.permissions.add(Permission.objects.get(codename="view_user"))
    # When the roles are synced, twice
    first = roles_sync()
    before = {role.name: held(role.name) for role in ROLES}
    second = roles_sync()
    # Then each role holds exactly its table again, the second run changed nothing, and
    # the other group is left alone
    assert first == second == {role.name: len(role.permissions) for role in ROLES}
    for role in ROLES:
        assert held(role.name) == set(role.permissions) == before[role.name]
    assert held("auditors") == {"wallet.view_user"}


def test_the_command_syncs_and_says_what_each_role_holds():
    Group.objects.all().delete()
    out = StringIO()
    call_command("staff_roles_sync", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "support",
        "risk_analyst",
        "risk_approver",
        "merchant_ops",
    ]
    assert lines[0].startswith("support: 12 permissions (Answer citizens")
    for role in ROLES:
        assert held(role.name) == set(role.permissions)


def test_a_role_naming_an_unknown_permission_is_refused(monkeypatch):
    from governance import roles

    broken = roles.Role(name="support", purpose="", permissions=("scoring.fly_scorecard",))
    monkeypatch.setattr(roles, "ROLES", (broken,))
    with pytest.raises(LookupError, match=r"scoring\.fly_scorecard"):
        roles.roles_sync()
    # The support group kept what it had
    assert held("support") == set(ROLES_BY_NAME["support"].permissions)


# Each role reaches the admin pages of its work (200) and not the others (403).
PAGES = {
    "users": "admin:wallet_user_changelist",
    "groups": "admin:auth_group_changelist",
    "disputes": "admin:scoring_dispute_changelist",
    "snapshots": "admin:scoring_scoresnapshot_changelist",
    "claim disputes": "admin:perks_claimdispute_changelist",
    "scorecards": "admin:scoring_scorecard_changelist",
    "new scorecard": "admin:scoring_scorecard_add",
    "merchants": "admin:merchants_merchant_changelist",
    "new merchant": "admin:merchants_merchant_add",
    "keys": "admin:merchants_apikey_changelist",
    "perks": "admin:perks_perk_changelist",
    "ledger": "admin:wallet_ledgeraccount_changelist",
    "totp devices": "admin:otp_totp_totpdevice_changelist",
    "analyses": "admin:governance_analysisrun_changelist",
    "drift": "admin:governance_analysisrun_drift",
    "approvals": "admin:governance_approval_changelist",
}
REACHES = {
    "support": {"users", "disputes", "snapshots", "claim disputes"},
    "risk_analyst": {"scorecards", "new scorecard", "perks", "analyses", "drift"},
    "risk_approver": {"scorecards", "perks", "analyses", "drift", "approvals"},
    "merchant_ops": {"merchants", "new merchant", "keys", "perks"},
}


@pytest.mark.parametrize("role", sorted(REACHES))
def test_each_role_reaches_the_pages_of_its_work_and_no_others(
    role: str, member_of: Callable[[str], User]
):
    client = signed_in(member_of(role))
    statuses = {page: client.get(reverse(url)).status_code for page, url in PAGES.items()}
    assert statuses == {page: 200 if page in REACHES[role] else 403 for page in PAGES}
