"""Settlement benchmark: one business day of 1M transactions, and a 30-day month of 10M.

Rows are generated inside the database (a recursive CTE on SQLite, `generate_series` on PostgreSQL,
then VACUUM ANALYZE) on days before any other data; `run_settlement` is timed for the day (target
≤ 2 s SQLite, ≤ 1 s PostgreSQL for 1M rows), then DuckDB's per-merchant totals over the same rows are
the raw baseline, and every batch is checked against them; the same for the month. `scale` multiplies
the row counts. Rows carry no ledger postings: run it on a scratch database, as `posfleet bench` does.
"""

from __future__ import annotations

import csv
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, OuterRef, Subquery

from posfleet.core.actor import Actor
from posfleet.devtools.bench.money import ensure_fleet
from posfleet.money.models import Transaction
from posfleet.registry.models import Merchant
from posfleet.settlement.models import SettlementBatch, SettlementRun
from posfleet.settlement.services import day_range, run_settlement

DAY_ROWS = 1_000_000
MONTH_ROWS = 10_000_000
MONTH_DAYS = 30
TARGET_SECONDS = {"sqlite": 2.0, "postgresql": 1.0}
Report = Callable[..., Any]


def _merchant_ids(minimum: int = 200) -> list[int]:
    ids = list(Merchant.objects.order_by("id").values_list("id", flat=True)[:2000])
    if len(ids) >= minimum:
        return ids
    ensure_fleet()
    return list(Merchant.objects.order_by("id").values_list("id", flat=True)[:2000])


def _first_free_day() -> date:
    """The day before any transaction or batch: bench days never overlap real or earlier bench data."""
    earliest = [date(2020, 1, 1)]
    # each merchant's first day from its index range (a plain MIN would read the whole index)
    tx_min = Merchant.objects.annotate(
        first=Subquery(
            Transaction.objects.filter(merchant_id=OuterRef("pk"))
            .order_by("business_date")
            .values("business_date")[:1]
        )
    ).aggregate(m=Min("first"))["m"]
    if tx_min is not None:
        earliest.append(tx_min)
    batch_min = SettlementBatch.objects.aggregate(m=Min("business_date"))["m"]
    if batch_min is not None:
        earliest.append(batch_min)
    return min(earliest) - timedelta(days=1)


def generate(first_day: date, days: int, rows_per_day: int, merchant_ids: list[int], tag: str) -> int:
    """Insert `rows_per_day` transactions on each of `days` days in SQL, one INSERT ... SELECT per day
    (data generation, not the ingest path); every 40th is a refund, every 97th a reversal; fees at
    60 bp, by the fee rule (refund: no fee; reversal returns it). Switch ids are zero-padded so the
    unique index grows at its right edge; on SQLite a 1 GB page cache keeps the other indexes in memory
    while the rows go in (10M rows otherwise spend most of their time re-reading index pages)."""
    tx = Transaction._meta.db_table
    n_merchants = len(merchant_ids)
    start, _end = day_range(first_day)
    start_epoch = int(start.timestamp())
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_merchant")
        cursor.execute("CREATE TEMPORARY TABLE bench_merchant (k INTEGER PRIMARY KEY, mid BIGINT)")
        cursor.executemany(
            "INSERT INTO bench_merchant (k, mid) VALUES (%s, %s)", list(enumerate(merchant_ids))
        )
        if not pg:
            cursor.execute("PRAGMA cache_size")
            cache = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA cache_size = -1048576")
        amount = "(100 + (s.i * 7919) % 500000)"
        fee = f"(({amount} * 60 * 2 + 10000) / 20000)"
        typ = "CASE WHEN s.i % 40 = 0 THEN 'refund' WHEN s.i % 97 = 0 THEN 'reversal' ELSE 'sale' END"
        fee_v = f"CASE WHEN s.i % 40 = 0 THEN 0 WHEN s.i % 97 = 0 THEN -{fee} ELSE {fee} END"
        net_v = f"CASE WHEN s.i % 40 = 0 THEN -{amount} WHEN s.i % 97 = 0 THEN -({amount} - {fee}) ELSE {amount} - {fee} END"
        columns = (
            "switch_id, tid, merchant_id, channel, type, amount_fen, occurred_at, business_date, fee_fen, "
            "net_fen, rate_plan_code, rate_bp, flagged, flag_reasons, ingested_at"
        )
        for d in range(days):
            lo, hi = d * rows_per_day + 1, (d + 1) * rows_per_day
            day = (first_day + timedelta(days=d)).isoformat()
            # row i of day d falls at second ((i - lo) * 86399) / rows_per_day of that day
            secs = f"{d * 86400} + ((s.i - {lo}) * 86399) / {rows_per_day}"
            if pg:
                sql = (
                    f"INSERT INTO {tx} ({columns}) SELECT '{tag}' || lpad(s.i::text, 10, '0'), "
                    f"'BT' || lpad((s.i % 5000)::text, 6, '0'), m.mid, 'credit', {typ}, {amount}, "
                    f"to_timestamp({start_epoch} + {secs}), DATE '{day}', {fee_v}, {net_v}, 'STANDARD', 60, "
                    f"false, '[]'::jsonb, now() "
                    f"FROM generate_series({lo}::bigint, {hi}) AS s(i) "
                    f"JOIN bench_merchant m ON m.k = s.i % {n_merchants}"
                )
            else:
                sql = (
                    f"WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi}) "
                    f"INSERT INTO {tx} ({columns}) SELECT printf('{tag}%010d', s.i), printf('BT%06d', s.i % 5000), "
                    f"m.mid, 'credit', {typ}, {amount}, "
                    f"strftime('%Y-%m-%d %H:%M:%S', {start_epoch} + {secs}, 'unixepoch'), '{day}', "
                    f"{fee_v}, {net_v}, 'STANDARD', 60, 0, '[]', datetime('now') "
                    f"FROM s JOIN bench_merchant m ON m.k = s.i % {n_merchants}"
                )
            cursor.execute(sql)
        if not pg:
            cursor.execute(f"PRAGMA cache_size = {cache}")
        cursor.execute("DROP TABLE bench_merchant")
    return days * rows_per_day


