"""`posfleet restore FILE [--force]`: put an archive of `posfleet backup` back (see core/backup.py).

It restores into the configured database (DATABASE_URL) and POSFLEET_VAR_DIR: to try a backup out,
point both at scratch ones. It refuses a database with tables or a files directory with files unless
`--force`. Afterwards every table's row count is compared with the archive's, then `audit_verify` and
`ledger_check` run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from posfleet.core import backup


class Command(BaseCommand):
    help = "Restore a `posfleet backup` archive into an empty database (or replace one with --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The archive written by `posfleet backup`")
        parser.add_argument(
            "--force", action="store_true", help="Replace a database or files directory that is not empty."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup.restore(Path(options["file"]), force=options["force"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"restored: {len(result.tables)} tables, {sum(result.tables.values())} rows (counts match the "
            f"backup's), {result.files} files, {result.file_bytes} bytes"
        )
        for note in result.notes:
            self.stdout.write(note)
        call_command("audit_verify", stdout=self.stdout)
        call_command("ledger_check", stdout=self.stdout)
