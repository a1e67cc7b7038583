"""The dashboard's morning numbers: each links to its list, only for roles that may open it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from posfleet.cases.models import Case
from posfleet.console import morning
from tests import builders
from tests.cases import builders as cb

pytestmark = pytest.mark.django_db


def _cards(role):
    return {c.key: c for c in morning.cards(builders.user(role=role))}


def test_cases_waiting_and_overdue_for_reviewers():
    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    case = cb.file(kind="deactivation", merchant_id=m.pk, terminals=[t.tid])
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(days=3))
    cards = _cards("reviewer")
    assert cards["cases_waiting"].value == "1" and cards["cases_overdue"].value == "1"
    assert cards["cases_overdue"].alert and "state=submitted" in cards["cases_overdue"].url
    assert "cases_waiting" not in _cards("technician")  # not a reviewer: not their queue


def test_money_and_fleet_numbers_with_trends_for_finance_and_admin():
    cards = _cards("admin")
    assert {"disputes_open", "volume_today", "settlement_held", "refused_today", "returns_waiting"} <= set(
        cards
    )
    assert len(cards["volume_today"].trend) == 30 and len(cards["refused_today"].trend) == 30
    assert cards["returns_waiting"].url.endswith("?state=deactivated")


def test_the_dashboard_loads_the_cards(staff_client, django_assert_max_num_queries):
    assert "/console/morning/" in staff_client.get("/console/").content.decode()
    with django_assert_max_num_queries(16):
        body = staff_client.get("/console/morning/").content.decode()
    assert 'id="card-volume_today"' in body and 'id="card-cases_waiting"' in body
