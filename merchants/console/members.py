"""A merchant's staff: members, their roles, and the one-time links that invite them.

Services (writes, one transaction each, each recorded in the merchant's console audit
trail when a member did it) and selectors (reads) of ``MerchantMember`` and
``MemberInvite``. The rules, in one place:

- a role must be one of the merchant's category (``ROLES_BY_CATEGORY``): a hotel has no
  billing clerk, a biller no front desk;
- owners manage everyone; managers manage front desk and billing clerks only
  (:func:`role_manageable`); nobody else manages anyone;
- a merchant keeps at least one owner: the last one is neither removed nor demoted;
- a user is a member of one merchant at a time;
- an invitation is a random token whose SHA-256 digest alone is stored; it expires after
  ``CONSOLE_INVITE_TTL`` and is accepted at most once, unless revoked first.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from common.domain import Conflict, FieldError, Forbidden, InvalidRequest, Refused
from merchants.console.services.actions import action_record
from merchants.errors import NotFound
from merchants.models import ROLES_BY_CATEGORY, MemberInvite, MemberRole, Merchant, MerchantMember
from wallet.models import User

# --- Errors ----------------------------------------------------------------------------


class InviteInvalid(Refused):
    """Every invitation that cannot be accepted, whatever the reason (unknown, expired,
    used or revoked): whoever holds a link learns nothing more."""

    code = "invite_invalid"
    title = "Invitation not valid"
    default_detail = (
        "This invitation link cannot be used: it expired, was used or was withdrawn. "
        "Ask for a new one."
    )


class AlreadyMember(Conflict):
    code = "already_member"
    title = "Already a member"
    default_detail = "This account already works for a merchant; one at a time."


class RoleInvalid(InvalidRequest):
    code = "role_invalid"
    title = "Role not offered"
    default_detail = "This role does not exist for this kind of merchant."


class RoleNotManageable(Forbidden):
    code = "role_not_manageable"
    title = "Role not yours to manage"
    default_detail = "Owners manage everyone; managers manage the front desk and billing clerks."


class LastOwner(Conflict):
    code = "last_owner"
    title = "Last owner"
    default_detail = "A merchant keeps at least one owner: add another owner first."


# --- Rules -----------------------------------------------------------------------------

# Which roles a member in each role may invite, change or remove.
MANAGEABLE_BY: dict[str, frozenset[str]] = {
    MemberRole.OWNER: frozenset(MemberRole.values),
    MemberRole.MANAGER: frozenset({MemberRole.FRONT_DESK, MemberRole.BILLING_CLERK}),
    MemberRole.FRONT_DESK: frozenset(),
    MemberRole.BILLING_CLERK: frozenset(),
}


def role_manageable(*, by: MerchantMember, role: str) -> bool:
    """Whether ``by`` may invite, change or remove a member in ``role``."""
    return role in MANAGEABLE_BY.get(by.role, frozenset())


def roles_of_category(category: str) -> list[str]:
    """The category's roles, in ``MemberRole``'s order."""
    allowed = ROLES_BY_CATEGORY.get(category, frozenset())
    return [role for role in MemberRole.values if role in allowed]


def roles_assignable(*, by: MerchantMember) -> list[str]:
    """The roles ``by`` may give: of the merchant's category and manageable by them."""
    return [
        role
        for role in roles_of_category(by.merchant.category)
        if role_manageable(by=by, role=role)
    ]


def _role_check(*, merchant: Merchant, role: str, by: MerchantMember | None) -> None:
    if role not in ROLES_BY_CATEGORY.get(merchant.category, frozenset()):
        raise RoleInvalid(errors=[FieldError("role", RoleInvalid.default_detail, RoleInvalid.code)])
    if by is not None and not role_manageable(by=by, role=role):
        raise RoleNotManageable


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _record(by: MerchantMember | None, verb: str, target: Any, **detail: Any) -> None:
    if by is not None:
        action_record(member=by, verb=verb, target_id=target, detail=detail)


