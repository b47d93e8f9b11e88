"""Every write of the merchants app, one transaction each: merchants and keys, settlement
payouts, one-time codes and consents. Perks, decisions, bookings and claims are
``merchants.perks``'s; bills are ``merchants.bills``'s.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac

from common.audit import history_actor
from common.bulk import row_instance, rows_insert, rows_insert_returning
from common.domain import FieldError, InvalidRequest
from common.events import EventType, event_emit
from merchants import consent_texts, selectors
from merchants.errors import CodeInvalid, CodeUsed
from merchants.models import (
    ALL_SCOPES,
    ApiKey,
    AuthorizationCode,
    Consent,
    ConsentScope,
    Merchant,
    MerchantCategory,
)
from wallet import services as wallet_services
from wallet.models import LedgerAccount, Payout, User
from wallet.payments import sandbox
from wallet.payments import services as payments

logger = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

API_KEY_PREFIX = "sk_live_"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud or typed
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=10)
CONSENT_TTL = timedelta(days=30)
# ``last_used_at`` is written at most this often per key, not on every request.
KEY_USE_RESOLUTION = timedelta(minutes=1)
PAYOUT_DESTINATION_MAX_LENGTH = Merchant._meta.get_field("payout_destination").max_length or 200


# --- Merchants and API keys ------------------------------------------------------------


def _api_key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_parse_prefix(raw_key: str) -> str | None:
    """The public prefix of a key in our format (``sk_live_<prefix>_<secret>``), or None."""
    if not raw_key.startswith(API_KEY_PREFIX):
        return None
    # The public part has no underscore; the secret may (it is URL-safe base64).
    public, sep, secret = raw_key[len(API_KEY_PREFIX) :].partition("_")
    if not public or not sep or not secret:
        return None
    return API_KEY_PREFIX + public


API_KEY_NAME_MAX_LENGTH = ApiKey._meta.get_field("name").max_length or 100
# More than this many client networks on one key is a list to keep elsewhere (a proxy).
API_KEY_NETWORKS_MAX = 20


def api_key_scopes_clean(scopes: Iterable[str]) -> list[str]:
    """``scopes`` as a key stores them: known scopes (``ApiKeyScope``), at least one, each
    once, in the order ``ALL_SCOPES`` lists them. Refused with ``InvalidRequest`` (field
    ``scopes``: ``unknown_scope``, ``no_scope``) otherwise."""
    if isinstance(scopes, str):  # "bookings" is one scope, not eight letters
        scopes = [scopes]
    wanted = {str(scope).strip() for scope in scopes}
    unknown = sorted(wanted - set(ALL_SCOPES))
    if unknown:
        message = (
            f"Unknown scope(s) {', '.join(repr(scope) for scope in unknown)}; "
            f"the scopes are {', '.join(ALL_SCOPES)}."
        )
        raise InvalidRequest(message, errors=[FieldError("scopes", message, "unknown_scope")])
    if not wanted:
        message = f"Give the key at least one scope: {', '.join(ALL_SCOPES)}."
        raise InvalidRequest(message, errors=[FieldError("scopes", message, "no_scope")])
    return [scope for scope in ALL_SCOPES if scope in wanted]


def api_key_networks_clean(networks: Iterable[str]) -> list[str]:
    """``networks`` as a key stores them: IPv4 or IPv6 addresses (``203.0.113.7``) or
    CIDR blocks (``203.0.113.0/24``), each once, in the order given; a single address is
    kept without its prefix length. Empty: any network. Refused with ``InvalidRequest``
    (field ``allowed_networks``: ``invalid_network``, ``too_many_networks``) when an entry
    is not one, or a block has host bits set (``10.0.0.5/24``: did you mean
    ``10.0.0.0/24``?)."""
    if isinstance(networks, str):
        networks = [networks]
    cleaned: list[str] = []
    problems: list[str] = []
    for entry in networks:
        text = str(entry).strip()
        if not text:
            continue
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError:
            try:
                loose = ipaddress.ip_network(text, strict=False)
            except ValueError:
                problems.append(f"{text!r} is not an IP address or a CIDR block.")
            else:
                problems.append(f"{text!r} has host bits set: the block is {loose.with_prefixlen}.")
            continue
        if network.prefixlen == network.max_prefixlen:
            normal = str(network.network_address)
        else:
            normal = network.with_prefixlen
        if normal not in cleaned:
            cleaned.append(normal)
    if problems:
        message = " ".join(problems)
        raise InvalidRequest(
            message, errors=[FieldError("allowed_networks", message, "invalid_network")]
        )
    if len(cleaned) > API_KEY_NETWORKS_MAX:
        message = f"At most {API_KEY_NETWORKS_MAX} networks per key."
        raise InvalidRequest(
            message, errors=[FieldError("allowed_networks", message, "too_many_networks")]
        )
    return cleaned


def _api_key_fields_clean(
    *,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None,
    allowed_networks: Iterable[str],
) -> tuple[str, list[str], list[str]]:
    """Every field of a new key checked at once, so that a form shows all its problems."""
    errors: list[FieldError] = []
    name = name.strip()
    if len(name) > API_KEY_NAME_MAX_LENGTH:
        errors.append(
            FieldError("name", f"At most {API_KEY_NAME_MAX_LENGTH} characters.", "too_long")
        )
    clean_scopes: list[str] = []
    clean_networks: list[str] = []
    try:
        clean_scopes = api_key_scopes_clean(scopes)
    except InvalidRequest as error:
        errors.extend(error.errors)
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            errors.append(
                FieldError("expires_at", "Give the expiry with its time zone.", "naive_datetime")
            )
        elif expires_at <= timezone.now():
            errors.append(FieldError("expires_at", "The expiry must be in the future.", "past"))
    try:
        clean_networks = api_key_networks_clean(allowed_networks)
    except InvalidRequest as error:
        errors.extend(error.errors)
    if errors:
        raise InvalidRequest(
            "; ".join(f"{error.field}: {error.message}" for error in errors), errors=errors
        )
    return name, clean_scopes, clean_networks


@transaction.atomic
def api_key_create(
    *,
    merchant: Merchant,
    name: str = "",
    scopes: Iterable[str] = ALL_SCOPES,
    expires_at: datetime | None = None,
    allowed_networks: Iterable[str] = (),
    by: User | None = None,
) -> tuple[ApiKey, str]:
    """A new key for ``merchant``, made by ``by`` (a member of staff or of the merchant;
    None for a command), allowed ``scopes`` (every scope by default), until
    ``expires_at`` (None: until revoked), from ``allowed_networks`` (addresses or CIDR
    blocks; empty: from anywhere). Returns the row and the key itself, which is not
    stored anywhere: show it once.

    Refused with ``InvalidRequest`` naming every field wrong at once (``name`` too long,
    ``scopes`` unknown or none, ``expires_at`` past or without a zone,
    ``allowed_networks`` not addresses or blocks); nothing is written then."""
    name, clean_scopes, clean_networks = _api_key_fields_clean(
        name=name, scopes=scopes, expires_at=expires_at, allowed_networks=allowed_networks
    )
    prefix = API_KEY_PREFIX + get_random_string(8, "abcdefghijkmnopqrstuvwxyz23456789")
    raw_key = f"{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        merchant=merchant,
        created_by=by,
        name=name,
        prefix=prefix,
        digest=_api_key_digest(raw_key),
        expires_at=expires_at,
        scopes=clean_scopes,
        allowed_networks=clean_networks,
    )
    with history_actor(api_key, by):
        api_key.save(force_insert=True)
    logger.info(
        "api key created",
        extra={"merchant_id": str(merchant.pk), "prefix": prefix, "scopes": clean_scopes},
    )
    return api_key, raw_key


def api_key_network_allows(*, api_key: ApiKey, address: str) -> bool:
    """Whether ``api_key`` is accepted from the client ``address``
    (``common.throttling.client_address``): any address when it names no network; else
    one inside a network it names (an IPv4-mapped IPv6 address counts as its IPv4 one).
    An address that cannot be read is outside every network."""
    if not api_key.allowed_networks:
        return True
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    return any(client in network for network in _networks(tuple(api_key.allowed_networks)))


@functools.lru_cache(maxsize=1024)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """A key's networks parsed once per process (they were checked when it was made)."""
    parsed: list[IPNetwork] = []
    for entry in entries:
        try:
            parsed.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:  # written around the service: allows nothing
            continue
    return tuple(parsed)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, by: User | None = None) -> ApiKey:
    """Stop a key working at once; ``by`` is the member of staff who revoked it (None:
    the system). Revoking twice keeps the first time and the first revoker. Saved (not
    updated in bulk) so that the audit trail records it."""
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at, locked.revoked_by = timezone.now(), by
        with history_actor(locked, by):
            locked.save(update_fields=["revoked_at", "revoked_by"])
        logger.info("api key revoked", extra={"prefix": locked.prefix})
    api_key.revoked_at, api_key.revoked_by_id = locked.revoked_at, locked.revoked_by_id
    return api_key


