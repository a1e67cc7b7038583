import pytest
from django.db import transaction

from posfleet.devtools.demo import settlement as demo
from posfleet.settlement.models import Dispute, SettlementBatch, SettlementProfile
from tests import builders as b
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db


def test_demo_settles_past_days_and_opens_disputes():
    merchants = [b.merchant() for _ in range(6)]
    for m in merchants:
        for back in (9, 5, 3, 1):
            tx(m, 10_000 + back, at(days_ago(back)))
    with transaction.atomic():
        demo.load([m.pk for m in merchants], days=10)
    assert SettlementBatch.objects.filter(business_date=days_ago(1)).count() == 6
    assert SettlementProfile.objects.get(merchant=merchants[0]).mode == "D0"
    assert SettlementProfile.objects.get(merchant=merchants[1]).delayed
    assert sorted(Dispute.objects.values_list("state", flat=True)) == ["answered", "lost", "open", "won"]
    with transaction.atomic():
        demo.load([m.pk for m in merchants], days=10)  # idempotent for batches
    assert SettlementBatch.objects.filter(business_date=days_ago(1)).count() == 6