# --- Selectors -------------------------------------------------------------------------


def members_of(*, merchant: Merchant) -> QuerySet[MerchantMember]:
    """The merchant's current members, owners first, then by when they joined."""
    rank = Case(
        *(When(role=role, then=Value(index)) for index, role in enumerate(MemberRole.values)),
        default=Value(99),
        output_field=IntegerField(),
    )
    return (
        MerchantMember.objects.select_related("user")
        .filter(merchant=merchant, removed_at__isnull=True)
        .order_by(rank, "created_at")
    )


def member_of(*, merchant: Merchant, member_id: uuid.UUID | str) -> MerchantMember:
    """The merchant's current member ``member_id``; another merchant's is not found."""
    member = (
        MerchantMember.objects.select_related("user", "merchant")
        .filter(merchant=merchant, pk=member_id, removed_at__isnull=True)
        .first()
    )
    if member is None:
        raise NotFound
    return member


def invites_open_of(*, merchant: Merchant, now: datetime | None = None) -> QuerySet[MemberInvite]:
    """Invitations that can still be accepted, newest first."""
    return MemberInvite.objects.filter(
        merchant=merchant,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now or timezone.now(),
    ).order_by("-created_at")


def invite_open_by_token(*, token: str, now: datetime | None = None) -> MemberInvite | None:
    """The invitation ``token`` opens, if it can still be accepted."""
    if not token or len(token) > 200:
        return None
    return (
        MemberInvite.objects.select_related("merchant")
        .filter(
            digest=_digest(token),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now or timezone.now(),
            merchant__is_active=True,
        )
        .first()
    )


# --- Services --------------------------------------------------------------------------


@transaction.atomic
def member_add(
    *, merchant: Merchant, user: User, role: str, by: MerchantMember | None = None
) -> MerchantMember:
    """Make ``user`` a member of ``merchant`` in ``role`` (``by``: the member who did,
    None for a command). A user already working for a merchant raises
    :class:`AlreadyMember`."""
    _role_check(merchant=merchant, role=role, by=by)
    if MerchantMember.objects.filter(user=user, removed_at__isnull=True).exists():
        raise AlreadyMember
    try:
        with transaction.atomic():
            member = MerchantMember.objects.create(
                merchant=merchant,
                user=user,
                role=role,
                created_at=timezone.now(),
                added_by=by.user if by is not None else None,
            )
    except IntegrityError:  # the same user added twice at once
        raise AlreadyMember from None
    _record(by, "member.add", member.pk, role=role, username=user.get_username())
    return member


@transaction.atomic
def invite_create(
    *,
    merchant: Merchant,
    role: str,
    note: str = "",
    by: MerchantMember | None = None,
    staff: User | None = None,
) -> tuple[MemberInvite, str]:
    """A one-time invitation to join ``merchant`` in ``role``, valid for
    ``CONSOLE_INVITE_TTL``, made by the member ``by`` (the role rules apply) or by a
    member of ``staff`` in the admin (a merchant's first owner). Returns the row and the
    token (kept nowhere: show the link once)."""
    _role_check(merchant=merchant, role=role, by=by)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invite = MemberInvite.objects.create(
        merchant=merchant,
        role=role,
        note=note.strip()[:200],
        digest=_digest(token),
        created_at=now,
        expires_at=now + settings.CONSOLE_INVITE_TTL,
        created_by=by.user if by is not None else staff,
    )
    _record(by, "invite.create", invite.pk, role=role, note=invite.note)
    return invite, token


