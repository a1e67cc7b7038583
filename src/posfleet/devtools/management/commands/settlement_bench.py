"""`posfleet settlement_bench [--scale 1.0] [--no-month]`: the settlement benchmark alone (scratch DB!)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from posfleet.devtools.bench.settlement import run


class Command(BaseCommand):
    help = (
        "Settle a generated day of 1M and month of 10M transactions; compare with DuckDB (use a scratch DB)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale", type=float, default=1.0, help="multiply the row counts (0.1 = 100k/day)"
        )
        parser.add_argument("--no-month", action="store_true", help="only the one-day case")

    def handle(self, *args: Any, **options: Any) -> None:
        run(scale=options["scale"], month=not options["no_month"])
