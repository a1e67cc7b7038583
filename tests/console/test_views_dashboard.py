"""The dashboard's terminals per state: exact below ESTIMATE_ABOVE, the same numbers as a GROUP BY."""

import pytest
from django.db import connection
from django.db.models import Count

from posfleet.console.views_dashboard import state_counts
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from tests import builders

pytestmark = pytest.mark.django_db


def test_state_counts_are_exact_and_name_every_state(django_assert_num_queries):
    for state, n in (
        (TerminalState.ACTIVE, 3),
        (TerminalState.IN_STOCK, 2),
        (TerminalState.IN_REPAIR, 1),
        (TerminalState.RETIRED, 1),
    ):
        for _i in range(n):
            builders.terminal(state)
    grouped = dict(Terminal.objects.order_by().values_list("state").annotate(n=Count("id")))
    # PostgreSQL first reads its statistics' row estimate (below ESTIMATE_ABOVE it counts)
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 1):
        counts, estimated = state_counts()
    assert not estimated
    assert set(counts) == {s.value for s in TerminalState}
    assert counts == {s.value: grouped.get(s.value, 0) for s in TerminalState}
    assert counts[TerminalState.ACTIVE] == 3 and counts[TerminalState.DEACTIVATED] == 0


def test_an_empty_fleet_counts_zero_everywhere():
    counts, _estimated = state_counts()
    assert set(counts.values()) == {0}
