"""The ingest rules of `validation`, through `ingest` (the API's path) and the clearing file: a sane
time window, refunds against their original sale, text that every database stores alike."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from posfleet.money import ledger
from posfleet.money.ingest import ingest
from posfleet.money.models import Transaction
from posfleet.money.validation import _sales_and_refunded
from posfleet.registry.models import Terminal
from tests import builders
from tests.money.builders import item

pytestmark = pytest.mark.django_db


def run(items):
    with transaction.atomic():
        return ingest(builders.actor("finance"), items)


@pytest.fixture
def term():
    return builders.terminal()


class TestTimeWindow:
    @pytest.mark.parametrize(
        "at", ["0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00", "1999-12-31T23:59:59+08:00"]
    )
    def test_absurdly_old_time_is_refused(self, term, at):
        [r] = run([item(term.tid, occurred_at=at)])
        assert r.status == "error"
        assert r.error["code"] in ("invalid_time", "before_terminal")
        assert Transaction.objects.count() == 0

    def test_before_the_terminal_was_registered(self, term):
        registered = timezone.now() - timedelta(days=10)
        Terminal.objects.filter(pk=term.pk).update(created_at=registered)
        early, fine = run(
            [
                item(term.tid, occurred_at=registered - timedelta(hours=1)),
                item(term.tid, occurred_at=registered + timedelta(hours=1)),
            ]
        )
        assert early.error["code"] == "before_terminal"
        assert "registered" in early.error["message"]
        assert fine.status == "created"

    def test_future_beyond_clock_skew(self, term):
        ahead, skewed = run(
            [
                item(term.tid, occurred_at=timezone.now() + timedelta(minutes=30)),
                item(term.tid, occurred_at=timezone.now() + timedelta(minutes=2)),
            ]
        )
        assert ahead.error["code"] == "invalid_time"
        assert skewed.status == "created"


class TestRefundNeedsItsSale:
    def test_huge_refund_without_sale_is_refused(self, term):
        [r] = run([item(term.tid, type="refund", amount_fen=10**12, original_id="NOSUCHSALE")])
        assert r.status == "error" and r.error["code"] == "unknown_original"
        assert ledger.balances(term.merchant_id).unsettled_fen == 0

    def test_refund_without_original_id(self, term):
        [r] = run([item(term.tid, type="refund", amount_fen=100)])
        assert r.error["code"] == "missing_original"

    def test_sale_with_original_id(self, term):
        [r] = run([item(term.tid, original_id="X1")])
        assert r.error["code"] == "invalid_original"

    def test_refunds_stay_within_the_sale_across_calls(self, term):
        run([item(term.tid, amount_fen=10_000, switch_id="S1")])
        first, second = run(
            [
                item(term.tid, type="refund", amount_fen=6_000, original_id="S1"),
                item(term.tid, type="refund", amount_fen=4_001, original_id="S1"),
            ]
        )
        assert first.status == "created"
        assert second.error["code"] == "refund_exceeds_sale"
        [third] = run([item(term.tid, type="reversal", amount_fen=4_000, original_id="S1")])
        assert third.status == "created"
        [fourth] = run([item(term.tid, type="refund", amount_fen=1, original_id="S1")])
        assert fourth.error["code"] == "refund_exceeds_sale"

    def test_resent_refund_is_a_duplicate_not_an_excess(self, term):
        sale = item(term.tid, amount_fen=10_000, switch_id="S2")
        refund = item(term.tid, type="refund", amount_fen=10_000, original_id="S2")
        run([sale, refund])
        assert [r.status for r in run([sale, refund])] == ["duplicate", "duplicate"]

    def test_sale_of_another_merchant(self, term):
        other = builders.terminal()
        run([item(other.tid, amount_fen=10_000, switch_id="S3")])
        [r] = run([item(term.tid, type="refund", amount_fen=100, original_id="S3")])
        assert r.error["code"] == "original_other_merchant"

    def test_refund_before_its_sale(self, term):
        now = timezone.now()
        run([item(term.tid, amount_fen=10_000, switch_id="S4", occurred_at=now)])
        [r] = run(
            [
                item(
                    term.tid,
                    type="refund",
                    amount_fen=100,
                    original_id="S4",
                    occurred_at=now - timedelta(hours=1),
                )
            ]
        )
        assert r.error["code"] == "refund_before_sale"

    def test_refund_of_a_refund(self, term):
        run([item(term.tid, amount_fen=10_000, switch_id="S5")])
        run([item(term.tid, type="refund", amount_fen=100, original_id="S5", switch_id="R5")])
        [r] = run([item(term.tid, type="refund", amount_fen=100, original_id="R5")])
        assert r.error["code"] == "unknown_original"

    def test_sale_and_refund_in_one_chunk(self, term):
        results = run(
            [
                item(term.tid, amount_fen=10_000, switch_id="S6"),
                item(term.tid, type="refund", amount_fen=10_000, original_id="S6"),
                item(term.tid, type="refund", amount_fen=1, original_id="S6"),
            ]
        )
        assert [r.status for r in results] == ["created", "created", "error"]
        assert Transaction.objects.get(type="refund").original_switch_id == "S6"


class TestText:
    @pytest.mark.parametrize(
        "change",
        [
            {"id": "A\x00B"},
            {"tid": "T\x00"},
            {"occurred_at": "2026-11-20T10:00:00+08:00\x00"},
            {"original_id": "\x00"},
        ],
    )
    def test_nul_is_refused_alike_on_every_database(self, term, change):
        good = item(term.tid)
        [r_good, r_bad] = run([good, {**item(term.tid), **change}])
        assert r_good.status == "created"
        assert r_bad.error["code"] == "invalid_character"
        assert Transaction.objects.count() == 1

    def test_lone_surrogate_is_refused(self, term):
        [r] = run([{**item(term.tid), "id": "A\ud800"}])
        assert r.error["code"] == "invalid_encoding"

    def test_overlong_field(self, term):
        [r] = run([{**item(term.tid), "tid": "T" * 200_000}])
        assert r.error["code"] == "field_too_long"
        assert len(r.error["message"]) < 200


def test_the_refunded_sums_read_the_original_sale_index():
    """The sum of earlier refunds per sale walks `tx_original_idx` (partial: only refunds and reversals
    are in it), never the whole table, however many sales a chunk names (PostgreSQL proves a partial
    index's condition from a list of at most 100 values by itself)."""
    originals = [f"SALE{n:05d}" for n in range(300)]
    with CaptureQueriesContext(connection) as seen:
        _sales_and_refunded(originals)
    sql = next(q["sql"] for q in seen.captured_queries if "SUM(" in q["sql"].upper())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # the index path, even on a few rows
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        text = "\n".join(str(row) for row in cursor.fetchall())
    assert "tx_original_idx" in text
