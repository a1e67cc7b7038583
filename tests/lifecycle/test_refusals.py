"""After a stop: refused attempts since the stop, and one alert per terminal per day for a device that is
stopped for good and keeps trying."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.core.errors import Conflict, PermissionDenied
from posfleet.lifecycle import refusals
from posfleet.lifecycle.eligibility import answer_and_count
from posfleet.lifecycle.holds import place_hold
from posfleet.lifecycle.models import DeviceAlert, RefusedAttempt
from posfleet.registry.models import Merchant, Terminal
from tests import builders

pytestmark = pytest.mark.django_db


def attempts(tid, n):
    for _ in range(n):
        answer_and_count(tid)


class TestSinceTheStop:
    def test_none_while_it_may_transact(self):
        t = builders.terminal()
        attempts(t.tid, 1)
        assert refusals.refusals_since_stop(t) is None

    def test_counts_only_the_attempts_since_the_hold_began(self):
        t = builders.terminal()
        RefusedAttempt.objects.create(tid=t.tid, at=timezone.now() - timedelta(days=3), response_code="58")
        with transaction.atomic():
            hold = place_hold(builders.actor("risk"), kind="risk_freeze", reason="anomaly", tid=t.tid)
        attempts(t.tid, 3)
        got = refusals.refusals_since_stop(Terminal.objects.select_related("merchant").get(pk=t.pk))
        assert got is not None and got.count == 3 and got.since == hold.starts_at
        assert got.last_at == RefusedAttempt.objects.latest("at").at

    def test_a_deactivated_terminal_counts_from_its_state_change(self):
        t = builders.terminal(state="deactivated")
        attempts(t.tid, 2)
        got = refusals.refusals_since_stop(Terminal.objects.select_related("merchant").get(pk=t.pk))
        assert got is not None and got.count == 2


class TestAlerts:
    def test_once_per_terminal_per_day_counting_attempts(self):
        t = builders.terminal(state="deactivated")
        attempts(t.tid, 3)
        assert refusals.scan_refusals() == 1
        attempts(t.tid, 2)
        assert refusals.scan_refusals() == 0
        alert = DeviceAlert.objects.get()
        assert (alert.terminal_id, alert.attempts, alert.reason) == (t.pk, 5, "terminal_stopped_for_good")
        assert AuditEvent.objects.filter(action="alert.raise", object_id=t.tid).count() == 1
        assert refusals.scan_refusals() == 0  # nothing new: nothing counted twice
        assert DeviceAlert.objects.get().attempts == 5

    def test_a_new_day_is_a_new_alert(self):
        t = builders.terminal(state="retired")
        RefusedAttempt.objects.create(tid=t.tid, at=timezone.now() - timedelta(days=1), response_code="58")
        attempts(t.tid, 1)
        assert refusals.scan_refusals() == 2

    def test_a_closed_merchants_terminal_alerts_a_held_one_does_not(self):
        closed = builders.merchant()
        gone = builders.terminal(merchant_obj=closed)
        Merchant.objects.filter(pk=closed.pk).update(state="closed")
        held = builders.terminal()
        with transaction.atomic():
            place_hold(builders.actor("risk"), kind="risk_freeze", reason="anomaly", tid=held.tid)
        attempts(gone.tid, 1)
        attempts(held.tid, 4)
        attempts("ZZZZ9999", 2)  # unknown terminals are not devices of ours
        assert refusals.scan_refusals() == 1
        assert DeviceAlert.objects.get().reason == "merchant_closed"

    def test_the_scan_reads_in_batches(self):
        t = builders.terminal(state="deactivated")
        attempts(t.tid, 5)
        assert refusals.scan_refusals(batch=2) == 1
        assert DeviceAlert.objects.get().attempts == 5

    def test_risk_acknowledges_with_a_note(self):
        t = builders.terminal(state="deactivated")
        attempts(t.tid, 1)
        refusals.scan_refusals()
        alert = DeviceAlert.objects.get()
        with pytest.raises(PermissionDenied):
            refusals.acknowledge(builders.actor("agent"), alert.pk, "seen")
        with transaction.atomic():
            refusals.acknowledge(builders.actor("risk"), alert.pk, "商户已报失，通知公安")
        assert refusals.open_alerts().count() == 0
        with pytest.raises(Conflict):
            refusals.acknowledge(builders.actor("risk"), alert.pk, "again")


class TestPages:
    def test_terminal_page_and_api_show_the_refusals(self, client, login):
        from tests.cases.test_api import api

        t = builders.terminal(state="deactivated")
        attempts(t.tid, 2)
        refusals.scan_refusals()
        body = api(client, "risk").get(f"/terminals/{t.tid}").json()
        assert body["refused_since_stop"]["count"] == 2
        login("risk")
        page = client.get(f"/console/terminals/{t.tid}/").content.decode()
        assert 'id="refused-since-stop"' in page and "device-alert" in page

    def test_the_risk_queue_and_dashboard(self, client, login, django_assert_max_num_queries):
        for _ in range(3):
            t = builders.terminal(state="deactivated")
            attempts(t.tid, 1)
        refusals.scan_refusals()
        login("risk")
        with django_assert_max_num_queries(12):
            page = client.get("/console/alerts/")
        assert len(page.context["open"]) == 3
        assert b'id="open-alerts"' in client.get("/console/").content
        alert = DeviceAlert.objects.first()
        r = client.post(f"/console/alerts/{alert.pk}/acknowledge/", {"reason": "已联系商户"})
        assert r.status_code == 302
        assert refusals.open_alerts().count() == 2
