from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "posfleet.keys"
    label = "keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from posfleet.keys import receivers

        receivers.connect()
