"""Repair endpoints: faults and their evidence, repair orders and their actions, loaners, swaps, and
the prevention lists. Handlers translate HTTP to service calls inside `transaction.atomic()`; every
rule lives in `repair.services`.
"""

from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from posfleet.api.auth import actor_of
from posfleet.api.common import DEFAULT_LIMIT, Cursor, Limit, actor_with, if_match, keyset_page, set_etag
from posfleet.api.errors import BODY_ERRORS, ERRORS
from posfleet.api.fields import ANY_TEXT, IdFilter, ObjectId, PathTid, QueryBool
from posfleet.api.idempotency import idempotent
from posfleet.core.errors import NotFound, PermissionDenied
from posfleet.registry.models import Terminal
from posfleet.repair import schemas as s
from posfleet.repair.choices import RepairState
from posfleet.repair.models import Fault, Loaner, RepairOrder, RepairStep
from posfleet.repair.services import faults, loaners, orders, prevention
from posfleet.repair.services import swap as swaps
from posfleet.repair.services.common import can_read, get_order, portal_merchant_id
from posfleet.repair.transitions import ACTIONS

router = Router(tags=["repair"])


def _order(actor: Any, order_id: int) -> RepairOrder:
    get_order(actor, order_id)
    return (
        RepairOrder.objects.select_related("fault", "terminal__model")
        .prefetch_related(
            "quotes", Prefetch("steps", RepairStep.objects.prefetch_related("parts")), "qc_results"
        )
        .get(pk=order_id)
    )


@router.post("/faults", response={201: s.FaultOut, **BODY_ERRORS})
@idempotent
def report_fault(request: HttpRequest, payload: s.FaultIn) -> Status:
    """Report a fault on a terminal; opens its repair order (`reported`). `stop_terminal` places a fault hold."""
    actor = actor_of(request)
    data = faults.FaultInput(
        **{
            **payload.dict(),
            "category": str(payload.category),
            "symptom": str(payload.symptom),
            "frequency": str(payload.frequency),
        }
    )
    with transaction.atomic():
        fault = faults.report_fault(actor, data)
    return Status(201, fault)


@router.get("/faults/{fault_id}", response={200: s.FaultOut, **ERRORS})
def get_fault(request: HttpRequest, fault_id: ObjectId) -> Fault:
    return faults.get_fault(actor_of(request), fault_id)


@router.post("/faults/{fault_id}/evidence", response={201: s.EvidenceOut, **BODY_ERRORS})
@idempotent
def add_evidence(
    request: HttpRequest,
    fault_id: ObjectId,
    file: File[UploadedFile],
    note: str = Form("", max_length=500, pattern=ANY_TEXT),
) -> Status:
    """Attach a photo (JPEG, PNG) or a log (PDF or plain text), accepted by content; at most 10 MB."""
    actor = actor_of(request)
    with transaction.atomic():
        evidence = faults.add_evidence(actor, fault_id, file, note)
    return Status(201, evidence)


