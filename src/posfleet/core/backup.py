"""One archive holding the whole state of a deployment (the database and VAR_DIR/files), and restoring it.

A gzipped tar: `manifest.json` (engine, migrations, every table's row count, every file's SHA-256), the
database (SQLite's online backup, or `pg_dump --format=custom` of one snapshot) and `files/`. The
database is copied first, so a file written meanwhile is at worst an orphan, never a missing file.
SECRET_KEY and POSFLEET_KEK are left out on purpose: a backup holding them would carry the keys to its
own encrypted columns. Restoring refuses a database or files directory that is not empty unless
`force`, and compares every table's row count with the manifest afterwards.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

FORMAT = "posfleet-backup/1"
SQLITE = "django.db.backends.sqlite3"
POSTGRES = "django.db.backends.postgresql"


class BackupError(Exception):
    """Why a backup or restore cannot go on, in words for the operator."""


@dataclass
class Result:
    path: Path
    engine: str
    tables: dict[str, int]
    files: int
    file_bytes: int
    notes: list[str] = field(default_factory=list)


# --- the database, by engine ---------------------------------------------------------------------------
def engine_of(db: dict[str, Any]) -> str:
    engine = db["ENGINE"]
    if engine not in (SQLITE, POSTGRES):
        raise BackupError(f"Backups cover SQLite and PostgreSQL, not {engine}.")
    return "sqlite" if engine == SQLITE else "postgresql"


def pg_env(db: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for the pg_* tools: no password on a command line."""
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[name] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT COUNT(*) FROM {_quote(t)}").fetchone()[0] for t in sqlite_tables(conn)}


def pg_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [r[0] for r in cursor.fetchall()]


def pg_counts(cursor: Any) -> dict[str, int]:
    counts = {}
    for table in pg_tables(cursor):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


@contextmanager
def pg_connect(db: dict[str, Any]) -> Iterator[Any]:
    import psycopg

    conn = psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=True,
    )
    try:
        yield conn
    finally:
        conn.close()


# --- files ---------------------------------------------------------------------------------------------
def files_dir() -> Path:
    return Path(settings.VAR_DIR) / "files"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def _kept_files(root: Path) -> list[Path]:
    """The files a backup holds: not `*.part`, an export still being written (its job restarts it)."""
    return [p for p in _files(root) if p.suffix != ".part"]


# --- backup --------------------------------------------------------------------------------------------
def _applied_migrations(counts_source: Any, engine: str) -> list[list[str]]:
    sql = "SELECT app, name FROM django_migrations ORDER BY app, name"
    if engine == "sqlite":
        return [list(r) for r in counts_source.execute(sql).fetchall()]
    counts_source.execute(sql)
    return [list(r) for r in counts_source.fetchall()]


def backup(target: Path) -> Result:
    """Write the archive `target` (a .tar.gz) of the default database and VAR_DIR/files."""
    db = connection.settings_dict
    engine = engine_of(db)
    target = Path(target)
    with tempfile.TemporaryDirectory(prefix="posfleet-backup-") as tmp:
        work = Path(tmp)
        if engine == "sqlite":
            dump = work / "database.sqlite3"
            connection.ensure_connection()
            copy = sqlite3.connect(dump)
            try:
                connection.connection.backup(copy)  # the online backup API: consistent while others write
                counts = sqlite_counts(copy)
                migrations = _applied_migrations(copy, engine)
            finally:
                copy.close()
        else:
            dump = work / "database.pgdump"
            counts, migrations = _pg_dump(db, dump)
        manifest_files: list[dict[str, Any]] = []
        for path in _kept_files(files_dir()):
            manifest_files.append(
                {
                    "path": path.relative_to(files_dir()).as_posix(),
                    "size": path.stat().st_size,
                    "sha256": _sha256(path),
                }
            )
        manifest = {
            "format": FORMAT,
            "engine": engine,
            "created_at": timezone.now().isoformat(),
            "database": dump.name,
            "migrations": migrations,
            "tables": counts,
            "files": manifest_files,
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode())
            tar.add(dump, arcname=dump.name)
            for entry in manifest_files:
                tar.add(files_dir() / entry["path"], arcname=f"files/{entry['path']}")
        partial.replace(target)  # never a half-written archive under the real name
    return Result(
        path=target,
        engine=engine,
        tables=counts,
        files=len(manifest_files),
        file_bytes=sum(f["size"] for f in manifest_files),
    )


