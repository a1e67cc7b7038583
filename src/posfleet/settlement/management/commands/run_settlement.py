"""`posfleet run_settlement [YYYY-MM-DD]`: settle a business day (default yesterday, Asia/Shanghai).

The same service as the console, the API and the daily job; idempotent, so it is safe to re-run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from posfleet.core.errors import DomainError


class Command(BaseCommand):
    help = "Settle the transactions of one business day (default: yesterday in Asia/Shanghai)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("business_date", nargs="?", default=None, help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        from posfleet.settlement.tasks import settle_day

        try:
            summary = settle_day(options["business_date"])
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from exc
        self.stdout.write(
            f"{summary['business_date']}: {summary['created']} batches created, {summary['paid']} paid"
        )
