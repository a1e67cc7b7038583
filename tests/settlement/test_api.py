"""Settlement API: shapes other systems script against, and errors."""

from datetime import timedelta

import pytest
from django.db import transaction

from posfleet.accounts.models import ApiToken, MerchantUser
from posfleet.core.actor import Actor
from posfleet.settlement.disputes import DisputeInput, open_dispute
from posfleet.settlement.services import run_settlement
from tests import builders as b
from tests.api.builders import Api, totp_code
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def elevated(role="finance"):
    api = Api(role)
    device = api.enrol_totp()
    return api, {"X-OTP": totp_code(device)}


class TestRun:
    def test_run_and_read_settlements(self):
        m = b.merchant()
        day = days_ago(2)
        tx(m, 1_000_000, at(day))
        api, otp = elevated()
        r = api.post("/settlements/run", {"business_date": day.isoformat()}, **otp)
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["created"] == 1 and not body["already_settled"]
        [res] = body["results"]
        assert res["merchant_id"] == m.pk and res["fee_fen"] == 6000 and res["net_fen"] == 994_000
        again = api.post("/settlements/run", {"business_date": day.isoformat()})
        assert again.status_code == 200 and again.json()["already_settled"]
        assert again.json()["results"][0]["id"] == res["id"]

        r = api.get(f"/merchants/{m.pk}/settlements", {"business_date": day.isoformat()})
        assert r.status_code == 200
        [item] = r.json()["items"]
        for key in ("gross_fen", "fee_fen", "refund_fen", "held_fen", "net_fen", "state"):
            assert key in item
        assert item["gross_fen"] == 1_000_000 and item["state"] == "settled"
        assert item["card"].endswith("0128") and "6222" not in item["card"]
        assert (
            api.get(
                f"/merchants/{m.pk}/settlements", {"business_date": (day - timedelta(days=1)).isoformat()}
            ).json()["items"]
            == []
        )

    def test_today_is_refused_until_it_has_ended(self):
        api, otp = elevated()
        r = api.post("/settlements/run", {"business_date": days_ago(0).isoformat()}, **otp)
        assert r.status_code == 422, r.content
        error = r.json()["error"]
        assert error["code"] == "day_not_ended" and "business_date" in error["details"]

    def test_late_item_is_flagged_in_the_run(self):
        m = b.merchant()
        day = days_ago(3)
        tx(m, 1_000, at(day))
        api, otp = elevated()
        assert api.post("/settlements/run", {"business_date": day.isoformat()}, **otp).status_code == 200
        tx(m, 2_000, at(day, 18))
        body = api.get(f"/merchants/{m.pk}/outstanding").json()
        assert [r["code"] for r in body["reasons"]] == ["late_transactions", "settled_not_paid"]
        nxt = (day + timedelta(days=1)).isoformat()
        body = api.post("/settlements/run", {"business_date": nxt}).json()
        assert not body["already_settled"]
        [late] = [x for x in body["results"] if x["late"]]
        assert (late["business_date"], late["run_date"], late["gross_fen"]) == (day.isoformat(), nxt, 2_000)

    def test_step_up_required(self):
        api = Api("finance")
        r = api.post("/settlements/run", {"business_date": days_ago(1).isoformat()})
        assert r.status_code == 403 and r.json()["error"]["code"] == "step_up_required"

    def test_bad_date_is_422(self):
        api, otp = elevated()
        r = api.post("/settlements/run", {"business_date": "2026-02-30"}, **otp)
        assert r.status_code == 422 and "business_date" in r.json()["error"]["details"]
        assert api.post("/settlements/run", {}).status_code == 422
        assert api.get(f"/merchants/{b.merchant().pk}/settlements", {"business_date": "x"}).status_code == 422

    def test_permission(self):
        api = Api("agent")
        assert api.post("/settlements/run", {"business_date": days_ago(1).isoformat()}).status_code == 403
        assert Api("technician").get(f"/merchants/{b.merchant().pk}/outstanding").status_code == 403

    def test_unknown_merchant_404(self):
        assert Api("finance").get("/merchants/999999/outstanding").status_code == 404


class TestOutstandingAndStatement:
    def test_outstanding_shape(self):
        m = b.merchant()
        api = Api("finance")
        assert api.get(f"/merchants/{m.pk}/outstanding").json() == {"cleared": True, "reasons": []}
        tx(m, 1000, at(days_ago(1)))
        body = api.get(f"/merchants/{m.pk}/outstanding").json()
        assert body["cleared"] is False
        assert body["reasons"][0]["code"] == "unsettled_transactions"

    def test_statement_csv(self):
        m = b.merchant()
        day = days_ago(3)
        tx(m, 1000, at(day))
        with transaction.atomic():
            run_settlement(Actor.system(), day)
        r = Api("finance").get(
            f"/merchants/{m.pk}/statement.csv", {"from": day.isoformat(), "to": days_ago(1).isoformat()}
        )
        assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
        lines = r.content.decode().splitlines()
        assert lines[0].startswith("date,kind,")
        assert Api("finance").get(f"/merchants/{m.pk}/statement.csv", {"from": "bad"}).status_code == 422


