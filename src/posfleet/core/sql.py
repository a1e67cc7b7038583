"""Fixed SQL statements run on the driver's own cursor, for the few paths that run thousands of times
a second (the audited change, the audit append, the answer).

Django's cursor wrapper costs more per statement than SQLite does for a primary-key lookup: it
resolves the connection, wraps the call for instrumentation and, on SQLite, rewrites every `%s` to
`?` with a regular expression. A `Statement` is written once with `%s` placeholders, rewritten once
per vendor, and executed on the DB-API cursor underneath a Django cursor, so it still runs on the
same connection and inside the same transaction as everything else. Values must already be in the
driver's form (`connection.ops.adapt_datetimefield_value` for datetimes on SQLite).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.db.backends.utils import CursorWrapper
from django.db.models import Model


class Statement:
    """One SQL text with `%s` placeholders, kept ready for each database vendor."""

    __slots__ = ("_by_vendor", "sql")

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self._by_vendor: dict[str, str] = {}

    def text(self, vendor: str) -> str:
        found = self._by_vendor.get(vendor)
        if found is None:
            found = self.sql.replace("%s", "?") if vendor == "sqlite" else self.sql
            self._by_vendor[vendor] = found
        return found

    def run(self, cursor: Any, vendor: str, params: Sequence[Any] = ()) -> Any:
        """Execute on `cursor` (a Django cursor) through its driver cursor; returns a cursor to fetch
        from. While Django logs queries (DEBUG, or a test counting them) it goes through Django's
        cursor instead, so every statement is seen and counted as any other."""
        return self._run(cursor, vendor, params, many=False)

    def run_many(self, cursor: Any, vendor: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._run(cursor, vendor, rows, many=True)

    def _run(self, cursor: Any, vendor: str, arg: Any, *, many: bool) -> Any:
        if isinstance(cursor, CursorWrapper):  # Django's: logged while Django logs, else what it wraps
            if _watched(cursor.db):
                (cursor.executemany if many else cursor.execute)(self.sql, arg)
                return cursor
            raw = cursor.cursor
        else:  # a driver's cursor (open_cursor): no attribute lookups that fail (each raises inside)
            raw = cursor
        (_EXECUTE_MANY if many else _EXECUTE)[vendor](raw, self.text(vendor), arg)
        return raw


def db_datetime(connection: Any, value: datetime) -> Any:
    """`value` as the database takes it: on SQLite an aware time is what Django's
    `adapt_datetimefield_value` writes (naive UTC text) without its generic checks, which cost a
    fifth of an answer; naive times and other databases get Django's adapter."""
    if connection.vendor == "sqlite" and value.tzinfo is not None:
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return str(value.replace(tzinfo=None))
    return connection.ops.adapt_datetimefield_value(value)


_second: tuple[int, str] = (0, "")


def sqlite_now() -> str:
    """Now as `db_datetime` writes it on SQLite (naive UTC, microseconds), from the clock directly:
    the answer's one time, formatted a second at a time. Always six fraction digits; Django omits
    them for a whole second, which compares the same (a prefix sorts first)."""
    global _second
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    cached = _second
    if cached[0] != seconds:
        cached = _second = (seconds, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)))
    return f"{cached[1]}.{nanos // 1000:06d}"


def open_cursor(connection: Any, *, prepared: bool = False) -> Any:
    """A cursor for a path made of `Statement`s only (`apply()`): the driver's own cursor, opened on
    the connection directly (Django's wrapper costs more to build than SQLite spends on a statement),
    or Django's cursor while it logs queries. Close it when done.

    `prepared`: on PostgreSQL a server-binding psycopg cursor, whose statements psycopg prepares
    after a few runs on the connection (settings: `prepare_threshold`); Django's own cursors bind
    client-side and are never prepared. For a fixed statement run thousands of times a second
    (the answer), planning was most of its time."""
    if _watched(connection):
        return connection.cursor()
    raw = connection.connection
    if raw is None:  # ensure_connection's async check costs more than the rest when connected
        connection.ensure_connection()
        raw = connection.connection
    if prepared and connection.vendor == "postgresql":
        import psycopg

        return psycopg.Cursor(raw)
    return raw.cursor()


def _watched(connection: Any) -> bool:
    """Django logs this connection's queries (DEBUG, a query-counting test) or wraps them."""
    return bool(connection.queries_logged or connection.execute_wrappers)


def _execute(raw: Any, sql: str, params: Sequence[Any]) -> Any:
    return raw.execute(sql, params)


def _execute_many(raw: Any, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
    return raw.executemany(sql, rows)


class _ByVendor(dict[str, Any]):
    """SQLite: the base class's method, because Django's SQLiteCursorWrapper would convert the
    placeholders again; other vendors: the driver cursor's own method."""

    def __init__(self, sqlite: Any, other: Any) -> None:
        super().__init__(sqlite=sqlite)
        self._other = other

    def __missing__(self, vendor: str) -> Any:
        return self._other


_EXECUTE = _ByVendor(sqlite3.Cursor.execute, _execute)
_EXECUTE_MANY = _ByVendor(sqlite3.Cursor.executemany, _execute_many)


def _json_default(value: Any) -> str:
    if isinstance(value, date):  # datetimes too: ISO 8601, with the offset when aware
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def insert_returning_ids(connection: Any, objs: Sequence[Model]) -> None:
    """PostgreSQL: insert `objs` (new, of one model, whose fields are plain values, dates and times)
    with one INSERT … SELECT over one JSON document, and set their primary keys, as `bulk_create`
    does. For a few hundred rows bulk_create's per-field preparation and psycopg's array binding
    cost several times the insert itself; one JSON text is bound as it is."""
    model = type(objs[0])
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    record = ", ".join(f"{qn(f.column)} {f.db_type(connection)}" for f in fields)
    rows = [{f.column: getattr(obj, f.attname) for f in fields} for obj in objs]
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT {columns} "
        f"FROM json_to_recordset(%s::json) AS r({record}) RETURNING {qn(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, default=_json_default)])
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
