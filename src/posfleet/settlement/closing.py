"""Paying out a closing merchant: its settled batches that are due are paid now by finance, so the
closure is not left waiting for the next daily run.

Policy: only a merchant in `closing`, only batches whose payout date has come (T+1 is kept), never a
held batch or a merchant whose settlement is delayed; needs `run_settlement` and a fresh identity check.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, PermissionDenied
from posfleet.registry.choices import MerchantState
from posfleet.registry.models import Merchant
from posfleet.settlement import ledger_bridge
from posfleet.settlement.models import BatchState, SettlementBatch


def due_batches(merchant_id: int, today: date | None = None) -> list[SettlementBatch]:
    today = today or timezone.localdate()
    return list(
        SettlementBatch.objects.filter(
            merchant_id=merchant_id, state=BatchState.SETTLED, payout_date__lte=today
        )
        .exclude(merchant__settlement_profile__delayed=True)
        .order_by("id")
    )


def may_pay_now(merchant: Merchant) -> bool:
    return merchant.state == MerchantState.CLOSING


def pay_closing_merchant(
    actor: Actor, merchant_id: int, *, today: date | None = None
) -> list[SettlementBatch]:
    """Pay the due settled batches of a closing merchant now (in the caller's transaction)."""
    if not actor.has_perm(perm("run_settlement")):
        raise PermissionDenied()
    merchant = Merchant.objects.select_for_update(no_key=True).get(pk=merchant_id)
    if not may_pay_now(merchant):
        raise Conflict(
            _("Only a closing merchant's batches are paid out of the daily run."), code="not_closing"
        )
    require_step_up(actor)
    now = timezone.now()
    due = list(
        SettlementBatch.objects.select_for_update(no_key=True, of=("self",)).filter(
            pk__in=[b.pk for b in due_batches(merchant_id, today)]
        )
    )
    if not due:
        raise Conflict(_("No settled batch of this merchant is due for payout yet."), code="nothing_due")
    ledger_bridge.pay_batches(actor, due)
    SettlementBatch.objects.filter(pk__in=[b.pk for b in due]).update(state=BatchState.PAID, paid_at=now)
    for b in due:
        b.state, b.paid_at = BatchState.PAID, now
    return due
