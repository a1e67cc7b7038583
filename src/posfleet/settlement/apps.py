from django.apps import AppConfig


class SettlementConfig(AppConfig):
    name = "posfleet.settlement"
    label = "settlement"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from posfleet.registry.signals import merchant_created
        from posfleet.settlement.profiles import on_merchant_created

        merchant_created.connect(on_merchant_created, dispatch_uid="settlement.profile")
