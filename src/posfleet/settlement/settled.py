"""Is a transaction settled? The one rule, as query expressions every consumer uses.

Settled = its merchant has a batch for its business date whose id range (`after_transaction_id`,
`max_transaction_id`] holds the transaction's id; that batch's `created_at` is when. Settling a day
writes one row per merchant and never rewrites the day's transactions. `with_settlement()` computes
the `settlement_batch_id` and `settled_at` the API and console show; `unsettled_per_day()` states the
same conditions in one SQL statement (a test holds it to `unsettled()`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from posfleet.money.models import Transaction
from posfleet.settlement.models import SettlementBatch, SettlementRun


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


def unsettled_per_day(
    merchant_id: int, tids: Sequence[str] | None = None
) -> list[tuple[date, int, int, bool]]:
    """(business_date, count, net_fen sum, whether a settlement run was made for that day) of the
    merchant's transactions (at `tids` only, when given) that no batch covers, per business day.

    `unsettled()`'s rule in one statement written for both planners: the merchant's batches (a few a
    day) are read once into a materialised CTE and each transaction is checked against that small
    table, on SQLite through an automatic index built for the statement, on PostgreSQL by a hash anti
    join; the run of the day is asked once a day, not once a row. As `unsettled()` (a correlated
    `NOT EXISTS` on the batch table) SQLite sought the batch index and read the batch row once per
    transaction and sorted every row by (day, run): 0.35 s for a merchant's 200,000 transactions."""
    qn = connection.ops.quote_name
    tx, batch = qn(Transaction._meta.db_table), qn(SettlementBatch._meta.db_table)
    run = qn(SettlementRun._meta.db_table)
    by_tid = ""
    params: list[Any] = [merchant_id, merchant_id]
    if tids is not None:
        tids = list(tids)
        if not tids:
            return []
        by_tid = f" AND t.tid IN ({', '.join(['%s'] * len(tids))})"
        params += tids
    sql = (
        f"WITH b AS MATERIALIZED (SELECT business_date, after_transaction_id, max_transaction_id FROM {batch} "
        "WHERE merchant_id = %s) "
        f"SELECT d.business_date, d.n, d.amount, EXISTS(SELECT 1 FROM {run} r WHERE r.business_date = d.business_date) "
        f"FROM (SELECT t.business_date, COUNT(*) AS n, SUM(t.net_fen) AS amount FROM {tx} t "
        f"WHERE t.merchant_id = %s{by_tid} AND NOT EXISTS (SELECT 1 FROM b WHERE b.business_date = t.business_date "
        "AND b.after_transaction_id < t.id AND b.max_transaction_id >= t.id) GROUP BY t.business_date) d"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        (
            day if isinstance(day, date) else date.fromisoformat(str(day)),
            int(n),
            int(amount or 0),
            bool(was_run),
        )
        for day, n, amount, was_run in rows
    ]


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
