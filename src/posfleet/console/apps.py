from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "posfleet.console"
    label = "console"
    default_auto_field = "django.db.models.BigAutoField"
