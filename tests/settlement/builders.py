"""Builders for settlement tests: transactions booked like the money ingest books them."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction

from posfleet.core.actor import Actor
from posfleet.money.fees import signed_fee_and_net
from posfleet.money.ledger import FEE_INCOME, SCHEME_CLEARING, UNSETTLED, Entry, post
from posfleet.money.models import Transaction
from posfleet.settlement.models import SettlementProfile
from posfleet.settlement.services import INSTITUTION_TZ

_seq = itertools.count(1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=INSTITUTION_TZ)


def days_ago(n: int) -> date:
    return datetime.now(INSTITUTION_TZ).date() - timedelta(days=n)


def tx(
    merchant: Any,
    amount_fen: int,
    occurred_at: datetime,
    *,
    type: str = "sale",
    tid: str = "T0000001",
    rate_bp: int = 60,
    cap_fen: int | None = None,
) -> Transaction:
    fee, net = signed_fee_and_net(type, amount_fen, rate_bp, cap_fen)
    with transaction.atomic():
        t = Transaction.objects.create(
            switch_id=f"SW{next(_seq):012d}",
            tid=tid,
            merchant_id=merchant.pk,
            channel="credit",
            type=type,
            amount_fen=amount_fen,
            occurred_at=occurred_at,
            fee_fen=fee,
            net_fen=net,
            rate_plan_code="STANDARD",
            rate_bp=rate_bp,
        )
        scheme = amount_fen if type == "sale" else -amount_fen
        post(
            Actor.system("cli"),
            [
                Entry.debit(None, SCHEME_CLEARING, scheme),
                Entry.credit(merchant.pk, UNSETTLED, net),
                Entry.credit(None, FEE_INCOME, fee),
            ],
            ref=t.switch_id,
            kind="transaction",
            at=occurred_at,
            audit=False,
        )
    return t


def d0(merchant: Any) -> None:
    SettlementProfile.objects.update_or_create(merchant=merchant, defaults={"mode": "D0"})


def delayed(merchant: Any) -> None:
    SettlementProfile.objects.update_or_create(
        merchant=merchant, defaults={"delayed": True, "delayed_reason": "risk test"}
    )
