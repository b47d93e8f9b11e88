from typing import Any

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Who on staff may do what (roles), and the evidence behind what goes live: the
    layer above every merchant app, read by none of them."""

    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from django.contrib.auth import models as auth_models
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from common.personal_data import PersonalDataSection, personal_data_register
        from governance import monitoring

        post_migrate.connect(_roles_sync_after_migrate, sender=self)
        # What citizens volunteer for the fairness audit is theirs: in their export, and
        # erased when they close the account (merchants.privacy reaches it only so).
        personal_data_register(
            PersonalDataSection(
                key=monitoring.SECTION_KEY,
                export=monitoring.monitoring_export,
                erase=monitoring.monitoring_erase,
            )
        )
        # Django's own receiver saves the user to set last_login, and every save of a
        # user is an audit-trail row: one per login, drowning what staff changed. The
        # time is written with a queryset update instead, which writes no history.
        user_logged_in.disconnect(auth_models.update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(_last_login_record, dispatch_uid="update_last_login")


def _roles_sync_after_migrate(**kwargs: Any) -> None:
    from governance.roles import roles_sync

    roles_sync(strict=False)


def _last_login_record(sender: Any, user: Any, **kwargs: Any) -> None:
    from django.utils import timezone

    now = timezone.now()
    type(user)._default_manager.filter(pk=user.pk).update(last_login=now)
    user.last_login = now
