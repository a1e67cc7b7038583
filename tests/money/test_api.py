"""The money API: ingest shape (issue 3 §6), list/get, rate plans, plan change, balance."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from posfleet.money.models import Transaction
from tests import builders
from tests.api.builders import Api as _Api
from tests.money.builders import item

pytestmark = pytest.mark.django_db


def Api(role="admin"):
    api = _Api(role)
    api.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return api


def put(api, path, body):
    return api.client.put(
        f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=api.headers()
    )


class TestIngest:
    def test_nul_and_lone_surrogates_are_item_errors_not_500(self):
        t = builders.terminal()
        api = Api("finance")
        good = item(t.tid)
        # JSON escapes \u0000 and a lone \ud800: valid JSON, but text no database stores alike
        body = json.dumps(
            {"items": [good, {**item(t.tid), "id": "X\x00Y"}, {**item(t.tid), "id": "Z\ud800"}]}
        )
        r = api.post_raw("/transactions", body, "application/json")
        assert r.status_code == 200, r.content
        codes = [x["error"]["code"] if x["error"] else x["status"] for x in r.json()["results"]]
        assert codes == ["created", "invalid_character", "invalid_encoding"]
        assert Transaction.objects.count() == 1

    def test_refund_without_sale_is_refused(self):
        t = builders.terminal()
        api = Api("finance")
        r = api.post(
            "/transactions",
            {"items": [item(t.tid, type="refund", amount_fen=10**12, original_id="NOSALE")]},
        )
        assert r.status_code == 200
        [res] = r.json()["results"]
        assert res["status"] == "error" and res["error"]["code"] == "unknown_original"
        assert api.get(f"/merchants/{t.merchant_id}/balance").json()["unsettled_fen"] == 0

    def test_exact_shape(self):
        t = builders.terminal(tid="12345678")
        api = Api("finance")
        body = {
            "items": [
                {
                    "id": "SW20261120000001",
                    "tid": "12345678",
                    "channel": "credit",
                    "type": "sale",
                    "amount_fen": 1000000,
                    "occurred_at": "2026-11-20T10:00:00+08:00",
                },
                {
                    "id": "SW2",
                    "tid": "NOPE0000",
                    "channel": "credit",
                    "type": "sale",
                    "amount_fen": 5,
                    "occurred_at": "2026-11-20T10:00:00+08:00",
                },
            ]
        }
        r = api.post("/transactions", body)
        assert r.status_code == 200, r.content
        ok, bad = r.json()["results"]
        assert {k: ok[k] for k in ("id", "status", "fee_fen", "net_fen", "error")} == {
            "id": "SW20261120000001",
            "status": "created",
            "fee_fen": 6000,
            "net_fen": 994000,
            "error": None,
        }
        assert bad["status"] == "error" and bad["error"]["code"] == "unknown_terminal"
        again = api.post("/transactions", body).json()["results"][0]
        assert again["status"] == "duplicate"
        tx = api.get(f"/transactions/{ok['transaction_id']}").json()
        assert (tx["fee_fen"], tx["net_fen"], tx["rate_plan"]) == (6000, 994000, "STANDARD")
        assert tx["merchant_id"] == t.merchant_id

    def test_needs_permission(self):
        r = Api("agent").post("/transactions", {"items": [item("12345678")]})
        assert r.status_code == 403

    def test_items_must_be_a_list(self):
        r = Api("finance").post("/transactions", {"items": "x"})
        assert r.status_code == 422


class TestList:
    def test_filters_and_cursor(self, django_assert_max_num_queries):
        t1 = builders.terminal()
        t2 = builders.terminal()
        api = Api("finance")
        now = timezone.now()
        items = [item(t1.tid, occurred_at=now - timedelta(minutes=i)) for i in range(5)]
        items += [item(t2.tid, channel="wechat", occurred_at=now - timedelta(days=3))]
        api.post("/transactions", {"items": items})
        page = api.get("/transactions", {"merchant_id": t1.merchant_id, "limit": 3}).json()
        assert len(page["items"]) == 3 and page["next_cursor"]
        rest = api.get("/transactions", {"merchant_id": t1.merchant_id, "cursor": page["next_cursor"]}).json()
        assert len(rest["items"]) == 2 and rest["next_cursor"] is None
        ids = [x["id"] for x in page["items"] + rest["items"]]
        assert ids == sorted(ids, reverse=True)
        assert len(api.get("/transactions", {"channel": "wechat"}).json()["items"]) == 1
        assert len(api.get("/transactions", {"tid": t2.tid}).json()["items"]) == 1
        day = (now - timedelta(days=3)).astimezone(timezone.get_current_timezone()).date().isoformat()
        assert len(api.get("/transactions", {"date_from": day, "date_to": day}).json()["items"]) == 1
        assert api.get("/transactions", {"flagged": True}).json()["items"] == []
        assert api.get("/transactions", {"channel": "visa"}).status_code == 422
        assert api.get("/transactions", {"date_from": "nope"}).status_code == 422
        with django_assert_max_num_queries(6):
            api.get("/transactions", {"limit": 100})

    def test_unknown_transaction_404(self):
        assert Api("finance").get("/transactions/999999").status_code == 404

    def test_portal_user_sees_only_own(self):
        from posfleet.accounts.models import MerchantUser

        t1 = builders.terminal()
        t2 = builders.terminal()
        Api("finance").post("/transactions", {"items": [item(t1.tid), item(t2.tid)]})
        api = Api("finance")
        api.user.groups.clear()
        MerchantUser.objects.create(user=api.user, merchant=t1.merchant)
        rows = api.get("/transactions").json()["items"]
        assert {r["merchant_id"] for r in rows} == {t1.merchant_id}
        other = Transaction.objects.get(merchant=t2.merchant)
        assert api.get(f"/transactions/{other.pk}").status_code == 404
        assert api.get(f"/merchants/{t2.merchant_id}/balance").status_code == 404
        assert api.get(f"/merchants/{t1.merchant_id}/balance").json()["unsettled_fen"] == 994000


class TestRatePlans:
    def test_list_and_create(self):
        api = Api("finance")
        codes = [p["code"] for p in api.get("/rate-plans").json()]
        assert codes == ["CLASSIC", "STANDARD"]
        std = api.get("/rate-plans/STANDARD").json()
        assert std["rates"]["debit"] == {"rate_bp": 50, "cap_fen": 2500}
        body = {
            "code": "PROMO",
            "name": "Promo",
            "rates": {
                c: {"rate_bp": 30, "cap_fen": None}
                for c in ("credit", "debit", "wechat", "alipay", "unionpay_qr")
            },
        }
        r = api.post("/rate-plans", body)
        assert r.status_code == 201, r.content
        assert api.post("/rate-plans", body).status_code == 422
        assert (
            api.post("/rate-plans", {**body, "code": "BAD", "rates": {"credit": {"rate_bp": -1}}}).status_code
            == 422
        )

    def test_change_plan_30_day_rule(self):
        m = builders.merchant()
        api = Api("finance")
        r = put(api, f"/merchants/{m.pk}/rate-plan", {"code": "CLASSIC"})
        assert r.status_code == 422
        assert "notify" in r.json()["error"]["message"]
        n = api.post(f"/merchants/{m.pk}/rate-plan/notice", {"code": "CLASSIC"})
        assert n.status_code == 201
        earliest = n.json()["earliest_effective_from"]
        r = put(api, f"/merchants/{m.pk}/rate-plan", {"code": "CLASSIC", "effective_from": earliest})
        assert r.status_code == 200, r.content
        data = r.json()
        assert data["increase"] is True
        assert [v["code"] for v in data["versions"]] == ["STANDARD", "CLASSIC"]
        assert data["current"] == "STANDARD"
        assert api.get(f"/merchants/{m.pk}/rate-plan").json()["current"] == "STANDARD"

    def test_unknown_merchant(self):
        api = Api("finance")
        assert put(api, "/merchants/999999/rate-plan", {"code": "CLASSIC"}).status_code == 404
        assert api.get("/merchants/999999/balance").status_code == 404


class TestBalance:
    def test_balance(self):
        t = builders.terminal()
        api = Api("finance")
        api.post("/transactions", {"items": [item(t.tid, channel="debit")]})
        assert api.get(f"/merchants/{t.merchant_id}/balance").json() == {
            "merchant_id": t.merchant_id,
            "unsettled_fen": 997500,
            "settled_unpaid_fen": 0,
            "deposit_held_fen": 0,
            "amount_due_fen": 0,
        }
