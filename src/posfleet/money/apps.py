from django.apps import AppConfig


class MoneyConfig(AppConfig):
    name = "posfleet.money"
    label = "money"
    default_auto_field = "django.db.models.BigAutoField"
