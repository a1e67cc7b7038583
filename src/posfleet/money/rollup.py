"""Daily rollups of the transactions (`DayTotal`): kept by ingest, read by the charts.

A chart of the last 30 days sums at most 30 × BUCKETS rows, whatever the number of transactions. The
rollup is written in the same transaction as the rows it counts, so it is never ahead of or behind
them; keys are upserted in (day, bucket) order, so two ingests touching the same days wait for each
other instead of deadlocking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection

from posfleet.money.models import DayTotal, Transaction, business_date_of
from posfleet.money.parsed import Parsed

BUCKETS = 16
_TABLE = DayTotal._meta.db_table


def add(rows: Iterable[Parsed]) -> None:
    """Count new transactions (ingest's parsed rows: merchant_id, type, amount, fee, occurred_at)."""
    sums: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for p in rows:
        day = p.day_db if p.day_db.__class__ is str else business_date_of(p.occurred_at).isoformat()
        s = sums[(day, p.merchant_id % BUCKETS)]
        s[0] += 1
        if p.type == "sale":
            s[1] += p.amount_fen
        else:
            s[2] += p.amount_fen
        s[3] += p.fee_fen
        if p.flag_reasons:
            s[4] += 1
    if not sums:
        return
    params: list[list[Any]] = [
        [date.fromisoformat(day), bucket, *s] for (day, bucket), s in sorted(sums.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_TABLE} (business_date, bucket, count, sales_fen, back_fen, fee_fen, flagged) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (business_date, bucket) DO UPDATE SET "
            f"count = {_TABLE}.count + excluded.count, sales_fen = {_TABLE}.sales_fen + excluded.sales_fen, "
            f"back_fen = {_TABLE}.back_fen + excluded.back_fen, fee_fen = {_TABLE}.fee_fen + excluded.fee_fen, "
            f"flagged = {_TABLE}.flagged + excluded.flagged",
            params,
        )


def rebuild(first: date, last: date) -> None:
    """Recompute the days first..last from the transactions (one GROUP BY; a bulk load's last step)."""
    DayTotal.objects.filter(business_date__range=(first, last)).delete()
    tx = Transaction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (business_date, bucket, count, sales_fen, back_fen, fee_fen, flagged) "
            f"SELECT business_date, merchant_id %% {BUCKETS}, COUNT(*), "
            "SUM(CASE WHEN type = 'sale' THEN amount_fen ELSE 0 END), "
            "SUM(CASE WHEN type = 'sale' THEN 0 ELSE amount_fen END), SUM(fee_fen), "
            "SUM(CASE WHEN flagged THEN 1 ELSE 0 END) "
            f"FROM {tx} WHERE business_date BETWEEN %s AND %s GROUP BY business_date, merchant_id %% {BUCKETS}",
            [first, last],
        )
