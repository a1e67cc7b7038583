"""`posfleet backup` and `posfleet restore` on both databases: one archive with the database and the
files; restored into an empty database (refused over a non-empty one unless --force), every table's
count equal, audit chain and ledger intact (the restore runs audit_verify and ledger_check)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from posfleet.core import backup
from posfleet.lifecycle import holds
from posfleet.money import ledger
from posfleet.money.ingest import ingest
from tests import builders as b
from tests.cases import builders as cb
from tests.money.builders import item
from tests.notices.builders import letter

pytestmark = pytest.mark.django_db(transaction=True)


def _state() -> None:
    """Rows in most apps: terminals, a hold, transactions ingested and a deposit on the ledger, a letter
    PDF, a case with its materials."""
    finance = b.actor("finance")
    t = b.terminal("active")
    with transaction.atomic():
        ingest(finance, [item(t.tid), item(t.tid, type="refund", amount_fen=500)])
        ledger.receive_deposit(finance, t.merchant_id, 29900, ref="deposit")
        holds.place_hold(b.actor("technician"), kind="fault", reason="screen", tid=t.tid)
    letter(t.merchant)
    case = cb.file(kind="deactivation", merchant_id=t.merchant_id, terminals=[t.tid])
    cb.upload_required(case)


def _table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        # SQLite's own tables (sqlite_stat1, left by an ANALYZE in an earlier test) are statistics,
        # not data: the backup leaves them out, as ANALYZE rebuilds them
        tables = [t for t in connection.introspection.table_names(cursor) if not t.startswith("sqlite_")]
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _file_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _posfleet(*args: str, database_url: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "POSFLEET_VAR_DIR"}}
    env.update(DATABASE_URL=database_url, POSFLEET_VAR_DIR=str(var_dir), POSFLEET_KEK=settings.POSFLEET_KEK)
    return subprocess.run(
        [sys.executable, "-m", "posfleet", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _check_roundtrip(tmp_path: Path, database_url: str) -> None:
    _state()
    counts = _table_counts()
    files = _file_hashes(Path(settings.VAR_DIR) / "files")
    assert any(p.startswith("letters/") for p in files) and any(p.startswith("materials/") for p in files)

    archive = tmp_path / "posfleet.tar.gz"
    result = backup.backup(archive)
    assert result.tables == counts
    assert result.files == len(files)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and {f"files/{p}" for p in files} <= set(names)

    target = tmp_path / "restored-var"
    done = _posfleet("restore", str(archive), database_url=database_url, var_dir=target)
    assert done.returncode == 0, done.stderr
    assert "counts match" in done.stdout
    assert "audit chain intact" in done.stdout
    assert "ledger check OK" in done.stdout
    assert _file_hashes(target / "files") == files
    restored = backup._counts(backup_db(database_url))
    assert restored == counts

    again = _posfleet("restore", str(archive), database_url=database_url, var_dir=target)
    assert again.returncode != 0
    assert "not empty" in again.stderr and "--force" in again.stderr
    forced = _posfleet("restore", str(archive), "--force", database_url=database_url, var_dir=target)
    assert forced.returncode == 0, forced.stderr
    assert backup._counts(backup_db(database_url)) == counts


def backup_db(database_url: str) -> dict[str, object]:
    import dj_database_url

    return dict(dj_database_url.parse(database_url))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite round trip")
def test_sqlite_backup_and_restore(tmp_path):
    _check_roundtrip(tmp_path, f"sqlite:///{tmp_path / 'restored-var' / 'posfleet.sqlite3'}")


@pytest.fixture
def scratch_postgres():
    """An empty PostgreSQL database beside the test database, dropped afterwards."""
    import psycopg

    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    params = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    user = f"{db['USER']}@" if db.get("USER") else ""
    yield f"postgres://{user}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL round trip")
@pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason="pg_dump/pg_restore not installed"
)
def test_postgresql_backup_and_restore(tmp_path, scratch_postgres):
    _check_roundtrip(tmp_path, scratch_postgres)


def test_a_tampered_file_is_refused_and_nothing_is_replaced(tmp_path, settings, request):
    _state()
    archive = tmp_path / "posfleet.tar.gz"
    backup.backup(archive)
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member)
            if member.name.startswith("files/letters/"):
                member.size = 3
                dst.addfile(member, io.BytesIO(b"bad"))
            else:
                dst.addfile(member, data)
    settings.VAR_DIR = tmp_path / "elsewhere"
    if connection.vendor == "sqlite":
        target = {"ENGINE": backup.SQLITE, "NAME": str(tmp_path / "elsewhere.sqlite3")}
    else:
        target = backup_db(request.getfixturevalue("scratch_postgres"))
    with pytest.raises(backup.BackupError, match="SHA-256"):
        backup.restore(tampered, target)
    assert backup.current_tables(target) == []
    assert not (tmp_path / "elsewhere" / "files").exists()
