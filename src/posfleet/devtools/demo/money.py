"""Demo money: `days` of realistic transactions for the demo merchants, and their deposits.

Every active terminal of an active merchant takes 4–30 payments a day between 08:00 and 22:00
(mostly QR with small amounts, cards with larger ones, ~2 % refunds, ~0.5 % reversals); a few come
from deactivated terminals, so post-deactivation monitoring has something to show. All through the
ingest code the API and clearing files use. Deterministic; times are relative to today. Each
contract deposit is received (and refunded for a closed merchant).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from posfleet.core.actor import Actor
from posfleet.money import ledger
from posfleet.money.ingest import IngestContext, ingest_chunk, parse_item
from posfleet.money.models import Journal
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Contract, Merchant, Terminal

CHANNELS = ("wechat",) * 40 + ("alipay",) * 30 + ("debit",) * 15 + ("credit",) * 10 + ("unionpay_qr",) * 5
CHUNK = 10_000


def _amount(rng: random.Random, channel: str) -> int:
    if channel in ("wechat", "alipay", "unionpay_qr"):
        return max(100, int(rng.lognormvariate(8.3, 0.9)))  # ≈ ¥40 typical
    return max(500, int(rng.lognormvariate(10.3, 1.1)))  # ≈ ¥300 typical, some ¥10,000+


def _items_for_terminal(tid: str, seed: int, days: int, now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    today = timezone.localdate(now)
    items: list[dict[str, Any]] = []
    n = 0
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        opens = timezone.make_aware(datetime.combine(day, time(8, 0)))
        per_day = rng.randint(4, 30) if day.weekday() < 5 else rng.randint(8, 40)
        sales: list[dict[str, Any]] = []
        for _ in range(per_day):
            at = opens + timedelta(seconds=rng.randint(0, 14 * 3600 - 1))
            if at >= now:
                continue
            channel = rng.choice(CHANNELS)
            n += 1
            item: dict[str, Any] = {
                "id": f"DEMO{tid}{n:06d}",
                "tid": tid,
                "channel": channel,
                "type": "sale",
                "amount_fen": _amount(rng, channel),
                "occurred_at": at.isoformat(),
            }
            sales.append(item)
            roll = rng.random()
            if roll < 0.025:
                later = min(at + timedelta(minutes=rng.randint(5, 600)), now - timedelta(seconds=1))
                back_type = "refund" if roll < 0.02 else "reversal"
                amount = item["amount_fen"] if back_type == "reversal" else rng.randint(1, item["amount_fen"])
                n += 1
                sales.append(
                    {
                        **item,
                        "id": f"DEMO{tid}{n:06d}",
                        "type": back_type,
                        "amount_fen": amount,
                        "occurred_at": later.isoformat(),
                        "original_id": item["id"],
                    }
                )
        items.extend(sales)
    return items


def load(merchant_ids: Iterable[int], days: int = 30) -> dict[str, int]:
    ids = sorted(set(merchant_ids))
    actor = Actor.system("cli", name="demo")
    now = timezone.now()
    terminals = list(
        Terminal.objects.filter(
            merchant_id__in=ids, state=TerminalState.ACTIVE, merchant__state=MerchantState.ACTIVE
        )
        .order_by("id")
        .values_list("tid", "id")
    )
    # the demo fleet was registered before the history it is given (ingest refuses earlier times)
    Terminal.objects.filter(merchant_id__in=ids, created_at__gt=now - timedelta(days=days + 30)).update(
        created_at=now - timedelta(days=days + 30)
    )
    ctx = IngestContext()
    items: list[dict[str, Any]] = []
    for tid, pk in terminals:
        for raw in _items_for_terminal(tid, 1000 + pk, days, now):
            parsed = parse_item(0, raw, ctx)
            if not isinstance(parsed, dict) and not parsed.flag_reasons:
                items.append(raw)  # a held terminal takes no payments while the hold is in force
    # post-deactivation monitoring: two late payments from deactivated terminals
    for tid in (
        Terminal.objects.filter(merchant_id__in=ids, state=TerminalState.DEACTIVATED)
        .order_by("id")
        .values_list("tid", flat=True)[:2]
    ):
        items.append(
            {
                "id": f"DEMO{tid}LATE01",
                "tid": tid,
                "channel": "wechat",
                "type": "sale",
                "amount_fen": 8800,
                "occurred_at": (now - timedelta(hours=3)).isoformat(),
            }
        )
    items.sort(key=lambda x: x["occurred_at"])
    created = 0
    for start in range(0, len(items), CHUNK):
        with transaction.atomic():
            results = ingest_chunk(
                actor, items[start : start + CHUNK], ctx, ref=f"demo:{start}", need_ids=False
            )
        created += sum(r.status == "created" for r in results)
    deposits = 0
    contracts = Contract.objects.filter(merchant_id__in=ids, deposit_fen__gt=0).values_list(
        "merchant_id", "deposit_fen", "merchant__state"
    )
    with transaction.atomic():
        for merchant_id, deposit, state in contracts:
            if Journal.objects.filter(ref=f"deposit:{merchant_id}").exists():
                continue  # loaded before
            ledger.receive_deposit(actor, merchant_id, deposit, ref=f"deposit:{merchant_id}")
            deposits += 1
            if state == MerchantState.CLOSED:
                ledger.refund_deposit(
                    actor, merchant_id, deposit, ref=f"deposit-refund:{merchant_id}", proof="demo"
                )
    return {
        "transactions": created,
        "deposits": deposits,
        "merchants": Merchant.objects.filter(pk__in=ids).count(),
    }
