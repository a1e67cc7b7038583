"""The write path of ingest: validated, priced rows into `money_transaction`, set-based, none twice.

- PostgreSQL: one `COPY` into the table in a savepoint. A known switch id (a re-sent file, a concurrent
  import) fails it; the same text then goes into a session-local staging table and one
  `INSERT … ON CONFLICT (switch_id) DO NOTHING` moves the new rows in. Per-row INSERTs cost a parse,
  plan and executor start each; COPY is one statement.
- SQLite: one `executemany` over plain tuples, its prepared statement reused for every row.
The caller compares the count stored with the count sent and reports the known rows per line.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from psycopg.errors import UniqueViolation

from posfleet.core.sql import db_datetime
from posfleet.money.models import Transaction, business_date_of
from posfleet.money.parsed import Parsed

STAGE = "money_transaction_stage"
# What is written per row, in this order; ingested_at and journal_id are the chunk's.
ROW_COLUMNS = (
    "switch_id",
    "tid",
    "merchant_id",
    "channel",
    "type",
    "amount_fen",
    "occurred_at",
    "business_date",
    "fee_fen",
    "net_fen",
    "rate_plan_code",
    "rate_bp",
    "flagged",
    "flag_reasons",
    "original_switch_id",
)
COLUMNS = (*ROW_COLUMNS, "ingested_at", "journal_id")


def write(rows: Sequence[Parsed], journal_id: int, now: datetime) -> int:
    """Store `rows` (unknown switch ids only); returns how many went in (-1 when the driver cannot say)."""
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        return _write_postgresql(rows, journal_id, now)
    return _write_executemany(rows, journal_id, now)


def _stage_ddl() -> str:
    """The staging table: the written columns with the table's own types, nothing else."""
    by_column = {f.column: f for f in Transaction._meta.concrete_fields}
    cols = ", ".join(f"{c} {by_column[c].db_type(connection)}" for c in COLUMNS)
    # dropped at commit: a pooled or long-lived connection keeps no table of its own between ingests
    return f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ({cols}) ON COMMIT DROP"


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """A value in COPY's text format (backslash, tab, newline and carriage return escaped)."""
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def copy_line(p: Parsed) -> str:
    """The row in COPY text, without the chunk's own columns and the line end: an f-string per row
    is a fifth of the cost of the driver's `write_row` (which adapts every value through its type
    registry). `p.copy_line` when parsing made it already (no flag, nothing to escape)."""
    if p.copy_line is not None and not p.flag_reasons:
        return p.copy_line
    esc = _copy_text
    at = p.at_db if p.at_db.__class__ is str else p.occurred_at.isoformat()
    day = p.day_db if p.day_db.__class__ is str else business_date_of(p.occurred_at).isoformat()
    if p.flag_reasons:
        flagged, reasons = "t", esc(json.dumps(p.flag_reasons, ensure_ascii=False))
    else:
        flagged, reasons = "f", "[]"
    return (
        f"{esc(p.switch_id)}\t{esc(p.tid)}\t{p.merchant_id}\t{p.channel}\t{p.type}\t{p.amount_fen}\t"
        f"{at}\t{day}\t{p.fee_fen}\t{p.net_fen}\t{esc(p.plan_code)}\t{p.rate_bp}\t{flagged}\t{reasons}\t"
        f"{esc(p.original_id)}"
    )


def plain_line(
    sid: str, tid: str, mid: int, channel: str, tx_type: str, amount: int, at: str, day: str,
    fee: int, net: int, code: str, bp: int, original: str,
) -> str | None:  # fmt: skip
    """`copy_line` of a row without a flag, made while parsing (in the reader process); None when a
    value needs escaping (then `copy_line` escapes it)."""
    if _COPY_SPECIAL.search(sid) or _COPY_SPECIAL.search(tid) or _COPY_SPECIAL.search(original):
        return None
    if _COPY_SPECIAL.search(code):
        return None
    return (
        f"{sid}\t{tid}\t{mid}\t{channel}\t{tx_type}\t{amount}\t{at}\t{day}\t{fee}\t{net}\t{code}\t{bp}\tf\t[]\t"
        f"{original}"
    )


def copy_lines(rows: Sequence[Parsed], tail: str = "\n") -> str:
    """The rows as COPY text, each line ending with `tail` (the chunk's own columns and the line end)."""
    lines = [copy_line(p) for p in rows]
    lines.append("")
    return tail.join(lines)


def _write_postgresql(rows: Sequence[Parsed], journal_id: int, now: datetime) -> int:
    """COPY straight into the table, in a savepoint; when a switch id is already known (a re-sent
    file, a concurrent import) the attempt is undone and the chunk goes through the staging table,
    which skips the known ids. The straight COPY spares the server a second write and read of every
    row, and its index work happens while the rows arrive."""
    table = Transaction._meta.db_table
    cols = ", ".join(COLUMNS)
    text = copy_lines(rows, f"\t{now.isoformat()}\t{journal_id}\n")
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the driver's cursor: COPY is psycopg's, not the DB-API's
        try:
            with transaction.atomic(), raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write(text)
            return len(rows)
        except UniqueViolation:
            pass
        cursor.execute(_stage_ddl())
        cursor.execute(f"TRUNCATE {STAGE}")  # a chunk earlier in the same transaction left rows
        with raw.copy(f"COPY {STAGE} ({cols}) FROM STDIN") as copy:
            copy.write(text)
        # Rows arrive in the caller's order (merchant, then TID): the heap and the indexes fill in
        # that order; no ORDER BY, which would sort the chunk again.
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {STAGE} ON CONFLICT (switch_id) DO NOTHING"
        )
        count = cursor.rowcount
    return int(count) if count is not None and count >= 0 else -1


def _write_executemany(rows: Sequence[Parsed], journal_id: int, now: datetime) -> int:
    adapt = functools.partial(db_datetime, connection)
    adapt_day: Any = connection.ops.adapt_datefield_value
    reasons_field = Transaction._meta.get_field("flag_reasons")
    no_reasons = reasons_field.get_db_prep_save([], connection)
    now_db = adapt(now)
    table = Transaction._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
        "ON CONFLICT (switch_id) DO NOTHING"
    )
    params = [
        (
            p.switch_id,
            p.tid,
            p.merchant_id,
            p.channel,
            p.type,
            p.amount_fen,
            adapt(p.occurred_at) if p.at_db is None else p.at_db,
            p.day_db if p.day_db is not None else adapt_day(business_date_of(p.occurred_at)),
            p.fee_fen,
            p.net_fen,
            p.plan_code,
            p.rate_bp,
            bool(p.flag_reasons),
            reasons_field.get_db_prep_save(p.flag_reasons, connection) if p.flag_reasons else no_reasons,
            p.original_id,
            now_db,
            journal_id,
        )
        for p in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        count = cursor.rowcount
    return int(count) if count is not None and count >= 0 else -1
