from typing import Any

from django.core.management.base import BaseCommand, CommandError

from posfleet.audit.services import verify


class Command(BaseCommand):
    help = "Check the whole audit hash chain; exit non-zero and name the first broken event if any."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        if not result.ok:
            raise CommandError(f"audit chain broken at event #{result.first_broken}: {result.problem}")
        self.stdout.write(f"audit chain intact: {result.checked} events")
