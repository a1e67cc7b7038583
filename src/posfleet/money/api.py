"""Money endpoints: transaction ingest, rate plans, a merchant's plan and balance.

Handlers translate HTTP to services (`ingest`, `plans`, `ledger`); writes run in one
`transaction.atomic()` each. Reads need `view_money`, or the merchant's own portal login, which sees
only its own balance. The transaction reads (`GET /transactions`, `GET /transactions/{tx_id}`) show
each transaction's settlement, settlement's rule: `settlement.api` adds them to this router (one path,
one router), as settlement stands on money and not the reverse.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from posfleet.api.auth import actor_of
from posfleet.api.errors import BODY_ERRORS, ERRORS
from posfleet.api.fields import ObjectId
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound
from posfleet.money import ingest as ingest_mod
from posfleet.money import ledger, plans
from posfleet.money import schemas as s
from posfleet.money.access import money_scope
from posfleet.money.models import RatePlan
from posfleet.registry.models import Merchant

router = Router(tags=["money"])


def _reader(request: HttpRequest) -> tuple[Actor, int | None]:
    """The actor and, for a merchant's portal login, the only merchant it may read (access.money_scope)."""
    actor = actor_of(request)
    return actor, money_scope(actor)


def _merchant(merchant_id: int, own: int | None) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None or (own is not None and own != merchant_id):
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
    return merchant


# --- transactions -------------------------------------------------------------------------------------
@router.post("/transactions", response={200: s.IngestOut, **BODY_ERRORS})
def post_transactions(request: HttpRequest, payload: s.IngestIn) -> Any:
    """Ingest up to 10,000 transactions; one result per item (`created`, `duplicate` or `error`)."""
    actor = actor_of(request)
    with transaction.atomic():
        results = ingest_mod.ingest(actor, payload.items)
    return {"results": [r.as_dict() for r in results]}


# --- rate plans ---------------------------------------------------------------------------------------
@router.get("/rate-plans", response={200: list[s.RatePlanOut], **ERRORS})
def list_rate_plans(request: HttpRequest) -> Any:
    _reader(request)
    return [p.as_dict() for p in RatePlan.objects.order_by("code")]


@router.post("/rate-plans", response={201: s.RatePlanOut, **BODY_ERRORS})
def create_rate_plan(request: HttpRequest, payload: s.RatePlanIn) -> Any:
    """A new plan: `rates` maps every channel to {"rate_bp", "cap_fen"}; plans are never edited."""
    actor = actor_of(request)
    with transaction.atomic():
        rates = payload.rates.model_dump()
        plan = plans.create_plan(actor, plans.PlanInput(payload.code, payload.name, rates))
    return Status(201, plan.as_dict())


@router.get("/rate-plans/{code}", response={200: s.RatePlanOut, **ERRORS})
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
        "versions": plans.versions(merchant_id),
    }


@router.get("/merchants/{merchant_id}/rate-plan", response={200: s.MerchantPlanOut, **ERRORS})
def get_merchant_plan(request: HttpRequest, merchant_id: ObjectId) -> Any:
    _actor, own = _reader(request)
    _merchant(merchant_id, own)
    return _merchant_plan(merchant_id)


@router.put("/merchants/{merchant_id}/rate-plan", response={200: s.PlanChangeOut, **BODY_ERRORS})
def put_merchant_plan(request: HttpRequest, merchant_id: ObjectId, payload: s.PlanChangeIn) -> Any:
    """Change the plan: a decrease at once; an increase ≥ 30 days after the recorded notice."""
    actor = actor_of(request)
    with transaction.atomic():
        change = plans.change_plan(actor, merchant_id, payload.code, payload.effective_from)
    return {
        **_merchant_plan(merchant_id),
        "increase": change.increase,
        "effective_from": change.version.effective_from,
    }


@router.post("/merchants/{merchant_id}/rate-plan/notice", response={201: s.PlanNoticeOut, **BODY_ERRORS})
def post_plan_notice(request: HttpRequest, merchant_id: ObjectId, payload: s.PlanNoticeIn) -> Any:
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


@router.get("/merchants/{merchant_id}/balance", response={200: s.BalanceOut, **ERRORS})
def get_balance(request: HttpRequest, merchant_id: ObjectId) -> Any:
    """Ledger balances: unsettled, settled but not paid out, deposit held, amount due (all fen)."""
    _actor, own = _reader(request)
    _merchant(merchant_id, own)
    return {"merchant_id": merchant_id, **ledger.balances(merchant_id).as_dict()}
