"""How a citizen raises their identity level, and what closing an account erases here.

- **Phone (level 1).** ``POST /me/phone`` sends a six-digit code by text message
  (``wallet.sms``); only an HMAC of it is stored, keyed with the server's secret and the
  verification's id. The latest code is the only live one; it dies after
  ``PHONE_CODE_TTL_MINUTES``, after ``PHONE_CODE_ATTEMPTS`` wrong tries, or once used.
  At most ``PHONE_CODES_PER_HOUR`` codes go to one account in any hour, counted from
  the rows themselves (so no cache outage lifts the limit, and nobody can make us text
  a stranger's phone without end).
- **Identity document (level 2).** The citizen uploads an image or a PDF (told by its
  content, never its name); staff with ``wallet.review_identitydocument`` approve it
  (recording the number's last digits and what they checked) or reject it (with a
  reason the citizen reads). The file is deleted from storage with the decision, in the
  same transaction as the row that records it; only kind, country, last digits, digest
  and the decision remain.

Every write is one ``transaction.atomic()``. A wrong phone code is counted in a
transaction that commits before the refusal is raised, so the attempt limit holds even
though the request fails.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from common import files
from common.domain import DomainError, FieldError, Forbidden, InvalidRequest, TooManyAttempts
from wallet import services, sms
from wallet.errors import CodeInvalid, DocumentDecided, DocumentPending, SmsUnavailable
from wallet.models import (
    IdentityDocument,
    IdentityDocumentStatus,
    IdentityLevel,
    Payout,
    PhoneVerification,
    TopUp,
    User,
)

logger = logging.getLogger(__name__)

PHONE_CODE_DIGITS = 6
PHONE_CODE_WINDOW = timedelta(hours=1)
REVIEW_PERMISSION = "wallet.review_identitydocument"
# What a pending document of an account being closed is rejected with.
CLOSED_ACCOUNT_REASON = "The account was closed before the document was reviewed."


# --- Phone ---------------------------------------------------------------------------


def _code_digest(verification: PhoneVerification, code: str) -> str:
    return salted_hmac(
        "wallet.identity.phone_code", f"{verification.pk}:{code}", algorithm="sha256"
    ).hexdigest()


def _next_code_after(*, user: User, now: datetime) -> int:
    """Seconds until ``user`` may be sent another code: 0 while under the hourly limit,
    else until the oldest code of the last hour leaves the window."""
    recent = list(
        PhoneVerification.objects.filter(user=user, created_at__gt=now - PHONE_CODE_WINDOW)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: settings.PHONE_CODES_PER_HOUR]
    )
    if len(recent) < settings.PHONE_CODES_PER_HOUR:
        return 0
    return max(1, math.ceil((recent[-1] + PHONE_CODE_WINDOW - now).total_seconds()))


def phone_code_send(*, user: User, number: str, now: datetime | None = None) -> PhoneVerification:
    """Send a new code to ``number`` (E.164, validated by the caller); the earlier codes
    of ``user`` expire now. Refused with ``too_many_attempts`` past the hourly limit.

    The row is committed before the message goes out, so a provider that fails still
    counts against the limit (``sms_unavailable``: the citizen asks again later)."""
    now = now or timezone.now()
    code = f"{secrets.randbelow(10**PHONE_CODE_DIGITS):0{PHONE_CODE_DIGITS}d}"
    with transaction.atomic():
        # One request at a time per account, so two at once cannot both pass the limit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        wait = _next_code_after(user=user, now=now)
        if wait:
            raise TooManyAttempts(
                retry_after=wait, detail="Too many codes asked for in the last hour."
            )
        # The earlier codes die: only the latest one sent can verify.
        PhoneVerification.objects.filter(
            user=user, verified_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        verification = PhoneVerification(
            user=user,
            number=number,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.PHONE_CODE_TTL_MINUTES),
        )
        verification.code_digest = _code_digest(verification, code)
        verification.save(force_insert=True)
    logger.info("phone code sent", extra={"user_id": user.pk})
    try:
        sms.sms_send(
            number=number,
            text=f"Your Open Sesame code is {code}. It expires in "
            f"{settings.PHONE_CODE_TTL_MINUTES} minutes. Never share it.",
        )
    except sms.SmsNotSent as error:
        logger.warning("phone code not sent", extra={"user_id": user.pk, "error": str(error)})
        raise SmsUnavailable from error
    return verification


def phone_verify(*, user: User, code: str, now: datetime | None = None) -> User:
    """Check ``code`` against the latest code sent to ``user``: right, the number is
    theirs (``phone_number``) and their identity level is at least 1 (a 2 stays 2).

    Refused with ``code_invalid`` when wrong, expired, already used or none is pending;
    the wrong try that reaches ``PHONE_CODE_ATTEMPTS`` kills the code and answers
    ``too_many_attempts`` (a new code must be asked for)."""
    now = now or timezone.now()
    refusal: DomainError
    with transaction.atomic():
        citizen = User.objects.select_for_update().get(pk=user.pk)
        latest = (
            PhoneVerification.objects.select_for_update()
            .filter(user=citizen, verified_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if latest is None or latest.attempts >= settings.PHONE_CODE_ATTEMPTS:
            refusal = CodeInvalid()
        elif not constant_time_compare(latest.code_digest, _code_digest(latest, code)):
            latest.attempts += 1
            latest.save(update_fields=["attempts"])
            if latest.attempts >= settings.PHONE_CODE_ATTEMPTS:
                refusal = TooManyAttempts(
                    retry_after=_next_code_after(user=citizen, now=now) or 1,
                    detail="Too many wrong codes: this code no longer works; ask for a new one.",
                )
            else:
                refusal = CodeInvalid()
        else:
            latest.verified_at = now
            latest.save(update_fields=["verified_at"])
            citizen.phone_number = latest.number
            citizen.save(update_fields=["phone_number"])
            if citizen.identity_level < IdentityLevel.PHONE:
                services.user_identity_level_set(user=citizen, level=IdentityLevel.PHONE)
            logger.info("phone verified", extra={"user_id": citizen.pk})
            return citizen
    raise refusal


# --- Identity documents --------------------------------------------------------------


def _file_refused(message: str, code: str) -> InvalidRequest:
    return InvalidRequest(message, errors=[FieldError("file", message, code)])


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def identity_document_submit(
    *, user: User, upload: UploadedFile, kind: str, country: str, now: datetime | None = None
) -> IdentityDocument:
    """Store a document for staff to review: a JPEG, PNG, WebP or PDF by its content, at
    most ``IDENTITY_DOCUMENT_MAX_BYTES`` (400 on ``file`` otherwise); one pending per
    citizen (``document_pending``). Stored under a name of our own with the default
    storage, which no public URL serves."""
    size = upload.size or 0
    if size <= 0:
        raise _file_refused("The file is empty.", "empty")
    if size > settings.IDENTITY_DOCUMENT_MAX_BYTES:
        raise _file_refused(
            f"At most {settings.IDENTITY_DOCUMENT_MAX_BYTES} bytes.", "file_too_large"
        )
    upload.seek(0)
    content_type = files.sniffed_type(upload.read(files.SNIFF_BYTES))
    if content_type is None:
        raise _file_refused("A JPEG, PNG or WebP image, or a PDF.", "file_type")
    sha256 = _sha256(upload)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if IdentityDocument.objects.filter(
            user=user, status=IdentityDocumentStatus.PENDING
        ).exists():
            raise DocumentPending
        document = IdentityDocument(
            user=user,
            kind=kind,
            country=country,
            content_type=content_type,
            size=size,
            sha256=sha256,
            submitted_at=now or timezone.now(),
        )
        document.file.save("document", upload, save=False)
        stored = document.file.name
        try:
            document.save(force_insert=True)
        except Exception:
            document.file.storage.delete(stored)
            raise
    logger.info("identity document submitted", extra={"user_id": user.pk, "size": size})
    return document


def _decision_refused(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, errors=[FieldError(field, message, "required")])


def _decide(
    *, document: IdentityDocument, by: User, status: IdentityDocumentStatus, **recorded: str
) -> IdentityDocument:
    """Record the decision, delete the file, and on approval raise the citizen to
    level 2, in one transaction; refused for staff without the review permission, for
    one's own document and for a document already decided."""
    if not by.has_perm(REVIEW_PERMISSION):
        raise Forbidden("Reviewing identity documents needs the review permission.")
    with transaction.atomic():
        locked = (
            IdentityDocument.objects.select_for_update().select_related("user").get(pk=document.pk)
        )
        if locked.user_id == by.pk:
            raise Forbidden("Nobody reviews their own identity document.")
        if locked.status != IdentityDocumentStatus.PENDING:
            raise DocumentDecided
        stored = locked.file.name
        locked.status = status
        locked.decided_at = timezone.now()
        locked.decided_by = by
        for name, value in recorded.items():
            setattr(locked, name, value)
        locked.file = ""  # a FileField takes a name
        locked.save()
        if status == IdentityDocumentStatus.APPROVED:
            citizen = User.objects.select_for_update().get(pk=locked.user_id)
            if citizen.identity_level < IdentityLevel.DOCUMENT:
                services.user_identity_level_set(
                    user=citizen, level=IdentityLevel.DOCUMENT, actor=by
                )
            locked.user = citizen
        # Last, so that any failure before it keeps the file with the pending row.
        if stored:
            locked.file.storage.delete(stored)
    logger.info(
        "identity document decided",
        extra={"document_id": str(locked.pk), "status": status, "staff_id": by.pk},
    )
    return locked


