"""Console money pages: overview chart, rate plans with the 30-day rule, merchant money with filters/pages."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from posfleet.money.ingest import ingest
from posfleet.money.models import MerchantPlan, PlanNotice
from posfleet.registry.choices import TerminalState
from tests import builders
from tests.money.builders import item

pytestmark = pytest.mark.django_db


def client(role="finance"):
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the console speaks Chinese unless switched
    c.force_login(builders.user(role=role))
    return c


def load(t, n=3, **kw):
    now = timezone.now()
    with transaction.atomic():
        return ingest(
            builders.actor("finance"),
            [item(t.tid, occurred_at=now - timedelta(hours=i), **kw) for i in range(n)],
        )


class TestOverview:
    def test_chart_and_flagged(self):
        t = builders.terminal()
        load(t)
        d = builders.terminal(TerminalState.DEACTIVATED)
        load(d, 1)
        r = client().get("/console/money/")
        assert r.status_code == 200
        body = r.content.decode()
        assert "<svg" in body and "money-chart" in body
        assert d.tid in body  # flagged list
        assert "40,000.00" in body  # 4 × 10,000.00 volume

    def test_needs_view_money(self):
        assert client("technician").get("/console/money/").status_code == 403

    def test_login_required(self):
        assert Client().get("/console/money/").status_code == 302


class TestRatePlans:
    def test_list(self):
        body = client().get("/console/money/rate-plans/").content.decode()
        assert "STANDARD" in body and "CLASSIC" in body and "0.50%" in body and "25.00" in body

    def test_increase_refused_then_notice_then_later_date(self):
        m = builders.merchant()
        c = client()
        r = c.post("/console/money/rate-plans/", {"action": "change", "merchant_id": m.pk, "code": "CLASSIC"})
        assert r.status_code == 422
        assert "notify the merchant first" in r.content.decode()
        r = c.post("/console/money/rate-plans/", {"action": "notify", "merchant_id": m.pk, "code": "CLASSIC"})
        assert r.status_code == 302
        assert PlanNotice.objects.filter(merchant=m).exists()
        too_soon = (timezone.localdate() + timedelta(days=20)).isoformat()
        r = c.post(
            "/console/money/rate-plans/",
            {"action": "change", "merchant_id": m.pk, "code": "CLASSIC", "effective_from": too_soon},
        )
        assert r.status_code == 422
        later = (timezone.localdate() + timedelta(days=32)).isoformat()
        r = c.post(
            "/console/money/rate-plans/",
            {"action": "change", "merchant_id": m.pk, "code": "CLASSIC", "effective_from": later},
        )
        assert r.status_code == 302
        assert MerchantPlan.objects.filter(merchant=m, plan__code="CLASSIC").exists()

    def test_bad_input_is_422_not_500(self):
        c = client()
        r = c.post("/console/money/rate-plans/", {"action": "change", "merchant_id": "x", "code": "CLASSIC"})
        assert r.status_code == 422
        m = builders.merchant()
        r = c.post(
            "/console/money/rate-plans/",
            {"action": "change", "merchant_id": m.pk, "code": "CLASSIC", "effective_from": "soon"},
        )
        assert r.status_code == 422

    def test_permission_from_service(self):
        m = builders.merchant()
        r = client("risk").post(
            "/console/money/rate-plans/", {"action": "notify", "merchant_id": m.pk, "code": "CLASSIC"}
        )
        assert r.status_code == 403


class TestMerchantMoney:
    def test_balances_filters_and_pages(self, django_assert_max_num_queries):
        t = builders.terminal()
        load(t, 60)
        load(t, 2, channel="wechat")
        c = client()
        url = f"/console/money/merchants/{t.merchant_id}/"
        with django_assert_max_num_queries(20):
            r = c.get(url)
        body = r.content.decode()
        assert r.status_code == 200
        assert "Older" in body
        assert body.count("<tr") >= 50
        r2 = c.get(url, {"channel": "wechat"})
        assert r2.content.decode().count("WeChat Pay") >= 2
        first_page = r.context["rows"]
        older = c.get(url, {"after": r.context["next_after"]})
        assert len(older.context["rows"]) == 12
        assert older.context["rows"][0].pk < first_page[-1].pk
        assert c.get(url, {"date_from": "bad"}).status_code == 200  # message, empty table

    def test_unknown_merchant(self):
        assert client().get("/console/money/merchants/999999/").status_code == 404


MO = Path(__file__).resolve().parents[2] / "src/posfleet/money/locale/zh_Hans/LC_MESSAGES/django.mo"


@pytest.mark.skipif(not MO.exists(), reason="catalogues not compiled (posfleet compilemessages)")
def test_chinese_page():
    c = Client()
    c.force_login(builders.user(role="finance"))
    body = c.get("/console/money/rate-plans/").content.decode()
    assert "费率方案" in body and "封顶" in body, body[-3000:]


def test_create_plan_from_console():
    from posfleet.money.models import RatePlan

    c = client()
    data = {"action": "create", "code": "PROMO", "name": "Promo"}
    for ch in ("credit", "debit", "wechat", "alipay", "unionpay_qr"):
        data[f"{ch}_bp"] = "30"
        data[f"{ch}_cap"] = "1500" if ch == "debit" else ""
    assert c.post("/console/money/rate-plans/", data).status_code == 302
    plan = RatePlan.objects.get(code="PROMO")
    assert plan.rate("debit") == (30, 1500) and plan.rate("credit") == (30, None)
    assert c.post("/console/money/rate-plans/", {**data, "credit_bp": "x"}).status_code == 422
