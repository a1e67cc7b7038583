"""Benchmark scale: many terminals written in bulk, each with its audit event.

A million `apply()` calls would take hours; what the benchmark needs is a fleet of that size in the
database, so terminals are bulk-inserted in batches of 10,000 straight into their final state (bound
to the demo's active merchants), each batch in one transaction with one audit event per terminal
(`terminal.import`, via `record_many`), so the chain stays complete and verifiable.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from posfleet.audit.services import Change, record_many
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


def _batches(start: int, count: int) -> Iterator[range]:
    end = start + count
    for low in range(start, end, BATCH):
        yield range(low, min(low + BATCH, end))


def add_terminals(count: int, *, first_tid: int, seed: int = 1, progress: bool = True) -> int:
    """Insert `count` terminals with TIDs from `first_tid` upwards; returns how many were written."""
    if count <= 0:
        return 0
    rng = random.Random(seed)
    models = list(TerminalModel.objects.filter(permitted=True).order_by("id"))
    merchants = list(
        Merchant.objects.filter(state=MerchantState.ACTIVE).order_by("id").values_list("id", "address")
    )
    if not models or not merchants:
        raise RuntimeError("load the realistic demo first: scale needs models and active merchants")
    states = [s for s, weight in SCALE_SHARE for _ in range(weight)]
    actor = Actor.system("cli", name="demo")
    written = 0
    bar = tqdm(total=count, unit="terminal", disable=not progress, desc="terminals")
    for tids in _batches(first_tid, count):
        now = timezone.now()
        rows = []
        for n in tids:
            state = rng.choice(states)
            model = models[n % len(models)]
            merchant_id, address = merchants[n % len(merchants)] if state != S.IN_STOCK else (None, "")
            rows.append(
                Terminal(
                    tid=f"{n:08d}",
                    sn=f"SC{n:012d}",
                    model=model,
                    firmware_version="4.2.0",
                    security_patch_level=max(model.min_security_patch_level, "2026-06-01"),
                    install_address=address,
                    merchant_id=merchant_id,
                    state=state,
                    created_at=now,
                    updated_at=now,
                )
            )
        with transaction.atomic():
            Terminal.objects.bulk_create(rows, batch_size=2000)
            ids = dict(Terminal.objects.filter(tid__in=[t.tid for t in rows]).values_list("tid", "id"))
            kinds = itertools.cycle(("charger", "sim", "printer", "scanner"))
            Accessory.objects.bulk_create(
                [Accessory(terminal_id=ids[t.tid], kind=next(kinds)) for t in rows[::4]], batch_size=2000
            )
            record_many(
                actor,
                [
                    Change(
                        "terminal",
                        t.tid,
                        "terminal.import",
                        None,
                        {"state": t.state, "merchant_id": t.merchant_id, "model": t.model.name, "version": 1},
                        "benchmark-scale demo data",
                    )
                    for t in rows
                ],
                at=now,
            )
        written += len(rows)
        bar.update(len(rows))
    bar.close()
    return written
