"""No transaction stranded: a day is settled only once it has ended, and a transaction that arrives
for a day already settled is settled by the next run as a late item (batch, statement, outstanding)."""

from datetime import datetime, time, timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from posfleet.core.errors import ValidationFailed
from posfleet.money.ingest import ingest
from posfleet.money.ledger import balances
from posfleet.money.models import INSTITUTION_TZ, Transaction
from posfleet.settlement import settled
from posfleet.settlement.models import BatchState
from posfleet.settlement.outstanding import is_cleared
from posfleet.settlement.services import run_settlement
from posfleet.settlement.statements import statement_rows
from tests import builders as b
from tests.money.builders import item
from tests.settlement.builders import at, d0, days_ago, tx

pytestmark = pytest.mark.django_db


def run(day):
    with transaction.atomic():
        return run_settlement(b.actor("finance"), day)


def codes(merchant_id):
    return {r["code"]: r for r in is_cleared(merchant_id).reasons}


def test_late_transaction_goes_into_the_next_run():
    """The late-transaction test: ingested (through the API's ingest) after its day was settled, it is
    `created`, shown by outstanding, then settled by the next day's run in a late batch."""
    t = b.terminal()
    m = t.merchant
    day = days_ago(3)
    with transaction.atomic():
        [on_time] = ingest(b.actor("finance"), [item(t.tid, amount_fen=100_000, occurred_at=at(day, 10))])
    [first] = run(day).created
    assert not first.late and first.run_date == day

    with transaction.atomic():
        [late] = ingest(b.actor("finance"), [item(t.tid, amount_fen=50_000, occurred_at=at(day, 23, 50))])
    assert late.status == "created"
    assert codes(m.pk)["late_transactions"]["count"] == 1
    assert codes(m.pk)["late_transactions"]["amount_fen"] == late.net_fen

    nxt = day + timedelta(days=1)
    result = run(nxt)
    [batch] = [x for x in result.created if x.late]
    assert (batch.business_date, batch.run_date, batch.merchant_id) == (day, nxt, m.pk)
    assert (batch.transaction_count, batch.gross_fen, batch.net_fen) == (1, 50_000, late.net_fen)
    assert batch.payout_date == nxt + timedelta(days=1)  # T+1 from the run that settled it
    assert "late_transactions" not in codes(m.pk)
    assert not settled.unsettled(Transaction.objects.filter(merchant=m)).exists()
    tx_row = settled.with_settlement(Transaction.objects.filter(pk=late.transaction_id)).get()
    assert tx_row.settlement_batch_id == batch.pk
    assert [x.pk for x in settled.of_batch(first)] == [on_time.transaction_id]
    assert [x.pk for x in settled.of_batch(batch)] == [late.transaction_id]
    assert balances(m.pk).unsettled_fen == 0
    assert balances(m.pk).settled_unpaid_fen == late.net_fen  # the on-time batch was paid on nxt
    first.refresh_from_db()
    assert first.state == BatchState.PAID and batch.state == BatchState.SETTLED

    rows = statement_rows(m.pk, day, nxt)
    late_rows = [r for r in rows if r["kind"] == "late_settlement"]
    assert len(late_rows) == 1 and late_rows[0]["date"] == day.isoformat()
    assert late_rows[0]["net_fen"] == late.net_fen and "late" in late_rows[0]["memo"]
    assert [r["kind"] for r in rows].count("settlement") == 1

    again = run(nxt)
    assert not again.created  # nothing left to settle


def test_late_items_of_a_d0_merchant_are_paid_by_the_run_that_settles_them():
    m = b.merchant()
    d0(m)
    day = days_ago(4)
    tx(m, 10_000, at(day))
    run(day)
    tx(m, 20_000, at(day, 15))
    result = run(day + timedelta(days=2))
    [batch] = result.created
    assert batch.late and batch.payout_date == day + timedelta(days=2)
    assert batch.pk in {x.pk for x in result.paid}
    batch.refresh_from_db()
    assert batch.state == BatchState.PAID


def test_a_day_not_yet_run_is_not_swept_as_late():
    m = b.merchant()
    day = days_ago(3)
    tx(m, 10_000, at(day))
    tx(m, 30_000, at(day - timedelta(days=1)))  # that day never ran: waits for its own run
    run(day)
    assert "late_transactions" not in codes(m.pk)
    assert codes(m.pk)["unsettled_transactions"]["count"] == 1
    [batch] = run(day - timedelta(days=1)).created
    assert not batch.late and batch.gross_fen == 30_000


def test_late_items_of_several_days_and_merchants_in_one_run():
    m, n = b.merchant(), b.merchant()
    d1, d2 = days_ago(5), days_ago(4)
    tx(m, 1_000, at(d1))
    tx(n, 2_000, at(d2))
    run(d1)
    run(d2)
    tx(m, 10, at(d1, 12))
    tx(m, 20, at(d2, 12))
    tx(n, 30, at(d1, 12))
    tx(m, 40, at(d1, 13))
    created = run(days_ago(3)).created
    got = sorted(
        (x.merchant_id, x.business_date, x.transaction_count, x.gross_fen) for x in created if x.late
    )
    assert got == sorted([(m.pk, d1, 2, 50), (m.pk, d2, 1, 20), (n.pk, d1, 1, 30)])
    assert not settled.unsettled(Transaction.objects.all()).exists()


class TestCutOff:
    def test_today_and_later_are_refused(self):
        for n in (0, -1, -30):
            with pytest.raises(ValidationFailed) as exc:
                run(days_ago(n))
            assert exc.value.code == "day_not_ended"
            assert "ended" in str(exc.value.message) or "结束" in str(exc.value.message)

    def test_yesterday_after_the_cut_off(self):
        m = b.merchant()
        tx(m, 100, at(days_ago(1)))
        assert run(days_ago(1)).created

    @override_settings(POSFLEET_SETTLEMENT_CUTOFF="01:00")
    def test_configured_cut_off(self, monkeypatch):
        day = days_ago(5)
        opens = datetime.combine(day + timedelta(days=1), time(1, 0), tzinfo=INSTITUTION_TZ)
        monkeypatch.setattr(timezone, "now", lambda: opens - timedelta(minutes=1))
        with pytest.raises(ValidationFailed):
            run(day)
        monkeypatch.setattr(timezone, "now", lambda: opens)
        assert run(day).business_date == day


def test_a_day_settled_while_the_table_was_empty_still_gets_its_late_items():
    m = b.merchant()
    day = days_ago(4)
    assert not run(day).created  # nothing ingested at all yet: the run's mark is 0
    tx(m, 70, at(day))
    [batch] = run(days_ago(3)).created
    assert batch.late and batch.business_date == day and batch.gross_fen == 70
