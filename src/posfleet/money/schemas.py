"""Request and response shapes of the money API: ingest, rate plans, a merchant's plan and balance.

A transaction as read through the API carries its settlement, which is settlement's rule: its shape
is in `settlement.schemas`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class IngestIn(Schema):
    items: list[Any]


class ItemResultOut(Schema):
    id: str
    status: str
    fee_fen: int | None = None
    net_fen: int | None = None
    error: dict[str, Any] | None = None
    transaction_id: int | None = None
    flagged: bool = False


class IngestOut(Schema):
    results: list[ItemResultOut]


class RateOut(Schema):
    rate_bp: int
    cap_fen: int | None


class RatePlanOut(Schema):
    code: str
    name: str
    rates: dict[str, RateOut]


class RatePlanIn(Schema):
    code: str
    name: str
    rates: dict[str, Any]


class PlanVersionOut(Schema):
    code: str
    effective_from: datetime
    notified_at: datetime | None
    created_by: str


class MerchantPlanOut(Schema):
    merchant_id: int
    current: str
    versions: list[PlanVersionOut]


class PlanChangeIn(Schema):
    code: str
    effective_from: datetime | None = None


class PlanChangeOut(MerchantPlanOut):
    increase: bool
    effective_from: datetime


class PlanNoticeIn(Schema):
    code: str


class PlanNoticeOut(Schema):
    merchant_id: int
    code: str
    notified_at: datetime
    earliest_effective_from: datetime
    notice_id: int | None


class BalanceOut(Schema):
    merchant_id: int
    unsettled_fen: int
    settled_unpaid_fen: int
    deposit_held_fen: int
    amount_due_fen: int
