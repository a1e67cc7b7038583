"""The core figures (audited changes, bulk hold, the answer), each against a raw baseline in the same run.

Every pair runs on the same connection, with the same journal and sync settings, and the same
transaction boundary (`transaction.atomic()`), so the ratio is what the service layer costs on top
of the database work it cannot avoid. Rates alternate service and baseline rounds and keep the median,
so a neighbour's burst of CPU on a shared machine hurts both sides alike.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from posfleet.core.sql import Statement, open_cursor
from posfleet.devtools.bench.data import BenchData
from posfleet.devtools.bench.report import Report
from posfleet.lifecycle import holds
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.services import apply
from posfleet.registry.models import Terminal

RAW_TABLE = "bench_raw_event"


def _rate(step: Callable[[int], None], seconds: float) -> float:
    """Operations per second of `step(i)` over about `seconds`."""
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        step(done)
        done += 1
        if done % 16 == 0 and time.perf_counter() >= deadline:
            break
    return done / (time.perf_counter() - start)


def _paired(
    service: Callable[[int], None], bare: Callable[[int], None], seconds: float, rounds: int
) -> tuple[float, float]:
    ours, theirs = [], []
    _rate(service, min(0.3, seconds))  # warm caches and connections
    _rate(bare, min(0.3, seconds))
    for _ in range(rounds):
        theirs.append(_rate(bare, seconds))
        ours.append(_rate(service, seconds))
    return statistics.median(ours), statistics.median(theirs)


def ensure_raw_table() -> None:
    pk = "BIGSERIAL PRIMARY KEY" if connection.vendor == "postgresql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (id {pk}, object_id VARCHAR(64) NOT NULL, "
            "action VARCHAR(60) NOT NULL, payload TEXT NOT NULL, at VARCHAR(40) NOT NULL)"
        )


def single_changes(report: Report, data: BenchData, seconds: float, rounds: int, sync: str = "") -> None:
    """(a) audited single changes through apply() vs a bare UPDATE + INSERT per transaction.

    `sync` (SQLite only) sets PRAGMA synchronous for both sides, e.g. FULL: every commit waits for
    the disk, as PostgreSQL does with synchronous_commit on.
    """
    previous = None
    if sync and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            previous = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA synchronous = {sync}")
    try:
        _single_changes(report, data, seconds, rounds, sync)
    finally:
        if previous is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous = {int(previous)}")


def _single_changes(report: Report, data: BenchData, seconds: float, rounds: int, sync: str) -> None:
    ensure_raw_table()
    states = dict(Terminal.objects.filter(tid__in=data.service_pool).values_list("tid", "state"))
    actor = data.actor()

    def service(i: int) -> None:
        tid = data.service_pool[i % len(data.service_pool)]
        action = "start_repair" if states[tid] == "active" else "finish_repair"
        with transaction.atomic():
            states[tid] = apply(actor, tid, action, reason="bench: single audited change").state

    versions = dict(Terminal.objects.filter(pk__in=data.bare_pool).values_list("id", "version"))
    bare_states = dict(Terminal.objects.filter(pk__in=data.bare_pool).values_list("id", "state"))
    # The same cursor layer as the service path (core.sql: fixed statements on the driver's cursor,
    # opened on the connection as apply() opens it).
    update = Statement(
        "UPDATE registry_terminal SET state = %s, version = %s, updated_at = %s WHERE id = %s AND version = %s"
    )
    insert = Statement(f"INSERT INTO {RAW_TABLE} (object_id, action, payload, at) VALUES (%s, %s, %s, %s)")
    vendor = connection.vendor

    def bare(i: int) -> None:
        pk = data.bare_pool[i % len(data.bare_pool)]
        target = "in_repair" if bare_states[pk] == "active" else "active"
        now = timezone.now()
        with transaction.atomic():
            conn = transaction.get_connection()  # as apply() gets it, not through the proxy
            cursor = open_cursor(conn)  # the cursor apply() opens
            try:
                at = conn.ops.adapt_datetimefield_value(now)
                update.run(cursor, vendor, [target, versions[pk] + 1, at, pk, versions[pk]])
                insert.run(cursor, vendor, [str(pk), target, f'{{"state": "{target}"}}', now.isoformat()])
            finally:
                cursor.close()
        versions[pk] += 1
        bare_states[pk] = target

    ours, theirs = _paired(service, bare, seconds, rounds)
    report.figure(
        "audited single changes (apply start/finish_repair)" + (f", synchronous={sync}" if sync else ""),
        ours,
        "changes/s",
        "bare UPDATE + INSERT per transaction",
        theirs,
        target=0.5,
        note=f"{rounds} rounds of {seconds:g} s, median; one transaction each",
    )


def answer(report: Report, data: BenchData, seconds: float, rounds: int) -> None:
    """(c) may_transact() in-process vs a bare primary-key lookup."""
    rng = random.Random(1)
    tids = data.answer_pool
    ids = data.answer_ids
    sample = may_transact(tids[0])
    if not sample.allowed:
        report.note(f"answer pool terminal {tids[0]} is refused: {sample.as_dict()}")

    def service(i: int) -> None:
        may_transact(tids[rng.randrange(len(tids))])

    lookup = Statement("SELECT id, state FROM registry_terminal WHERE id = %s")
    vendor = connection.vendor

    def bare(i: int) -> None:  # the connection and cursor the answer takes (core.sql.open_cursor)
        cursor = open_cursor(connections[DEFAULT_DB_ALIAS], prepared=True)
        try:
            lookup.run(cursor, vendor, [ids[rng.randrange(len(ids))]]).fetchone()
        finally:
            cursor.close()

    ours, theirs = _paired(service, bare, seconds, rounds)
    report.figure(
        "the answer in-process (may_transact)",
        ours,
        "answers/s",
        "bare primary-key lookup",
        theirs,
        target=0.5,
        note=f"{rounds} rounds of {seconds:g} s, median; random TIDs of {len(tids)} active terminals",
    )
    report.figure(
        "the answer in-process, mean latency",
        1000 / ours,
        "ms",
        higher_is_better=False,
    )


def bulk_hold(report: Report, data: BenchData) -> None:
    """(b) one hold on every bulk terminal at once (one audit event each) vs a bare batched UPDATE."""
    low, high = data.bulk_tids_range
    terminals = list(
        Terminal.objects.filter(tid__gte=low, tid__lte=high).only("id", "tid", "merchant_id").order_by("id")
    )
    n = len(terminals)
    ids = [t.pk for t in terminals]
    start = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for i in range(0, n, 10_000):
                chunk = ids[i : i + 10_000]
                cursor.execute(
                    "UPDATE registry_terminal SET updated_at = %s WHERE id BETWEEN %s AND %s",
                    [timezone.now(), chunk[0], chunk[-1]],
                )
    bare_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with transaction.atomic():
        hold = holds.place_bulk(
            data.actor(), kind="maintenance", reason="bench: bulk maintenance hold", terminals=terminals
        )
    ours_seconds = time.perf_counter() - start
    assert hold.links.count() == n
    report.figure(
        f"bulk hold on {n:,} terminals (place_bulk, one audit event each)",
        n / ours_seconds,
        "terminals/s",
        f"bare batched UPDATE of {n:,} rows",
        n / bare_seconds,
        target=0.3,
        note=f"service {ours_seconds:.2f} s, baseline {bare_seconds:.2f} s, one transaction each",
    )
