"""Money endpoints: transaction ingest/list/get, rate plans, a merchant's plan and balance (issue 3 §6).

Handlers translate HTTP to services (`ingest`, `plans`, `ledger`); writes run in one
`transaction.atomic()` each. Reads need `view_money`, or the merchant's own portal login, which sees
only its own transactions and balance.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from posfleet.api.auth import actor_of
from posfleet.api.common import DEFAULT_LIMIT, keyset_page
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, ValidationFailed
from posfleet.money import ingest as ingest_mod
from posfleet.money import ledger, plans
from posfleet.money.access import money_scope
from posfleet.money.choices import CHANNELS, TX_TYPES
from posfleet.money.models import RatePlan, Transaction
from posfleet.registry.models import Merchant

router = Router(tags=["money"])


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorDetail


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


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


class TransactionOut(Schema):
    id: int
    switch_id: str
    tid: str
    merchant_id: int
    channel: str
    type: str
    amount_fen: int
    occurred_at: datetime
    fee_fen: int
    net_fen: int
    rate_plan: str
    rate_bp: int
    flagged: bool
    flag_reasons: list[Any]
    settlement_batch_id: int | None
    settled_at: datetime | None


class TransactionPage(Schema):
    items: list[TransactionOut]
    next_cursor: str | None


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


class NoticeIn(Schema):
    code: str


class NoticeOut(Schema):
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


def _reader(request: HttpRequest) -> tuple[Actor, int | None]:
    """The actor and, for a merchant's portal login, the only merchant it may read (access.money_scope)."""
    actor = actor_of(request)
    return actor, money_scope(actor)


def _merchant(merchant_id: int, own: int | None) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None or (own is not None and own != merchant_id):
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
    return merchant


def with_settlement(qs: Any) -> Any:
    """`settlement_batch_id` and `settled_at` on each row, computed from the batches by the settlement
    app's one rule (imported here, not at load time: money does not depend on settlement)."""
    from posfleet.settlement.settled import with_settlement as annotate

    return annotate(qs)


def tx_out(tx: Transaction) -> dict[str, Any]:
    return {
        "id": tx.pk,
        "switch_id": tx.switch_id,
        "tid": tx.tid,
        "merchant_id": tx.merchant_id,
        "channel": tx.channel,
        "type": tx.type,
        "amount_fen": tx.amount_fen,
        "occurred_at": tx.occurred_at,
        "fee_fen": tx.fee_fen,
        "net_fen": tx.net_fen,
        "rate_plan": tx.rate_plan_code,
        "rate_bp": tx.rate_bp,
        "flagged": tx.flagged,
        "flag_reasons": tx.flag_reasons,
        # annotations of with_settlement(): every query feeding tx_out goes through it
        "settlement_batch_id": getattr(tx, "settlement_batch_id"),  # noqa: B009
        "settled_at": getattr(tx, "settled_at"),  # noqa: B009
    }


