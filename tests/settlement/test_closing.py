"""A closing merchant's due settled batches are paid by finance from the case, not left to the run."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.core.errors import Conflict
from posfleet.registry.models import Merchant
from posfleet.settlement import closing, outstanding
from posfleet.settlement.models import BatchState, SettlementBatch
from tests import builders

pytestmark = pytest.mark.django_db


def _batch(m, *, payout_date, state=BatchState.SETTLED):
    today = timezone.localdate()
    return SettlementBatch.objects.create(
        merchant=m,
        business_date=today,
        payout_date=payout_date,
        state=state,
        gross_fen=1000,
        fee_fen=6,
        net_fen=994,
        payout_fen=994,
        transaction_count=1,
    )


def test_pays_only_a_closing_merchants_due_batches():
    m = builders.merchant()
    today = timezone.localdate()
    due = _batch(m, payout_date=today)
    finance = builders.actor("finance")
    with pytest.raises(Conflict), transaction.atomic():
        closing.pay_closing_merchant(finance, m.pk)  # active: the daily run pays it
    Merchant.objects.filter(pk=m.pk).update(state="closing")
    reason = next(r for r in outstanding.is_cleared(m.pk).reasons if r["code"] == "settled_not_paid")
    assert today.isoformat() in reason["message"]  # says which payout run pays it
    with transaction.atomic():
        paid = closing.pay_closing_merchant(finance, m.pk)
    assert [b.pk for b in paid] == [due.pk]
    assert SettlementBatch.objects.get(pk=due.pk).state == BatchState.PAID
    with pytest.raises(Conflict), transaction.atomic():
        closing.pay_closing_merchant(finance, m.pk)  # nothing due any more
