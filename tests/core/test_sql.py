"""core.sql: fixed statements on the driver's cursor, and times in the form Django stores them."""

from datetime import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from posfleet.core.sql import Statement, db_datetime, open_cursor, sqlite_now


def test_db_datetime_is_djangos_stored_form():
    tz8 = timezone.get_fixed_timezone(480)
    now = timezone.now()
    for at in (now, now.replace(microsecond=0), now.astimezone(tz8), datetime(2026, 11, 20, 10, 0)):
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        assert db_datetime(connection, at) == connection.ops.adapt_datetimefield_value(at)


@pytest.mark.django_db
def test_statements_on_an_open_cursor_are_seen_while_queries_are_logged():
    select = Statement("SELECT %s")
    with transaction.atomic():
        cursor = open_cursor(connection)
        try:
            assert select.run(cursor, connection.vendor, [1]).fetchone()[0] == 1
        finally:
            cursor.close()
        with CaptureQueriesContext(connection) as seen:
            cursor = open_cursor(connection)
            try:
                assert select.run(cursor, connection.vendor, [2]).fetchone()[0] == 2
            finally:
                cursor.close()
    assert len(seen.captured_queries) == 1


class _SQLite:
    vendor = "sqlite"


def test_sqlite_now_is_the_stored_form_of_now():
    """The answer's clock text sorts like Django's stored text of the same instant."""
    import re

    before = db_datetime(_SQLite(), timezone.now())
    text = sqlite_now()
    after = db_datetime(_SQLite(), timezone.now())
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", text), text
    assert before[:19] <= text[:19] <= after[:19]
    assert before.ljust(26, "0") <= text <= after.ljust(26, "0")
    # A whole second stored without its fraction sorts first, as the instant it is.
    assert "2026-11-27 10:00:00" < "2026-11-27 10:00:00.000000" < "2026-11-27 10:00:00.000001"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's insert path")
def test_insert_returning_ids_writes_what_bulk_create_would():
    from datetime import date

    from posfleet.core.sql import insert_returning_ids
    from posfleet.settlement.models import SettlementBatch, SettlementMode
    from tests import builders

    m = builders.merchant()
    now = timezone.now().astimezone(timezone.get_fixed_timezone(480))
    fields = dict(
        merchant_id=m.pk, business_date=date(2026, 11, 20), mode=SettlementMode.D0, payout_date=date(2026, 11, 20),
        transaction_count=3, gross_fen=2**40, net_fen=-5, card_last4="0128", created_at=now, late=True,
    )  # fmt: skip
    batches = [
        SettlementBatch(**fields),
        SettlementBatch(**fields | {"max_transaction_id": 9, "run_date": None}),
    ]
    with transaction.atomic(), CaptureQueriesContext(connection) as seen:
        insert_returning_ids(connection, batches)
    assert len(seen.captured_queries) == 1
    assert all(b.pk and not b._state.adding for b in batches) and batches[0].pk < batches[1].pk
    stored = SettlementBatch.objects.get(pk=batches[1].pk)
    for name, value in fields.items():
        assert getattr(stored, name) == value, name
    assert stored.max_transaction_id == 9 and stored.paid_at is None and stored.run_date is None