def api_key_use(*, raw_key: str) -> ApiKey | None:
    """The live key ``raw_key`` is, or None. Records its use (at most once a minute).

    The key and its merchant are read on every request, in one statement by the key's
    unique prefix (``selectors.api_key_by_prefix``), never from a process's memory: a
    key revoked or expired, or its merchant deactivated, is refused from the first
    request that starts after the change commits, in every process. (A cache would still
    have to read the key's row to know that; the read is the whole cost.)"""
    prefix = api_key_parse_prefix(raw_key)
    if prefix is None:
        return None
    api_key = selectors.api_key_by_prefix(prefix=prefix)
    if api_key is None or not hmac.compare_digest(api_key.digest, _api_key_digest(raw_key)):
        return None
    now = timezone.now()
    if (
        api_key.revoked_at is not None
        or (api_key.expires_at is not None and api_key.expires_at <= now)
        or not api_key.merchant.is_active
    ):
        return None
    if api_key.last_used_at is None or api_key.last_used_at < now - KEY_USE_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


@transaction.atomic
def merchant_create(*, name: str, category: str, payout_destination: str | None = None) -> Merchant:
    """A merchant with its settlement account. Staff and ``create_merchant`` take a
    merchant on with ``merchants.perks.services.merchant_onboard``, which calls this and
    gives a hotel or rental its default perk. Its payouts go to ``payout_destination``;
    by default (None) a sandbox bank account of its own on the sandbox provider, and
    nowhere on a real one (staff enter the merchant's account in the admin)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("A merchant's name is 1 to 200 characters.")
    if category not in MerchantCategory.values:
        raise ValueError(f"Unknown category {category!r}; one of {', '.join(MerchantCategory)}.")
    merchant_id = uuid.uuid4()
    if payout_destination is None:
        payout_destination = payout_destination_default(merchant_id=merchant_id)
    settlement = wallet_services.settlement_account_open(code=str(merchant_id), name=name)
    merchant = Merchant.objects.create(
        id=merchant_id,
        name=name,
        category=category,
        settlement=settlement,
        payout_destination=_payout_destination_clean(payout_destination),
    )
    logger.info("merchant created", extra={"merchant_id": str(merchant.pk), "category": category})
    return merchant


@transaction.atomic
def merchant_update(
    *,
    merchant: Merchant,
    name: str,
    is_active: bool,
    payout_destination: str | None = None,
) -> Merchant:
    """Rename or (de)activate a merchant, and change where its payouts go (None keeps
    it; empty stops its payouts); its settlement account takes the new name. An
    inactive merchant's keys stop working at once; its balance is still paid out."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("A merchant's name is 1 to 200 characters.")
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    merchant.name, merchant.is_active = name, is_active
    fields = ["name", "is_active"]
    if payout_destination is not None:
        payout_destination = _payout_destination_clean(payout_destination)
        if payout_destination != merchant.payout_destination:
            # Where the money goes is worth an audit line of its own (without the
            # account's name: the admin's history of the merchant keeps who changed it).
            logger.info(
                "merchant payout destination changed",
                extra={"merchant_id": str(merchant.pk), "cleared": not payout_destination},
            )
        merchant.payout_destination = payout_destination
        fields.append("payout_destination")
    merchant.save(update_fields=fields)
    wallet_services.settlement_account_rename(account_id=merchant.settlement_id, name=name)
    logger.info("merchant updated", extra={"merchant_id": str(merchant.pk), "is_active": is_active})
    return merchant


