"""PostgreSQL plans of the hot statements: each is served by its index (never a scan of a big table).

`enable_seqscan = off` makes the planner show the best index path even on a test database of a few rows;
what is checked is that such a path exists: the index the statement was written for."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.money.models import DayTotal, Transaction, for_days
from posfleet.registry.models import Terminal

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans"),
]


@pytest.fixture(autouse=True)
def _no_seqscan():
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_seqscan")


def plan(qs) -> str:
    return qs.explain()


def test_settlement_aggregate_reads_only_the_covering_index():
    day = timezone.localdate()
    qs = for_days(day, day).values("merchant_id", "type").annotate(n=Count("id"), s=Sum("net_fen"))
    text = plan(qs.order_by())
    assert "tx_merchant_day_idx" in text and "Seq Scan on money_transaction" not in text


def test_a_merchants_transactions_walk_its_index_range():
    qs = Transaction.objects.filter(
        merchant_id=1, business_date__gte=timezone.localdate() - timedelta(days=30)
    )
    assert "tx_merchant_day_idx" in plan(qs.order_by("-business_date")[:50])


def test_the_last_flagged_rows_come_from_their_partial_index():
    assert "tx_flagged_id_idx" in plan(Transaction.objects.filter(flagged=True).order_by("-id")[:20])


def test_charts_read_the_rollups():
    day = timezone.localdate()
    text = plan(DayTotal.objects.filter(business_date__range=(day - timedelta(days=29), day)))
    assert "daytotal_day_bucket" in text and "money_transaction" not in text


def test_ingest_deduplicates_on_the_switch_id_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN INSERT INTO money_transaction (switch_id, tid, merchant_id, channel, type, amount_fen, "
            "occurred_at, business_date, fee_fen, net_fen, rate_plan_code, rate_bp, flagged, flag_reasons, "
            "ingested_at) VALUES ('X', 'T', 1, 'credit', 'sale', 1, now(), current_date, 0, 1, 'S', 0, false, "
            "'[]', now()) ON CONFLICT (switch_id) DO NOTHING"
        )
        text = "\n".join(r[0] for r in cursor.fetchall())
    assert "Conflict Arbiter Indexes: tx_switch_id_unique" in text


def test_terminal_list_by_state_pages_on_its_index():
    assert "terminal_state_idx" in plan(Terminal.objects.filter(state="active").order_by("-id")[:50])


def test_terminal_list_by_tid_prefix_is_a_range():
    text = plan(Terminal.objects.filter(tid__gte="2001", tid__lt="2002").order_by("tid")[:50])
    assert "Index" in text and "tid" in text


def test_audit_by_object_uses_its_index():
    qs = AuditEvent.objects.filter(object_type="terminal", object_id="10000001").order_by("-seq")[:50]
    assert "audit_object_idx" in plan(qs)


def test_merchant_search_uses_the_trigram_index():
    from posfleet.registry.models import Merchant

    assert "merchant_name_trgm" in plan(Merchant.objects.filter(name__icontains="便利店").order_by())


def test_dashboard_estimates_state_counts_from_statistics_on_a_large_fleet(monkeypatch):
    from posfleet.console import views_dashboard
    from tests import builders

    for _i in range(3):
        builders.terminal()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_terminal")
    monkeypatch.setattr(views_dashboard, "ESTIMATE_ABOVE", 0)
    counts, estimated = views_dashboard.state_counts()
    assert estimated and sum(counts.values()) == Terminal.objects.count()


def test_no_jit_compiles_a_console_statement():
    """A page's statement is never compiled: compiling cost more than the work it was to speed up."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_a_merchants_unsettled_rows_are_an_anti_join_on_its_index_range():
    from django.test.utils import CaptureQueriesContext

    from posfleet.settlement import settled

    with CaptureQueriesContext(connection) as ctx:
        settled.unsettled_per_day(1)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + ctx.captured_queries[0]["sql"])
        text = "\n".join(r[0] for r in cursor.fetchall())
    assert "Anti Join" in text and "tx_merchant_day_idx" in text
    assert "Seq Scan on money_transaction" not in text
