"""Money builders: merchants on a named plan, terminals, ingest items."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from posfleet.core.actor import Actor
from posfleet.money.models import MerchantPlan, RatePlan
from tests import builders

_n = itertools.count(1)


def merchant_on(code: str = "STANDARD", **kwargs: Any):
    m = builders.merchant(**kwargs)
    if code != "STANDARD":
        with transaction.atomic():
            MerchantPlan.objects.filter(merchant=m).update(plan=RatePlan.objects.get(code=code))
    return m


def item(
    tid: str,
    *,
    channel: str = "credit",
    type: str = "sale",
    amount_fen: Any = 1_000_000,
    occurred_at: datetime | str | None = None,
    switch_id: str = "",
    original_id: str | None = None,
) -> dict[str, Any]:
    at = occurred_at or timezone.now()
    out = {
        "id": switch_id or f"SW{next(_n):014d}",
        "tid": tid,
        "channel": channel,
        "type": type,
        "amount_fen": amount_fen,
        "occurred_at": at.isoformat() if isinstance(at, datetime) else at,
    }
    if original_id is not None:
        out["original_id"] = original_id
    return out


def system() -> Actor:
    return Actor.system("cli")