# --- Settlement payouts ----------------------------------------------------------------


def payout_destination_default(*, merchant_id: uuid.UUID) -> str:
    """Where a new merchant's payouts go until staff say otherwise: on the sandbox
    provider, a made-up bank account of its own (stable per merchant; the sandbox pays
    it); on a real provider, nowhere (empty)."""
    if settings.PAYMENTS_PROVIDER != sandbox.NAME:
        return ""
    digits = int.from_bytes(hashlib.sha256(merchant_id.bytes).digest()[:4], "big") % 10_000
    return f"Sandbox bank account ···{digits:04d}"


def _payout_destination_clean(destination: str) -> str:
    destination = destination.strip()
    if len(destination) > PAYOUT_DESTINATION_MAX_LENGTH:
        raise ValueError(
            f"A payout destination is at most {PAYOUT_DESTINATION_MAX_LENGTH} characters."
        )
    return destination


class NoPayout(StrEnum):
    """Why a merchant's settlement balance was not paid out."""

    NO_DESTINATION = "no_destination"  # the merchant has no payout destination
    BELOW_THRESHOLD = "below_threshold"  # the balance is less than the threshold


@dataclass(frozen=True, slots=True)
class SettlementPayout:
    """What paying out one merchant did: the payout, or why there is none (``reason``).

    ``balance`` is the settlement balance the decision was made on (what was paid, when
    something was); ``threshold`` the least that is paid out."""

    merchant: Merchant
    balance: int
    threshold: int
    payout: Payout | None = None
    reason: NoPayout | None = None


