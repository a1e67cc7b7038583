"""Is this merchant's money cleared? The deactivation and closure checklists ask here.

`is_cleared(merchant_id)` looks at the whole merchant; with `tids=[...]` only at those terminals'
transactions (merchant-wide money left out). Each reason (unsettled transactions, open disputes,
amount due, held or unpaid batches, an unexplained settled_unpaid balance) has a code, a message and
its count or amount; docs/money.md lists them. Read-only, a handful of aggregate queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q, Sum
from django.utils.translation import gettext as _

from posfleet.core import amounts
from posfleet.money.ledger import balances
from posfleet.settlement import settled
from posfleet.settlement.models import (
    OPEN_DISPUTE_STATES,
    BatchState,
    Dispute,
    DisputeHold,
    SettlementBatch,
)


def yuan(fen: int) -> str:
    """Fen as a CNY string with two decimals, in integers only (12345 -> "123.45")."""
    return amounts.yuan(fen, grouping=False)


@dataclass(frozen=True)
class Cleared:
    cleared: bool
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.cleared

    def as_dict(self) -> dict[str, Any]:
        return {"cleared": self.cleared, "reasons": self.reasons}


def _reason(
    code: str, message: str, amount_fen: int | None, *, count: int | None = None, **extra: Any
) -> dict[str, Any]:
    """One reason the money is not cleared; a sum over no rows (None) is 0 fen."""
    reason: dict[str, Any] = {"code": code, "message": message, **extra}
    if count is not None:
        reason["count"] = count
    reason["amount_fen"] = int(amount_fen or 0)
    return reason


def _unsettled(merchant_id: int, tids: Sequence[str] | None) -> dict[str, int]:
    """Unsettled transactions counted and summed, split into on-time ones and late ones (their day
    was settled before they arrived: the next settlement run takes them)."""
    agg = {"n": 0, "amount": 0, "late_n": 0, "late_amount": 0}
    for _day, n, amount, day_was_run in settled.unsettled_per_day(merchant_id, tids):
        prefix = "late_" if day_was_run else ""
        agg[f"{prefix}n"] += n
        agg[f"{prefix}amount"] += amount
    return agg


def is_cleared(merchant_id: int, tids: Sequence[str] | None = None) -> Cleared:
    reasons: list[dict[str, Any]] = []
    disputes = Dispute.objects.filter(merchant_id=merchant_id, state__in=OPEN_DISPUTE_STATES)
    batches = SettlementBatch.objects.filter(merchant_id=merchant_id)
    if tids is not None:
        tids = list(tids)
        disputes = disputes.filter(transaction__tid__in=tids)
        batches = settled.batches_with_transactions(batches, tid__in=tids)

    agg = _unsettled(merchant_id, tids)
    if agg["n"]:
        message = _("%(n)d transactions are not settled yet.") % {"n": agg["n"]}
        reasons.append(_reason("unsettled_transactions", message, agg["amount"], count=agg["n"]))
    if agg["late_n"]:
        message = _(
            "%(n)d transactions arrived after their business day was settled; the next "
            "settlement run settles them as late items."
        ) % {"n": agg["late_n"]}
        reasons.append(_reason("late_transactions", message, agg["late_amount"], count=agg["late_n"]))
    agg = disputes.order_by().aggregate(n=Count("id"), amount=Sum("amount_fen"))
    if agg["n"]:
        message = _("%(n)d disputes are still open.") % {"n": agg["n"]}
        reasons.append(_reason("open_disputes", message, agg["amount"], count=agg["n"]))
    pending = batches.order_by().aggregate(
        held_n=Count("id", filter=Q(state=BatchState.HELD)),
        held_amount=Sum("net_fen", filter=Q(state=BatchState.HELD)),
        unpaid_n=Count("id", filter=Q(state=BatchState.SETTLED)),
        unpaid_amount=Sum("payout_fen", filter=Q(state=BatchState.SETTLED)),
        unpaid_net=Sum("net_fen", filter=Q(state=BatchState.SETTLED)),
        unpaid_payout=Min("payout_date", filter=Q(state=BatchState.SETTLED)),
    )
    if pending["held_n"]:
        message = _("%(n)d settlement batches are held (delayed settlement).") % {"n": pending["held_n"]}
        reasons.append(_reason("held_batches", message, pending["held_amount"], count=pending["held_n"]))
    if pending["unpaid_n"]:
        payout_date = pending["unpaid_payout"].isoformat()
        message = _(
            "%(n)d settlement batches are settled but not paid out yet; the payout run of %(date)s pays them."
        ) % {"n": pending["unpaid_n"], "date": payout_date}
        reasons.append(
            _reason(
                "settled_not_paid",
                message,
                pending["unpaid_amount"],
                payout_date=payout_date,
                count=pending["unpaid_n"],
            )
        )
    if tids is None:
        bal = balances(merchant_id)
        if bal.amount_due_fen > 0:
            message = _("The merchant owes %(yuan)s CNY (fees, penalties, charges).") % {
                "yuan": yuan(bal.amount_due_fen)
            }
            reasons.append(_reason("amount_due", message, bal.amount_due_fen))
        explained = int(pending["held_amount"] or 0) + int(pending["unpaid_net"] or 0)
        explained += int(
            DisputeHold.objects.filter(
                dispute__merchant_id=merchant_id,
                dispute__state__in=OPEN_DISPUTE_STATES,
                batch__state=BatchState.PAID,
            )
            .order_by()
            .aggregate(s=Sum("amount_fen"))["s"]
            or 0
        )
        if bal.settled_unpaid_fen > explained:
            rest = bal.settled_unpaid_fen - explained
            message = _("%(yuan)s CNY is settled but not paid out.") % {"yuan": yuan(rest)}
            reasons.append(_reason("settled_unpaid_balance", message, rest))
    return Cleared(cleared=not reasons, reasons=reasons)
