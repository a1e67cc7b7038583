"""Through money's real ingest: settle, dispute, pay — the ledger still balances and matches the balances."""

from datetime import timedelta

import pytest
from django.db import transaction

from posfleet.core.actor import Actor
from posfleet.money import checks
from posfleet.money.ingest import ingest
from posfleet.money.ledger import balances
from posfleet.money.models import Transaction
from posfleet.settlement import disputes, settled
from posfleet.settlement.disputes import DisputeInput
from posfleet.settlement.outstanding import is_cleared
from posfleet.settlement.services import run_settlement
from tests import builders as b
from tests.settlement.builders import at, days_ago

pytestmark = pytest.mark.django_db


def test_ingest_settle_dispute_pay_keeps_ledger_balanced():
    t = b.terminal("active")
    m = t.merchant
    day = days_ago(3)
    items = [
        {
            "id": "E2E-1",
            "tid": t.tid,
            "channel": "credit",
            "type": "sale",
            "amount_fen": 1_000_000,
            "occurred_at": at(day, 10).isoformat(),
        },
        {
            "id": "E2E-2",
            "tid": t.tid,
            "channel": "wechat",
            "type": "sale",
            "amount_fen": 1_000_000,
            "occurred_at": at(day, 11).isoformat(),
        },
        {
            "id": "E2E-3",
            "tid": t.tid,
            "channel": "debit",
            "type": "sale",
            "amount_fen": 1_000_000,
            "occurred_at": at(day, 12).isoformat(),
        },
        {
            "id": "E2E-4",
            "tid": t.tid,
            "channel": "credit",
            "type": "refund",
            "amount_fen": 50_000,
            "occurred_at": at(day, 13).isoformat(),
            "original_id": "E2E-1",
        },
    ]
    system = Actor.system()
    with transaction.atomic():
        results = ingest(system, items)
    assert all(r.status == "created" for r in results), results
    assert balances(m.pk).unsettled_fen == 3_000_000 - 6000 - 3800 - 2500 - 50_000
    with transaction.atomic():
        d = disputes.open_dispute(system, DisputeInput("E2E-2", "chargeback", "cardholder"))
        [batch] = run_settlement(system, day).created
    assert (batch.gross_fen, batch.fee_fen, batch.refund_fen) == (3_000_000, 12_300, 50_000)
    assert batch.held_fen == 1_000_000
    with transaction.atomic():
        run_settlement(system, day + timedelta(days=1))
        disputes.resolve(system, d.pk, "lost", "no receipt")
    bal = balances(m.pk)
    assert bal.unsettled_fen == 0 and bal.settled_unpaid_fen == 0 and bal.amount_due_fen == 0
    assert not settled.unsettled(Transaction.objects.filter(merchant=m)).exists()
    assert is_cleared(m.pk).cleared
    result = checks.check()
    assert result.ok, result.problems