def settlement_pay_out(
    *, merchant: Merchant, threshold: int | None = None, requested_by: User | None = None
) -> SettlementPayout:
    """Pay out the merchant's whole settlement balance to its payout destination, if it
    is at least ``threshold`` (``PAYMENTS_PAYOUT_THRESHOLD`` by default; staff's button
    pays any balance of 1 minor unit or more). ``requested_by``: the staff user who
    asked, None for the daily run.

    One transaction. The merchant's row is locked first, so the destination paid to is
    the one registered when the money leaves; the settlement account is locked next
    (``wallet.payments.services.settlement_payout_create``), so nothing paid into or
    refunded from it meanwhile is lost or paid twice. A balance below zero (refunds
    after a payout: the merchant owes them) is never paid out, and is made up from what
    the merchant collects next. The provider is asked after commit."""
    threshold = settings.PAYMENTS_PAYOUT_THRESHOLD if threshold is None else max(threshold, 1)
    with transaction.atomic():
        merchant = (
            Merchant.objects.select_for_update(of=("self",))
            .select_related("settlement")
            .get(pk=merchant.pk)
        )
        payout = None
        if merchant.payout_destination:
            payout = payments.settlement_payout_create(
                account=merchant.settlement,
                destination=merchant.payout_destination,
                threshold=threshold,
                requested_by=requested_by,
            )
        if payout is None:
            # As the payout service saw it (it holds the account's lock until commit).
            balance = LedgerAccount.objects.values_list("balance", flat=True).get(
                pk=merchant.settlement_id
            )
            reason = (
                NoPayout.BELOW_THRESHOLD if merchant.payout_destination else NoPayout.NO_DESTINATION
            )
            return SettlementPayout(merchant, balance, threshold, reason=reason)
    logger.info(
        "settlement paid out",
        extra={
            "merchant_id": str(merchant.pk),
            "payout_id": str(payout.pk),
            "amount": payout.amount,
            "requested_by": requested_by.pk if requested_by is not None else None,
        },
    )
    return SettlementPayout(merchant, payout.amount, threshold, payout=payout)


@dataclass(slots=True)
class PayoutRun:
    """What a daily run did: how many merchants were paid and how much in all, how many
    had enough to pay but no destination, and how many failed (logged each)."""

    paid: int = 0
    amount: int = 0
    no_destination: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "paid": self.paid,
            "amount": self.amount,
            "no_destination": self.no_destination,
            "failed": self.failed,
        }


def settlements_pay_out() -> PayoutRun:
    """The daily run: pay out every merchant's settlement balance that has reached
    ``PAYMENTS_PAYOUT_THRESHOLD``, each merchant in a transaction of its own.

    Safe to run twice or in parallel: a payout empties the balance it pays, so a second
    run finds nothing left to pay (only what came in since). A merchant that fails is
    logged and the others are still paid; a lost or busy database connection stops the
    run (the task is retried and pays only what is still due). A merchant with enough
    to pay but no destination is logged, and paid once staff register one."""
    threshold = settings.PAYMENTS_PAYOUT_THRESHOLD
    run = PayoutRun()
    due = list(
        Merchant.objects.filter(settlement__balance__gte=threshold)
        .order_by("pk")
        .only("pk", "name")
    )
    for merchant in due:
        try:
            result = settlement_pay_out(merchant=merchant, threshold=threshold)
        except (OperationalError, InterfaceError):
            raise
        except Exception:  # one merchant's failure must not stop the rest
            logger.exception("settlement payout failed", extra={"merchant_id": str(merchant.pk)})
            run.failed += 1
            continue
        if result.payout is not None:
            run.paid += 1
            run.amount += result.payout.amount
        elif result.reason == NoPayout.NO_DESTINATION:
            run.no_destination += 1
            logger.warning(
                "settlement not paid out: the merchant has no payout destination",
                extra={"merchant_id": str(merchant.pk), "balance": result.balance},
            )
    logger.info("settlements paid out", extra=run.as_dict())
    return run


