"""`posfleet demo`: realistic demo data on a fresh database, and the demo logins.

posfleet demo                      load (refuses when merchants already exist)
posfleet demo --if-empty           load only on an empty database (scripts/start)
posfleet demo --print-logins       print the logins (staff and portal) and exit
posfleet demo --terminals 1000000  benchmark scale (the realistic 320, the rest in bulk)
posfleet demo --scale 1            production scale in SQL: 200k merchants, 1M terminals, 10M transactions
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from posfleet.devtools import demo
from posfleet.devtools.demo import bulk, people
from posfleet.registry.models import Merchant


class Command(BaseCommand):
    help = "Load realistic demo data (merchants, terminals in every state, holds, users for every role)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when merchants already exist."
        )
        parser.add_argument("--print-logins", action="store_true", help="Print the demo logins and exit.")
        parser.add_argument("--markdown", action="store_true", help="With --print-logins: a README table.")
        parser.add_argument(
            "--terminals", type=int, default=320, help="Terminals (default 320; 1000000 = scale)."
        )
        parser.add_argument("--merchants", type=int, default=60, help="Merchants (default 60).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (same seed, same data).")
        parser.add_argument("--days", type=int, default=30, help="Days of transactions for the money demo.")
        parser.add_argument("--no-plugins", action="store_true", help="Skip the other apps' demo loaders.")
        parser.add_argument(
            "--scale",
            type=float,
            default=0.0,
            help="After the realistic demo, generate F x (200,000 merchants, 1,000,000 terminals, "
            "10,000,000 transactions over 30 days) in set-based SQL (devtools.demo.bulk).",
        )
        parser.add_argument("--strict", action="store_true", help="Fail when an app's demo loader fails.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_logins"]:
            self.stdout.write("Demo logins (console: /console/, portal: /portal/):")
            self.stdout.write(people.logins_table(markdown=options["markdown"]))
            return
        if settings.PRODUCTION:
            raise CommandError("Refusing to load demo data with documented passwords in production.")
        if _unapplied_migrations():
            raise CommandError("The database is not migrated yet: run `posfleet migrate` first.")
        if Merchant.objects.exists():
            if options["if_empty"]:
                self.stdout.write("demo: the database already has merchants; nothing loaded.")
                return
            raise CommandError("The database already has merchants; load the demo on a fresh database.")
        if options["terminals"] < 7 or options["merchants"] < 12:
            raise CommandError("Use at least 7 terminals (one per state) and 12 merchants.")
        started = time.monotonic()
        result = demo.load(
            terminals=options["terminals"],
            merchants=options["merchants"],
            seed=options["seed"],
            days=options["days"],
            loaders=not options["no_plugins"],
            strict=options["strict"],
            progress=options["verbosity"] > 0,
            say=lambda msg: self.stdout.write(f"demo: {msg}") if options["verbosity"] > 0 else None,
        )
        self.stdout.write(
            f"demo: {result.merchants} merchants, {result.terminals + result.bulk_terminals} terminals "
            f"({result.bulk_terminals} in bulk), {result.holds} holds, "
            f"{len(result.portal_users)} portal users in {time.monotonic() - started:.1f} s"
        )
        if options["scale"] > 0:
            built = bulk.build(options["scale"], say=lambda msg: self.stdout.write(f"demo: scale: {msg}"))
            assert built.seconds is not None
            self.stdout.write(
                f"demo: scale {options['scale']:g}: {built.merchants:,} merchants, {built.terminals:,} terminals, "
                f"{built.transactions:,} transactions in {sum(built.seconds.values()):.1f} s"
            )
        for module, outcome in result.loaders.items():
            style = self.style.WARNING if outcome.startswith("failed") else self.style.SUCCESS
            self.stdout.write(style(f"demo: {module}: {outcome}"))
        for problem in result.problems:
            self.stderr.write(self.style.WARNING(f"demo: refused: {problem}"))


def _unapplied_migrations() -> bool:
    """Whether the database lacks migrations (a traceback about a missing table helps nobody)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