def identity_document_approve(
    *, document: IdentityDocument, by: User, number_last_digits: str, evidence_note: str
) -> IdentityDocument:
    """Staff approve: the citizen is at level 2; the number's last digits (1-4 letters or
    digits) and what was checked are recorded, the file deleted."""
    number_last_digits = number_last_digits.strip()
    evidence_note = evidence_note.strip()
    if not (1 <= len(number_last_digits) <= 4 and number_last_digits.isalnum()):
        raise _decision_refused(
            "number_last_digits", "The document number's last 1 to 4 letters or digits."
        )
    if not evidence_note or len(evidence_note) > 500:
        raise _decision_refused("evidence_note", "Say what you checked (at most 500 characters).")
    return _decide(
        document=document,
        by=by,
        status=IdentityDocumentStatus.APPROVED,
        number_last_digits=number_last_digits.upper(),
        evidence_note=evidence_note,
    )


def identity_document_reject(
    *, document: IdentityDocument, by: User, reason: str, evidence_note: str = ""
) -> IdentityDocument:
    """Staff reject with a reason the citizen reads (at most 300 characters); the file is
    deleted and the citizen may send another."""
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise _decision_refused("reason", "Give the citizen a reason (at most 300 characters).")
    return _decide(
        document=document,
        by=by,
        status=IdentityDocumentStatus.REJECTED,
        reason=reason,
        evidence_note=evidence_note.strip()[:500],
    )


