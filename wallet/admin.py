"""Admin for accounts and the ledger. Ledger rows are read-only: money moves only
through services, and corrections are new transfers."""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from common.admin import (
    AuditTrailAdmin,
    MoneyAdminMixin,
    ReadOnlyAdminMixin,
    is_uuid,
    money_column,
    money_display,
)
from common.domain import DomainError
from wallet import identity, services
from wallet.models import (
    Entry,
    Hold,
    IdentityDocument,
    IdentityDocumentStatus,
    IdentityLevel,
    LedgerAccount,
    Transfer,
    User,
)

# What makes an account powerful. Only a superuser may change them, on anyone: a member
# of staff who could would grant themselves (or an accomplice) whatever they lack.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(AuditTrailAdmin, DjangoUserAdmin):
    """Accounts. A member of staff who is not a superuser sees the privilege fields
    read-only, cannot change a staff or superuser account at all (nor its password), and
    a forged POST that still tries to change a privilege is refused on the server."""

    list_display = (
        "username",
        "display_name",
        "identity_level",
        "wallet_balance",
        "is_staff",
        "date_joined",
    )
    list_filter = ("identity_level", "is_staff", "is_active")
    list_select_related = ("wallet_account",)
    search_fields = ("username", "display_name", "email", "public_id")
    readonly_fields = (
        "public_id",
        "identity_level",
        "wallet_balance",
        "last_login",
        "date_joined",
    )
    actions = ("set_level_none", "set_level_phone", "set_level_document")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Open Sesame", {"fields": ("public_id", "display_name", "identity_level")}),
        ("Wallet", {"fields": ("wallet_balance",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + tuple(field for field in PRIVILEGE_FIELDS if field not in readonly)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and _privileged(obj) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and _privileged(obj) and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool
    ) -> None:
        # The form of a non-superuser has no privilege fields, so Django ignores them in
        # a POST; this refuses anything that got through another way all the same.
        if not request.user.is_superuser:
            stored = User.objects.filter(pk=obj.pk).first() if change else None
            if _privileged(obj) or (stored is not None and _privileged(stored)):
                raise PermissionDenied("Only a superuser may change a staff account.")
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        if not request.user.is_superuser and any(
            field in form.changed_data for field in ("groups", "user_permissions")
        ):
            raise PermissionDenied("Only a superuser may grant groups or permissions.")
        super().save_related(request, form, formsets, change)

    def _set_identity_level(
        self, request: HttpRequest, queryset: QuerySet[User], level: IdentityLevel
    ) -> None:
        actor = request.user
        if not isinstance(actor, User):  # the admin site serves only signed-in staff
            raise PermissionDenied
        for user in queryset:
            services.user_identity_level_set(user=user, level=level, actor=actor)
        self.message_user(request, f"{queryset.count()} user(s) set to “{level.label}”.")

    @admin.action(description="Identity level: none", permissions=("change",))
    def set_level_none(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.NONE)

    @admin.action(description="Identity level: phone verified", permissions=("change",))
    def set_level_phone(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.PHONE)

    @admin.action(description="Identity level: identity document verified", permissions=("change",))
    def set_level_document(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.DOCUMENT)

    @admin.display(description="Wallet (balance / available)")
    def wallet_balance(self, obj: User) -> str:
        account = getattr(obj, "wallet_account", None)
        if account is None:
            return "no wallet yet"
        balance = money_display(account.balance, account.currency)
        return f"{balance} / {money_display(account.available, account.currency)}"


def _privileged(user: User) -> bool:
    return user.is_staff or user.is_superuser


@admin.register(LedgerAccount)
class LedgerAccountAdmin(MoneyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "kind", "name", "balance_money", "held_money", "created_at")
    money_fields: ClassVar = {"balance": "currency", "held": "currency"}
    list_filter = ("kind",)
    search_fields = ("code", "name", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


class EntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Entry
    fields = ("account", "amount_shown", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    amount_shown = money_column("amount", "Amount", currency=lambda entry: entry.account.currency)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).select_related("account")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "currency", "description", "reference", "created_at")
    list_filter = ("kind",)
    search_fields = ("id", "reference", "description")
    date_hierarchy = "created_at"
    inlines = (EntryInline,)


@admin.register(Hold)
class HoldAdmin(MoneyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    money_fields: ClassVar = {"amount": "account.currency", "captured_amount": "account.currency"}
    list_display = (
        "id",
        "account",
        "amount_money",
        "captured_amount_money",
        "status",
        "expires_at",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("id", "reference", "account__code")
    list_select_related = ("account",)


# --- Identity documents: the review queue -------------------------------------------


class IdentityDocumentReviewForm(forms.Form):
    """Approve (the number's last digits and what was checked) or reject (a reason the
    citizen reads); the service checks the same rules again."""

    decision = forms.ChoiceField(
        choices=(
            ("approve", "Approve: identity document verified (level 2)"),
            ("reject", "Reject"),
        ),
        widget=forms.RadioSelect,
    )
    number_last_digits = forms.CharField(
        max_length=4,
        required=False,
        label="Last digits of the number",
        help_text="Approving: the document number's last 1 to 4 letters or digits.",
    )
    evidence_note = forms.CharField(
        max_length=500,
        required=False,
        label="What you checked",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Approving: e.g. photo matches, not expired, security features present.",
    )
    reason = forms.CharField(
        max_length=300,
        required=False,
        label="Reason for the citizen",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Rejecting: the citizen reads this in the app.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "approve":
            if not data.get("number_last_digits"):
                self.add_error("number_last_digits", "Needed to approve.")
            if not data.get("evidence_note"):
                self.add_error("evidence_note", "Needed to approve.")
        elif data.get("decision") == "reject" and not data.get("reason"):
            self.add_error("reason", "Needed to reject.")
        return data


@admin.register(IdentityDocument)
class IdentityDocumentAdmin(admin.ModelAdmin):
    """The review queue: pending documents first, oldest first. Nothing is edited here;
    staff with ``wallet.review_identitydocument`` open a document's review page, see the
    file through a staff-only view and record a decision (``wallet.identity``), which
    deletes the file."""

    list_display = (
        "submitted_at",
        "user",
        "kind",
        "country",
        "status",
        "decided_at",
        "decided_by",
    )
    list_filter = ("status", "kind")
    search_fields = ("user__username", "user__public_id")
    list_select_related = ("user", "decided_by")
    raw_id_fields = ("user", "decided_by")
    fields = (
        "id",
        "user",
        "kind",
        "country",
        "status",
        "document_file",
        "review",
        "content_type",
        "size",
        "sha256",
        "submitted_at",
        "reason",
        "number_last_digits",
        "evidence_note",
        "decided_at",
        "decided_by",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[IdentityDocument]:
        # Annotated before ordering by it (ModelAdmin.get_queryset orders first).
        return (
            IdentityDocument.objects.annotate(
                queue_rank=Case(
                    When(status=IdentityDocumentStatus.PENDING, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .select_related("user", "decided_by")
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        return ("queue_rank", "submitted_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or self._may_review(request)

    def _may_review(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(identity.REVIEW_PERMISSION))

    @admin.display(description="File")
    def document_file(self, obj: IdentityDocument) -> SafeString:
        if not obj.file:
            return format_html("{}", "Deleted after the decision" if obj.decided_at else "None")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Open the file</a> ({}, {} bytes)',
            reverse("admin:wallet_identitydocument_file", args=[obj.pk]),
            obj.content_type,
            obj.size,
        )

    @admin.display(description="Decision")
    def review(self, obj: IdentityDocument) -> SafeString:
        if obj.status != IdentityDocumentStatus.PENDING:
            return format_html("{}", obj.get_status_display())
        return format_html(
            '<a class="button" href="{}">Approve or reject</a>',
            reverse("admin:wallet_identitydocument_review", args=[obj.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/file/",
                self.admin_site.admin_view(self.file_view),
                name="wallet_identitydocument_file",
            ),
            path(
                "<path:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="wallet_identitydocument_review",
            ),
            *super().get_urls(),
        ]

    def _document(self, request: HttpRequest, object_id: str) -> IdentityDocument:
        if not self._may_review(request):
            raise PermissionDenied
        document = (
            IdentityDocument.objects.select_related("user").filter(pk=unquote(object_id)).first()
            if is_uuid(unquote(object_id))
            else None
        )
        if document is None:
            raise Http404("No such identity document.")
        return document

    def file_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        """The document's file, for reviewers only (never a public media URL), shown in
        the browser but sandboxed: no script in a PDF or image runs with the admin's
        origin."""
        document = self._document(request, object_id)
        if not document.file:
            raise Http404("The file was deleted after the decision.")
        response = FileResponse(
            document.file.open("rb"),
            content_type=document.content_type,
            filename=f"identity-document-{document.pk}",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
        return response

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Approve or reject one pending document."""
        document = self._document(request, object_id)
        change_url = reverse("admin:wallet_identitydocument_change", args=[document.pk])
        if document.status != IdentityDocumentStatus.PENDING:
            self.message_user(request, "This document was already decided.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        form = IdentityDocumentReviewForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            staff = request.user
            if not isinstance(staff, User):  # the admin site serves only signed-in staff
                raise PermissionDenied
            try:
                if form.cleaned_data["decision"] == "approve":
                    identity.identity_document_approve(
                        document=document,
                        by=staff,
                        number_last_digits=form.cleaned_data["number_last_digits"],
                        evidence_note=form.cleaned_data["evidence_note"],
                    )
                    message = "Approved: the citizen is now at identity level 2."
                else:
                    identity.identity_document_reject(
                        document=document, by=staff, reason=form.cleaned_data["reason"]
                    )
                    message = "Rejected: the citizen sees your reason."
            except DomainError as error:
                for field_error in error.errors:
                    form.add_error(
                        field_error.field if field_error.field in form.fields else None,
                        field_error.message,
                    )
                if not error.errors:
                    form.add_error(None, error.detail)
            else:
                self.message_user(request, f"{message} The file was deleted.", messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        file_url = (
            reverse("admin:wallet_identitydocument_file", args=[document.pk])
            if document.file
            else ""
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Review an identity document",
            "document": document,
            "file_url": file_url,
            "form": form,
        }
        return TemplateResponse(request, "admin/wallet/identitydocument/review.html", context)


# The payments' admins (reports, top-ups, payouts, provider events) live beside their
# services; importing them here registers them.
from wallet.payments import admin as payments_admin  # noqa: E402, F401
