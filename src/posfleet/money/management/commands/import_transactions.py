"""`posfleet import_transactions FILE.csv`: stream a clearing file into the ledger.

Columns (header required, any order): id (or switch_id), tid, channel, type, amount_fen, occurred_at,
original_id (a refund's or reversal's sale). Chunks of up to 50,000 rows, each in its own transaction:
a 1M-row file never sits in memory, and re-running an interrupted import reports what is in as
duplicates. Bad rows, including lines a CSV reader cannot take (not UTF-8, NUL, a field too long), are
reported with line number and reason (stderr, all of them with --errors FILE) and write nothing. The
next chunk is priced in a forked process (`core.read_ahead`) while this one is written.
Exit status: 0 when every row was imported or a duplicate, 2 when some were rejected.
"""

from __future__ import annotations

import csv
import gc
import sys
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from tqdm import tqdm

from posfleet.core.actor import Actor
from posfleet.core.read_ahead import ReaderEnded, read_ahead
from posfleet.money.ingest import IngestContext
from posfleet.money.ingest_file import ingest_rows, prepare
from posfleet.money.parsed import Parsed
from posfleet.money.validation import shown, text_error

REQUIRED = ("id", "tid", "channel", "type", "amount_fen", "occurred_at")
SHOWN_ERRORS = 50
# Rows per transaction. Each commit writes every page it changed to the WAL, and the TID index's
# pages are changed by any chunk (TIDs do not follow the file's time order): 50,000-row chunks write
# a third of the WAL of 10,000-row ones (1M rows: 0.47 GB against 1.45 GB) and import ~7 % faster.
# On SQLite a chunk holds the write lock for about a second; --chunk trades that against speed.
DEFAULT_CHUNK = 50_000
# The first chunk is smaller and each next one twice the last, up to the chunk size: the database
# starts writing after 5,000 rows are priced instead of 50,000, and each chunk is priced in the time
# the one before it takes to write (writing a row costs more than pricing it).
FIRST_CHUNK = 5_000
# csv's own field limit (131,072 characters) ends the reader with an exception; for the import it is
# raised so that any field up to this size is read and refused by the row checks with its line number.
# A longer one still raises, and is reported for its line like any bad line (the reader carries on).
FIELD_LIMIT = 1 << 24


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


class ImportStats:
    def __init__(self) -> None:
        self.created = self.duplicate = self.error = self.flagged = 0
        self.errors: list[tuple[int, str, str, str]] = []  # line, id, code, message


def import_file(
    path: Path, *, actor: Actor, chunk_size: int = DEFAULT_CHUNK, progress: bool = True, stream: Any = None
) -> ImportStats:
    """Import `path`; returns counts and the rejected rows. Used by the command and the benchmark."""
    stats = ImportStats()
    with _bulk_pragmas():
        _import(path, stats, actor=actor, chunk_size=chunk_size, progress=progress, stream=stream)
    return stats


