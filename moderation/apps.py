from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from moderation.selectors import forget_staff_members

        # The cached staff list (selectors.staff_members) goes when an account or its groups change.
        user_model = get_user_model()
        post_save.connect(forget_staff_members, sender=user_model, dispatch_uid="staff-members-save")
        post_delete.connect(forget_staff_members, sender=user_model, dispatch_uid="staff-members-delete")
        m2m_changed.connect(forget_staff_members, sender=user_model.groups.through, dispatch_uid="staff-members-groups")
