"""Lifecycle endpoints: terminal and merchant actions, holds, the eligibility answer, refused attempts,
and a terminal's detail with the holds standing on it.

Actions go through `lifecycle.services.apply()`/`apply_merchant()` and holds through `lifecycle.holds`
(permission, step-up unless `X-OTP` elevates the token, the table, the version: `If-Match` is the
expected version, a stale one 409 `stale_version`). ninja serves one path from one router, so the two
terminal detail endpoints are added to the registry's router from here: lifecycle stands on the
registry, not the reverse.
"""

from collections.abc import Callable
from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Router, Status

from posfleet.api.auth import actor_of
from posfleet.api.common import DEFAULT_LIMIT, Cursor, Limit, if_match, keyset_page, require_perm, set_etag
from posfleet.api.errors import BODY_ERRORS, ERRORS
from posfleet.api.fields import NONBLANK_TEXT, IdFilter, ObjectId, PathTid, QueryFlag, Search
from posfleet.api.idempotency import idempotent
from posfleet.core.errors import NotFound, ValidationFailed
from posfleet.jobs.models import Job
from posfleet.jobs.schemas import JobOut
from posfleet.lifecycle import bulk, eligibility, filters, holds, refusals, retirement, services, transitions
from posfleet.lifecycle import schemas as s
from posfleet.lifecycle.models import DeviceAlert, Hold, HoldKind, RefusedAttempt
from posfleet.registry import services as registry
from posfleet.registry.api import router as registry_router
from posfleet.registry.models import Merchant, Terminal
from posfleet.registry.schemas import MerchantOut, TerminalIn, merchant_queryset
from posfleet.settlement import freezes as settlement_freezes

router = Router(tags=["lifecycle"])
ModelName = Annotated[str, Path(min_length=1, max_length=100, pattern=NONBLANK_TEXT)]


# --- a terminal's detail ------------------------------------------------------------------------------
@registry_router.post("/terminals", response={201: s.TerminalDetailOut, **BODY_ERRORS})
@idempotent
def create_terminal(request: HttpRequest, payload: TerminalIn, response: HttpResponse) -> Any:
    """Register one terminal into stock (model by name)."""
    actor = actor_of(request)
    data = payload.dict()
    data["accessories"] = tuple(data.get("accessories") or ())
    try:
        with transaction.atomic():
            registry.register_terminals(actor, [registry.TerminalInput(**data)], reason="registered via API")
    except ValidationFailed as exc:
        details = exc.details.get("0", exc.details) if isinstance(exc.details, dict) else exc.details
        raise ValidationFailed(exc.message, details=details) from None
    terminal = Terminal.objects.select_related("model", "merchant").get(tid=payload.tid)
    set_etag(response, terminal.version)
    response["Location"] = f"{request.path.rstrip('/')}/{terminal.tid}"
    return Status(201, terminal)


@registry_router.get("/terminals/{tid}", response={200: s.TerminalDetailOut, **ERRORS})
def get_terminal(request: HttpRequest, tid: PathTid, response: HttpResponse) -> Any:
    """One terminal with its accessories and the holds in force or scheduled on it or its merchant."""
    require_perm(request, "view_fleet")
    terminal = Terminal.objects.select_related("model", "merchant").filter(tid=tid).first()
    if terminal is None:
        raise NotFound(_("No terminal with TID %(tid)s.") % {"tid": tid})
    set_etag(response, terminal.version)
    return terminal


# --- terminal actions ---------------------------------------------------------------------------------
def _terminal_response(tid: str, response: HttpResponse) -> Terminal:
    terminal = Terminal.objects.select_related("model", "merchant").get(tid=tid)
    set_etag(response, terminal.version)
    return terminal


@router.post("/terminals/{tid}/allocate", response={200: s.TerminalDetailOut, **BODY_ERRORS})
@idempotent
def allocate(request: HttpRequest, tid: PathTid, payload: s.AllocateIn, response: HttpResponse) -> Any:
    """Bind an in-stock terminal to a merchant (state `allocated`)."""
    actor = actor_of(request)
    expected = if_match(request)
    with transaction.atomic():
        merchant = Merchant.objects.filter(pk=payload.merchant_id).first()
        if merchant is None:
            raise ValidationFailed(
                _("No merchant %(id)s.") % {"id": payload.merchant_id},
                details={"merchant_id": [_("No such merchant.")]},
            )
        services.apply(
            actor, tid, "allocate", reason=payload.reason, expected_version=expected, merchant=merchant
        )
    return _terminal_response(tid, response)


