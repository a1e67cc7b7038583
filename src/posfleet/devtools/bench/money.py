"""Money benchmark: import a 1M-row clearing file and check every fee against Decimal.

`run(report)` (called by the project benchmark) makes sure a fleet of active terminals exists (a bench
fleet of merchants through the services and terminals in bulk when the database has too few), writes
a deterministic clearing file under VAR_DIR/bench, imports it with the same code as
`posfleet import_transactions` (rows/s, beside the bare COPY / executemany of the same rows into a
table with the same indexes: target ≥ 50 % of it), re-imports it (must change nothing), then
recomputes every imported fee with `decimal.Decimal` ROUND_HALF_UP — an implementation independent of
`fees.fee_fen` — from the plan rates, and counts the differences (target 0).
"""

from __future__ import annotations

import csv
import os
import random
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from posfleet.core.actor import Actor
from posfleet.money import ingest_write
from posfleet.money.choices import CHANNELS
from posfleet.money.management.commands.import_transactions import DEFAULT_CHUNK, import_file
from posfleet.money.models import RatePlan, Transaction
from posfleet.registry.choices import MerchantKind, MerchantState, TerminalState
from posfleet.registry.models import Merchant, Terminal, TerminalModel
from posfleet.registry.services import MerchantInput, create_merchant

ROWS = 1_000_000
BENCH_MERCHANTS = 200
BENCH_TERMINALS = 5_000
CHANNEL_MIX = ("credit",) * 3 + ("debit",) * 3 + ("wechat",) * 5 + ("alipay",) * 4 + ("unionpay_qr",)


REGISTERED_BEFORE = timedelta(days=60)  # the file covers 30 days; its terminals are older than that


def active_tids(limit: int = 50_000) -> list[str]:
    """Active TIDs registered before the file's first day (ingest refuses a time before registration)."""
    return list(
        Terminal.objects.filter(
            state=TerminalState.ACTIVE,
            merchant__state=MerchantState.ACTIVE,
            created_at__lte=timezone.now() - REGISTERED_BEFORE,
        )
        .order_by("id")
        .values_list("tid", flat=True)[:limit]
    )