@transaction.atomic
def invite_accept(*, token: str, user: User) -> MerchantMember:
    """``user`` accepts the invitation ``token`` opens: they become a member in its
    role, and the invitation is spent. Raises :class:`InviteInvalid` (nothing changes)
    or :class:`AlreadyMember`."""
    found = invite_open_by_token(token=token)
    if found is None:
        raise InviteInvalid
    invite = MemberInvite.objects.select_for_update().select_related("merchant").get(pk=found.pk)
    now = timezone.now()
    if invite.accepted_at is not None or invite.revoked_at is not None or invite.expires_at <= now:
        raise InviteInvalid
    if MerchantMember.objects.filter(user=user, removed_at__isnull=True).exists():
        raise AlreadyMember
    inviter = invite.created_by
    try:
        with transaction.atomic():
            member = MerchantMember.objects.create(
                merchant=invite.merchant,
                user=user,
                role=invite.role,
                created_at=now,
                added_by=inviter,
            )
    except IntegrityError:
        raise AlreadyMember from None
    invite.accepted_at, invite.accepted_by = now, user
    invite.save(update_fields=["accepted_at", "accepted_by"])
    action_record(
        member=member,
        verb="invite.accept",
        target_id=invite.pk,
        detail={"role": invite.role, "username": user.get_username()},
    )
    return member


@transaction.atomic
def invite_revoke(
    *, merchant: Merchant, invite_id: uuid.UUID | str, by: MerchantMember
) -> MemberInvite:
    """Withdraw an open invitation of ``merchant`` (another merchant's is not found)."""
    invite = (
        MemberInvite.objects.select_for_update()
        .filter(merchant=merchant, pk=invite_id, accepted_at__isnull=True)
        .first()
    )
    if invite is None:
        raise NotFound
    if not role_manageable(by=by, role=invite.role):
        raise RoleNotManageable
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
        _record(by, "invite.revoke", invite.pk, role=invite.role)
    return invite


@transaction.atomic
def invites_withdraw(*, invite_ids: list[uuid.UUID]) -> int:
    """Staff withdraw open invitations (the admin's action); how many were still open."""
    return MemberInvite.objects.filter(
        pk__in=invite_ids, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def _owners_left(*, merchant: Merchant, without: MerchantMember) -> int:
    return (
        MerchantMember.objects.select_for_update()
        .filter(merchant=merchant, role=MemberRole.OWNER, removed_at__isnull=True)
        .exclude(pk=without.pk)
        .count()
    )


@transaction.atomic
def member_remove(
    *, merchant: Merchant, member_id: uuid.UUID | str, by: MerchantMember
) -> MerchantMember:
    """End a membership (the row stays, ``removed_at``, so what they did stays theirs).
    Never the last owner."""
    member = (
        MerchantMember.objects.select_for_update()
        .select_related("user")
        .filter(merchant=merchant, pk=member_id, removed_at__isnull=True)
        .first()
    )
    if member is None:
        raise NotFound
    if not role_manageable(by=by, role=member.role):
        raise RoleNotManageable
    if member.role == MemberRole.OWNER and _owners_left(merchant=merchant, without=member) == 0:
        raise LastOwner
    member.removed_at, member.removed_by = timezone.now(), by.user
    member.save(update_fields=["removed_at", "removed_by"])
    _record(by, "member.remove", member.pk, role=member.role, username=member.user.get_username())
    return member


@transaction.atomic
def member_role_set(
    *, merchant: Merchant, member_id: uuid.UUID | str, role: str, by: MerchantMember
) -> MerchantMember:
    """Give a member another role: ``by`` must manage both the old and the new one, the
    role must be the category's, and the last owner stays an owner."""
    member = (
        MerchantMember.objects.select_for_update()
        .select_related("user")
        .filter(merchant=merchant, pk=member_id, removed_at__isnull=True)
        .first()
    )
    if member is None:
        raise NotFound
    _role_check(merchant=merchant, role=role, by=by)
    if not role_manageable(by=by, role=member.role):
        raise RoleNotManageable
    if member.role == role:
        return member
    if member.role == MemberRole.OWNER and _owners_left(merchant=merchant, without=member) == 0:
        raise LastOwner
    before = member.role
    member.role = role
    member.save(update_fields=["role"])
    _record(by, "member.role", member.pk, before=before, after=role)
    return member
