"""Request and response shapes of the settlement API, and a transaction as the API reads it.

A transaction's `settlement_batch_id` and `settled_at` are computed from the batches by settlement's
one rule (`settled.with_settlement`), so the transaction's shape lives here, on top of money's row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from posfleet.money.models import Transaction


# --- transactions -------------------------------------------------------------------------------------
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


def tx_out(tx: Transaction) -> dict[str, Any]:
    """Needs the annotations of `settled.with_settlement()`: every query feeding it goes through it."""
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
        "settlement_batch_id": getattr(tx, "settlement_batch_id"),  # noqa: B009
        "settled_at": getattr(tx, "settled_at"),  # noqa: B009
    }