# --- Closing an account --------------------------------------------------------------


@transaction.atomic
def phone_codes_purge(*, now: datetime) -> int:
    """Delete phone codes an hour past their expiry (the hourly limit counts them until
    then); returns how many (the retention schedule)."""
    return PhoneVerification.objects.filter(expires_at__lt=now - PHONE_CODE_WINDOW).delete()[0]


def user_personal_data_erase(*, user: User, now: datetime) -> User:
    """The wallet's part of closing an account (``merchants.privacy.closure``), inside
    the caller's transaction with ``user`` locked: the login name becomes a pseudonym
    (``closed-`` and the first 12 hex digits of the public id), names, e-mail and phone
    are erased, the password made unusable, the account inactive and ``closed_at`` set;
    phone codes are deleted; identity documents lose their files (a pending one is
    rejected: nobody will review it) and keep kind, country, last digits and decision;
    the payment sources named on top-ups and withdrawals are erased.

    The ledger, holds and every record of what happened stay, under the pseudonym."""
    for document in IdentityDocument.objects.select_for_update().filter(user=user).exclude(file=""):
        stored = document.file.name
        document.file = ""  # a FileField takes a name
        fields = ["file"]
        if document.status == IdentityDocumentStatus.PENDING:
            document.status = IdentityDocumentStatus.REJECTED
            document.reason = CLOSED_ACCOUNT_REASON
            document.decided_at = now
            fields += ["status", "reason", "decided_at"]
        document.save(update_fields=fields)
        document.file.storage.delete(stored)
    PhoneVerification.objects.filter(user=user).delete()
    TopUp.objects.filter(user=user).exclude(payer_label="").update(payer_label="")
    Payout.objects.filter(account__user=user).update(destination="erased")
    user.username = f"closed-{user.public_id.hex[:12]}"
    user.first_name = user.last_name = user.display_name = user.email = ""
    user.phone_number = ""
    user.email_verified = False
    user.set_unusable_password()
    user.is_active = False
    user.closed_at = now
    user.save(
        update_fields=[
            "username",
            "first_name",
            "last_name",
            "display_name",
            "email",
            "phone_number",
            "email_verified",
            "password",
            "is_active",
            "closed_at",
        ]
    )
    logger.info("personal data erased", extra={"user_id": user.pk})
    return user