def _run_tool(db: dict[str, Any], tool: str, *args: str) -> None:
    """Run pg_dump or pg_restore against `db`; its error output becomes the BackupError."""
    run = subprocess.run(  # noqa: S603
        [tool, *args], env=pg_env(db), capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        raise BackupError(f"{Path(tool).name} failed: {run.stderr.strip()}")


def _pg_dump(db: dict[str, Any], dump: Path) -> tuple[dict[str, int], list[list[str]]]:
    """pg_dump of one exported snapshot; the counts and migrations are read in that same snapshot."""
    pg_dump = _tool("pg_dump")
    with pg_connect(db) as conn:
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            _run_tool(
                db,
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "-f",
                str(dump),
            )
            counts = pg_counts(cursor)
            migrations = _applied_migrations(cursor, "postgresql")
    return counts, migrations


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


# --- restore -------------------------------------------------------------------------------------------
def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile("manifest.json")
    except KeyError:
        raise BackupError("Not a posfleet backup: no manifest.json.") from None
    assert member is not None
    manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r} (this posfleet reads {FORMAT}).")
    return manifest


def current_tables(db: dict[str, Any]) -> list[str]:
    if engine_of(db) == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise BackupError("Restore into a database file, not an in-memory database.")
        if not Path(name).exists():
            return []
        with sqlite3.connect(name) as conn:
            return sqlite_tables(conn)
    with pg_connect(db) as conn, conn.cursor() as cursor:
        return pg_tables(cursor)


def restore(source: Path, db: dict[str, Any] | None = None, *, force: bool = False) -> Result:
    """Restore archive `source` into `db` (default: the configured database) and VAR_DIR/files."""
    db = dict(db or connections["default"].settings_dict)
    engine = engine_of(db)
    with tarfile.open(source, "r:gz") as tar:
        manifest = read_manifest(tar)
        if manifest["engine"] != engine:
            raise BackupError(
                f"This backup is of a {manifest['engine']} database; the target is {engine}. "
                "Restore into the same kind of database."
            )
        tables = current_tables(db)
        present = _files(files_dir())
        if (tables or present) and not force:
            raise BackupError(
                f"The target is not empty ({len(tables)} tables, {len(present)} files under "
                f"{files_dir()}); restore into an empty database, or pass --force to replace them."
            )
        with tempfile.TemporaryDirectory(prefix="posfleet-restore-") as tmp:
            work = Path(tmp)
            _extract(tar, manifest, work)
            connections.close_all()
            if engine == "sqlite":
                _sqlite_restore(work / manifest["database"], Path(str(db["NAME"])))
            else:
                _pg_restore(work / manifest["database"], db, tables)
            _replace_files(work / "files")
    counts = _counts(db)
    if counts != manifest["tables"]:
        differ = sorted(
            t for t in set(counts) | set(manifest["tables"]) if counts.get(t) != manifest["tables"].get(t)
        )
        raise BackupError(f"Row counts differ from the backup's after the restore: {', '.join(differ)}.")
    restored = _files(files_dir())
    return Result(
        path=Path(source),
        engine=engine,
        tables=counts,
        files=len(restored),
        file_bytes=sum(p.stat().st_size for p in restored),
        notes=_migration_notes(manifest),
    )


def _extract(tar: tarfile.TarFile, manifest: dict[str, Any], work: Path) -> None:
    """The database and the files the manifest names, checked against their SHA-256; nothing else
    (no path outside the work directory, no link)."""
    wanted = {manifest["database"]} | {f"files/{f['path']}" for f in manifest["files"]}
    members = [m for m in tar.getmembers() if m.name in wanted]
    if {m.name for m in members} != wanted or any(not m.isfile() for m in members):
        raise BackupError("The archive is incomplete or holds something other than files.")
    tar.extractall(work, members=members, filter="data")
    for entry in manifest["files"]:
        if _sha256(work / "files" / entry["path"]) != entry["sha256"]:
            raise BackupError(f"{entry['path']} does not match its SHA-256 in the manifest.")


def _sqlite_restore(dump: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)  # replaces every page of the target, WAL included
    finally:
        dest.close()
        source.close()


def _pg_restore(dump: Path, db: dict[str, Any], existing: list[str]) -> None:
    pg_restore = _tool("pg_restore")
    if existing:  # --force: the old tables go, whether or not the backup has them
        with pg_connect(db) as conn, conn.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(_quote(t) for t in existing) + " CASCADE")
    _run_tool(
        db,
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "-d",
        str(db["NAME"]),
        str(dump),
    )


def _replace_files(extracted: Path) -> None:
    root = files_dir()
    if root.exists():
        shutil.rmtree(root)
    if extracted.is_dir():
        shutil.copytree(extracted, root)
    else:
        root.mkdir(parents=True)


def _counts(db: dict[str, Any]) -> dict[str, int]:
    if engine_of(db) == "sqlite":
        with sqlite3.connect(str(db["NAME"])) as conn:
            return sqlite_counts(conn)
    with pg_connect(db) as conn, conn.cursor() as cursor:
        return pg_counts(cursor)


def _migration_notes(manifest: dict[str, Any]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    backed_up = {tuple(m) for m in manifest["migrations"]}
    notes = []
    if backed_up - known:
        notes.append("The backup has migrations this code does not know: it was made by a newer posfleet.")
    if known - backed_up:
        notes.append("This code has migrations the backup lacks: run `posfleet migrate`.")
    return notes