def ensure_fleet(min_terminals: int = 1000) -> list[str]:
    """Active TIDs to transact on; creates a bench fleet (prefix B) when there are too few."""
    tids = active_tids()
    if len(tids) >= min_terminals:
        return tids
    actor = Actor.system("cli", name="bench")
    model = TerminalModel.objects.order_by("id").first() or TerminalModel.objects.create(
        manufacturer="Bench", name="BENCH-1", min_security_patch_level="2025-01-01"
    )
    with transaction.atomic():
        ids = []
        for i in range(BENCH_MERCHANTS):
            m = create_merchant(
                actor,
                MerchantInput(
                    kind=MerchantKind.INDIVIDUAL,
                    name=f"压测商户 {i:04d}",
                    contact_name="压测",
                    phone="13800000000",
                    rate_plan="CLASSIC" if i % 4 == 0 else None,
                ),
            )
            ids.append(m.pk)
        Merchant.objects.filter(pk__in=ids).update(state=MerchantState.ACTIVE)
        Terminal.objects.bulk_create(
            [
                Terminal(
                    tid=f"B{n:07d}",
                    sn=f"BENCH{n:010d}",
                    model=model,
                    firmware_version="1.0",
                    security_patch_level="2026-06-01",
                    merchant_id=ids[n % len(ids)],
                    state=TerminalState.ACTIVE,
                    created_at=timezone.now() - REGISTERED_BEFORE,
                )
                for n in range(BENCH_TERMINALS)
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    return active_tids()


def write_clearing_file(path: Path, rows: int, tids: list[str], *, seed: int = 7, prefix: str = "BW") -> Path:
    """A deterministic clearing file: sales mostly, ~3% refunds, ~1% reversals, over the last 30 days.

    A refund or reversal gives back (part of) one of the last thousand sales not given back yet, on
    its terminal and channel, as a switch would send it (with the sale's id as original_id)."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    end = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    start = end - timedelta(days=30)
    span = int((end - start).total_seconds())
    tz = timezone.get_fixed_timezone(480)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "tid", "channel", "type", "amount_fen", "occurred_at", "original_id"])
        sales: list[tuple[str, str, str, int]] = []  # recent sales not given back: id, tid, channel, amount
        for n in range(rows):
            roll = rng.random()
            tx_type = "refund" if roll < 0.03 else "reversal" if roll < 0.04 else "sale"
            amount = int(rng.lognormvariate(8.5, 1.2)) + 1
            at = (start + timedelta(seconds=span * n // max(rows, 1))).astimezone(tz)
            sid = f"{prefix}{n:010d}"
            if tx_type != "sale" and sales:
                original, tid, channel, sold = sales.pop(rng.randrange(len(sales)))
                amount = sold if tx_type == "reversal" else rng.randint(1, sold)
                w.writerow([sid, tid, channel, tx_type, amount, at.isoformat(), original])
                continue
            tid, channel = rng.choice(tids), rng.choice(CHANNEL_MIX)
            w.writerow([sid, tid, channel, "sale", amount, at.isoformat(), ""])
            sales.append((sid, tid, channel, amount))
            if len(sales) > 1000:
                sales.pop(0)
    return path


BARE_TABLE = "bench_tx_bare"


def _bare_table() -> None:
    """An empty copy of the transactions table with the same columns, unique, check constraints and
    indexes, and no foreign key (the import pays for its foreign key; the baseline does not)."""
    table = Transaction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {BARE_TABLE} (LIKE {table} INCLUDING ALL)")
            return
        cursor.execute(
            "SELECT type, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL ORDER BY type DESC",
            [table],
        )
        for kind, ddl in cursor.fetchall():
            ddl = ddl.replace(f'"{table}"', f'"{BARE_TABLE}"')
            if kind == "table":
                ddl = re.sub(r' REFERENCES "[a-z_]+" \("id"\)( DEFERRABLE INITIALLY DEFERRED)?', "", ddl)
            else:
                ddl = re.sub(r'INDEX "([^"]+)"', lambda m: f'INDEX "bare_{m.group(1)}"', ddl)
            cursor.execute(ddl)


def bare_write_rate(prefix: str, chunk: int = DEFAULT_CHUNK) -> tuple[float, int]:
    """(rows/s, rows) of the bare baseline: the rows the import stored, prepared in memory beforehand,
    written into an empty copy of the table (`_bare_table`) by COPY (PostgreSQL) or one `executemany`
    (SQLite) per chunk of the import's size, a transaction each. Only the writes and commits are timed."""
    _bare_table()
    cols = list(ingest_write.COLUMNS)
    text = {"occurred_at", "business_date", "ingested_at"} if connection.vendor == "sqlite" else set()
    select = ", ".join(f"CAST({c} AS TEXT)" if c in text else c for c in cols)
    table = Transaction._meta.db_table
    insert = f"INSERT INTO {BARE_TABLE} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    last_id, total, seconds = 0, 0, 0.0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {select} FROM {table} WHERE id > %s AND switch_id LIKE %s ORDER BY id LIMIT %s",
                [last_id, prefix + "%", chunk],
            )
            fetched = cursor.fetchall()
        if not fetched:
            break
        last_id = fetched[-1][0]
        rows = [r[1:] for r in fetched]
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {BARE_TABLE} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(insert, rows)
        seconds += time.perf_counter() - started
        total += len(rows)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {BARE_TABLE}")
    return total / max(seconds, 1e-9), total


def decimal_fee(amount: int, bp: int, cap: int | None) -> int:
    """Independent of fees.fee_fen: decimal arithmetic with ROUND_HALF_UP."""
    fee = int((Decimal(amount) * Decimal(bp) / Decimal(10000)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(fee, cap) if cap is not None else fee


def check_fees(prefix: str) -> tuple[int, int]:
    """(rows checked, differences) over every transaction whose switch id starts with `prefix`."""
    plans = {p.code: p.rates() for p in RatePlan.objects.all()}
    checked = diffs = 0
    qs = Transaction.objects.filter(switch_id__startswith=prefix).values_list(
        "type", "channel", "amount_fen", "fee_fen", "net_fen", "rate_plan_code"
    )
    for tx_type, channel, amount, fee, net, code in qs.iterator(chunk_size=20_000):
        bp, cap = plans[code][channel]
        expected = decimal_fee(amount, bp, cap)
        if tx_type == "sale":
            want = (expected, amount - expected)
        elif tx_type == "refund":
            want = (0, -amount)
        else:
            want = (-expected, -(amount - expected))
        checked += 1
        diffs += (fee, net) != want
    return checked, diffs


Report = Callable[..., Any]


def run(report: Report | None = None, *, rows: int | None = None) -> dict[str, Any]:
    """Run the money benchmark; `report(name, value, unit="", target=None, ok=None)` receives each figure.

    `rows` defaults to 1,000,000 (POSFLEET_BENCH_MONEY_ROWS overrides it for a quick smoke run)."""
    rows = rows or int(os.environ.get("POSFLEET_BENCH_MONEY_ROWS", ROWS))

    def say(
        name: str, value: Any, unit: str = "", target: Any = None, ok: bool | None = None, **extra: Any
    ) -> None:
        if report is not None:
            # the bench's Report takes the baseline too; a plain callable gets the documented five
            more = extra if hasattr(report, "figure") else {}
            report(name, value, unit=unit, target=target, ok=ok, **more)
            return
        line = f"{name}: {value} {unit}" + (f" (target {target})" if target is not None else "")
        if extra.get("baseline_value"):
            line += (
                f"; {extra['baseline']}: {extra['baseline_value']} ({value / extra['baseline_value']:.1%})"
            )
        print(line)

    out: dict[str, Any] = {"database": connection.vendor, "rows": rows}
    tids = ensure_fleet()
    prefix = f"BW{datetime.now():%H%M%S}"
    path = write_clearing_file(
        Path(settings.VAR_DIR) / "bench" / f"clearing-{rows}.csv", rows, tids, prefix=prefix
    )
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as f:
        parsed_rows = sum(1 for _row in csv.reader(f)) - 1
    baseline = parsed_rows / max(time.perf_counter() - started, 1e-9)
    actor = Actor.system("cli", name="bench")
    started = time.perf_counter()
    stats = import_file(path, actor=actor, progress=False)
    elapsed = time.perf_counter() - started
    rate = rows / elapsed if elapsed else 0.0
    out.update(import_seconds=elapsed, import_rows_per_s=rate, created=stats.created, rejected=stats.error)
    bare_rate, bare_rows = bare_write_rate(prefix)
    out.update(bare_rows_per_s=bare_rate, bare_rows=bare_rows)
    bare = "bare COPY" if connection.vendor == "postgresql" else "bare executemany"
    say(
        f"money.import {rows:,} rows: validate, price, flag, insert, ledger",
        round(rate),
        "rows/s",
        target=0.5,
        baseline=f"{bare} of the same {bare_rows:,} rows, same indexes",
        baseline_value=round(bare_rate),
        note=(
            f"{rows} rows in {elapsed:.1f} s on {connection.vendor}, chunks of {DEFAULT_CHUNK:,} with one "
            f"journal each; csv.reader alone over the same file: {round(baseline):,} rows/s"
        ),
    )
    say("money.import rejected rows", stats.error, ok=stats.error == 0)
    started = time.perf_counter()
    again = import_file(path, actor=actor, progress=False)
    out.update(reimport_seconds=time.perf_counter() - started, reimport_created=again.created)
    say("money.re-import created rows", again.created, target="0", ok=again.created == 0)
    checked, diffs = check_fees(prefix)
    out.update(fees_checked=checked, fee_differences=diffs)
    say("money.fees checked against Decimal", checked, "rows")
    say("money.fee differences", diffs, target="0", ok=diffs == 0 and checked == stats.created)
    path.unlink(missing_ok=True)
    return out


__all__ = ["CHANNELS", "check_fees", "decimal_fee", "ensure_fleet", "run", "write_clearing_file"]
