from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_shipped_plans(**_: Any) -> None:
    """STANDARD and CLASSIC exist after every migrate and flush (the data migration ships them once;
    a flush, e.g. between transactional tests, would otherwise leave merchants without a plan to get)."""
    from posfleet.money.migrations import _shipped
    from posfleet.money.models import RatePlan

    for data in _shipped.PLANS:
        RatePlan.objects.get_or_create(code=data["code"], defaults=data)


class MoneyConfig(AppConfig):
    name = "posfleet.money"
    label = "money"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from posfleet.money import receivers  # noqa: F401  (connects the merchant_created listener)

        post_migrate.connect(ensure_shipped_plans, sender=self, dispatch_uid="posfleet.money.shipped_plans")
