"""Is a transaction settled? The one rule, as query expressions every consumer uses.

A transaction is settled when its merchant has a batch for its business date whose id range
(`after_transaction_id`, `max_transaction_id`] holds the transaction's id; that batch (the day's
on-time batch, or a late one for what arrived after the day was settled) is its batch and the
batch's `created_at` is when it was settled. Settling a day therefore writes one row per merchant
and never rewrites the day's transactions (see `services` for why the mark is safe under concurrent
ingest). The API and the console still show `settlement_batch_id` and `settled_at` on a transaction:
`with_settlement()` computes them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from posfleet.money.models import Transaction
from posfleet.settlement.models import SettlementBatch


def covering_batch(tx_ref: str = "") -> QuerySet[SettlementBatch]:
    """The batch covering the outer transaction (`tx_ref` prefixes the outer fields, e.g. "transaction__")."""
    return SettlementBatch.objects.filter(
        merchant_id=OuterRef(f"{tx_ref}merchant_id"),
        business_date=OuterRef(f"{tx_ref}business_date"),
        max_transaction_id__gte=OuterRef(f"{tx_ref}id"),
        after_transaction_id__lt=OuterRef(f"{tx_ref}id"),
    )


def unsettled(qs: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """The transactions of `qs` that no batch covers."""
    return qs.filter(~Exists(covering_batch()))


def settled(qs: QuerySet[Transaction]) -> QuerySet[Transaction]:
    return qs.filter(Exists(covering_batch()))


def with_settlement(qs: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """`qs` with `settlement_batch_id` and `settled_at` on each row (None while unsettled)."""
    batch = covering_batch().order_by()
    return qs.annotate(
        settlement_batch_id=Subquery(batch.values("pk")[:1]),
        settled_at=Subquery(batch.values("created_at")[:1]),
    )


def of_batch(batch: SettlementBatch) -> QuerySet[Transaction]:
    """The transactions a batch settled."""
    return Transaction.objects.filter(
        merchant_id=batch.merchant_id,
        business_date=batch.business_date,
        id__lte=batch.max_transaction_id,
        id__gt=batch.after_transaction_id,
    )


def batches_with_transactions(
    batches: QuerySet[SettlementBatch], **tx_filter: Any
) -> QuerySet[SettlementBatch]:
    """The batches of `batches` that settled at least one transaction matching `tx_filter`."""
    return batches.filter(
        Exists(
            Transaction.objects.filter(
                merchant_id=OuterRef("merchant_id"),
                business_date=OuterRef("business_date"),
                id__lte=OuterRef("max_transaction_id"),
                id__gt=OuterRef("after_transaction_id"),
                **tx_filter,
            )
        )
    )
