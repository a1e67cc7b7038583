from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "posfleet.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from posfleet.cases import guards

        guards.connect()