class TestDisputes:
    def test_flow(self, settings):
        m = b.merchant()
        t = tx(m, 10_000, at(days_ago(1)))
        risk = Api("risk")
        r = risk.post(
            "/disputes", {"transaction": t.switch_id, "kind": "chargeback", "reason": "not recognised"}
        )
        assert r.status_code == 201, r.content
        d = r.json()
        assert d["state"] == "open" and d["amount_fen"] == 10_000 and d["merchant_id"] == m.pk
        assert (
            risk.get("/disputes", {"merchant_id": m.pk, "state": "open"}).json()["items"][0]["id"] == d["id"]
        )
        # the merchant answers through a token of its portal login
        owner = Api("agent")
        owner.user.groups.clear()
        MerchantUser.objects.create(user=owner.user, merchant=m)
        r = owner.client.post(
            f"/api/v1/disputes/{d['id']}/documents",
            {"file": _upload("receipt.pdf", PDF)},
            headers=owner.headers(),
        )
        assert r.status_code == 201, r.content
        assert len(r.json()["sha256"]) == 64
        r = owner.post(f"/disputes/{d['id']}/answer", {"answer": "signed receipt"})
        assert r.status_code == 200 and r.json()["state"] == "answered"
        assert len(r.json()["documents"]) == 1
        r = risk.post(f"/disputes/{d['id']}/resolve", {"outcome": "lost", "reason": "no signature"})
        assert r.status_code == 200 and r.json()["state"] == "lost"
        assert risk.post(f"/disputes/{d['id']}/resolve", {"outcome": "won", "reason": "x"}).status_code == 409

    def test_other_merchant_sees_nothing(self):
        m, other = b.merchant(), b.merchant()
        with transaction.atomic():
            d = open_dispute(Actor.system(), DisputeInput(tx(m, 100, at(days_ago(1))).pk, "chargeback", "x"))
        api = Api("agent")
        api.user.groups.clear()
        MerchantUser.objects.create(user=api.user, merchant=other)
        assert api.get(f"/disputes/{d.pk}").status_code == 404
        assert api.get("/disputes").json()["items"] == []

    def test_bad_file_422(self):
        m = b.merchant()
        with transaction.atomic():
            d = open_dispute(Actor.system(), DisputeInput(tx(m, 100, at(days_ago(1))).pk, "chargeback", "x"))
        api = Api("agent")  # records evidence on the merchant's behalf
        r = api.client.post(
            f"/api/v1/disputes/{d.pk}/documents", {"file": _upload("x.pdf", b"hello")}, headers=api.headers()
        )
        assert r.status_code == 422

    def test_open_errors(self):
        api = Api("risk")
        assert (
            api.post("/disputes", {"transaction": "nope", "kind": "chargeback", "reason": "x"}).status_code
            == 422
        )
        assert (
            Api("agent")
            .post("/disputes", {"transaction": "1", "kind": "chargeback", "reason": "x"})
            .status_code
            == 403
        )


class TestProfile:
    def test_put_profile(self):
        m = b.merchant()
        api, otp = elevated("risk")
        r = api.client.put(
            f"/api/v1/merchants/{m.pk}/settlement-profile",
            '{"delayed": true, "reason": "suspected fraud"}',
            content_type="application/json",
            headers=api.headers(otp),
        )
        assert r.status_code == 200, r.content
        assert r.json()["delayed"] is True
        r = api.client.put(
            f"/api/v1/merchants/{m.pk}/settlement-profile",
            '{"mode": "X1", "reason": "x"}',
            content_type="application/json",
            headers=api.headers(),
        )
        assert r.status_code == 422

    def test_put_profile_needs_step_up(self):
        m = b.merchant()
        api = Api("finance")
        r = api.client.put(
            f"/api/v1/merchants/{m.pk}/settlement-profile",
            '{"mode": "D0", "reason": "asked"}',
            content_type="application/json",
            headers=api.headers(),
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "step_up_required"
        assert ApiToken.objects.count() == 1


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_transaction_list_pages_carry_their_batch(django_assert_max_num_queries):
    """The list annotates only the page's rows (`page_rows`); a settled row names its batch."""
    m = b.merchant()
    day = days_ago(2)
    settled_rows = [tx(m, 1000 + i, at(day, 10, i)) for i in range(3)]
    with transaction.atomic():
        result = run_settlement(Actor.system(), day)
    [batch] = result.created
    fresh = tx(m, 5000, at(days_ago(1)))
    api = Api("finance")
    page = api.get("/transactions", {"merchant_id": m.pk, "limit": 2}).json()
    assert [i["id"] for i in page["items"]] == [fresh.pk, settled_rows[2].pk]
    assert page["items"][0]["settlement_batch_id"] is None and page["items"][0]["settled_at"] is None
    assert page["items"][1]["settlement_batch_id"] == batch.pk and page["items"][1]["settled_at"]
    rest = api.get("/transactions", {"merchant_id": m.pk, "cursor": page["next_cursor"]}).json()
    assert [i["id"] for i in rest["items"]] == [settled_rows[1].pk, settled_rows[0].pk]
    assert {i["settlement_batch_id"] for i in rest["items"]} == {batch.pk}
    assert rest["next_cursor"] is None
