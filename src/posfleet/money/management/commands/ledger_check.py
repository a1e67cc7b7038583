"""`posfleet ledger_check`: prove the ledger balances and matches the balances shown; exit 1 if not."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from posfleet.money.checks import check


class Command(BaseCommand):
    help = "Check every journal balances, balances match postings, and the ledger matches the transactions."

    def handle(self, *args: Any, **options: Any) -> None:
        result = check()
        for problem in result.problems:
            self.stderr.write(problem)
        summary = f"{result.journals} journals, {result.postings} postings, {result.accounts} accounts"
        if not result.ok:
            raise CommandError(f"ledger check FAILED ({len(result.problems)} problems shown; {summary})")
        self.stdout.write(f"ledger check OK: {summary}")
