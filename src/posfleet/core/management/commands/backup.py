"""`posfleet backup FILE`: the database and VAR_DIR/files in one archive (see core/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from posfleet.core import backup


class Command(BaseCommand):
    help = "Write the database and the files under VAR_DIR/files (materials, letters, exports) to FILE (.tar.gz)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The archive to write, e.g. posfleet-2026-11-20.tar.gz")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup.backup(Path(options["file"]))
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"backup written: {result.path} ({result.engine}, {len(result.tables)} tables, "
            f"{sum(result.tables.values())} rows, {result.files} files, {result.file_bytes} bytes)"
        )
        self.stdout.write("not in it: SECRET_KEY and POSFLEET_KEK; keep them apart from the archive.")
