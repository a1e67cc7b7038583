"""`posfleet import_terminals FILE [--good-only] [--as USERNAME]`: a warehouse receipt from the CLI.

Same rules as the API (posfleet.registry.importer): every row validated, every bad row named with its
line and reason on stderr; nothing imported when any row is bad (exit code 1) unless `--good-only`,
which imports the valid rows and reports the others (exit code 0, or 1 when no row was valid).
A progress bar on stderr counts registered rows. FILE `-` reads standard input.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError
from posfleet.registry import importer


def _progress(bar: tqdm[Any]) -> Callable[[int], None]:
    def step(n: int) -> None:
        bar.update(n)

    return step


class Command(BaseCommand):
    help = "Import terminals from a CSV warehouse receipt (all or nothing unless --good-only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file (UTF-8): tid,sn,model,firmware_version,... ; - for stdin")
        parser.add_argument(
            "--good-only", action="store_true", help="Import the valid rows, report the rest."
        )
        parser.add_argument("--as", dest="username", default="", help="Record the import as this user.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def _actor(self, username: str) -> Actor:
        if not username:
            return Actor.system("cli", name="import_terminals")
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username}.")
        return Actor.for_user(user, "cli", stepped_up_at=None)

    def _read(self, path: str) -> str:
        try:
            if path == "-":
                return sys.stdin.read().lstrip("\ufeff")
            with open(path, encoding="utf-8-sig", newline="") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 encoded.") from None

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self._actor(options["username"])
        text = self._read(options["file"])
        rows = max(sum(1 for _row in csv.reader(io.StringIO(text))) - 1, 0)
        err = getattr(self.stderr, "_out", sys.stderr)
        bar = tqdm(total=rows, unit="row", file=err, disable=options["no_progress"], desc="import")
        try:
            with transaction.atomic():
                report = importer.import_terminals(
                    actor, text, good_only=options["good_only"], progress=_progress(bar)
                )
        except DomainError as exc:
            bar.close()
            details = exc.details if isinstance(exc.details, dict) else {}
            self._report(details.get("rejected", []))
            if "missing_columns" in details:
                self.stderr.write(f"line 1: missing columns: {', '.join(details['missing_columns'])}")
            raise CommandError(str(exc.message), returncode=1) from None
        bar.close()
        self._report(report.rejected)
        if report.imported == 0 and report.rejected:
            raise CommandError("No row was valid; nothing imported.", returncode=1)
        self.stdout.write(f"Imported {report.imported} terminals; {len(report.rejected)} rows rejected.")

    def _report(self, rejected: list[dict[str, Any]]) -> None:
        for item in rejected:
            reasons = "; ".join(
                f"{field}: {' '.join(map(str, msgs))}" for field, msgs in item["errors"].items()
            )
            self.stderr.write(f"line {item['line']} ({item.get('tid') or '?'}): {reasons}")
