"""Daily rollups: ingest keeps them equal to the transactions they count; rebuild gives the same."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from posfleet.money import rollup
from posfleet.money.ingest import ingest
from posfleet.money.models import DayTotal, Transaction
from posfleet.money.queries import daily_totals
from posfleet.registry.choices import TerminalState
from tests import builders
from tests.money.builders import item

pytestmark = pytest.mark.django_db


def totals():
    return sorted(
        DayTotal.objects.values_list(
            "business_date", "bucket", "count", "sales_fen", "back_fen", "fee_fen", "flagged"
        )
    )


def test_ingest_keeps_the_rollups_and_rebuild_agrees():
    now = timezone.now()
    ok, stopped = builders.terminal(), builders.terminal(TerminalState.DEACTIVATED)
    items = [item(ok.tid, occurred_at=now - timedelta(days=i)) for i in range(3)]
    items += [
        item(ok.tid, type="refund", amount_fen=300, occurred_at=now, original_id=items[0]["id"]),
        item(stopped.tid, occurred_at=now),
    ]
    with transaction.atomic():
        ingest(builders.actor("finance"), items)
    with transaction.atomic():
        ingest(builders.actor("finance"), items[:2])  # duplicates count nothing
    kept = totals()
    assert sum(r[2] for r in kept) == Transaction.objects.count() == 5
    assert sum(r[6] for r in kept) == 1
    with transaction.atomic():
        rollup.rebuild(timezone.localdate() - timedelta(days=5), timezone.localdate())
    assert totals() == kept
    days = daily_totals(30)
    expected = Transaction.objects.aggregate(
        fees=Sum("fee_fen"), n=Count("id"), flagged=Count("id", filter=Q(flagged=True))
    )
    assert sum(d.count for d in days) == expected["n"] and sum(d.fee_fen for d in days) == expected["fees"]
    assert sum(d.flagged for d in days) == expected["flagged"]
    assert sum(d.volume_fen for d in days) == 3 * 1_000_000 + 1_000_000 - 300
