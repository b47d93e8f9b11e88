"""Identity documents: the citizen uploads one (told by its content, size-limited,
stored privately), staff review it in the admin's queue (approve: level 2; reject: a
reason the citizen reads), and the file is deleted with the decision."""

import hashlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from common.domain import Forbidden
from tests.conftest import PASSWORD
from wallet import identity
from wallet.errors import DocumentDecided
from wallet.models import IdentityDocument, IdentityLevel, User

DOCUMENTS = "/api/v1/me/identity-documents"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"%" * 100

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def upload(client, content: bytes = PNG, name: str = "passport.png", **fields: str):
    data: dict[str, object] = {"kind": "passport", "country": "CN", **fields}
    data["file"] = SimpleUploadedFile(name, content, content_type="image/png")
    return client.post(DOCUMENTS, data, format="multipart")


@pytest.fixture
def reviewer(db: None) -> User:
    staff = User.objects.create_user(username="reviewer", password=PASSWORD, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="review_identitydocument"))
    return User.objects.get(pk=staff.pk)  # fresh: permissions are cached per instance


@pytest.fixture
def reviewer_client(reviewer: User) -> Client:
    client = Client()
    client.force_login(reviewer)
    return client


def test_an_uploaded_document_waits_for_review(citizen, citizen_api, media_root):
    response = upload(citizen_api)

    assert response.status_code == 201, response.json()
    document = IdentityDocument.objects.get(user=citizen)
    assert response.json() == {
        "id": str(document.pk),
        "kind": "passport",
        "country": "CN",
        "status": "pending",
        "reason": "",
        "submitted_at": response.json()["submitted_at"],
        "decided_at": None,
    }
    assert (document.content_type, document.size) == ("image/png", len(PNG))
    assert document.sha256 == hashlib.sha256(PNG).hexdigest()
    # Stored under a name of our own (never the uploaded one), outside any public URL.
    assert document.file.name.startswith(f"identity-documents/{citizen.pk}/")
    assert "passport" not in document.file.name
    assert [path.read_bytes() for path in stored_files(media_root)] == [PNG]
    listed = citizen_api.get(DOCUMENTS).json()
    assert (listed["count"], listed["results"]) == (1, [response.json()])


def test_a_pdf_is_accepted_by_its_content_whatever_its_name(citizen, citizen_api):
    response = upload(citizen_api, PDF, name="scan.png", kind="national_id", country="ES")

    assert response.status_code == 201
    document = IdentityDocument.objects.get(user=citizen)
    assert (document.content_type, document.kind, document.country) == (
        "application/pdf",
        "national_id",
        "ES",
    )


def test_one_document_at_a_time(citizen, citizen_api, media_root):
    assert upload(citizen_api).status_code == 201

    second = upload(citizen_api, PDF)

    assert second.status_code == 409
    assert second.json()["code"] == "document_pending"
    assert IdentityDocument.objects.filter(user=citizen).count() == 1
    assert len(stored_files(media_root)) == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"plain text, not an image", "file_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "file_type"),
        (b"MZ\x90\x00executable", "file_type"),
        (b"", "empty"),
    ],
)
def test_a_file_that_is_not_an_image_or_pdf_is_refused(
    citizen, citizen_api, media_root, content, code
):
    response = upload(citizen_api, content)

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("file", code)]
    assert not IdentityDocument.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_over_the_limit_is_refused(citizen, citizen_api, media_root, settings):
    settings.IDENTITY_DOCUMENT_MAX_BYTES = len(PNG) - 1

    response = upload(citizen_api)

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("file", "file_too_large")
    ]
    assert not IdentityDocument.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"kind": "library_card"}, "kind"),
        ({"country": "XX"}, "country"),
        ({"country": "CHN"}, "country"),
        ({"country": "cn"}, "country"),
        ({"country": ""}, "country"),
    ],
)
def test_an_unknown_kind_or_country_is_refused(citizen, citizen_api, media_root, fields, bad):
    response = upload(citizen_api, **fields)

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [bad]
    assert not IdentityDocument.objects.exists()


def test_a_json_body_is_refused(citizen, citizen_api):
    response = citizen_api.post(DOCUMENTS, {"kind": "passport", "country": "CN"}, format="json")

    assert response.status_code == 415
    assert not IdentityDocument.objects.exists()


def test_documents_need_a_citizen_and_are_their_own(api, citizen, other_citizen, citizen_api):
    assert upload(api).status_code == 401
    assert api.get(DOCUMENTS).status_code == 401
    upload(citizen_api)
    other = api
    other.force_authenticate(other_citizen)

    assert other.get(DOCUMENTS).json()["count"] == 0


# --- The review queue in the admin ----------------------------------------------------


def test_the_queue_lists_pending_documents_first(
    citizen, other_citizen, citizen_api, reviewer, reviewer_client
):
    upload(citizen_api)
    decided = IdentityDocument.objects.get(user=citizen)
    identity.identity_document_reject(document=decided, by=reviewer, reason="Blurred.")
    upload(citizen_api)  # a second, pending, after the first was rejected
    pending = IdentityDocument.objects.get(user=citizen, status="pending")

    response = reviewer_client.get(reverse("admin:wallet_identitydocument_changelist"))

    assert response.status_code == 200
    listed = [row.pk for row in response.context["cl"].result_list]
    assert listed == [pending.pk, decided.pk]


