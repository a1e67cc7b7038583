"""The answer and the worker read holds through an index, never by scanning the hold table.

Holds keep few indexes (migration lifecycle 0002), and a bulk hold links its terminals by narrow
rows keyed by terminal (0003); these plans are what those indexes are for. SQLite's EXPLAIN QUERY PLAN wording is stable; PostgreSQL
plans depend on statistics, so they are not pinned.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from posfleet.core.sql import db_datetime
from posfleet.lifecycle import eligibility
from posfleet.lifecycle.models import Hold

pytestmark = pytest.mark.django_db


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("plan wording is SQLite's")


def test_the_answer_finds_holds_by_index():
    stamp = db_datetime(connection, timezone.now())
    plan = _plan(eligibility._ANSWER.sql, [stamp] * 6 + ["12345678"])
    assert "SCAN" not in plan, plan
    assert "hold_terminal_idx" in plan, plan
    assert "hold_open_merchant_idx" in plan, plan
    assert "lifecycle_holdterminal" in plan and "PRIMARY KEY" in plan, plan


def test_the_worker_finds_holds_to_close_by_index():
    qs = Hold.objects.filter(closed=False, released_at__isnull=True, ends_at__lte=timezone.now()).order_by(
        "ends_at", "id"
    )
    sql, params = qs.query.sql_with_params()
    plan = _plan(sql, list(params))
    assert "SCAN lifecycle_hold" not in plan, plan
    assert "hold_to_close_idx" in plan, plan


def test_a_bulk_holds_terminals_are_found_by_the_hold_index():
    from posfleet.lifecycle.models import HoldTerminal

    qs = HoldTerminal.objects.filter(hold_id=1, released_at__isnull=True).order_by("terminal_id")
    sql, params = qs.values_list("terminal__tid", flat=True).query.sql_with_params()
    plan = _plan(sql, list(params))
    assert "holdterminal_hold_idx" in plan and "SCAN lifecycle_holdterminal" not in plan, plan