def _terminal_action(action: str, doc: str) -> Callable[..., Any]:
    def handler(request: HttpRequest, tid: PathTid, payload: s.ReasonIn, response: HttpResponse) -> Any:
        actor = actor_of(request)
        expected = if_match(request)
        with transaction.atomic():
            services.apply(actor, tid, action, reason=payload.reason, expected_version=expected)
        return _terminal_response(tid, response)

    handler.__name__ = f"terminal_{action}"
    handler.__doc__ = doc
    return handler


TERMINAL_ACTIONS = {
    t.action: str(t.label) for t in transitions.TABLE if t.action != transitions.ALLOCATE.action
}
for _action in TERMINAL_ACTIONS:
    _sensitive = any(t.sensitive for t in transitions.TABLE if t.action == _action)
    _doc = f"Lifecycle action `{_action}` (see the transition table)." + (
        " Sensitive: needs step-up (`X-OTP`)." if _sensitive else ""
    )
    router.post(
        f"/terminals/{{tid}}/{_action}",
        response={200: s.TerminalDetailOut, **BODY_ERRORS},
        operation_id=f"terminal_{_action}",
    )(idempotent(_terminal_action(_action, _doc)))


# --- merchant actions ---------------------------------------------------------------------------------
def _merchant_action(action: str, doc: str) -> Callable[..., Any]:
    def handler(
        request: HttpRequest, merchant_id: ObjectId, payload: s.ReasonIn, response: HttpResponse
    ) -> Any:
        actor = actor_of(request)
        expected = if_match(request)
        with transaction.atomic():
            services.apply_merchant(
                actor, merchant_id, action, reason=payload.reason, expected_version=expected
            )
        merchant = merchant_queryset().get(pk=merchant_id)
        set_etag(response, merchant.version)
        return merchant

    handler.__name__ = f"merchant_{action}"
    handler.__doc__ = doc
    return handler


for _action in transitions.MERCHANT_ACTIONS:
    _sensitive = any(t.sensitive for t in transitions.MERCHANT_TABLE if t.action == _action)
    _doc = f"Merchant lifecycle action `{_action}`." + (
        " Sensitive: needs step-up (`X-OTP`)." if _sensitive else ""
    )
    router.post(
        f"/merchants/{{merchant_id}}/{_action}",
        response={200: MerchantOut, **BODY_ERRORS},
        operation_id=f"merchant_{_action}",
    )(idempotent(_merchant_action(_action, _doc)))


# --- holds --------------------------------------------------------------------------------------------
def _hold_qs() -> Any:
    return Hold.objects.select_related("terminal", "placed_by")


def _hold_response(hold_id: int, response: HttpResponse, told: Hold | None = None) -> dict[str, Any]:
    """The hold as it stands; `told`: the hold a change returned, whose notices the answer names."""
    hold = _hold_qs().get(pk=hold_id)
    set_etag(response, hold.version)
    response["Location"] = reverse("api:get_hold", kwargs={"hold_id": hold.pk})
    data = s.hold_out(hold)
    ids = [n.pk for n in getattr(told, "notices", None) or []]
    data["notice_id"], data["notice_ids"] = (ids[0] if ids else None), ids
    return data


@router.post("/terminals/{tid}/holds", response={201: s.HoldOut, **BODY_ERRORS})
@idempotent
def hold_terminal(request: HttpRequest, tid: PathTid, payload: s.HoldIn, response: HttpResponse) -> Any:
    """Put a hold on one terminal. risk_freeze and compliance holds need step-up."""
    return _place(request, payload, response, tid=tid)


@router.post("/merchants/{merchant_id}/holds", response={201: s.HoldOut, **BODY_ERRORS})
@idempotent
def hold_merchant(
    request: HttpRequest, merchant_id: ObjectId, payload: s.HoldIn, response: HttpResponse
) -> Any:
    """Put a hold on a merchant: all its terminals are refused while it is in force."""
    return _place(request, payload, response, merchant_id=merchant_id)


