"""Console and portal repair pages: they render, call the services, show refusals, and stay cheap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from posfleet.registry.models import Terminal
from posfleet.repair.models import Quote, RepairOrder
from tests import builders
from tests.portal.builders import merchant_user
from tests.repair.builders import PNG, fault, loaner, order_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(client, settings):
    """Pages in English (the console and portal default to Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def started():
    return (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


class TestConsole:
    def test_pages_render(self, client, login):
        login("admin")
        t = builders.terminal()
        order = order_in("qc", t)
        loaner()
        for url in (
            "/console/repair/",
            "/console/repair/?state=qc",
            f"/console/repair/{order.pk}/",
            "/console/repair/loaners/",
            "/console/repair/inspections/",
            "/console/repair/stats/",
            "/console/repair/figures/",
            f"/console/repair/terminals/{t.tid}/",
            "/console/repair/report/",
            "/console/",
        ):
            assert client.get(url).status_code == 200, url

    def test_the_report_form_is_only_for_those_who_report_faults(self, client, login):
        login("finance")
        assert client.get("/console/repair/report/").status_code == 403
        login("agent")
        assert client.get("/console/repair/report/").status_code == 200

    def test_queue_query_count_is_pinned(self, client, login, django_assert_max_num_queries):
        login("technician")
        for _ in range(5):
            fault()
        with django_assert_max_num_queries(8):
            r = client.get("/console/repair/")
        assert r.status_code == 200 and len(r.context["orders"]) == 5

    def test_report_with_a_photo_and_diagnose(self, client, login):
        login("technician")
        t = builders.terminal()
        r = client.post(
            "/console/repair/report/",
            {"tid": t.tid, "category": "hardware", "symptom": "screen", "started_at": started(), "frequency": "always",
             "file": [SimpleUploadedFile("crack.png", PNG), SimpleUploadedFile("back.png", PNG)]},
        )  # fmt: skip
        order = RepairOrder.objects.get()
        assert r.status_code == 302 and order.fault.evidence.count() == 2  # every file the form took
        r = client.post(
            f"/console/repair/{order.pk}/act/",
            {"action": "diagnose", "diagnosis": "cracked", "where": "manufacturer"},
        )
        assert r.status_code == 302
        assert RepairOrder.objects.get().state == "diagnosing"

    def test_failed_qc_shows_a_warning_and_finish_is_refused(self, client, login):
        login("technician")
        order = order_in("repairing")
        r = client.post(f"/console/repair/{order.pk}/act/", {"action": "qc", "pass_chip": "on"}, follow=True)
        assert RepairOrder.objects.get().state == "repairing"
        r = client.post(f"/console/repair/{order.pk}/act/", {"action": "finish"})
        assert r.status_code == 409

    def test_lend_without_stock_is_a_clear_message(self, client, login):
        login("warehouse")
        order = order_in("diagnosing")
        r = client.post(f"/console/repair/{order.pk}/lend/", {})
        assert r.status_code == 409 and "No loaner terminal is in stock." in r.content.decode()

    def test_bad_report_redisplays_with_422(self, client, login):
        login("agent")
        t = builders.terminal()
        r = client.post(
            "/console/repair/report/",
            {
                "tid": t.tid,
                "category": "network",
                "symptom": "screen",
                "started_at": started(),
                "frequency": "daily",
            },
        )
        assert r.status_code == 422 and not RepairOrder.objects.exists()

    def test_the_link_that_led_here_fills_the_tid(self, client, login):
        login("agent")
        r = client.get("/console/repair/report/", {"tid": "abcd1234XYZ"})
        assert r.context["form"] == {"tid": "abcd1234"} and r.context["terminals"] is None

    def test_swap_asks_for_step_up(self, client, login):
        login("technician")
        t = builders.terminal()
        builders.terminal("in_stock")
        r = client.post(f"/console/repair/terminals/{t.tid}/swap/", {"reason": "upgrade", "kind": "upgrade"})
        assert r.status_code == 302 and "/console/step-up/" in r["Location"]
        assert Terminal.objects.get(tid=t.tid).pk == t.pk

    def test_swap_after_step_up(self, client, login):
        login("technician", stepped_up=True)
        t = builders.terminal()
        new = builders.terminal("in_stock", patch="2026-08-08")
        r = client.post(f"/console/repair/terminals/{t.tid}/swap/", {"reason": "upgrade", "kind": "upgrade"})
        assert r.status_code == 302 and Terminal.objects.get(tid=t.tid).pk == new.pk


class TestPortal:
    def test_report_accept_and_see_the_loaner(self, client):
        t = builders.terminal()
        shop = merchant_user(t.merchant)
        client.force_login(shop)
        r = client.post(
            "/portal/repairs/report/",
            {"tid": t.tid, "category": "hardware", "symptom": "screen", "started_at": started(), "frequency": "always",
             "stop_terminal": "on", "file": SimpleUploadedFile("crack.png", PNG)},
        )  # fmt: skip
        order = RepairOrder.objects.get()
        assert r.status_code == 302 and order.fault.stop_terminal
        from django.db import transaction

        from posfleet.repair.services import loaners, orders

        tech = builders.actor("technician")
        pool = loaner()
        with transaction.atomic():
            orders.apply(tech, order.pk, "diagnose", {"diagnosis": "cracked", "where": "manufacturer"})
            orders.apply(
                tech,
                order.pk,
                "quote",
                {"provider": "Acme", "amount_fen": 12000, "days": 3, "warranty_months": 3},
            )
            loaners.lend(builders.actor("warehouse"), order.merchant_id, order.pk)
        page = client.get(f"/portal/repairs/{order.pk}/").content.decode()
        assert pool.tid in page and "quote-waiting" in page
        quote = Quote.objects.get()
        r = client.post(
            f"/portal/repairs/{order.pk}/decide/", {"action": "accept_quote", "quote_id": quote.pk}
        )
        assert r.status_code == 302 and RepairOrder.objects.get().state == "quote_accepted"
        assert pool.tid in client.get("/portal/repairs/").content.decode()

    def test_another_merchants_order_is_not_found(self, client):
        order = order_in("awaiting_quote", warranty=False)
        client.force_login(merchant_user(builders.merchant()))
        assert client.get(f"/portal/repairs/{order.pk}/").status_code == 404
        r = client.post(
            f"/portal/repairs/{order.pk}/decide/",
            {"action": "accept_quote", "quote_id": Quote.objects.get().pk},
        )
        assert r.status_code == 404 and RepairOrder.objects.get().state == "awaiting_quote"

    def test_portal_lists_only_own_terminals_in_the_form(self, client):
        t = builders.terminal()
        other = builders.terminal()
        client.force_login(merchant_user(t.merchant))
        page = client.get("/portal/repairs/report/").content.decode()
        assert t.tid in page and other.tid not in page

    def test_a_refused_report_shows_the_portal_form_again_as_posted(self, client):
        t = builders.terminal()
        client.force_login(merchant_user(t.merchant))
        posted = {
            "tid": t.tid,
            "category": "network",
            "symptom": "screen",
            "started_at": started(),
            "frequency": "daily",
        }
        r = client.post("/portal/repairs/report/", posted)
        assert r.status_code == 422 and not RepairOrder.objects.exists()
        assert "portal_repair/report.html" in [tpl.name for tpl in r.templates]
        assert r.context["form"]["frequency"] == "daily" and r.context["error_details"]
        assert [x.tid for x in r.context["terminals"]] == [t.tid]


@pytest.mark.parametrize(
    ("staff", "report", "order", "thanks"),
    [
        (True, "/console/repair/report/", "/console/repair/{}/", "Fault reported: repair order #{}."),
        (
            False,
            "/portal/repairs/report/",
            "/portal/repairs/{}/",
            "we received your fault report (repair order #{})",
        ),
    ],
)
def test_a_filed_report_lands_on_its_order_with_thanks(client, login, staff, report, order, thanks):
    t = builders.terminal()
    if staff:
        login("agent")
    else:
        client.force_login(merchant_user(t.merchant))
    fields = {"tid": t.tid, "category": "hardware", "symptom": "screen", "frequency": "always"}
    r = client.post(report, {**fields, "started_at": started()}, follow=True)
    pk = RepairOrder.objects.get().pk
    assert r.redirect_chain == [(order.format(pk), 302)]
    assert thanks.format(pk) in r.content.decode()
