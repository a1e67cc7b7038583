"""`posfleet worker`: the Huey consumer with posfleet's periodic jobs.

It is Huey's own `run_huey` (which autodiscovers every app's `tasks.py`, e.g. lifecycle's minute job
that closes ended holds), so the queue backend is whatever settings.HUEY says: SqliteHuey under var/ by
default, RedisHuey when REDIS_URL is set. Before the consumer takes messages, the apps' start steps
run (the jobs sweep takes up what a dead worker left). `--once` runs every periodic job once, in this
process, then the apps' once-steps (the jobs that are due, which no consumer is there to take).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import autodiscover_modules
from huey.contrib.djhuey import HUEY

from posfleet.core import periodic


class Command(BaseCommand):
    help = "Run the background worker (Huey consumer with the periodic jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=None, help="Worker threads (default from settings)."
        )
        parser.add_argument(
            "--once", action="store_true", help="Run the periodic jobs once in this process and exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        autodiscover_modules("tasks")
        if options["once"]:
            for task in sorted(HUEY._registry.periodic_tasks, key=lambda t: t.name):
                self.stdout.write(periodic.summary(task.name, task.execute()))
            for name, step in periodic.once_steps():
                self.stdout.write(periodic.summary(name, step()))
            return
        # Huey configures its own "huey" logger only when it has no handler; give it one that does
        # nothing so its records reach the root (structlog) handler once instead of twice.
        logging.getLogger("huey").addHandler(logging.NullHandler())
        for name, step in periodic.start_steps():
            self.stdout.write(periodic.summary(name, step()))
        kwargs: dict[str, Any] = {}
        if options["workers"]:
            kwargs["workers"] = options["workers"]
        self.stdout.write("posfleet worker: starting the Huey consumer (Ctrl-C stops it)")
        self.stdout.flush()
        call_command("run_huey", **kwargs)