# --- One-time codes and consents -------------------------------------------------------


def code_normalize(text: str) -> str:
    """What a person typed, as stored: upper case, without spaces or dashes."""
    return "".join(text.split()).replace("-", "").upper()


def code_is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(char in CODE_ALPHABET for char in code)


def _code_digest(code: str) -> str:
    return salted_hmac("merchants.authorization-code", code, algorithm="sha256").hexdigest()


def code_qr_payload(code: str, scope: str) -> str:
    """What the app draws as a QR code for a merchant's scanner to read."""
    return f"opensesame:consent?code={code}&scope={scope}"


def consent_expires_at(*, scope: str, since: datetime) -> datetime | None:
    """When a consent granted or renewed at ``since`` expires: a billing consent never
    (until revoked: a utility bills every month), a deposit waiver ``CONSENT_TTL`` later
    (the stay)."""
    return None if scope == ConsentScope.BILLING else since + CONSENT_TTL


def billing_limits_check(
    *, scope: str, max_bill_amount: int | None, max_monthly_amount: int | None
) -> None:
    """The limits a code of ``scope`` carries: a billing code both, positive whole minor
    units, the single bill at most the monthly total; any other scope none. The one
    implementation of the rule (the database's ``*_limits_billing`` constraints state it
    too): refused with a message per field."""
    problems: list[FieldError] = []
    limits = (
        ("max_bill_amount", max_bill_amount, "the largest single bill"),
        ("max_monthly_amount", max_monthly_amount, "the most billed in a calendar month"),
    )
    if scope != ConsentScope.BILLING:
        problems.extend(
            FieldError(name, "Only a billing code has limits.", "not_allowed")
            for name, value, _ in limits
            if value is not None
        )
    else:
        for name, value, what in limits:
            if value is None:
                problems.append(
                    FieldError(name, f"Required for a billing code: {what}.", "required")
                )
            elif value <= 0:
                problems.append(
                    FieldError(name, "A positive whole number of minor units.", "invalid")
                )
        if (
            not problems
            and max_bill_amount is not None
            and max_monthly_amount is not None
            and max_bill_amount > max_monthly_amount
        ):
            problems.append(
                FieldError(
                    "max_bill_amount",
                    "The largest single bill cannot be more than the monthly total.",
                    "over_monthly",
                )
            )
    if problems:
        raise InvalidRequest(
            "; ".join(f"{p.field}: {p.message}" for p in problems), errors=problems
        )


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """A one-time code as :func:`_codes_write` writes it: the keyed digest of the code
    (never the code), valid for ``CODE_TTL`` from ``created_at``; redeemed at
    ``redeemed_at`` by ``redeemed_by_id`` if it was; the terms the citizen agreed to
    (billing limits, the consent text shown)."""

    citizen_id: int
    scope: str
    digest: str
    created_at: datetime
    merchant_id: Any = None  # the only merchant that may redeem it, if set
    redeemed_at: datetime | None = None
    redeemed_by_id: Any = None
    max_bill_amount: int | None = None
    max_monthly_amount: int | None = None
    text: str = ""
    text_version: str = ""
    language: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A consent as :func:`_codes_write` writes it: granted when its first code was
    redeemed, renewed (``renewed_at``) when its code ``code_id`` was, with that code's
    terms; a deposit waiver for ``CONSENT_TTL`` from then, a billing consent until
    revoked; revoked at ``revoked_at`` if it was."""

    citizen_id: int
    merchant_id: Any
    scope: str
    code_id: uuid.UUID
    granted_at: datetime
    renewed_at: datetime | None = None
    revoked_at: datetime | None = None
    max_bill_amount: int | None = None
    max_monthly_amount: int | None = None
    text: str = ""
    text_version: str = ""
    language: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def expires_at(self) -> datetime | None:
        return consent_expires_at(scope=self.scope, since=self.renewed_at or self.granted_at)


_TERMS = ("max_bill_amount", "max_monthly_amount", "text", "text_version", "language")
_CODE_COLUMNS = (
    "id",
    "citizen_id",
    "scope",
    "merchant_id",
    "digest",
    "created_at",
    "expires_at",
    "redeemed_at",
    "redeemed_by_id",
    *_TERMS,
)
_CONSENT_COLUMNS = (
    "id",
    "citizen_id",
    "merchant_id",
    "scope",
    "code_id",
    "granted_at",
    "renewed_at",
    "expires_at",
    "revoked_at",
    *_TERMS,
)
_DIGEST_LENGTH = 64  # hex of SHA-256
# The known scopes, built once: ``ConsentScope.values`` builds its list on every read.
_SCOPES = frozenset(ConsentScope.values)


def _terms(record: CodeRecord | ConsentRecord | AuthorizationCode) -> tuple[Any, ...]:
    return tuple(getattr(record, name) for name in _TERMS)


def _terms_check(record: CodeRecord | ConsentRecord) -> None:
    if record.scope not in _SCOPES:
        raise ValueError(f"Unknown scope {record.scope!r}.")
    try:
        billing_limits_check(
            scope=record.scope,
            max_bill_amount=record.max_bill_amount,
            max_monthly_amount=record.max_monthly_amount,
        )
    except InvalidRequest as error:
        raise ValueError(error.detail) from None


def _code_check(code: CodeRecord) -> None:
    """A code is stored as a digest, never as itself; of a known scope with its limits;
    redeemed, if it was, while it was valid and by a merchant (the one it names, if it
    names one)."""
    _terms_check(code)
    if len(code.digest) != _DIGEST_LENGTH or code_is_well_formed(code.digest):
        raise ValueError("A code is stored as its digest, never as the code.")
    if (code.redeemed_at is None) != (code.redeemed_by_id is None):
        raise ValueError("A redeemed code, and only one, names the merchant that redeemed it.")
    if code.redeemed_at is not None and not (
        code.created_at <= code.redeemed_at < code.created_at + CODE_TTL
    ):
        raise ValueError("A code is redeemed while it is valid.")
    if code.merchant_id is not None and code.redeemed_by_id not in (None, code.merchant_id):
        raise ValueError("A code that names a merchant is redeemed by that merchant.")


def _consent_check(consent: ConsentRecord) -> None:
    """A consent is of a known scope with its limits; renewed, if it was, after it was
    granted; revoked, if it was, after that and before it expired."""
    _terms_check(consent)
    since = consent.renewed_at or consent.granted_at
    if since < consent.granted_at:
        raise ValueError("A consent is renewed after it was granted.")
    expires_at = consent.expires_at
    if consent.revoked_at is not None and not (
        since < consent.revoked_at and (expires_at is None or consent.revoked_at < expires_at)
    ):
        raise ValueError("A consent is revoked after it was granted and before it expired.")


def _code_row(code: CodeRecord) -> tuple[Any, ...]:
    return (
        code.id,
        code.citizen_id,
        code.scope,
        code.merchant_id,
        code.digest,
        code.created_at,
        code.created_at + CODE_TTL,
        code.redeemed_at,
        code.redeemed_by_id,
        *_terms(code),
    )


def _consent_row(consent: ConsentRecord) -> tuple[Any, ...]:
    return (
        consent.id,
        consent.citizen_id,
        consent.merchant_id,
        consent.scope,
        consent.code_id,
        consent.granted_at,
        consent.renewed_at,
        consent.expires_at,
        consent.revoked_at,
        *_terms(consent),
    )


def _codes_write(codes: Sequence[CodeRecord], consents: Sequence[ConsentRecord]) -> None:
    """Write codes and consents: the one implementation of what their rows may be
    (:func:`_code_check`, :func:`_consent_check`), every one checked before any is
    written. At most one consent not revoked per citizen, merchant and scope is the
    database's to enforce (``consent_one_unrevoked``)."""
    for code in codes:
        _code_check(code)
    for consent in consents:
        _consent_check(consent)
    if codes:
        rows_insert(AuthorizationCode, _CODE_COLUMNS, (_code_row(code) for code in codes))
    if consents:
        rows_insert(Consent, _CONSENT_COLUMNS, (_consent_row(consent) for consent in consents))