def after_generation() -> None:
    """PostgreSQL: VACUUM ANALYZE the table and CHECKPOINT, outside any transaction, as a nightly job
    finds a table that autovacuum has seen: statistics for the planner, the visibility map for the
    aggregate's index-only scan, and no checkpoint of the bulk load's dirty pages in the timed runs.
    Inside a transaction (tests) VACUUM is not allowed, and ANALYZE alone is done."""
    if connection.vendor == "postgresql":
        atomic = connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute(f"{'ANALYZE' if atomic else 'VACUUM ANALYZE'} {Transaction._meta.db_table}")
            if not atomic:
                cursor.execute("CHECKPOINT")


@contextmanager
def scratch_csv(name: str) -> Iterator[Path]:
    """A CSV path of this run alone under VAR_DIR/bench, removed afterwards. A fixed name let a second
    bench in the same directory truncate and then delete the file the first was about to read."""
    directory = Path(settings.VAR_DIR) / "bench"
    directory.mkdir(parents=True, exist_ok=True)
    fd, raw = tempfile.mkstemp(prefix=f"settlement-{name}-", suffix=".csv", dir=directory)
    os.close(fd)
    path = Path(raw)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def export_csv(path: Path, start: datetime, end: datetime) -> int:
    """The rows of [start, end) as CSV (merchant_id, occurred_at in UTC, type, amount, fee, net) for
    DuckDB, in constant memory: `COPY … TO STDOUT` on PostgreSQL (a plain cursor there holds the whole
    result in the client), the raw cursor in chunks on SQLite. DuckDB derives the day from the time
    itself (UTC+8), independently of the stored business_date."""
    table = Transaction._meta.db_table
    pg = connection.vendor == "postgresql"
    when = (
        "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        if pg
        else "substr(occurred_at, 1, 19)"
    )
    sql = (
        f"SELECT merchant_id, {when} AS occurred_utc, type, amount_fen, fee_fen, net_fen FROM {table} "
        "WHERE occurred_at >= %s AND occurred_at < %s"
    )
    n = 0
    with path.open("w", newline="") as fh, connection.cursor() as cursor:
        if pg:  # COPY writes the header and "\n" line ends (csv.writer's are "\r\n": not to be mixed)
            with cursor.cursor.copy(
                f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", [start, end]
            ) as copy:
                for block in copy:
                    text = bytes(block).decode()
                    n += text.count("\n")
                    fh.write(text)
            return n - 1
        w = csv.writer(fh)
        w.writerow(["merchant_id", "occurred_utc", "type", "amount_fen", "fee_fen", "net_fen"])
        adapt = connection.ops.adapt_datetimefield_value
        cursor.execute(sql, [adapt(start), adapt(end)])
        while rows := cursor.fetchmany(50_000):
            w.writerows(rows)
            n += len(rows)
    return n


def duckdb_totals(path: Path) -> tuple[float, dict[tuple[int, str], tuple[int, ...]]]:
    """Load the CSV into in-memory DuckDB (untimed), then time the per-merchant, per-day totals."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT merchant_id, "
        "CAST(CAST(occurred_utc AS TIMESTAMP) + INTERVAL 8 HOUR AS DATE) AS day, "
        "type, amount_fen, fee_fen, net_fen FROM read_csv_auto(?)",
        [str(path)],
    )
    started = time.perf_counter()
    rows = con.execute(
        "SELECT merchant_id, CAST(day AS VARCHAR), count(*), "
        "sum(CASE WHEN type = 'sale' THEN amount_fen ELSE 0 END), "
        "sum(CASE WHEN type = 'sale' THEN 0 ELSE amount_fen END), sum(fee_fen), sum(net_fen) "
        "FROM t GROUP BY merchant_id, day"
    ).fetchall()
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed, {(int(r[0]), r[1]): tuple(int(x) for x in r[2:]) for r in rows}


def _settle(days: list[date]) -> list[float]:
    """Each day's run in its own transaction, as the nightly job runs it; the wall time of each."""
    actor = Actor.system("cli", name="bench")
    seconds = []
    for day in days:
        started = time.perf_counter()
        with transaction.atomic():
            run_settlement(actor, day)
        seconds.append(time.perf_counter() - started)
    return seconds


