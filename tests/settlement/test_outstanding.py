from datetime import timedelta

import pytest
from django.db import transaction

from posfleet.core.actor import Actor
from posfleet.money.ledger import charge
from posfleet.money.models import Transaction
from posfleet.settlement import disputes, settled
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

    def test_a_day_in_two_batches_with_a_late_row_left(self):
        """Unsettled rows are the day's rows less those its batches (on-time and late) cover."""
        m = b.merchant()
        d0(m)
        day = days_ago(4)
        tx(m, 1000, at(day), tid="AAAA0001")
        run(day)  # on-time batch
        tx(m, 2000, at(day, 11), tid="AAAA0001")
        run(day + timedelta(days=1))  # late batch of `day`
        left = tx(m, 3000, at(day, 12), tid="BBBB0001")
        recent = tx(m, 5000, at(days_ago(1)), tid="AAAA0001")
        rows = settled.unsettled_per_day(m.pk)
        assert sorted(rows) == [(day, 1, left.net_fen, True), (days_ago(1), 1, recent.net_fen, False)]
        # the same rows as the ORM's rule (`unsettled`, a NOT EXISTS per row)
        rule = settled.unsettled(Transaction.objects.filter(merchant_id=m.pk))
        assert sorted(rule.values_list("pk", flat=True)) == sorted([left.pk, recent.pk])
        assert settled.unsettled_per_day(m.pk, ["BBBB0001"]) == [(day, 1, left.net_fen, True)]
        assert settled.unsettled_per_day(m.pk, []) == []
        reasons = {r["code"]: r for r in is_cleared(m.pk).reasons}
        assert (reasons["late_transactions"]["count"], reasons["late_transactions"]["amount_fen"]) == (
            1,
            left.net_fen,
        )
        assert (
            reasons["unsettled_transactions"]["count"],
            reasons["unsettled_transactions"]["amount_fen"],
        ) == (
            1,
            recent.net_fen,
        )
        by_tid = {r["code"]: r["count"] for r in is_cleared(m.pk, tids=["AAAA0001"]).reasons}
        assert by_tid == {"unsettled_transactions": 1}
        assert codes(is_cleared(m.pk, tids=["BBBB0001"])) == ["late_transactions"]

    def test_query_count_does_not_grow_with_rows(self, django_assert_num_queries):
        m = b.merchant()
        for i in range(5):
            tx(m, 1000 + i, at(days_ago(2 + i % 2)))
        run(days_ago(3))
        with django_assert_num_queries(5):
            assert codes(is_cleared(m.pk)) == ["unsettled_transactions", "settled_not_paid"]
        with django_assert_num_queries(3):
            is_cleared(m.pk, tids=["T0000001"])


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
