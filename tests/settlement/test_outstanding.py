from datetime import timedelta

import pytest
from django.db import transaction

from posfleet.core.actor import Actor
from posfleet.money.ledger import charge
from posfleet.settlement import disputes
from posfleet.settlement.disputes import DisputeInput
from posfleet.settlement.outstanding import is_cleared, yuan
from posfleet.settlement.services import run_settlement
from tests import builders as b
from tests.settlement.builders import at, d0, days_ago, delayed, tx

pytestmark = pytest.mark.django_db


def run(day):
    with transaction.atomic():
        return run_settlement(Actor.system(), day)


def codes(result):
    return [r["code"] for r in result.reasons]


class TestIsCleared:
    def test_new_merchant_is_cleared(self):
        result = is_cleared(b.merchant().pk)
        assert result.cleared and result.reasons == []

    def test_settled_and_paid_is_cleared(self):
        m = b.merchant()
        d0(m)
        tx(m, 1000, at(days_ago(2)))
        run(days_ago(2))
        assert is_cleared(m.pk).cleared

    def test_unsettled(self):
        m = b.merchant()
        tx(m, 1000, at(days_ago(1)))
        result = is_cleared(m.pk)
        assert not result.cleared
        [reason] = result.reasons
        assert reason["code"] == "unsettled_transactions" and reason["count"] == 1
        assert reason["amount_fen"] == 1000 - 6 and reason["message"]

    def test_settled_not_paid_then_paid(self):
        m = b.merchant()
        tx(m, 1000, at(days_ago(3)))
        run(days_ago(3))
        assert codes(is_cleared(m.pk)) == ["settled_not_paid"]
        run(days_ago(2))
        assert is_cleared(m.pk).cleared

    def test_held_batches(self):
        m = b.merchant()
        delayed(m)
        tx(m, 1000, at(days_ago(3)))
        run(days_ago(3))
        run(days_ago(2))
        assert codes(is_cleared(m.pk)) == ["held_batches"]

    def test_open_dispute(self):
        m = b.merchant()
        d0(m)
        t = tx(m, 1000, at(days_ago(3)))
        run(days_ago(3))
        with transaction.atomic():
            d = disputes.open_dispute(Actor.system(), DisputeInput(t.pk, "retrieval_request", "copy"))
        assert codes(is_cleared(m.pk)) == ["open_disputes"]
        with transaction.atomic():
            disputes.resolve(Actor.system(), d.pk, "won", "ok")
        assert is_cleared(m.pk).cleared

    def test_amount_due(self):
        m = b.merchant()
        with transaction.atomic():
            charge(Actor.system(), m.pk, "suspension_fee", 2000, ref="t")
        result = is_cleared(m.pk)
        assert codes(result) == ["amount_due"] and result.reasons[0]["amount_fen"] == 2000

    def test_by_tids(self):
        m = b.merchant()
        tx(m, 1000, at(days_ago(1)), tid="AAAA0001")
        assert not is_cleared(m.pk, tids=["AAAA0001"]).cleared
        assert is_cleared(m.pk, tids=["BBBB0001"]).cleared

    def test_by_tids_settled_not_paid(self):
        m = b.merchant()
        tx(m, 1000, at(days_ago(3)), tid="AAAA0001")
        run(days_ago(3))
        assert codes(is_cleared(m.pk, tids=["AAAA0001"])) == ["settled_not_paid"]
        assert is_cleared(m.pk, tids=["BBBB0001"]).cleared
        run(days_ago(3) + timedelta(days=1))
        assert is_cleared(m.pk, tids=["AAAA0001"]).cleared


def test_yuan():
    assert yuan(12345) == "123.45" and yuan(5) == "0.05" and yuan(-100) == "-1.00"


def test_released_hold_of_delayed_merchant_shows_as_settled_unpaid_balance():
    m = b.merchant()
    t = tx(m, 100_000, at(days_ago(4)))
    with transaction.atomic():
        d = disputes.open_dispute(Actor.system(), DisputeInput(t.pk, "chargeback", "x"))
    run(days_ago(4))
    run(days_ago(3))  # paid, the dispute's amount kept back
    delayed(m)
    with transaction.atomic():
        disputes.resolve(Actor.system(), d.pk, "won", "ok")
    result = is_cleared(m.pk)
    assert codes(result) == ["settled_unpaid_balance"]
    assert result.reasons[0]["amount_fen"] == 100_000 - 600
