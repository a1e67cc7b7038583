from django.apps import AppConfig


class MoneyConfig(AppConfig):
    name = "posfleet.money"
    label = "money"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from posfleet.money import receivers  # noqa: F401  (connects the merchant_created listener)
