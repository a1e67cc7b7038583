"""The list queries behind GET /terminals use an index for every filter (no scan of a million rows).

SQLite's EXPLAIN QUERY PLAN is checked (stable wording); PostgreSQL plans depend on statistics.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q

from posfleet.registry.models import Terminal

pytestmark = pytest.mark.django_db


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize(
    "filters",
    [
        Q(state="active"),
        Q(merchant_id=3),
        Q(model__name="P2000"),
        Q(tid__gte="AB", tid__lt="AC") | Q(sn="AB"),
    ],
)
def test_terminal_list_filters_use_an_index(filters):
    if connection.vendor != "sqlite":
        pytest.skip("plan wording is SQLite's")
    qs = Terminal.objects.select_related("model").filter(filters, id__gt=5).order_by("id")[:51]
    plan = _plan(qs)
    assert "SCAN registry_terminal" not in plan, plan
    assert "registry_terminal USING" in plan, plan