def _day(field: str, raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(
            _("%(field)s must look like 2026-11-20.") % {"field": field},
            details={field: [_("Use YYYY-MM-DD.")]},
        ) from None


def filter_transactions(
    qs: Any,
    *,
    merchant_id: int | None = None,
    tid: str | None = None,
    channel: str | None = None,
    type: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    flagged: bool | None = None,
) -> Any:
    """Filters shared by the API and the console; dates are business days in Asia/Shanghai, inclusive."""
    if channel and channel not in CHANNELS:
        raise ValidationFailed(details={"channel": [_("Use one of: %(c)s.") % {"c": ", ".join(CHANNELS)}]})
    if type and type not in TX_TYPES:
        raise ValidationFailed(details={"type": [_("Use one of: %(t)s.") % {"t": ", ".join(TX_TYPES)}]})
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if tid:
        qs = qs.filter(tid=tid.strip())
    if channel:
        qs = qs.filter(channel=channel)
    if type:
        qs = qs.filter(type=type)
    if date_from:
        qs = qs.filter(business_date__gte=date_from)
    if date_to:
        qs = qs.filter(business_date__lte=date_to)
    if flagged is not None:
        qs = qs.filter(flagged=flagged)
    return qs


# --- transactions -------------------------------------------------------------------------------------
@router.post("/transactions", response={200: IngestOut, **ERRORS})
def post_transactions(request: HttpRequest, payload: IngestIn) -> Any:
    """Ingest up to 10,000 transactions; one result per item (`created`, `duplicate` or `error`)."""
    actor = actor_of(request)
    with transaction.atomic():
        results = ingest_mod.ingest(actor, payload.items)
    return {"results": [r.as_dict() for r in results]}


@router.get("/transactions", response={200: TransactionPage, **ERRORS})
def list_transactions(
    request: HttpRequest,
    merchant_id: int | None = None,
    tid: str | None = None,
    channel: str | None = None,
    type: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    flagged: bool | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Any:
    """Newest first (by id); filters combine; `date_from`/`date_to` are days in Asia/Shanghai, inclusive."""
    _actor, own = _reader(request)
    if own is not None:
        if merchant_id is not None and merchant_id != own:
            raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
        merchant_id = own
    qs = filter_transactions(
        with_settlement(Transaction.objects.all()),
        merchant_id=merchant_id,
        tid=tid,
        channel=channel,
        type=type,
        date_from=_day("date_from", date_from),
        date_to=_day("date_to", date_to),
        flagged=flagged,
    )
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True)
    return {"items": [tx_out(t) for t in rows], "next_cursor": next_cursor}


@router.get("/transactions/{tx_id}", response={200: TransactionOut, **ERRORS})
def get_transaction(request: HttpRequest, tx_id: int) -> Any:
    _actor, own = _reader(request)
    tx = with_settlement(Transaction.objects.filter(pk=tx_id)).first()
    if tx is None or (own is not None and tx.merchant_id != own):
        raise NotFound(_("No transaction %(id)s.") % {"id": tx_id})
    return tx_out(tx)


# --- rate plans ---------------------------------------------------------------------------------------
@router.get("/rate-plans", response={200: list[RatePlanOut], **ERRORS})
def list_rate_plans(request: HttpRequest) -> Any:
    _reader(request)
    return [p.as_dict() for p in RatePlan.objects.order_by("code")]


@router.post("/rate-plans", response={201: RatePlanOut, **ERRORS})
def create_rate_plan(request: HttpRequest, payload: RatePlanIn) -> Any:
    """A new plan: `rates` maps every channel to {"rate_bp", "cap_fen"}; plans are never edited."""
    actor = actor_of(request)
    with transaction.atomic():
        plan = plans.create_plan(actor, plans.PlanInput(payload.code, payload.name, payload.rates))
    return Status(201, plan.as_dict())


@router.get("/rate-plans/{code}", response={200: RatePlanOut, **ERRORS})
def get_rate_plan(request: HttpRequest, code: str) -> Any:
    _reader(request)
    plan = RatePlan.objects.filter(code=code).first()
    if plan is None:
        raise NotFound(_("No rate plan %(code)s.") % {"code": code})
    return plan.as_dict()


def _merchant_plan(merchant_id: int) -> dict[str, Any]:
    return {
        "merchant_id": merchant_id,
        "current": plans.plan_at(merchant_id).code,
        "versions": [
            {
                "code": v.plan.code,
                "effective_from": v.effective_from,
                "notified_at": v.notified_at,
                "created_by": v.created_by,
            }
            for v in plans.versions(merchant_id)
        ],
    }


@router.get("/merchants/{merchant_id}/rate-plan", response={200: MerchantPlanOut, **ERRORS})
def get_merchant_plan(request: HttpRequest, merchant_id: int) -> Any:
    _actor, own = _reader(request)
    _merchant(merchant_id, own)
    return _merchant_plan(merchant_id)


@router.put("/merchants/{merchant_id}/rate-plan", response={200: PlanChangeOut, **ERRORS})
def put_merchant_plan(request: HttpRequest, merchant_id: int, payload: PlanChangeIn) -> Any:
    """Change the plan: a decrease at once; an increase ≥ 30 days after the recorded notice."""
    actor = actor_of(request)
    with transaction.atomic():
        change = plans.change_plan(actor, merchant_id, payload.code, payload.effective_from)
    return {
        **_merchant_plan(merchant_id),
        "increase": change.increase,
        "effective_from": change.version.effective_from,
    }


@router.post("/merchants/{merchant_id}/rate-plan/notice", response={201: NoticeOut, **ERRORS})
def post_plan_notice(request: HttpRequest, merchant_id: int, payload: NoticeIn) -> Any:
    """Record (and send) the notice of a coming increase; the change may take effect 30 days later."""
    actor = actor_of(request)
    with transaction.atomic():
        notice = plans.notify_increase(actor, merchant_id, payload.code)
    return Status(
        201,
        {
            "merchant_id": merchant_id,
            "code": payload.code,
            "notified_at": notice.notified_at,
            "earliest_effective_from": notice.notified_at + plans.NOTICE_PERIOD,
            "notice_id": notice.notice_id,
        },
    )


@router.get("/merchants/{merchant_id}/balance", response={200: BalanceOut, **ERRORS})
def get_balance(request: HttpRequest, merchant_id: int) -> Any:
    """Ledger balances: unsettled, settled but not paid out, deposit held, amount due (all fen)."""
    _actor, own = _reader(request)
    _merchant(merchant_id, own)
    return {"merchant_id": merchant_id, **ledger.balances(merchant_id).as_dict()}
