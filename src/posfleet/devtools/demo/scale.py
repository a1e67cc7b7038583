"""Benchmark scale: many terminals written in bulk, each with its audit event.

Terminals go straight into their final state in batches of 10,000, one transaction each, with one
`terminal.import` audit event per terminal. `bulk_create` (and SQLite's 999-parameter cap) made a
million rows take 20 minutes, so rows and events are written with `executemany`; the events are built
exactly as `audit.services.record` builds them (same head lock, canonical form, hash and scrubbing),
so `posfleet audit_verify` checks them like any other.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.registry.choices import MerchantState
from posfleet.registry.choices import TerminalState as S
from posfleet.registry.models import Accessory, Merchant, Terminal, TerminalModel

BATCH = 10_000
# State mix at scale: mostly live terminals, as in a real fleet.
SCALE_SHARE = (
    (S.ACTIVE, 70),
    (S.IN_STOCK, 10),
    (S.ALLOCATED, 5),
    (S.IN_REPAIR, 3),
    (S.DEACTIVATED, 6),
    (S.RETURNED, 4),
    (S.RETIRED, 2),
)
TERMINAL_COLUMNS = (
    "tid",
    "sn",
    "model_id",
    "firmware_version",
    "security_patch_level",
    "install_address",
    "merchant_id",
    "state",
    "version",
    "created_at",
    "updated_at",
)


def field_of(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def insert_sql(table: str, columns: Sequence[str]) -> str:
    qn = connection.ops.quote_name
    return (
        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )


def append_events(actor: Actor, changes: Sequence[Change], *, at: datetime) -> int:
    """The terminals' audit events: `record` itself appends large batches with executemany."""
    record(actor, changes, at=at)
    return len(changes)


def _batches(start: int, count: int) -> Iterator[range]:
    end = start + count
    for low in range(start, end, BATCH):
        yield range(low, min(low + BATCH, end))


def add_terminals(count: int, *, first_tid: int, seed: int = 1, progress: bool = True) -> int:
    """Insert `count` terminals with TIDs from `first_tid` upwards; returns how many were written."""
    if count <= 0:
        return 0
    if first_tid + count > 99_999_999:
        raise ValueError("TIDs are 8 digits: too many terminals for this start")
    rng = random.Random(seed)
    models = list(TerminalModel.objects.filter(permitted=True).order_by("id"))
    merchants = list(
        Merchant.objects.filter(state=MerchantState.ACTIVE).order_by("id").values_list("id", "address")
    )
    if not models or not merchants:
        raise RuntimeError("load the realistic demo first: scale needs models and active merchants")
    states = [str(s) for s, weight in SCALE_SHARE for _ in range(weight)]
    actor = Actor.system("cli", name="demo")
    terminal_sql = insert_sql(Terminal._meta.db_table, TERMINAL_COLUMNS)
    accessory_sql = insert_sql(Accessory._meta.db_table, ("terminal_id", "kind", "serial"))
    kinds = ("charger", "sim", "printer", "scanner")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # a large page cache keeps the unique indexes in memory
            cursor.execute("PRAGMA cache_size = -262144")
    written = 0
    bar = tqdm(total=count, unit="terminal", disable=not progress, desc="terminals")
    for tids in _batches(first_tid, count):
        now = timezone.now()
        stamp = field_of(Terminal, "created_at").get_db_prep_save(now, connection)
        rows = []
        changes = []
        for n in tids:
            state = rng.choice(states)
            model = models[n % len(models)]
            merchant_id, address = merchants[n % len(merchants)] if state != S.IN_STOCK else (None, "")
            tid = f"{n:08d}"
            patch = max(model.min_security_patch_level, "2026-06-01")
            rows.append(
                (tid, f"SC{n:012d}", model.pk, "4.2.0", patch, address, merchant_id, state, 1, stamp, stamp)
            )
            after = {"state": state, "merchant_id": merchant_id, "model": model.name, "version": 1}
            changes.append(
                Change("terminal", tid, "terminal.import", None, after, "benchmark-scale demo data")
            )
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.executemany(terminal_sql, rows)
            ids = Terminal.objects.filter(tid__gte=rows[0][0], tid__lte=rows[-1][0]).values_list(
                "id", flat=True
            )
            accessories = [(pk, kinds[pk % 4], f"AC{pk:010d}") for pk in ids if pk % 4 == 0]
            with connection.cursor() as cursor:
                cursor.executemany(accessory_sql, accessories)
            append_events(actor, changes, at=now)
        written += len(rows)
        bar.update(len(rows))
    bar.close()
    return written
