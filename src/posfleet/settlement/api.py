"""Settlement endpoints: run a business day, a merchant's settlements, outstanding items, statement,
disputes (open, list, get, documents, answer, resolve), the settlement profile, and the transaction
reads, which show each transaction's settlement.

Handlers translate HTTP to service calls; rules, permissions and audit live in the services. Reads
need `view_money` (staff) or a portal login of the merchant itself. `GET /transactions` shares its path
with money's ingest, and ninja serves one path from one router: the transaction reads are added to
money's router (listed under money, as before), from here, because settlement stands on money.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from posfleet.api.auth import actor_of
from posfleet.api.common import DEFAULT_LIMIT, Cursor, Limit, file_response, keyset_page
from posfleet.api.errors import BODY_ERRORS, ERRORS
from posfleet.api.fields import Day, IdFilter, ObjectId, QueryFlag, Search
from posfleet.core.actor import Actor
from posfleet.core.downloads import CSV, download
from posfleet.core.errors import NotFound
from posfleet.money.access import money_scope, require_money_reader
from posfleet.money.api import router as money_router
from posfleet.money.choices import Channel, TxType
from posfleet.money.filters import filter_transactions
from posfleet.money.models import Transaction
from posfleet.registry.services import get_merchant
from posfleet.settlement import disputes, outstanding, profiles, services, settled, statements
from posfleet.settlement import schemas as s
from posfleet.settlement.models import Dispute, DisputeState

router = Router(tags=["settlement"])


def _reader(request: HttpRequest, merchant_id: int) -> Actor:
    """Staff with view_money, or the merchant's own portal login; anyone else gets 403/404."""
    actor = actor_of(request)
    require_money_reader(actor, merchant_id)
    get_merchant(merchant_id)
    return actor