def test_a_reviewer_sees_the_file_and_approves_it(
    citizen, citizen_api, reviewer, reviewer_client, media_root
):
    upload(citizen_api)
    document = IdentityDocument.objects.get(user=citizen)
    file_url = reverse("admin:wallet_identitydocument_file", args=[document.pk])
    review_url = reverse("admin:wallet_identitydocument_review", args=[document.pk])

    shown = reviewer_client.get(file_url)
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == PNG
    assert (shown["Content-Type"], shown["X-Content-Type-Options"]) == ("image/png", "nosniff")
    assert {"private", "no-store"} <= set(shown["Cache-Control"].split(", "))
    assert reviewer_client.get(review_url).status_code == 200

    response = reviewer_client.post(
        review_url,
        {"decision": "approve", "number_last_digits": "7x3a", "evidence_note": "Photo matches."},
    )

    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.status, document.decided_by, document.number_last_digits) == (
        "approved",
        reviewer,
        "7X3A",
    )
    assert (document.evidence_note, document.reason, document.file.name) == (
        "Photo matches.",
        "",
        "",
    )
    assert document.decided_at is not None
    citizen.refresh_from_db()
    assert citizen.identity_level == IdentityLevel.DOCUMENT
    assert stored_files(media_root) == []
    assert reviewer_client.get(file_url).status_code == 404
    row = citizen_api.get(DOCUMENTS).json()["results"][0]
    assert (row["status"], row["reason"]) == ("approved", "")
    # The audit trail names who raised the level.
    assert citizen.history.latest().history_user == reviewer


def test_a_rejection_gives_the_citizen_a_reason_and_lets_them_try_again(
    citizen, citizen_api, reviewer, reviewer_client, media_root
):
    upload(citizen_api)
    document = IdentityDocument.objects.get(user=citizen)
    review_url = reverse("admin:wallet_identitydocument_review", args=[document.pk])

    response = reviewer_client.post(
        review_url, {"decision": "reject", "reason": "The photo page is cut off."}
    )

    assert response.status_code == 302
    row = citizen_api.get(DOCUMENTS).json()["results"][0]
    assert (row["status"], row["reason"]) == ("rejected", "The photo page is cut off.")
    assert row["decided_at"] is not None
    citizen.refresh_from_db()
    assert citizen.identity_level == IdentityLevel.NONE
    assert stored_files(media_root) == []
    assert upload(citizen_api).status_code == 201


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"decision": "approve", "evidence_note": "Photo matches."}, "number_last_digits"),
        ({"decision": "approve", "number_last_digits": "1234"}, "evidence_note"),
        ({"decision": "approve", "number_last_digits": "12-4", "evidence_note": "ok"}, None),
        ({"decision": "reject"}, "reason"),
        ({}, "decision"),
    ],
)
def test_an_incomplete_decision_changes_nothing(
    citizen, citizen_api, reviewer_client, media_root, form, field
):
    upload(citizen_api)
    document = IdentityDocument.objects.get(user=citizen)

    response = reviewer_client.post(
        reverse("admin:wallet_identitydocument_review", args=[document.pk]), form
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors
    if field:
        assert field in errors
    document.refresh_from_db()
    assert (document.status, document.decided_at, bool(document.file)) == ("pending", None, True)
    assert len(stored_files(media_root)) == 1
    citizen.refresh_from_db()
    assert citizen.identity_level == IdentityLevel.NONE


def test_staff_without_the_review_permission_see_no_file_and_decide_nothing(
    citizen, citizen_api, media_root
):
    upload(citizen_api)
    document = IdentityDocument.objects.get(user=citizen)
    staff = User.objects.create_user(username="ops", password=PASSWORD, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_identitydocument"))
    client = Client()
    client.force_login(staff)

    assert (
        client.get(reverse("admin:wallet_identitydocument_file", args=[document.pk])).status_code
        == 403
    )
    refused = client.post(
        reverse("admin:wallet_identitydocument_review", args=[document.pk]),
        {"decision": "approve", "number_last_digits": "1234", "evidence_note": "ok"},
    )
    assert refused.status_code == 403
    with pytest.raises(Forbidden):
        identity.identity_document_approve(
            document=document,
            by=User.objects.get(pk=staff.pk),
            number_last_digits="1234",
            evidence_note="ok",
        )
    document.refresh_from_db()
    assert document.status == "pending"
    assert len(stored_files(media_root)) == 1


def test_nobody_reviews_their_own_document_and_a_decision_is_final(citizen, citizen_api, reviewer):
    reviewer_api = citizen_api
    reviewer_api.force_authenticate(reviewer)
    upload(reviewer_api)
    own = IdentityDocument.objects.get(user=reviewer)
    with pytest.raises(Forbidden):
        identity.identity_document_approve(
            document=own, by=reviewer, number_last_digits="1234", evidence_note="ok"
        )
    other = IdentityDocument.objects.create(
        user=citizen,
        kind="passport",
        country="CN",
        content_type="image/png",
        size=1,
        sha256="0" * 64,
        submitted_at=own.submitted_at,
    )
    identity.identity_document_reject(document=other, by=reviewer, reason="Expired.")

    with pytest.raises(DocumentDecided):
        identity.identity_document_approve(
            document=other, by=reviewer, number_last_digits="1234", evidence_note="ok"
        )
    other.refresh_from_db()
    assert (other.status, other.reason) == ("rejected", "Expired.")
    citizen.refresh_from_db()
    assert citizen.identity_level == IdentityLevel.NONE


def test_the_document_pages_open_for_a_reviewer(citizen, citizen_api, reviewer, reviewer_client):
    upload(citizen_api)
    document = IdentityDocument.objects.get(user=citizen)

    change = reviewer_client.get(
        reverse("admin:wallet_identitydocument_change", args=[document.pk])
    )

    assert change.status_code == 200
    assert b"Approve or reject" in change.content
    assert reviewer_client.get(reverse("admin:wallet_identitydocument_add")).status_code == 403