def authorization_code_create(
    *,
    citizen: User,
    scope: str,
    merchant: Merchant | None = None,
    max_bill_amount: int | None = None,
    max_monthly_amount: int | None = None,
    language: str = consent_texts.DEFAULT_LANGUAGE,
) -> tuple[AuthorizationCode, str]:
    """A one-time code for the citizen to show a merchant, with the terms they agreed
    to: a billing code's limits (both required, :func:`billing_limits_check`) and the
    consent text shown to them, in ``language``, stored word for word. Returns the row
    and the code, which is not stored: only its keyed digest is."""
    if scope not in _SCOPES:
        raise ValueError(f"Unknown scope {scope!r}.")
    billing_limits_check(
        scope=scope, max_bill_amount=max_bill_amount, max_monthly_amount=max_monthly_amount
    )
    shown = consent_texts.consent_text(
        scope=scope,
        language=language,
        merchant_name=merchant.name if merchant is not None else None,
        currency=settings.WALLET_CURRENCY,
        days=CONSENT_TTL.days,
        max_bill_amount=max_bill_amount,
        max_monthly_amount=max_monthly_amount,
    )
    now = timezone.now()
    for _ in range(5):
        code = get_random_string(CODE_LENGTH, CODE_ALPHABET)
        record = CodeRecord(
            citizen_id=citizen.pk,
            scope=scope,
            merchant_id=merchant.pk if merchant is not None else None,
            digest=_code_digest(code),
            created_at=now,
            max_bill_amount=max_bill_amount,
            max_monthly_amount=max_monthly_amount,
            text=shown.text,
            text_version=shown.version,
            language=shown.language,
        )
        try:
            with transaction.atomic():
                _codes_write([record], [])
        except IntegrityError:  # the same code was made before: draw again
            continue
        row: AuthorizationCode = row_instance(AuthorizationCode, _CODE_COLUMNS, _code_row(record))
        row.citizen = citizen
        if merchant is not None:
            row.merchant = merchant
        logger.info("authorization code created", extra={"code_id": str(row.pk), "scope": scope})
        return row, code
    raise RuntimeError("Could not draw an unused code.")