def _place(request: HttpRequest, payload: s.HoldIn, response: HttpResponse, **target: Any) -> Any:
    with transaction.atomic():
        hold = settlement_freezes.place_hold(
            actor_of(request),
            settlement=payload.hold_settlement,
            kind=payload.kind,
            reason=payload.reason,
            starts_at=payload.starts_at,
            ends_at=payload.ends_at,
            reason_category=payload.reason_category,
            merchant_message=payload.merchant_message,
            **target,
        )
    return Status(201, _hold_response(hold.pk, response, hold))


BULK_MAX = 100_000


@router.post("/holds/bulk", response={201: s.BulkHoldOut, 202: JobOut, **BODY_ERRORS})
@idempotent
def hold_many(request: HttpRequest, payload: s.BulkHoldIn) -> Any:
    """One hold on all named terminals (one audit event on each), all or nothing; step-up for more than
    one. `hold_id` releases it, as a whole or (`tid`) for one terminal: `POST /holds/{id}/release`.
    More terminals than the deployment places inline (POSFLEET_BULK_INLINE_MAX, 1,000 by default):
    202 with the job that places it (`GET /jobs/{id}`; its `result` names the hold)."""
    actor = actor_of(request)
    tids = list(dict.fromkeys(t.strip() for t in payload.tids if t.strip()))
    if not tids or len(tids) > BULK_MAX:
        raise ValidationFailed(
            _("Name 1 to %(max)d terminals.") % {"max": BULK_MAX},
            details={"tids": [_("1 to %(max)d TIDs.") % {"max": BULK_MAX}]},
        )
    with transaction.atomic():
        found: list[Terminal] = []
        for start in range(0, len(tids), 5000):
            found += Terminal.objects.filter(tid__in=tids[start : start + 5000]).only(
                "id", "tid", "merchant_id"
            )
        missing = sorted(set(tids) - {t.tid for t in found})
        if missing:
            raise ValidationFailed(
                _("%(n)d TIDs are unknown.") % {"n": len(missing)}, details={"tids": missing[:100]}
            )
        placed = bulk.place(
            actor,
            kind=payload.kind,
            reason=payload.reason,
            terminals=found,
            starts_at=payload.starts_at,
            ends_at=payload.ends_at,
            reason_category=payload.reason_category,
            merchant_message=payload.merchant_message,
        )
    if isinstance(placed, Job):
        return Status(202, placed.as_dict())
    ids = [n.pk for n in getattr(placed, "notices", [])]
    return Status(201, {"placed": len(found), "hold_id": placed.pk, "notice_ids": ids})


@router.post("/holds/{hold_id}/release", response={200: s.HoldOut, 202: JobOut, **BODY_ERRORS})
@idempotent
def release(request: HttpRequest, hold_id: ObjectId, payload: s.ReleaseIn, response: HttpResponse) -> Any:
    """End one hold now; other holds stay. 409 `hold_ended` if it has already ended. With `tid`, a
    bulk hold ends for that terminal only; a bulk hold released as a whole needs step-up, and with
    more terminals still under it than are released inline it answers 202 with the releasing job."""
    actor = actor_of(request)
    expected = if_match(request)
    tid = (payload.tid or "").strip() or None
    with transaction.atomic():
        if tid is None:
            released = bulk.release(
                actor,
                hold_id,
                reason=payload.reason,
                expected_version=expected,
                merchant_message=payload.merchant_message,
            )
        else:
            released = holds.release_hold(
                actor,
                hold_id,
                reason=payload.reason,
                expected_version=expected,
                tid=tid,
                merchant_message=payload.merchant_message,
            )
    if isinstance(released, Job):
        return Status(202, released.as_dict())
    return _hold_response(hold_id, response, released)


@router.get("/holds/{hold_id}", response={200: s.HoldOut, **ERRORS})
def get_hold(request: HttpRequest, hold_id: ObjectId, response: HttpResponse) -> Any:
    require_perm(request, "view_fleet")
    return _hold_response(holds.get_hold(hold_id).pk, response)


