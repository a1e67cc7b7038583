from datetime import timedelta

import pytest
from django.db import connection, transaction

from posfleet.core.errors import PermissionDenied, StepUpRequired, ValidationFailed
from posfleet.money.ledger import balances
from posfleet.money.models import Transaction
from posfleet.settlement import settled
from posfleet.settlement.models import BatchState, SettlementBatch, SettlementProfile
from posfleet.settlement.services import run_settlement
from tests import builders as b
from tests.settlement.builders import at, d0, days_ago, delayed, tx

pytestmark = pytest.mark.django_db


def run(day, actor=None):
    with transaction.atomic():
        return run_settlement(actor or b.actor("finance"), day)


class TestProfile:
    def test_created_with_merchant_t1_by_default(self):
        m = b.merchant()
        assert SettlementProfile.objects.get(merchant=m).mode == "T1"


class TestRunSettlement:
    def test_totals_of_the_day_only(self):
        m = b.merchant()
        day = days_ago(3)
        tx(m, 1_000_000, at(day, 0, 0))  # fee 6000
        tx(m, 50_000, at(day, 23, 59))  # fee 300
        tx(m, 20_000, at(day, 15), type="refund")  # fee 0
        tx(m, 10_000, at(day, 16), type="reversal")  # fee -60
        tx(m, 777, at(day - timedelta(days=1), 23, 59))  # previous day
        tx(m, 888, at(day + timedelta(days=1), 0, 0))  # next day
        result = run(day)
        [batch] = result.created
        assert batch.transaction_count == 4
        assert batch.gross_fen == 1_050_000
        assert batch.refund_fen == 30_000
        assert batch.fee_fen == 6000 + 300 - 60
        assert batch.net_fen == 1_050_000 - 30_000 - 6240
        assert batch.net_fen == sum(t.net_fen for t in settled.of_batch(batch))
        assert batch.card_last4 == "0128"
        assert settled.unsettled(Transaction.objects.all()).count() == 2
        rows = settled.with_settlement(settled.of_batch(batch))
        assert {(t.settlement_batch_id, t.settled_at) for t in rows} == {(batch.pk, batch.created_at)}

    def test_t1_paid_by_next_days_run(self):
        m = b.merchant()
        day = days_ago(3)
        tx(m, 100_000, at(day))
        [batch] = run(day).created
        assert batch.state == BatchState.SETTLED
        assert batch.payout_date == day + timedelta(days=1)
        assert balances(m.pk).settled_unpaid_fen == batch.net_fen
        assert balances(m.pk).unsettled_fen == 0
        result = run(day + timedelta(days=1))
        assert [p.pk for p in result.paid] == [batch.pk]
        batch.refresh_from_db()
        assert batch.state == BatchState.PAID and batch.payout_fen == batch.net_fen
        assert balances(m.pk).settled_unpaid_fen == 0

    def test_d0_paid_in_the_same_run(self):
        m = b.merchant()
        d0(m)
        day = days_ago(2)
        tx(m, 100_000, at(day))
        [batch] = run(day).created
        assert batch.mode == "D0" and batch.payout_date == day
        assert batch.state == BatchState.PAID
        assert balances(m.pk).settled_unpaid_fen == 0

    def test_running_twice_changes_nothing(self):
        m, other = b.merchant(), b.merchant()
        day = days_ago(2)
        tx(m, 100_000, at(day))
        tx(other, 5_000, at(day))
        first = run(day)
        bal = balances(m.pk)
        second = run(day)
        assert not second.created and second.already_settled
        assert sorted(x.pk for x in second.batches) == sorted(x.pk for x in first.created)
        assert SettlementBatch.objects.count() == 2
        assert balances(m.pk) == bal

    def test_delayed_merchant_is_held_then_paid_after_release(self):
        from posfleet.settlement.profiles import set_profile

        m = b.merchant()
        delayed(m)
        day = days_ago(3)
        tx(m, 100_000, at(day))
        [batch] = run(day).created
        assert batch.state == BatchState.HELD
        run(day + timedelta(days=1))
        batch.refresh_from_db()
        assert batch.state == BatchState.HELD
        assert balances(m.pk).settled_unpaid_fen == batch.net_fen
        with transaction.atomic():
            set_profile(b.actor("risk"), m.pk, delayed=False, reason="cleared by risk")
        run(day + timedelta(days=2))
        batch.refresh_from_db()
        assert batch.state == BatchState.PAID
        assert balances(m.pk).settled_unpaid_fen == 0

    def test_negative_net_becomes_amount_due(self):
        m = b.merchant()
        day = days_ago(2)
        tx(m, 5_000, at(day), type="refund")
        [batch] = run(day).created
        assert batch.net_fen == -5_000 and batch.payout_fen == 0
        assert balances(m.pk).amount_due_fen == 5_000
        assert balances(m.pk).unsettled_fen == 0

    def test_rerun_of_a_settled_day_settles_its_late_items(self):
        """Running a settled day again is not `already_settled` while a late item of it waits."""
        m = b.merchant()
        day = days_ago(2)
        tx(m, 100, at(day))
        [_first] = run(day).created
        late = tx(m, 200, at(day, 11))
        result = run(day)
        assert not result.already_settled
        [second] = result.created
        assert (second.late, second.business_date, second.run_date) == (True, day, day)
        assert (second.transaction_count, second.gross_fen) == (1, 200)
        assert (
            settled.with_settlement(Transaction.objects.filter(pk=late.pk)).get().settlement_batch_id
            == second.pk
        )
        assert not settled.unsettled(Transaction.objects.all()).exists()
        assert run(day).already_settled

    def test_batch_covers_its_merchants_day_up_to_the_high_water_mark(self):
        from posfleet.settlement.outstanding import is_cleared

        m, other = b.merchant(), b.merchant()
        day = days_ago(2)
        tx(m, 100_000, at(day))
        [first] = run(day).created
        late = tx(m, 200_000, at(day, 11))  # m's day was settled: a late item
        newcomer = tx(other, 300_000, at(day, 12))  # other had no batch for the day yet: late too
        reasons = {r["code"]: r for r in is_cleared(m.pk).reasons}
        assert reasons["late_transactions"]["count"] == 1
        assert reasons["late_transactions"]["amount_fen"] == late.net_fen
        assert "unsettled_transactions" not in reasons
        second, third = sorted(run(day).created, key=lambda x: x.merchant_id)
        assert (second.merchant_id, second.transaction_count, second.gross_fen) == (m.pk, 1, 200_000)
        assert (third.merchant_id, third.transaction_count, third.gross_fen) == (other.pk, 1, 300_000)
        assert second.late and third.late
        assert first.max_transaction_id < late.pk <= second.max_transaction_id
        assert newcomer.pk <= third.max_transaction_id
        assert not settled.unsettled(Transaction.objects.all()).exists()
        assert [t.pk for t in settled.of_batch(first)] == [first.max_transaction_id]
        assert [t.pk for t in settled.of_batch(second)] == [late.pk]
        assert is_cleared(other.pk).reasons == [
            r for r in is_cleared(other.pk).reasons if r["code"] == "settled_not_paid"
        ]

    def test_needs_permission_and_step_up(self):
        with pytest.raises(PermissionDenied):
            run(days_ago(1), b.actor("agent"))
        with pytest.raises(StepUpRequired):
            run(days_ago(1), b.actor("finance", stepped_up=False))

    @pytest.mark.parametrize("raw", ["2026-13-01", "yesterday", "", None])
    def test_bad_date(self, raw):
        with pytest.raises(ValidationFailed):
            run(raw)

    def test_future_date_refused(self):
        with pytest.raises(ValidationFailed):
            run(days_ago(-2))

    def test_audited(self):
        from posfleet.audit.models import AuditEvent

        m = b.merchant()
        day = days_ago(2)
        tx(m, 100, at(day))
        [batch] = run(day).created
        assert AuditEvent.objects.filter(object_type="settlement_batch", object_id=str(batch.pk)).exists()


