"""Production-scale demo data in set-based SQL: `posfleet demo --scale F`.

Scale 1 adds 200,000 merchants, 1,000,000 terminals and 10,000,000 transactions over 30 business days,
each table filled by `INSERT … SELECT` over a generated series, never row by row, so the load runs at
the database's own insert speed. Rows are deterministic: terminal n has TID 20,000,000 + n and a state
by n % 100 (`scale.SCALE_SHARE`); every 50th transaction goes to merchant 0 (the "biggest merchant"),
every 40th is a refund, every 97th a reversal; fees follow the fee rule. One `demo.scale` audit event
records the load; the transactions carry no ledger postings, like the settlement bench's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.money import rollup
from posfleet.money.models import MerchantPlan, RatePlan, Transaction
from posfleet.registry.models import Merchant, Terminal, TerminalModel
from posfleet.settlement.services import day_range

MERCHANTS = 200_000
TERMINALS = 1_000_000
TRANSACTIONS = 10_000_000
DAYS = 30
FIRST_TID = 20_000_000
NAMES = ("便利店", "餐厅", "超市", "药房", "书店", "咖啡馆", "水果店", "五金店")
# n % 100 below each bound: that state (the shares of scale.SCALE_SHARE)
STATE_BOUNDS = (
    (70, "active"),
    (80, "in_stock"),
    (85, "allocated"),
    (88, "in_repair"),
    (94, "deactivated"),
    (98, "returned"),
    (100, "retired"),
)


@dataclass
class Built:
    merchants: int = 0
    terminals: int = 0
    transactions: int = 0
    seconds: dict[str, float] | None = None


def _series(n_from: int, n_to: int) -> str:
    """A row source `s(i)` of the integers n_from..n_to."""
    if connection.vendor == "postgresql":
        return f"generate_series({n_from}::bigint, {n_to}) AS s(i)"
    return f"(WITH RECURSIVE r(i) AS (SELECT {n_from} UNION ALL SELECT i + 1 FROM r WHERE i < {n_to}) SELECT i FROM r) AS s"


def _pad(expr: str, width: int) -> str:
    if connection.vendor == "postgresql":
        return f"lpad(({expr})::text, {width}, '0')"
    return f"printf('%0{width}d', {expr})"


def _now() -> str:
    return "now()" if connection.vendor == "postgresql" else "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _merchants(cursor: Any, count: int) -> None:
    names = " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(NAMES))
    name = f"'规模商户' || (CASE s.i % {len(NAMES)} {names} END) || ' ' || {_pad('s.i', 6)}"
    sql = (
        f"INSERT INTO {Merchant._meta.db_table} (kind, name, contact_name, phone, email, licence_no, "
        "legal_representative, address, settlement_card_enc, settlement_card_last4, state, version, "
        f"created_at, updated_at) SELECT 'individual', {name}, '联系人', "
        f"'138' || {_pad('s.i', 8)}, '', 'SC' || {_pad('s.i', 10)}, '', "
        f"'上海市规模路 ' || (s.i % 9999) || ' 号', '', '', 'active', 1, {_now()}, {_now()} "
        f"FROM {_series(0, count - 1)}"
    )
    cursor.execute(sql)
    cursor.execute("CREATE TEMPORARY TABLE scale_merchant (k BIGINT PRIMARY KEY, mid BIGINT NOT NULL)")
    key = "CAST(substr(licence_no, 3) AS BIGINT)"
    cursor.execute(
        f"INSERT INTO scale_merchant (k, mid) SELECT {key}, id FROM {Merchant._meta.db_table} "
        "WHERE licence_no LIKE 'SC%%' AND length(licence_no) = 12"
    )
    standard = RatePlan.objects.get(code="STANDARD").pk
    cursor.execute(
        f"INSERT INTO {MerchantPlan._meta.db_table} (merchant_id, plan_id, effective_from, created_by, "
        f"created_at) SELECT mid, {standard}, {_now()}, 'demo', {_now()} FROM scale_merchant"
    )


def _terminals(cursor: Any, count: int, merchants: int) -> None:
    models = list(
        TerminalModel.objects.filter(permitted=True)
        .order_by("id")
        .values_list("id", "min_security_patch_level")
    )
    cursor.execute("CREATE TEMPORARY TABLE scale_model (k BIGINT PRIMARY KEY, id BIGINT, patch VARCHAR(10))")
    cursor.executemany(
        "INSERT INTO scale_model (k, id, patch) VALUES (%s, %s, %s)",
        [(k, pk, max(patch, "2026-06-01")) for k, (pk, patch) in enumerate(models)],
    )
    state = "CASE " + " ".join(f"WHEN s.i % 100 < {b} THEN '{s}'" for b, s in STATE_BOUNDS) + " END"
    sql = (
        f"INSERT INTO {Terminal._meta.db_table} (tid, sn, model_id, firmware_version, security_patch_level, "
        "install_address, merchant_id, state, version, created_at, updated_at) "
        f"SELECT {_pad(f's.i + {FIRST_TID}', 8)}, 'SS' || {_pad('s.i', 12)}, md.id, '4.2.0', md.patch, '', "
        f"CASE WHEN s.i % 100 >= 70 AND s.i % 100 < 80 THEN NULL ELSE m.mid END, {state}, 1, {_now()}, {_now()} "
        f"FROM {_series(0, count - 1)} JOIN scale_model md ON md.k = s.i % {len(models)} "
        f"JOIN scale_merchant m ON m.k = s.i % {merchants}"
    )
    cursor.execute(sql)


def _transactions(cursor: Any, count: int, terminals: int, merchants: int, last_day: date) -> None:
    plan = RatePlan.objects.get(code="STANDARD")
    per_day = count // DAYS
    groups = terminals // 100
    # terminal of row i: active (n % 100 < 70); every 50th row on merchant 0's terminals (n = k * merchants)
    n = f"CASE WHEN s.i % 50 = 0 THEN (s.i / 50 % {terminals // merchants}) * {merchants} ELSE ((s.i * 7919) % {groups}) * 100 + s.i % 70 END"
    amount = "(100 + (s.i * 7919) % 500000)"

    def fee(bp: int, cap: int | None) -> str:
        raw = f"(({amount} * {bp} * 2 + 10000) / 20000)"
        return f"(CASE WHEN {raw} > {cap} THEN {cap} ELSE {raw} END)" if cap is not None else raw

    credit, wechat = plan.rate("credit"), plan.rate("wechat")
    f = f"(CASE WHEN s.i % 2 = 0 THEN {fee(*credit)} ELSE {fee(*wechat)} END)"
    typ = "CASE WHEN s.i % 40 = 0 THEN 'refund' WHEN s.i % 97 = 0 THEN 'reversal' ELSE 'sale' END"
    fee_v = f"CASE WHEN s.i % 40 = 0 THEN 0 WHEN s.i % 97 = 0 THEN -{f} ELSE {f} END"
    net_v = f"CASE WHEN s.i % 40 = 0 THEN -{amount} WHEN s.i % 97 = 0 THEN -({amount} - {f}) ELSE {amount} - {f} END"
    channel = "CASE WHEN s.i % 2 = 0 THEN 'credit' ELSE 'wechat' END"
    bp = f"CASE WHEN s.i % 2 = 0 THEN {credit[0]} ELSE {wechat[0]} END"
    pg = connection.vendor == "postgresql"
    columns = (
        "switch_id, tid, merchant_id, channel, type, amount_fen, occurred_at, business_date, fee_fen, "
        "net_fen, rate_plan_code, rate_bp, flagged, flag_reasons, ingested_at"
    )
    first_day = last_day - timedelta(days=DAYS - 1)
    for d in range(DAYS):
        day = first_day + timedelta(days=d)
        start_epoch = int(day_range(day)[0].timestamp())
        lo, hi = d * per_day, (d + 1) * per_day - 1
        secs = f"{start_epoch} + ((s.i - {lo}) * 86399) / {per_day}"
        at = f"to_timestamp({secs})" if pg else f"strftime('%Y-%m-%d %H:%M:%S', {secs}, 'unixepoch')"
        cursor.execute(
            f"INSERT INTO {Transaction._meta.db_table} ({columns}) "
            f"SELECT 'SD' || {_pad('s.i', 10)}, {_pad(f'({n}) + {FIRST_TID}', 8)}, m.mid, {channel}, {typ}, "
            f"{amount}, {at}, '{day.isoformat()}', {fee_v}, {net_v}, '{plan.code}', {bp}, "
            f"{'false' if pg else '0'}, '[]', {_now()} "
            f"FROM {_series(lo, hi)} JOIN scale_merchant m ON m.k = ({n}) % {merchants}"
        )


def build(scale: float, *, say: Callable[[str], None] = print) -> Built:
    """Generate the scale data (see the module docstring); `scale` multiplies every count."""
    merchants = max(int(MERCHANTS * scale) // 100 * 100, 100)
    terminals = max(int(TERMINALS * scale) // merchants * merchants, merchants)
    terminals -= terminals % 100
    count = max(int(TRANSACTIONS * scale) // DAYS * DAYS, DAYS)
    out = Built(seconds={})
    assert out.seconds is not None
    pg = connection.vendor == "postgresql"
    last_day = timezone.localdate() - timedelta(days=1)
    with connection.cursor() as cursor:
        if not pg:
            cursor.execute("PRAGMA cache_size = -1048576")  # 1 GB: the indexes stay in memory
        for name, step in (
            (f"{merchants:,} merchants", lambda: _merchants(cursor, merchants)),
            (f"{terminals:,} terminals", lambda: _terminals(cursor, terminals, merchants)),
            (
                f"{count:,} transactions over {DAYS} days",
                lambda: _transactions(cursor, count, terminals, merchants, last_day),
            ),
        ):
            started = time.monotonic()
            with transaction.atomic():
                step()
            out.seconds[name] = time.monotonic() - started
            say(f"{name} in {out.seconds[name]:.1f} s")
        started = time.monotonic()
        with transaction.atomic():
            rollup.rebuild(last_day - timedelta(days=DAYS - 1), last_day)
        out.seconds["daily rollups"] = time.monotonic() - started
        cursor.execute("DROP TABLE scale_merchant")
        cursor.execute("DROP TABLE scale_model")
    if pg:
        started = time.monotonic()
        with connection.cursor() as cursor:
            for model in (Merchant, Terminal, Transaction):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        out.seconds["VACUUM ANALYZE"] = time.monotonic() - started
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    with transaction.atomic():
        record(
            Actor.system("cli", name="demo"),
            [
                Change(
                    "system",
                    "demo",
                    "demo.scale",
                    None,
                    {"scale": scale, "merchants": merchants, "terminals": terminals, "transactions": count},
                    "production-scale demo data",
                )
            ],
        )
    out.merchants, out.terminals, out.transactions = merchants, terminals, count
    return out