def _unswept() -> int:
    """Ids above the last run's mark (the rows ingested since): the next run reads them for late items."""
    mark = SettlementRun.objects.aggregate(m=Max("max_transaction_id"))["m"]
    top = Transaction.objects.aggregate(m=Max("id"))["m"]
    return 0 if mark is None or top is None else max(int(top) - int(mark), 0)


def _differences(days: list[date], expected: dict[tuple[int, str], tuple[int, ...]]) -> int:
    got = {
        (b.merchant_id, b.business_date.isoformat()): (
            b.transaction_count,
            b.gross_fen,
            b.refund_fen,
            b.fee_fen,
            b.net_fen,
        )
        for b in SettlementBatch.objects.filter(business_date__in=days)
    }
    keys = set(got) | set(expected)
    return sum(got.get(k) != expected.get(k) for k in keys)


def _case(name: str, days: int, rows_per_day: int, merchants: list[int], say: Any) -> dict[str, Any]:
    last = _first_free_day()
    first = last - timedelta(days=days - 1)
    tag = f"B{name[0].upper()}{datetime.now():%H%M%S}-"
    started = time.perf_counter()
    with transaction.atomic():
        total = generate(first, days, rows_per_day, merchants, tag)
    after_generation()
    gen_s = time.perf_counter() - started
    warmed = connection.vendor == "postgresql" and not connection.in_atomic_block
    unswept = _unswept()
    day_list = [first + timedelta(days=i) for i in range(days)]
    runs = _settle(day_list)
    seconds = sum(runs)
    start, _e = day_range(first)
    _s, end = day_range(last)
    with scratch_csv(name) as path:
        exported = export_csv(path, start, end)
        duck_s, expected = duckdb_totals(path)
    diffs = _differences(day_list, expected)
    target = TARGET_SECONDS.get(connection.vendor, 2.0) * days * rows_per_day / DAY_ROWS
    table = (
        "after VACUUM ANALYZE and CHECKPOINT"
        if warmed
        else ("after ANALYZE" if connection.vendor == "postgresql" else "as generated")
    )
    say(
        f"settlement.{name} settle seconds",
        round(seconds, 3),
        "s",
        target=f"<= {target:.2f}",
        ok=seconds <= target,
        baseline="DuckDB per-merchant totals of the same rows (in memory)",
        baseline_value=round(duck_s, 3),
        higher_is_better=False,
        note=f"{total:,} rows, {days} day(s), {len(merchants)} merchants; generated in {gen_s:.0f} s; "
        f"runs {table}",
    )
    say(f"settlement.{name} rows/s", round(total / seconds) if seconds else 0, "rows/s")
    say(f"settlement.{name} ratio settle/DuckDB", round(seconds / duck_s, 1) if duck_s else None, "x")
    if days > 1:
        say(
            f"settlement.{name} per run min/median/max",
            f"{min(runs):.3f} / {statistics.median(runs):.3f} / {max(runs):.3f}",
            "s",
            note="first runs " + ", ".join(f"{r:.3f}" for r in runs[:3]) + f" s; the first run also reads "
            f"the {unswept:,} rows ingested since the previous run for late items",
        )
    say(
        f"settlement.{name} batches differing from DuckDB",
        diffs,
        target="0",
        ok=diffs == 0 and exported == total,
    )
    return {
        "rows": total,
        "seconds": seconds,
        "runs": runs,
        "duckdb_seconds": duck_s,
        "differences": diffs,
        "exported": exported,
        "unswept": unswept,
        "warmed": warmed,
    }


def run(report: Report | None = None, *, scale: float | None = None, month: bool = True) -> dict[str, Any]:
    """Run the settlement benchmark; `report(name, value, unit="", target=None, ok=None)` gets each figure.

    `scale` defaults to $POSFLEET_SETTLEMENT_BENCH_SCALE, else 1.0 (1M a day, 10M a month).
    """
    if scale is None:
        scale = float(os.environ.get("POSFLEET_SETTLEMENT_BENCH_SCALE", "1.0"))

    def say(
        name: str, value: Any, unit: str = "", target: Any = None, ok: bool | None = None, **extra: Any
    ) -> None:
        if report is not None:
            report(name, value, unit=unit, target=target, ok=ok, **extra)
        else:
            mark = "" if ok is None else (" OK" if ok else " MISSED")
            goal = f" (target {target})" if target is not None else ""
            base = f" [baseline {extra['baseline_value']} s]" if "baseline_value" in extra else ""
            print(f"{name}: {value} {unit}{goal}{mark}{base} {extra.get('note', '')}".rstrip())

    merchants = _merchant_ids()
    out: dict[str, Any] = {"database": connection.vendor, "merchants": len(merchants), "scale": scale}
    out["day"] = _case("day", 1, max(1, int(DAY_ROWS * scale)), merchants, say)
    if month:
        out["month"] = _case(
            "month", MONTH_DAYS, max(1, int(MONTH_ROWS * scale / MONTH_DAYS)), merchants, say
        )
    return out