def _statements_of_a_run(merchants: int) -> int:
    """Statements of a run that settles `merchants` merchants' day and pays their day before."""
    from django.test.utils import CaptureQueriesContext

    day = days_ago(3)
    for _ in range(merchants):
        m = b.merchant()
        tx(m, 100_000, at(day - timedelta(days=1)))
        tx(m, 50_000, at(day))
    run(day - timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        result = run(day)
    assert len(result.created) == len(result.paid) == merchants
    return len(queries)


# The batches, their journals and their audit events are written for all merchants at once: a
# run's statements do not grow with its merchants. Lower these when a run needs fewer.
RUN_STATEMENTS = {"postgresql": 44, "sqlite": 43}


@pytest.mark.parametrize("merchants", [2, 6])
def test_a_runs_statements_do_not_grow_with_its_merchants(merchants):
    assert _statements_of_a_run(merchants) == RUN_STATEMENTS[connection.vendor]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row-level concurrency is PostgreSQL's")
def test_run_waits_for_an_ingest_in_flight_and_counts_it():
    """An ingest that drew its id before the run but commits after it must not end up below the run's
    high-water mark uncounted: the run's table lock waits for it, then counts it."""
    import threading

    m = b.merchant()
    day = days_ago(2)
    tx(m, 100_000, at(day))
    inserted, release = threading.Event(), threading.Event()
    out: dict[str, object] = {}

    def ingest_slowly() -> None:
        try:
            with transaction.atomic():
                out["tx"] = tx(m, 50_000, at(day, 13))
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def settle() -> None:
        try:
            out["result"] = run(day)
        finally:
            connection.close()

    writer = threading.Thread(target=ingest_slowly)
    writer.start()
    assert inserted.wait(10)
    settler = threading.Thread(target=settle)
    settler.start()
    settler.join(0.5)
    assert settler.is_alive()  # waiting for the ingest's transaction
    release.set()
    writer.join(10)
    settler.join(10)
    [batch] = out["result"].created  # type: ignore[attr-defined]
    assert batch.transaction_count == 2 and batch.gross_fen == 150_000
    assert batch.max_transaction_id >= out["tx"].pk  # type: ignore[attr-defined]
