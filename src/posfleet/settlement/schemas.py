"""Request and response shapes of the settlement API, and a transaction as the API reads it.

Dates the services render as ISO text (`business_date`, `opened_at`, …) stay text here, so the JSON is
what it always was.

A transaction's `settlement_batch_id` and `settled_at` are computed from the batches by settlement's
one rule (`settled.with_settlement`), so the transaction's shape lives here, on top of money's row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictInt

from posfleet.api.fields import ANY_TEXT, MAX_FEN, NOTE_MAX, Flag, IsoDate, IsoText, Reason
from posfleet.settlement.models import DisputeKind, SettlementMode


# --- transactions -------------------------------------------------------------------------------------
# Needs the annotations of `settled.with_settlement()`: every query feeding it goes through it.
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
    rate_plan: str = Field(alias="rate_plan_code")
    rate_bp: int
    flagged: bool
    flag_reasons: list[Any]
    settlement_batch_id: int | None
    settled_at: datetime | None


class TransactionPage(Schema):
    items: list[TransactionOut]
    next_cursor: str | None


# --- settlement runs and batches ----------------------------------------------------------------------
class RunIn(Schema):
    business_date: IsoDate = Field(
        description="The day to settle (institution's time zone); it must have ended (past the cut-off)"
    )


class BatchOut(Schema):
    """`services.batch_dict` of one batch."""

    id: int
    merchant_id: int
    business_date: str
    mode: str
    payout_date: str
    transaction_count: int
    gross_fen: int
    refund_fen: int
    fee_fen: int
    held_fen: int
    net_fen: int
    payout_fen: int
    card: str = Field(description="Masked settlement card")
    state: str
    paid_at: str | None
    late: bool = Field(description="Late items: transactions that arrived after their day was settled")
    run_date: str = Field(description="Business day of the run that made the batch (sets the payout date)")


class RunOut(Schema):
    business_date: str
    already_settled: bool
    created: int = Field(description="Batches this run created")
    paid: int = Field(description="Batches this run paid out")
    results: list[BatchOut]


class BatchList(Schema):
    items: list[BatchOut]


class OutstandingReason(Schema):
    code: str
    message: str
    count: int | None = Field(None, description="Absent for amounts owed or not paid out")
    amount_fen: int


class OutstandingOut(Schema):
    cleared: bool
    reasons: list[OutstandingReason]


# --- profile ------------------------------------------------------------------------------------------
class ProfileIn(Schema):
    mode: SettlementMode | None = None
    delayed: Flag | None = None
    reason: Reason


class ProfileOut(Schema):
    merchant_id: int
    mode: str
    delayed: bool
    delayed_reason: str
    delayed_at: IsoText | None
    version: int


# --- disputes -----------------------------------------------------------------------------------------
class DisputeIn(Schema):
    transaction: str = Field(
        min_length=1, max_length=64, pattern=ANY_TEXT, description="The transaction's id or switch id; a sale"
    )
    kind: DisputeKind
    reason: Reason
    amount_fen: StrictInt | None = Field(
        None, ge=1, le=MAX_FEN, description="At most the amount; all of it if omitted"
    )
    due: IsoDate | None = Field(None, description="Answer by (today or later); 7 days from today if omitted")


class ResolveIn(Schema):
    outcome: Literal["won", "lost"]
    reason: Reason


class AnswerIn(Schema):
    answer: str = Field(
        "", max_length=NOTE_MAX, pattern=ANY_TEXT, description="Required unless a document is attached"
    )
    channel: Literal["phone", "email", "mail", "fax", "branch"] | None = Field(
        None,
        description="Staff record an answer only on the merchant's behalf: how the merchant gave it "
        "(required for staff, 422 without it; ignored for the merchant's own token)",
    )


class DocumentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: IsoText


class DisputeOut(Schema):  # needs `transaction` selected to stay one query per page
    id: int
    transaction_id: int
    switch_id: str = Field(alias="transaction.switch_id")
    tid: str = Field(alias="transaction.tid")
    merchant_id: int
    kind: str
    amount_fen: int
    state: str
    reason: str
    opened_at: IsoText
    due: IsoText
    answer: str
    answered_at: IsoText | None
    answered_on_behalf: bool = Field(description="Recorded by staff on the merchant's behalf")
    answer_channel: str = Field(description="How the merchant gave an answer staff recorded; empty otherwise")
    resolved_at: IsoText | None
    resolution_reason: str
    held_fen: int
    version: int


class DisputeDetailOut(DisputeOut):
    documents: list[DocumentOut]


class DisputePage(Schema):
    items: list[DisputeOut]
    next_cursor: str | None