def code_redeem(*, merchant: Merchant, code: str) -> Consent:
    """Turn a code into a consent, or renew the citizen's consent to this merchant for
    that scope (:func:`_consent_grant`); the caller holds the transaction (an
    eligibility decision redeems the code in its own). The code's row is locked, so of
    two concurrent redemptions of one code one succeeds and the other finds it used.

    Every refusal is ``code_invalid`` (unknown, meant for another merchant, expired, used
    by another), except a code this merchant redeemed itself (``code_used``): a merchant
    probing codes learns nothing about codes that were not its own."""
    code = code_normalize(code)
    row = (
        AuthorizationCode.objects.select_for_update(of=("self",))
        .select_related("citizen")
        .filter(digest=_code_digest(code))
        .first()
        if code_is_well_formed(code)
        else None
    )
    if row is None or (row.merchant_id is not None and row.merchant_id != merchant.pk):
        raise CodeInvalid()
    if row.redeemed_at is not None:
        raise CodeUsed() if row.redeemed_by_id == merchant.pk else CodeInvalid()
    if row.expires_at <= timezone.now():
        raise CodeInvalid()
    return _consent_grant(code=row, merchant=merchant)


def _code_redeemed(*, code: AuthorizationCode, merchant: Merchant, now: datetime) -> None:
    code.redeemed_at, code.redeemed_by = now, merchant
    code.save(update_fields=["redeemed_at", "redeemed_by"])


def _unrevoked(*, code: AuthorizationCode, merchant: Merchant) -> Consent | None:
    """The citizen's consent not revoked to ``merchant`` for the code's scope, locked."""
    return (
        Consent.objects.select_for_update(of=("self",))
        .filter(
            citizen_id=code.citizen_id,
            merchant=merchant,
            scope=code.scope,
            revoked_at__isnull=True,
        )
        .order_by()
        .first()
    )


