import csv
import io
from datetime import timedelta

import pytest
from django.db import transaction

from posfleet.core.actor import Actor
from posfleet.core.errors import ValidationFailed
from posfleet.settlement.disputes import DisputeInput, open_dispute
from posfleet.settlement.services import run_settlement
from posfleet.settlement.statements import statement_csv, statement_rows
from tests import builders as b
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db


def run(day):
    with transaction.atomic():
        return run_settlement(Actor.system(), day)


class TestStatement:
    def test_rows_reconcile(self):
        m = b.merchant()
        d1, d2 = days_ago(5), days_ago(4)
        tx(m, 100_000, at(d1 - timedelta(days=1)))  # before the period: part of the opening balance
        run(d1 - timedelta(days=1))
        t = tx(m, 200_000, at(d1))
        tx(m, 10_000, at(d1, 12), type="refund")
        tx(m, 50_000, at(d2))
        with transaction.atomic():
            open_dispute(Actor.system(), DisputeInput(t.pk, "chargeback", "x", amount_fen=20_000))
        run(d1)
        run(d2)
        rows = statement_rows(m.pk, d1, days_ago(0))
        kinds = [r["kind"] for r in rows]
        assert kinds[0] == "opening_balance" and kinds[-1] == "closing_balance"
        assert kinds.count("transactions") == 2 and kinds.count("settlement") == 2  # day before is outside
        assert "payout" in kinds and "dispute" in kinds
        opening = rows[0]["balance_fen"]
        assert opening == 100_000 - 600
        day1 = next(r for r in rows if r["kind"] == "transactions" and r["date"] == d1.isoformat())
        assert day1["gross_fen"] == 200_000 and day1["refund_fen"] == 10_000 and day1["fee_fen"] == 1200
        paid = sum(r["payout_fen"] for r in rows if r["kind"] == "payout")
        net = sum(r["net_fen"] for r in rows if r["kind"] == "transactions")
        assert rows[-1]["balance_fen"] == opening + net - paid

    def test_csv(self):
        m = b.merchant()
        tx(m, 1000, at(days_ago(2)))
        text = statement_csv(m.pk, days_ago(2), days_ago(0))
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[0]["kind"] == "opening_balance" and rows[-1]["kind"] == "closing_balance"
        assert rows[-1]["amount_yuan"] == "9.94"

    def test_bad_period(self):
        m = b.merchant()
        with pytest.raises(ValidationFailed):
            statement_rows(m.pk, days_ago(1), days_ago(2))
        with pytest.raises(ValidationFailed):
            statement_rows(m.pk, days_ago(400), days_ago(1))


class TestWhoMayReadAStatement:
    def test_staff_with_view_money_and_the_merchants_own_login(self):
        from posfleet.settlement.statements import statement_for
        from tests.portal.builders import merchant_user

        m = b.merchant()
        day = days_ago(1)
        name, body = statement_for(b.actor("finance"), m.pk, day, day)
        assert name == f"statement-{m.pk}-{day}-{day}.csv" and body.startswith("date,")
        own = Actor.for_user(merchant_user(m), "portal")
        assert statement_for(own, m.pk, day, day)[1] == body

    def test_refused_to_others_and_without_both_dates(self):
        from posfleet.core.errors import NotFound, PermissionDenied
        from posfleet.settlement.statements import statement_for
        from tests.portal.builders import merchant_user

        m = b.merchant()
        day = days_ago(1)
        with pytest.raises(PermissionDenied):
            statement_for(b.actor("technician"), m.pk, day, day)
        other = Actor.for_user(merchant_user(), "portal")
        with pytest.raises(NotFound):
            statement_for(other, m.pk, day, day)
        with pytest.raises(ValidationFailed):
            statement_for(b.actor("finance"), m.pk, day, None)


def test_the_stream_checks_everything_before_the_first_line_and_gives_the_same_text():
    from posfleet.core.errors import NotFound
    from posfleet.settlement.statements import statement_stream

    m = b.merchant()
    staff = b.actor("finance")
    name, lines = statement_stream(staff, m.pk, days_ago(2), days_ago(0))
    assert name.endswith(".csv") and "".join(lines) == statement_csv(m.pk, days_ago(2), days_ago(0))
    with pytest.raises(ValidationFailed):
        statement_stream(staff, m.pk, days_ago(0), None)
    with pytest.raises(NotFound):
        statement_stream(staff, 999_999, days_ago(2), days_ago(0))


def test_the_biggest_merchants_statement_streams_a_line_per_day_whatever_its_transactions():
    """Memory and queries do not grow with the merchant's transactions: the day's rows are summed in
    the database (one line per day), and nothing is read before the first line is asked for."""
    from collections.abc import Iterator

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from posfleet.money.models import Transaction
    from posfleet.settlement.statements import statement_stream

    m = b.merchant()
    staff = b.actor("finance")
    day = days_ago(2)
    tx(m, 1_000, at(day))

    def read() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as opened:
            _name, lines = statement_stream(staff, m.pk, day, days_ago(1))
        assert isinstance(lines, Iterator) and not isinstance(lines, list | str)
        assert not any("money_transaction" in q["sql"] for q in opened.captured_queries)
        with CaptureQueriesContext(connection) as streamed:
            out = list(lines)
        return out, len(streamed)

    few, few_queries = read()
    Transaction.objects.bulk_create(
        Transaction(
            switch_id=f"BIG{i:08d}",
            tid="T0000001",
            merchant_id=m.pk,
            channel="credit",
            type="sale",
            amount_fen=1_000,
            occurred_at=at(day, 11),
            business_date=day,
            fee_fen=6,
            net_fen=994,
            rate_plan_code="STANDARD",
            rate_bp=60,
        )
        for i in range(500)
    )
    many, many_queries = read()
    assert len(many) == len(few) and many_queries == few_queries
    rows = list(csv.DictReader(io.StringIO("".join(many))))
    assert rows[0]["kind"] == "opening_balance" and rows[-1]["kind"] == "closing_balance"
    assert [r["count"] for r in rows if r["kind"] == "transactions"] == ["501"]