@router.get("/repair-orders", response={200: s.RepairOrderPage, **ERRORS})
def list_orders(
    request: HttpRequest,
    state: RepairState | None = None,
    merchant_id: IdFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Repair orders, newest first; a merchant sees only its own."""
    actor = actor_of(request)
    qs = RepairOrder.objects.select_related("fault")
    own = portal_merchant_id(actor)
    if own is not None:
        qs = qs.filter(merchant_id=own)
    elif not can_read(actor, 0):  # staff: any repair capability or view_fleet
        raise PermissionDenied()
    if state:
        qs = qs.filter(state=state)
    if merchant_id:
        qs = qs.filter(merchant_id=merchant_id)
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True)
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/repair-orders/{order_id}", response={200: s.RepairOrderOut, **ERRORS})
def get_repair_order(request: HttpRequest, order_id: ObjectId, response: HttpResponse) -> RepairOrder:
    order = _order(actor_of(request), order_id)
    set_etag(response, order.version)
    return order


@router.post("/repair-orders/{order_id}/actions/{action}", response={200: s.RepairOrderOut, **BODY_ERRORS})
@idempotent
def repair_action(
    request: HttpRequest,
    order_id: ObjectId,
    action: s.RepairAction,
    payload: s.RepairActionIn,
    response: HttpResponse,
) -> RepairOrder:
    """Move a repair order: `diagnose` {diagnosis, where, provider, under_warranty}, `remote_fix` {note},
    `quote` {where, provider, amount_fen, days, warranty_months}, `accept_quote`/`decline_quote`
    {quote_id} (the order's own merchant; staff only under warranty), `await_parts` {note}, `start`,
    `step` {done, parts, firmware_*, patch_*, test_results}, `qc` {results: every check} (a failed check
    goes back to repairing), `finish` {warranty_months}, `unrepairable` {note}, `cancel` {note}.
    `If-Match` names the expected version."""
    actor = actor_of(request)
    with transaction.atomic():
        orders.apply(actor, order_id, action, payload.to_data(), expected_version=if_match(request))
    order = _order(actor, order_id)
    set_etag(response, order.version)
    return order


repair_action.__doc__ = (repair_action.__doc__ or "") + f" Actions: {', '.join(ACTIONS)}."


@router.post("/loaners", response={201: s.LoanerOut, **BODY_ERRORS})
@idempotent
def lend_loaner(request: HttpRequest, payload: s.LoanerIn) -> Status:
    """Lend a loaner from the pool for an open repair order (allocated, keyed, activated, due back on `due_on`)."""
    actor = actor_of(request)
    with transaction.atomic():
        loan = loaners.lend(
            actor, payload.merchant_id, payload.repair_order_id, due_on=payload.due_on, tid=payload.tid or ""
        )
    return Status(201, loan)


@router.get("/loaners", response={200: s.LoanerPage, **ERRORS})
def list_loaners(request: HttpRequest, overdue: QueryBool = False) -> dict[str, Any]:
    """Loaners out now (or only the overdue ones)."""
    actor = actor_of(request)
    own = portal_merchant_id(actor)
    if own is not None:
        rows = list(loaners.lent_to(own))
    else:
        actor_with(request, "view_fleet")
        rows = list(loaners.overdue() if overdue else loaners.lent_to_all())
    if overdue:
        rows = [r for r in rows if loaners.is_overdue(r)]
    return {"items": rows}


@router.post("/loaners/{tid}/return", response={200: s.LoanerOut, **BODY_ERRORS})
@idempotent
def return_loaner(request: HttpRequest, tid: PathTid, payload: s.LoanerReturnIn) -> Loaner:
    """Receive a loaner back and inspect it; damage or loss is charged per the merchant's contract."""
    actor = actor_of(request)
    with transaction.atomic():
        loan = loaners.return_loaner(actor, tid, condition=str(payload.condition), note=payload.note)
    return loan


def _swap_out(done: Any) -> dict[str, Any]:
    return swaps.as_dict(done) | {
        "old_device_tid": done.old_tid_now,
        "kind": done.kind,
        "repair_order_id": done.order_id,
        "at": done.at,
    }


@router.post("/terminals/{tid}/swap", response={200: s.SwapOut, **BODY_ERRORS})
@idempotent
def swap_terminal(request: HttpRequest, tid: PathTid, payload: s.SwapIn) -> dict[str, Any]:
    """Swap the device under `tid` for the newest-patched one in stock (or `new_sn`); the TID stays.
    Sensitive: needs step-up (`X-OTP`)."""
    actor = actor_of(request)
    with transaction.atomic():
        done = swaps.swap(
            actor,
            tid,
            reason=payload.reason,
            new_sn=payload.new_sn or "",
            kind=str(payload.kind) if payload.kind else "",
            repair_order_id=payload.repair_order_id,
        )
    return _swap_out(done)


@router.get("/terminals/{tid}/repairs", response={200: s.TerminalRepairsOut, **ERRORS})
def terminal_repairs(request: HttpRequest, tid: PathTid) -> dict[str, Any]:
    """A TID's repair history: its repair orders and swaps, newest first."""
    actor = actor_of(request)
    terminal = Terminal.objects.filter(tid=tid).first()
    if terminal is None or not can_read(actor, terminal.merchant_id or 0):
        raise NotFound()
    found = prevention.history(terminal)
    return {
        "tid": tid,
        "orders": found["orders"],
        "swaps": [_swap_out(w) for w in found["swaps"]],
    }


@router.get("/inspections/due", response={200: s.InspectionPage, **ERRORS})
def inspections_due(request: HttpRequest, limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """Active terminals due for inspection by their model's interval, the longest overdue first."""
    actor_with(request, "view_fleet")
    rows = prevention.due_for_inspection()[:limit]
    return {"items": rows}


@router.get("/repair-stats", response={200: s.RepairStatsOut, **ERRORS})
def repair_stats(request: HttpRequest) -> dict[str, Any]:
    """Faults per model per month (12 months) and mean time to repair per model."""
    actor_with(request, "view_fleet")
    return {
        "faults_per_model_month": [vars(r) for r in prevention.faults_per_model_month()],
        "mean_time_to_repair": [vars(r) for r in prevention.mean_time_to_repair()],
    }


__all__ = ["router"]
