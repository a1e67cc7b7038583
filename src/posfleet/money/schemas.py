"""Request and response shapes of the money API: ingest, rate plans, a merchant's plan and balance.

A transaction as read through the API carries its settlement, which is settlement's rule: its shape
is in `settlement.schemas`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field, StrictInt

from posfleet.api.fields import MAX_FEN, IsoDateTime, text

PLAN_CODE = r"^[A-Z0-9][A-Z0-9_-]{1,39}$"  # plans.PLAN_CODE_RE


class IngestIn(Schema):
    items: list[Any] = Field(
        min_length=1,
        max_length=10_000,
        description=(
            "Transactions {id, tid, channel, type, amount_fen, occurred_at, original_id}; a refund or "
            "reversal names its original sale's id in original_id. Each is checked on its own (see results)"
        ),
    )


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


class RateIn(Schema):
    rate_bp: StrictInt = Field(ge=0, le=10_000, description="Basis points: 60 is 0.60 %")
    cap_fen: StrictInt | None = Field(
        None, ge=0, le=MAX_FEN, description="Fee cap per transaction; none if null"
    )


class RatesIn(Schema):
    """A rate for every channel."""

    credit: RateIn
    debit: RateIn
    wechat: RateIn
    alipay: RateIn
    unionpay_qr: RateIn


class RatePlanIn(Schema):
    code: str = Field(pattern=PLAN_CODE, description="2 to 40 capital letters, digits, - or _")
    name: str = text(200)
    rates: RatesIn


class PlanVersionOut(Schema):  # needs `plan` selected
    code: str = Field(alias="plan.code")
    effective_from: datetime
    notified_at: datetime | None
    created_by: str


class MerchantPlanOut(Schema):
    merchant_id: int
    current: str
    versions: list[PlanVersionOut]


class PlanChangeIn(Schema):
    code: str = Field(pattern=PLAN_CODE, description="An existing rate plan")
    effective_from: IsoDateTime | None = None


class PlanChangeOut(MerchantPlanOut):
    increase: bool
    effective_from: datetime


class PlanNoticeIn(Schema):
    code: str = Field(pattern=PLAN_CODE, description="An existing rate plan, dearer than the current one")


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