@contextmanager
def _bulk_pragmas() -> Iterator[None]:
    """SQLite only, for this connection while the file goes in: a 256 MB page cache keeps the
    transaction indexes in memory, and synchronous=NORMAL (safe with WAL: a crash can lose only the
    last committed chunks, never corrupt) drops the fsync per chunk. Both are restored afterwards;
    losing a chunk is harmless because re-running the import completes it."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        sync = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint")
        autocheckpoint = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint = 20000")  # checkpoint every ~80 MB, not every 4 MB
        cursor.execute("PRAGMA cache_size = -262144")
        if not connection.in_atomic_block:  # SQLite refuses to change it inside a transaction
            cursor.execute("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")
            if not connection.in_atomic_block:
                cursor.execute(f"PRAGMA synchronous = {int(sync)}")


def _import(
    path: Path, stats: ImportStats, *, actor: Actor, chunk_size: int, progress: bool, stream: Any
) -> None:
    ctx = IngestContext()
    limit = csv.field_size_limit(FIELD_LIMIT)
    try:
        # bytes that are not UTF-8 become lone surrogates (the row checks refuse them), not a crash
        with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as f:
            _read(f, path, stats, ctx, actor=actor, chunk_size=chunk_size, progress=progress, stream=stream)
    finally:
        csv.field_size_limit(limit)


def _read(
    f: Any,
    path: Path,
    stats: ImportStats,
    ctx: IngestContext,
    *,
    actor: Actor,
    chunk_size: int,
    progress: bool,
    stream: Any,
) -> None:
    reader = csv.reader(f)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CommandError("The file is empty.") from None
    except csv.Error as exc:
        raise CommandError(f"The header cannot be read: {exc} (line 1).") from None
    if text_error(header) is not None:
        raise CommandError("The header is not valid UTF-8 text (line 1).")
    header = ["id" if h == "switch_id" else h for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CommandError(f"Missing column(s): {', '.join(missing)} (line 1).")
    total = max(count_lines(path) - 1, 0) if progress else None
    bar = tqdm(total=total, unit="rows", disable=not progress, file=stream or sys.stderr, smoothing=0.1)
    sqlite = connection.vendor == "sqlite"

    def ready(rows: list[list[str]]) -> list[Parsed | None]:
        return prepare(rows, header, ctx, sqlite=sqlite, ask=False)

    # the next chunk is read and priced in a child process while this one is written (ended on any exit)
    chunks = _chunks(reader, header, chunk_size, ready)
    with (
        _collector_paused(),
        closing(read_ahead(chunks, encode=Chunk.packed, decode=Chunk.unpacked)) as chunks,
    ):
        for chunk in chunks:
            stats.error += len(chunk.bad)
            stats.errors.extend(chunk.bad)
            bar.update(len(chunk.bad))
            if not chunk.rows:
                continue
            with transaction.atomic():
                out = ingest_rows(
                    actor,
                    chunk.rows,
                    header,
                    ctx,
                    ref=f"file:{path.name}:{chunk.lines[0]}",
                    prepared=chunk.ready,
                )
            stats.created += out.created
            stats.duplicate += out.duplicate
            stats.flagged += out.flagged
            for index, sid, err in out.errors:
                stats.error += 1
                stats.errors.append(
                    (
                        chunk.lines[index],
                        shown(sid, 64),
                        str(err.get("code", "")),
                        str(err.get("message", "")),
                    )
                )
            bar.update(len(chunk.rows))
    bar.close()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The import keeps about twenty objects a row alive until its chunk is written, none of them in a
    cycle: the collector would walk them several times a chunk for nothing (a tenth of the time of
    the process that writes). Paused while the file goes in, in both processes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Chunk:
    """Rows of one transaction, their line numbers, the lines before them the reader could not take
    (line, id, code, message) and the rows as `ingest_file.prepare` priced them."""

    rows: list[list[str] | None] = field(default_factory=list)  # None: priced whole (see `packed`)
    lines: list[int] = field(default_factory=list)
    bad: list[tuple[int, str, str, str]] = field(default_factory=list)
    ready: list[Parsed | None] | None = None

    def packed(self) -> tuple[Any, ...]:
        """Plain values for the pipe from the reader process: a row priced whole goes as its `Parsed`
        alone (its text is not needed again), any other row as its fields."""
        ready = self.ready or [None] * len(self.rows)
        rows = [row if p is None else None for row, p in zip(self.rows, ready, strict=True)]
        return self.lines, self.bad, rows, [None if p is None else p.packed() for p in ready]

    @classmethod
    def unpacked(cls, v: tuple[Any, ...]) -> Chunk:
        lines, bad, rows, ready = v
        unpack = Parsed.unpacked
        return cls(rows, lines, bad, [None if p is None else unpack(p) for p in ready])


def _chunks(
    reader: Any, header: list[str], chunk_size: int, ready: Callable[[list[list[str]]], list[Parsed | None]]
) -> Generator[Chunk, None, None]:
    """The file in chunks of up to `chunk_size` well-shaped rows (growing from FIRST_CHUNK), each
    priced by `ready`."""
    size = min(FIRST_CHUNK, chunk_size)
    width = len(header)
    chunk = Chunk()
    rows: list[list[str]] = []  # chunk.rows, all with their text until priced
    line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field over FIELD_LIMIT: this line is bad, the reader goes on
            start, line = line + 1, reader.line_num
            chunk.bad.append((start, "", "malformed_row", f"the line cannot be read: {exc}"))
            continue
        start, line = line + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            found = f"expected {width} fields, found {len(row)}"
            chunk.bad.append((start, shown(row[0], 64) if row else "", "malformed_row", found))
            continue
        rows.append(row)
        chunk.lines.append(start)
        if len(rows) >= size:
            chunk.rows, chunk.ready = list(rows), ready(rows)
            yield chunk
            chunk, rows = Chunk(), []
            size = min(size * 2, chunk_size)
    if rows or chunk.bad:
        chunk.rows, chunk.ready = list(rows), ready(rows)
        yield chunk


class Command(BaseCommand):
    help = "Import a clearing file of transactions (CSV); re-importing the same file changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--chunk",
            type=int,
            default=DEFAULT_CHUNK,
            help=f"rows per transaction (default {DEFAULT_CHUNK}; smaller holds SQLite's write lock for less time)",
        )
        parser.add_argument("--errors", type=Path, help="write every rejected row to this CSV file")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if not 1 <= options["chunk"] <= 50_000:
            raise CommandError("--chunk must be between 1 and 50000.")
        actor = Actor.system("cli", name="import_transactions")
        started = time.perf_counter()
        try:
            stats = import_file(
                path, actor=actor, chunk_size=options["chunk"], progress=not options["no_progress"]
            )
        except ReaderEnded as exc:  # killed or out of memory: the chunks before it are committed
            raise CommandError(
                f"The import stopped: {exc}. The rows imported before it stay; run the same command "
                "again to import the rest (those come back as duplicates and change nothing)."
            ) from None
        elapsed = max(time.perf_counter() - started, 1e-9)
        rows = stats.created + stats.duplicate + stats.error
        for line, sid, code, message in stats.errors[:SHOWN_ERRORS]:
            self.stderr.write(f"line {line}: {sid or '-'}: {code}: {message}")
        if len(stats.errors) > SHOWN_ERRORS:
            self.stderr.write(f"... and {len(stats.errors) - SHOWN_ERRORS} more rejected rows")
        if options["errors"]:
            with options["errors"].open("w", newline="", encoding="utf-8") as out:
                w = csv.writer(out)
                w.writerow(["line", "id", "code", "message"])
                w.writerows(stats.errors)
        self.stdout.write(
            f"{rows} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s): {stats.created} created, "
            f"{stats.duplicate} duplicate, {stats.error} rejected, {stats.flagged} flagged"
        )
        if stats.error:
            raise CommandError(f"{stats.error} rows were rejected.", returncode=2)
