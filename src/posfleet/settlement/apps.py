from django.apps import AppConfig


class SettlementConfig(AppConfig):
    name = "posfleet.settlement"
    label = "settlement"
    default_auto_field = "django.db.models.BigAutoField"