# --- transactions -------------------------------------------------------------------------------------
@money_router.get("/transactions", response={200: s.TransactionPage, **ERRORS})
def list_transactions(
    request: HttpRequest,
    merchant_id: IdFilter = None,
    tid: Search = None,
    channel: Channel | None = None,
    type: TxType | None = None,
    date_from: Day = None,
    date_to: Day = None,
    flagged: QueryFlag = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Newest first (by id); filters combine; `date_from`/`date_to` are days in Asia/Shanghai, inclusive."""
    own = money_scope(actor_of(request))
    if own is not None:
        if merchant_id is not None and merchant_id != own:
            raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
        merchant_id = own
    qs = filter_transactions(
        Transaction.objects.all(),
        merchant_id=merchant_id,
        tid=tid,
        channel=channel,
        type=type,
        date_from=date_from,
        date_to=date_to,
        flagged=flagged,
    )
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True, annotate=settled.with_settlement)
    return {"items": rows, "next_cursor": next_cursor}


@money_router.get("/transactions/{tx_id}", response={200: s.TransactionOut, **ERRORS})
def get_transaction(request: HttpRequest, tx_id: ObjectId) -> Any:
    own = money_scope(actor_of(request))
    tx = settled.with_settlement(Transaction.objects.filter(pk=tx_id)).first()
    if tx is None or (own is not None and tx.merchant_id != own):
        raise NotFound(_("No transaction %(id)s.") % {"id": tx_id})
    return tx


# --- settlement ---------------------------------------------------------------------------------------
@router.post("/settlements/run", response={200: s.RunOut, **BODY_ERRORS})
def run_settlement(request: HttpRequest, payload: s.RunIn) -> Any:
    """Settle the transactions that occurred on `business_date` (Asia/Shanghai). Sensitive: send `X-OTP`.

    Idempotent: a second run for the same day creates nothing and returns the existing batches.
    """
    actor = actor_of(request)
    with transaction.atomic():
        result = services.run_settlement(actor, payload.business_date)
    return {
        "business_date": result.business_date.isoformat(),
        "already_settled": result.already_settled,
        "created": len(result.created),
        "paid": len(result.paid),
        "results": [services.batch_dict(b) for b in result.batches],
    }


@router.get("/merchants/{merchant_id}/settlements", response={200: s.BatchList, **ERRORS})
def merchant_settlements(request: HttpRequest, merchant_id: ObjectId, business_date: Day = None) -> Any:
    """A merchant's settlement batches (newest first), optionally of one business date."""
    _reader(request, merchant_id)
    batches = services.settlements_of(merchant_id, business_date)[:400]
    return {"items": [services.batch_dict(b) for b in batches]}


@router.get(
    "/merchants/{merchant_id}/outstanding", response={200: s.OutstandingOut, **ERRORS}, exclude_unset=True
)
def merchant_outstanding(
    request: HttpRequest,
    merchant_id: ObjectId,
    tids: Annotated[
        str | None, Query(max_length=2000, pattern=r"^[0-9A-Z, ]*$", description="Comma-separated TIDs")
    ] = None,
) -> Any:
    """Is the merchant's money cleared? `tids` (comma-separated) narrows it to some terminals."""
    _reader(request, merchant_id)
    tid_list = [t.strip() for t in tids.split(",") if t.strip()] if tids else None
    return outstanding.is_cleared(merchant_id, tid_list).as_dict()


@router.get(
    "/merchants/{merchant_id}/statement.csv",
    response={200: None, **ERRORS},
    openapi_extra=file_response("text/csv", "The reconciliation statement (CSV, UTF-8)"),
)
def merchant_statement(
    request: HttpRequest,
    merchant_id: ObjectId,
    date_from: Annotated[date, Query(alias="from", description="First business day, YYYY-MM-DD")],
    date_to: Annotated[date, Query(alias="to", description="Last business day, YYYY-MM-DD")],
) -> Any:
    """Reconciliation statement as CSV for `from`..`to` (inclusive business dates)."""
    filename, body = statements.statement_for(actor_of(request), merchant_id, date_from, date_to)
    return download(body, CSV, filename)


@router.get("/merchants/{merchant_id}/settlement-profile", response={200: s.ProfileOut, **ERRORS})
def get_profile(request: HttpRequest, merchant_id: ObjectId) -> Any:
    _reader(request, merchant_id)
    return profiles.profile_of(merchant_id)


@router.put("/merchants/{merchant_id}/settlement-profile", response={200: s.ProfileOut, **BODY_ERRORS})
def put_profile(request: HttpRequest, merchant_id: ObjectId, payload: s.ProfileIn) -> Any:
    """Change T+1/D0 and the delayed-settlement flag (risk/finance; sensitive: `X-OTP`; reason required)."""
    actor = actor_of(request)
    with transaction.atomic():
        profile = profiles.set_profile(
            actor, merchant_id, mode=payload.mode, delayed=payload.delayed, reason=payload.reason
        )
    return profile


# --- disputes -----------------------------------------------------------------------------------------
@router.post("/disputes", response={201: s.DisputeDetailOut, **BODY_ERRORS})
def open_dispute(request: HttpRequest, payload: s.DisputeIn) -> Any:
    """Open a retrieval request or chargeback on a transaction (its id or switch id)."""
    actor = actor_of(request)
    data = disputes.DisputeInput(
        transaction=payload.transaction,
        kind=payload.kind,
        reason=payload.reason,
        amount_fen=payload.amount_fen,
        due=payload.due,
    )
    with transaction.atomic():
        d = disputes.open_dispute(actor, data)
    return Status(201, d)


@router.get("/disputes", response={200: s.DisputePage, **ERRORS})
def list_disputes(
    request: HttpRequest,
    merchant_id: IdFilter = None,
    state: DisputeState | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    actor = actor_of(request)
    qs = disputes.disputes_for(actor, merchant_id=merchant_id, state=state)
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True)
    return {"items": rows, "next_cursor": next_cursor}


def _visible(request: HttpRequest, dispute_id: int) -> tuple[Actor, Dispute]:
    actor = actor_of(request)
    d = disputes.disputes_for(actor).filter(pk=dispute_id).first()
    if d is None:
        raise NotFound(_("No dispute %(id)s.") % {"id": dispute_id})
    return actor, d


@router.get("/disputes/{dispute_id}", response={200: s.DisputeDetailOut, **ERRORS})
def get_dispute(request: HttpRequest, dispute_id: ObjectId) -> Any:
    _actor, d = _visible(request, dispute_id)
    return d


@router.post("/disputes/{dispute_id}/documents", response={201: s.DocumentOut, **BODY_ERRORS})
def add_document(request: HttpRequest, dispute_id: ObjectId, file: File[UploadedFile]) -> Any:
    """Attach evidence (multipart field `file`; PDF, JPEG or PNG by content; at most 10 MB)."""
    actor, d = _visible(request, dispute_id)
    with transaction.atomic():
        doc = disputes.add_document(actor, d.pk, file)
    return Status(201, doc)


@router.post("/disputes/{dispute_id}/answer", response={200: s.DisputeDetailOut, **BODY_ERRORS})
def answer_dispute(request: HttpRequest, dispute_id: ObjectId, payload: s.AnswerIn) -> Any:
    actor, d = _visible(request, dispute_id)
    with transaction.atomic():
        d = disputes.answer(actor, d.pk, payload.answer, channel=payload.channel or "")
    return disputes.get_dispute(d.pk)


@router.post("/disputes/{dispute_id}/resolve", response={200: s.DisputeDetailOut, **BODY_ERRORS})
def resolve_dispute(request: HttpRequest, dispute_id: ObjectId, payload: s.ResolveIn) -> Any:
    """Resolve as `won` (hold released) or `lost` (a lost chargeback debits the merchant)."""
    actor = actor_of(request)
    with transaction.atomic():
        d = disputes.resolve(actor, dispute_id, payload.outcome, payload.reason)
    return disputes.get_dispute(d.pk)
