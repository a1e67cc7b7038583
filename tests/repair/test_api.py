"""The repair API: the shapes other systems script against, the error shape for bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from posfleet.accounts.models import ApiToken
from posfleet.accounts.stepup import elevate_token
from posfleet.registry.models import Terminal
from posfleet.repair.models import Quote, RepairOrder
from tests import builders as b
from tests.portal.builders import merchant_user
from tests.repair.builders import PNG, all_pass, loaner, order_in

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, client, user, *, elevated=False):
        token, raw = ApiToken.issue(user, "test")
        if elevated:
            elevate_token(token)
        self.client, self.auth = client, {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}

    def get(self, path):
        return self.client.get(f"/api/v1{path}", **self.auth)

    def post(self, path, body=None):
        return self.client.post(
            f"/api/v1{path}", json.dumps(body or {}), content_type="application/json", **self.auth
        )

    def upload(self, path, files):
        return self.client.post(f"/api/v1{path}", files, **self.auth)


def staff(client, role="technician", **kw):
    return Api(client, b.user(role=role), **kw)


def fault_body(tid, **kw):
    return {
        "tid": tid,
        "category": "hardware",
        "symptom": "screen",
        "started_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        "frequency": "always",
        "trigger": "dropped",
        "stop_terminal": True,
    } | kw


def test_report_diagnose_quote_accept_repair_qc_finish(client):
    t = b.terminal()
    shop = Api(client, merchant_user(t.merchant))
    r = shop.post("/faults", fault_body(t.tid))
    assert r.status_code == 201, r.content
    fault = r.json()
    order_id = fault["repair_order_id"]
    assert fault["id"] and fault["stop_terminal"] is True
    r = shop.upload(
        f"/faults/{fault['id']}/evidence", {"file": SimpleUploadedFile("s.png", PNG), "note": "crack"}
    )
    assert r.status_code == 201 and r.json()["content_type"] == "image/png"
    tech = staff(client)
    act = lambda who, action, body=None: who.post(f"/repair-orders/{order_id}/actions/{action}", body)  # noqa: E731
    assert (
        act(tech, "diagnose", {"diagnosis": "cracked", "where": "manufacturer"}).json()["state"]
        == "diagnosing"
    )
    r = act(
        tech,
        "quote",
        {"provider": "Acme", "where": "manufacturer", "amount_fen": 30000, "days": 5, "warranty_months": 6},
    )
    quote_id = r.json()["quotes"][0]["id"]
    assert act(tech, "accept_quote", {"quote_id": quote_id}).status_code == 403
    r = act(shop, "accept_quote", {"quote_id": quote_id})
    assert r.status_code == 200 and r.json()["state"] == "quote_accepted" and r.json()["warranty_months"] == 6
    act(tech, "start")
    r = act(
        tech,
        "step",
        {"done": "new screen", "parts": [{"part": "LCD", "serial": "L-1"}], "patch_after": "2026-10-01"},
    )
    assert r.json()["steps"][0]["parts"] == [{"part": "LCD", "serial": "L-1"}]
    r = act(tech, "qc", {"results": all_pass(failed=("display",))})
    assert r.json()["state"] == "repairing" and {"check": "display", "passed": False} in [
        {"check": q["check"], "passed": q["passed"]} for q in r.json()["qc"]
    ]
    r = act(tech, "finish")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    act(tech, "qc", {"results": all_pass()})
    r = act(tech, "finish")
    body = r.json()
    assert body["state"] == "done" and body["tid"] == t.tid and all(q["passed"] for q in body["qc"])
    assert set(body) >= {"id", "tid", "state", "where", "quotes", "steps", "qc", "warranty_months"}
    r = tech.get(f"/terminals/{t.tid}/eligibility")
    assert r.json()["iso_response_code"] == "00"


def test_a_quote_of_another_merchant_is_not_found_and_nothing_changes(client):
    order = order_in("awaiting_quote", warranty=False)
    quote = Quote.objects.get(order=order)
    stranger = Api(client, merchant_user(b.merchant()))
    r = stranger.post(f"/repair-orders/{order.pk}/actions/accept_quote", {"quote_id": quote.pk})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert RepairOrder.objects.get(pk=order.pk).state == "awaiting_quote"


def test_bad_fault_input_names_the_field(client):
    t = b.terminal()
    tech = staff(client)
    r = tech.post("/faults", fault_body(t.tid, symptom="wifi"))
    assert r.status_code == 422 and "symptom" in r.json()["error"]["details"]
    r = tech.post("/faults", fault_body(t.tid, started_at=(timezone.now() + timedelta(days=1)).isoformat()))
    assert r.status_code == 422 and "started_at" in r.json()["error"]["details"]
    assert not RepairOrder.objects.exists()


def test_evidence_is_checked_by_content(client):
    t = b.terminal()
    tech = staff(client)
    fault_id = tech.post("/faults", fault_body(t.tid)).json()["id"]
    r = tech.upload(
        f"/faults/{fault_id}/evidence", {"file": SimpleUploadedFile("photo.png", b"MZ\x90\x00\x03binary")}
    )
    assert r.status_code == 422 and "file" in r.json()["error"]["details"]
    r = tech.upload(
        f"/faults/{fault_id}/evidence",
        {"file": SimpleUploadedFile("log.txt", b"09:00 reboot\n09:05 reboot\n")},
    )
    assert r.status_code == 201 and r.json()["content_type"] == "text/plain"


def test_loaner_lend_and_return(client):
    pool = loaner()
    order = order_in("diagnosing")
    wh = staff(client, "warehouse")
    r = wh.post("/loaners", {"merchant_id": order.merchant_id, "repair_order_id": order.pk})
    assert r.status_code == 201 and r.json()["tid"] == pool.tid and r.json()["due_on"]
    r = wh.post("/loaners", {"merchant_id": order.merchant_id, "repair_order_id": order.pk})
    assert r.status_code == 409
    r = wh.post(f"/loaners/{pool.tid}/return", {"condition": "good"})
    assert r.status_code == 200 and r.json()["state"] == "returned"


def test_loaner_not_in_stock(client):
    order = order_in("diagnosing")
    r = staff(client, "warehouse").post(
        "/loaners", {"merchant_id": order.merchant_id, "repair_order_id": order.pk}
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_loaner_in_stock"
    assert "loaner" in r.json()["error"]["message"].lower()


def test_swap_needs_step_up_and_returns_the_shape(client):
    t = b.terminal()
    order_in("unrepairable", t)
    newest = b.terminal("in_stock", patch="2026-09-09")
    old_sn = t.sn
    r = staff(client).post(f"/terminals/{t.tid}/swap", {"reason": "unrepairable"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "step_up_required"
    r = staff(client, elevated=True).post(f"/terminals/{t.tid}/swap", {"reason": "unrepairable"})
    assert r.status_code == 200, r.content
    assert {k: r.json()[k] for k in ("tid", "old_sn", "new_sn", "security_patch_level")} == {
        "tid": t.tid, "old_sn": old_sn, "new_sn": newest.sn, "security_patch_level": "2026-09-09"
    }  # fmt: skip
    assert Terminal.objects.get(tid=t.tid).sn == newest.sn
    history = staff(client).get(f"/terminals/{t.tid}/repairs").json()
    assert history["swaps"][0]["old_sn"] == old_sn and history["orders"]


def test_swap_to_an_old_patch_level_is_refused(client):
    t = b.terminal()
    stale = b.terminal("in_stock", patch="2026-01-01")
    b.terminal("in_stock", patch="2026-09-09")
    r = staff(client, elevated=True).post(
        f"/terminals/{t.tid}/swap", {"reason": "upgrade", "new_sn": stale.sn}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "patch_not_newest"
    assert Terminal.objects.get(tid=t.tid).pk == t.pk


def test_prevention_reads(client):
    order_in("done")
    tech = staff(client)
    assert tech.get("/inspections/due").status_code == 200
    stats = tech.get("/repair-stats").json()
    assert (
        stats["faults_per_model_month"][0]["faults"] == 1 and stats["mean_time_to_repair"][0]["repairs"] == 1
    )
    assert tech.get("/repair-orders").json()["items"]


def test_a_merchant_reads_only_its_own_faults_orders_and_repair_history(client):
    order = order_in("diagnosing")
    own = Api(client, merchant_user(order.merchant))
    stranger = Api(client, merchant_user(b.merchant()))
    for path in (
        f"/faults/{order.fault_id}",
        f"/repair-orders/{order.pk}",
        f"/terminals/{order.terminal.tid}/repairs",
    ):
        assert own.get(path).status_code == 200, path
        r = stranger.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    assert stranger.get("/repair-orders").json()["items"] == []
    r = stranger.upload(
        f"/faults/{order.fault_id}/evidence",
        {"file": SimpleUploadedFile("s.png", PNG, content_type="image/png")},
    )
    assert r.status_code == 404
    r = stranger.post("/faults", fault_body(order.terminal.tid))  # another's TID is "no such terminal"
    assert r.status_code == 422 and "tid" in r.json()["error"]["details"]
    assert RepairOrder.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "path", "body"),
    [
        ("agent", "/repair-orders/{id}/actions/diagnose", {"diagnosis": "x", "where": "in_house"}),
        ("warehouse", "/repair-orders/{id}/actions/diagnose", {"diagnosis": "x", "where": "in_house"}),
        ("finance", "/faults", None),
        ("technician", "/loaners", None),
        ("warehouse", "/terminals/{tid}/swap", {"reason": "x"}),
    ],
)
def test_staff_without_the_repair_capability_are_refused(client, role, path, body):
    order = order_in("diagnosing")
    loaner()
    if body is None:
        body = (
            fault_body(order.terminal.tid)
            if path == "/faults"
            else {"merchant_id": order.merchant_id, "repair_order_id": order.pk}
        )
    api = staff(client, role, elevated=True)
    r = api.post(path.format(id=order.pk, tid=order.terminal.tid), body)
    assert r.status_code == 403, r.content
    assert RepairOrder.objects.get(pk=order.pk).version == order.version