def _consent_grant(*, code: AuthorizationCode, merchant: Merchant) -> Consent:
    """A consent from a code being redeemed (locked): a new one, or the citizen's
    consent to this merchant for this scope renewed (one not revoked at most,
    ``consent_one_unrevoked``). The code is marked redeemed by the merchant at the same
    moment.

    The new consent is inserted unless one not revoked exists (``ON CONFLICT DO
    NOTHING``: on the path of every first redemption, no statement more than a plain
    insert); if one does, it is locked and renewed. Two codes of one citizen redeemed by
    one merchant at once: the second insert waits on the first's unique index entry,
    writes nothing once it commits, and renews the consent the first made, so one consent
    stands. The moment of a renewal is read once its lock is held, so it is always later
    than the grant or renewal before it."""
    for _ in range(3):  # a consent revoked between the insert and the lock: insert again
        now = timezone.now()
        record = ConsentRecord(
            citizen_id=code.citizen_id,
            merchant_id=merchant.pk,
            scope=code.scope,
            code_id=code.pk,
            granted_at=now,
            max_bill_amount=code.max_bill_amount,
            max_monthly_amount=code.max_monthly_amount,
            text=code.text,
            text_version=code.text_version,
            language=code.language,
        )
        _consent_check(record)
        row = _consent_row(record)
        if rows_insert_returning(Consent, _CONSENT_COLUMNS, [row], skip_conflicts=True):
            _code_redeemed(code=code, merchant=merchant, now=now)
            consent: Consent = row_instance(Consent, _CONSENT_COLUMNS, row)
            consent.citizen, consent.merchant, consent.code = code.citizen, merchant, code
            logger.info(
                "consent granted",
                extra={"consent_id": str(consent.pk), "merchant_id": str(merchant.pk)},
            )
            return consent
        existing = _unrevoked(code=code, merchant=merchant)
        if existing is not None:
            now = timezone.now()
            _code_redeemed(code=code, merchant=merchant, now=now)
            return _consent_renew(consent=existing, code=code, now=now)
    raise RuntimeError("The citizen's consent changed under every attempt to grant it.")


def _consent_renew(*, consent: Consent, code: AuthorizationCode, now: datetime) -> Consent:
    """Renew a consent (locked) with a new code: the code's terms replace the old ones
    and a deposit waiver runs ``CONSENT_TTL`` from now."""
    consent.code = code
    consent.renewed_at = now
    consent.expires_at = consent_expires_at(scope=consent.scope, since=now)
    for name, value in zip(_TERMS, _terms(code), strict=True):
        setattr(consent, name, value)
    consent.save(update_fields=["code", "renewed_at", "expires_at", *_TERMS])
    consent.citizen = code.citizen
    logger.info(
        "consent renewed",
        extra={"consent_id": str(consent.pk), "merchant_id": str(consent.merchant_id)},
    )
    return consent


@transaction.atomic
def consents_record(*, codes: Sequence[CodeRecord], consents: Sequence[ConsentRecord]) -> int:
    """Record a history of codes and the consents they became (an import, the demo's
    city): each is what :func:`authorization_code_create` and :func:`code_redeem` would
    have written at its moments, and every one is checked before any is written. Each
    consent's code (the last that granted or renewed it) is among ``codes``, redeemed
    then by the consent's merchant, for the same citizen and scope, with the consent's
    terms. Earlier codes that renewed it are among ``codes`` too, redeemed by that
    merchant. Revoked ones emit no event: a history is not news to the merchant. Returns
    how many consents were written."""
    by_id = {code.id: code for code in codes}
    for consent in consents:
        granted_by = by_id.get(consent.code_id)
        if granted_by is None or granted_by.redeemed_at != (
            consent.renewed_at or consent.granted_at
        ):
            raise ValueError("A consent is granted or renewed when its code is redeemed.")
        if (
            (granted_by.citizen_id, granted_by.scope) != (consent.citizen_id, consent.scope)
            or granted_by.redeemed_by_id != consent.merchant_id
            or _terms(granted_by) != _terms(consent)
        ):
            raise ValueError("A consent is what its code offered: citizen, scope, terms.")
    _codes_write(codes, consents)
    return len(consents)


@transaction.atomic
def consent_redeem(*, merchant: Merchant, code: str) -> Consent:
    """A merchant redeems a citizen's one-time code: the code is used up and a consent
    (citizen, merchant, scope) is made, or the one the citizen gave it renewed."""
    return code_redeem(merchant=merchant, code=code)


@transaction.atomic
def consent_revoke(*, citizen: User, consent: Consent) -> Consent:
    """The citizen withdraws a consent; the merchant is refused from now on, and told
    (``consent.revoked``, in this transaction). Revoking twice keeps the first time and
    tells nothing more."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk, citizen=citizen)
    if consent.revoked_at is None:
        consent.revoked_at = now = timezone.now()
        consent.save(update_fields=["revoked_at"])
        event_emit(
            type=EventType.CONSENT_REVOKED,
            merchant_id=consent.merchant_id,
            data={
                "object": "consent",
                "id": str(consent.pk),
                "scope": consent.scope,
                "revoked_at": now.isoformat(),
            },
            at=now,
        )
        logger.info("consent revoked", extra={"consent_id": str(consent.pk)})
    return consent
