"""Settlement's postings through `posfleet.money.ledger.post`, as that module's docstring lays them out.

One journal per run step (all merchants' entries together), so settling thousands of merchants costs a
handful of queries, not thousands:
- settle a batch of net N >= 0:  debit unsettled N, credit settled_unpaid N;
- a negative net X (refunds exceed sales) becomes due: debit amount_due X, credit unsettled X;
- pay out P:                     debit settled_unpaid P, credit bank P;
- lost chargeback of A:          the held part H from settled_unpaid, the rest (A - H) raises amount_due;
                                 credit scheme_clearing A.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from posfleet.core.actor import Actor
from posfleet.money.ledger import (
    AMOUNT_DUE,
    BANK,
    SCHEME_CLEARING,
    SETTLED_UNPAID,
    UNSETTLED,
    Entry,
    post,
)
from posfleet.settlement.models import SettlementBatch


def settle_batches(actor: Actor, batches: Sequence[SettlementBatch], run_day: date) -> None:
    entries: list[Entry] = []
    for b in batches:
        if b.net_fen > 0:
            entries += [
                Entry.debit(b.merchant_id, UNSETTLED, b.net_fen),
                Entry.credit(b.merchant_id, SETTLED_UNPAID, b.net_fen),
            ]
        elif b.net_fen < 0:
            entries += [
                Entry.debit(b.merchant_id, AMOUNT_DUE, -b.net_fen),
                Entry.credit(b.merchant_id, UNSETTLED, -b.net_fen),
            ]
    if entries:
        post(actor, entries, ref=f"settlement:{run_day}", memo=f"settlement of {run_day}", kind="settlement")


def pay_batches(actor: Actor, batches: Sequence[SettlementBatch]) -> None:
    entries: list[Entry] = []
    for b in batches:
        if b.payout_fen > 0:
            entries += [
                Entry.debit(b.merchant_id, SETTLED_UNPAID, b.payout_fen),
                Entry.credit(None, BANK, b.payout_fen),
            ]
    if entries:
        refs = sorted({str(b.business_date) for b in batches})
        post(
            actor,
            entries,
            ref=f"payout:{','.join(refs)}"[:120],
            memo="payout to settlement cards",
            kind="payout",
        )


def pay_released(actor: Actor, merchant_id: int, amount_fen: int, *, ref: str) -> None:
    """Pay out a dispute amount released after its batch was already paid."""
    if amount_fen > 0:
        post(
            actor,
            [Entry.debit(merchant_id, SETTLED_UNPAID, amount_fen), Entry.credit(None, BANK, amount_fen)],
            ref=ref,
            memo="released dispute hold paid out",
            kind="payout",
        )


def chargeback(actor: Actor, merchant_id: int, amount_fen: int, held_fen: int, *, ref: str) -> None:
    from_held = min(held_fen, amount_fen)
    entries = [Entry.credit(None, SCHEME_CLEARING, amount_fen)]
    if from_held:
        entries.append(Entry.debit(merchant_id, SETTLED_UNPAID, from_held))
    if amount_fen - from_held:
        entries.append(Entry.debit(merchant_id, AMOUNT_DUE, amount_fen - from_held))
    post(actor, entries, ref=ref, memo="lost chargeback", kind="chargeback")