@router.get("/holds", response={200: s.HoldPage, **ERRORS})
def list_holds(
    request: HttpRequest,
    terminal: Search = None,
    merchant_id: IdFilter = None,
    kind: HoldKind | None = None,
    active: QueryFlag = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Holds by id. `terminal` (TID): holds on that terminal, its own and the bulk holds it is (or
    was) under; `merchant_id`: holds on the merchant itself; `active=true`: in force now or
    scheduled, `active=false`: ended or released (for a bulk hold, as a whole)."""
    require_perm(request, "view_fleet")
    now = timezone.now()
    qs = filters.filter_holds(
        _hold_qs(), now=now, terminal=terminal, merchant_id=merchant_id, kind=kind, active=active
    )
    rows, next_cursor = keyset_page(qs, cursor, limit)
    return {"items": [s.hold_out(h, now) for h in rows], "next_cursor": next_cursor}


# --- the answer ---------------------------------------------------------------------------------------
@router.get("/terminals/{tid}/eligibility", response={200: s.EligibilityOut, **ERRORS})
def terminal_eligibility(request: HttpRequest, tid: PathTid) -> Any:
    """May this terminal transact now? Refusals list every reason and the first ISO 8583 response code
    (97 unknown/unbound, 03 merchant, 58 terminal). A refusal is counted; the allowed path writes nothing."""
    require_perm(request, "view_fleet")
    return eligibility.answer_and_count(tid).as_dict()


@router.get("/refused-attempts", response={200: s.RefusedAttemptPage, **ERRORS})
def refused_attempts(
    request: HttpRequest,
    tid: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Counted refusals, newest first, for monitoring stopped terminals."""
    require_perm(request, "view_fleet")
    qs = RefusedAttempt.objects.all()
    if tid:
        qs = qs.filter(tid=tid)
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True)
    items = [
        {"id": r.pk, "tid": r.tid, "at": r.at, "response_code": r.response_code, "reasons": r.reasons}
        for r in rows
    ]
    return {"items": items, "next_cursor": next_cursor}


@router.get("/device-alerts", response={200: s.DeviceAlertPage, **ERRORS})
def device_alerts(
    request: HttpRequest,
    tid: Search = None,
    open: QueryFlag = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """The risk queue: terminals stopped for good that keep asking to transact, one alert per terminal
    per day, newest first. `open=true`: not yet acknowledged; `open=false`: acknowledged."""
    require_perm(request, "view_fleet")
    qs = DeviceAlert.objects.select_related("terminal", "acknowledged_by")
    if tid:
        qs = qs.filter(terminal__tid=tid)
    if open is not None:
        qs = qs.filter(acknowledged_at__isnull=open)
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True)
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/device-alerts/{alert_id}/acknowledge", response={200: s.DeviceAlertOut, **BODY_ERRORS})
@idempotent
def acknowledge_device_alert(request: HttpRequest, alert_id: ObjectId, payload: s.ReasonIn) -> Any:
    """The risk officer has looked at the alert; `reason` says what was done. It leaves the open queue;
    409 `alert_acknowledged` if it already has."""
    actor = actor_of(request)
    with transaction.atomic():
        alert = refusals.acknowledge(actor, alert_id, payload.reason)
    return DeviceAlert.objects.select_related("terminal", "acknowledged_by").get(pk=alert.pk)


# --- retiring a model ---------------------------------------------------------------------------------
@router.get("/terminal-models/{name}/retirement", response={200: s.RetirementPlanOut, **ERRORS})
def retirement_dry_run(request: HttpRequest, name: ModelName) -> Any:
    """Dry run: the merchants and terminals that retiring this model would stop."""
    plan = retirement.dry_run(actor_of(request), name)
    return {"model": plan.model, "terminals": plan.terminals, "merchants": list(plan.merchants.values())}


@router.post("/terminal-models/{name}/retirement", response={202: JobOut, **BODY_ERRORS})
def retirement_start(request: HttpRequest, name: ModelName, payload: s.RetirementIn) -> Any:
    """Retire the model: each merchant is told now (date, replacement offer); its terminals stop on
    `stop_on`. A job (progress, per-item report); step-up required."""
    with transaction.atomic():
        job = retirement.start(
            actor_of(request), name, stop_on=payload.stop_on, offer=payload.offer, reason=payload.reason
        )
    return Status(202, job.as_dict())
