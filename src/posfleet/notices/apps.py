from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "posfleet.notices"
    label = "notices"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from posfleet.notices import receivers

        receivers.connect()
