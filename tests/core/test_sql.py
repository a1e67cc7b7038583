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
