from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "posfleet.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from posfleet.accounts.roles import primary_role, sync_groups
        from posfleet.core import actor

        actor.role_of = primary_role
        post_migrate.connect(sync_groups, sender=self, dispatch_uid="posfleet.accounts.sync_groups")
