"""Lifecycle endpoints: actions, If-Match/ETag, step-up with X-OTP, holds, the answer, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from posfleet.accounts.models import ApiToken
from posfleet.audit.models import AuditEvent
from posfleet.lifecycle.models import Hold, RefusedAttempt
from posfleet.notices.models import Notice
from posfleet.registry.models import Merchant, Terminal
from tests import builders as b
from tests.api.builders import Api, totp_code

pytestmark = pytest.mark.django_db


def _events(tid: str) -> int:
    return AuditEvent.objects.filter(object_type="terminal", object_id=tid).count()


# --- authentication -----------------------------------------------------------------------------------
def test_no_token_invalid_token_and_revoked_token_are_401(client):
    r = client.get("/api/v1/terminals")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    r = client.get("/api/v1/terminals", headers={"Authorization": "Bearer pf_nonsense"})
    assert r.status_code == 401
    api = Api("admin")
    assert api.get("/terminals").status_code == 200
    ApiToken.objects.filter(pk=api.token.pk).update(revoked_at=timezone.now())
    assert api.get("/terminals").status_code == 401
    assert api.post("/terminals/A0000001/activate", {"reason": "x"}).status_code == 401


def test_inactive_user_is_401():
    api = Api("admin")
    api.user.is_active = False
    api.user.save()
    assert api.get("/terminals").status_code == 401


# --- terminal actions ---------------------------------------------------------------------------------
def test_allocate_then_activate_with_etags():
    api = Api("admin")
    m = b.merchant()
    t = b.terminal("in_stock")
    r = api.post(f"/terminals/{t.tid}/allocate", {"merchant_id": m.pk, "reason": "new shop"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "allocated"
    assert r.json()["merchant_id"] == m.pk
    assert r["ETag"] == '"2"'
    r = api.post(f"/terminals/{t.tid}/activate", {"reason": "installed"}, **{"If-Match": 'W/"2"'})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "active"
    assert r["ETag"] == '"3"'
    assert AuditEvent.objects.filter(object_id=t.tid, action="terminal.activate", channel="api").exists()


def test_allocate_unknown_merchant_is_422_and_unknown_terminal_is_404():
    api = Api("admin")
    t = b.terminal("in_stock")
    r = api.post(f"/terminals/{t.tid}/allocate", {"merchant_id": 999999, "reason": "x"})
    assert r.status_code == 422
    assert "merchant_id" in r.json()["error"]["details"]
    m = b.merchant()
    r = api.post("/terminals/NOPE0000/allocate", {"merchant_id": m.pk, "reason": "x"})
    assert r.status_code == 404
    assert api.post("/terminals/NOPE0000/activate", {"reason": "x"}).status_code == 404


def test_transition_not_in_table_is_409_invalid_transition_and_writes_nothing():
    api = Api("admin")
    t = b.terminal("in_stock")
    before = _events(t.tid)
    r = api.post(f"/terminals/{t.tid}/activate", {"reason": "x"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "invalid_transition"
    assert _events(t.tid) == before
    assert Terminal.objects.get(pk=t.pk).version == t.version


def test_stale_if_match_is_409_stale_version_and_writes_nothing():
    api = Api("admin")
    t = b.terminal("active")
    for header in ('"7"', 'W/"7"', "7"):
        r = api.post(f"/terminals/{t.tid}/start_repair", {"reason": "x"}, **{"If-Match": header})
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "stale_version"
        assert r.json()["error"]["details"]["current_version"] == t.version
    assert Terminal.objects.get(pk=t.pk).state == "active"
    r = api.post(f"/terminals/{t.tid}/start_repair", {"reason": "x"}, **{"If-Match": f'"{t.version}"'})
    assert r.status_code == 200


def test_malformed_if_match_is_422():
    api = Api("admin")
    t = b.terminal("active")
    r = api.post(f"/terminals/{t.tid}/start_repair", {"reason": "x"}, **{"If-Match": "banana"})
    assert r.status_code == 422


def test_missing_reason_is_422():
    api = Api("admin")
    t = b.terminal("active")
    assert api.post(f"/terminals/{t.tid}/start_repair", {}).status_code == 422
    assert api.post(f"/terminals/{t.tid}/start_repair", {"reason": "  "}).status_code == 422


def test_missing_permission_is_403():
    t = b.terminal("active")
    r = Api("warehouse").post(f"/terminals/{t.tid}/start_repair", {"reason": "x"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ("allocated", "deallocate", "in_stock"),
        ("active", "start_repair", "in_repair"),
        ("in_repair", "finish_repair", "active"),
        ("deactivated", "receive_return", "returned"),
        ("returned", "retire", "retired"),
        ("returned", "refurbish", "in_stock"),
    ],
)
def test_other_table_actions(start, action, end):
    t = b.terminal(start)
    r = Api("admin").post(f"/terminals/{t.tid}/{action}", {"reason": "routine"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == end


# --- step-up ------------------------------------------------------------------------------------------
def test_deactivate_without_step_up_is_403_step_up_required():
    api = Api("risk")
    t = b.terminal("active")
    r = api.post(f"/terminals/{t.tid}/deactivate", {"reason": "fraud"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "step_up_required"
    assert Terminal.objects.get(pk=t.pk).state == "active"


def test_invalid_otp_does_not_elevate():
    api = Api("risk")
    api.enrol_totp()
    t = b.terminal("active")
    r = api.post(f"/terminals/{t.tid}/deactivate", {"reason": "fraud"}, **{"X-OTP": "000000x"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "step_up_required"


def test_otp_elevates_token_for_five_minutes_and_repeat_while_elevated_is_fine():
    api = Api("risk")
    device = api.enrol_totp()
    t1, t2 = b.terminal("active"), b.terminal("active")
    code = totp_code(device)
    r = api.post(f"/terminals/{t1.tid}/deactivate", {"reason": "fraud"}, **{"X-OTP": code})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "deactivated"
    token = ApiToken.objects.get(pk=api.token.pk)
    assert token.elevated_until is not None
    assert timedelta(minutes=4) < token.elevated_until - timezone.now() <= timedelta(minutes=5)
    # Elevated: the same code again is not an error, and no header is needed either.
    r = api.post(f"/terminals/{t2.tid}/deactivate", {"reason": "fraud"}, **{"X-OTP": code})
    assert r.status_code == 200
    t3 = b.terminal("active")
    assert api.post(f"/terminals/{t3.tid}/deactivate", {"reason": "fraud"}).status_code == 200


def test_replayed_code_never_elevates_twice():
    api = Api("risk")
    device = api.enrol_totp()
    code = totp_code(device)
    t1, t2 = b.terminal("active"), b.terminal("active")
    assert api.post(f"/terminals/{t1.tid}/deactivate", {"reason": "x"}, **{"X-OTP": code}).status_code == 200
    ApiToken.objects.filter(pk=api.token.pk).update(elevated_until=timezone.now() - timedelta(seconds=1))
    r = api.post(f"/terminals/{t2.tid}/deactivate", {"reason": "x"}, **{"X-OTP": code})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "step_up_required"
    assert Terminal.objects.get(pk=t2.pk).state == "active"


def test_elevation_of_one_token_does_not_elevate_another():
    api = Api("risk")
    device = api.enrol_totp()
    _other, raw = ApiToken.issue(api.user, "second")
    t1, t2 = b.terminal("active"), b.terminal("active")
    assert (
        api.post(
            f"/terminals/{t1.tid}/deactivate", {"reason": "x"}, **{"X-OTP": totp_code(device)}
        ).status_code
        == 200
    )
    r = api.client.post(
        f"/api/v1/terminals/{t2.tid}/deactivate",
        '{"reason": "x"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert r.status_code == 403


# --- merchant actions ---------------------------------------------------------------------------------
def test_merchant_actions_and_invalid_transition():
    api = Api("admin")
    m = b.merchant("applying")
    r = api.post(f"/merchants/{m.pk}/activate", {"reason": "documents ok"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "active"
    assert r["ETag"] == f'"{m.version + 1}"'
    r = api.post(f"/merchants/{m.pk}/close", {"reason": "x"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "invalid_transition"
    assert api.post("/merchants/999999/activate", {"reason": "x"}).status_code == 404


def test_merchant_start_closing_needs_step_up_and_if_match():
    api = Api("agent")
    m = b.merchant("active")
    r = api.post(f"/merchants/{m.pk}/start_closing", {"reason": "x"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "step_up_required"
    device = api.enrol_totp()
    r = api.post(
        f"/merchants/{m.pk}/start_closing", {"reason": "x"}, **{"X-OTP": totp_code(device), "If-Match": '"9"'}
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "stale_version"
    assert Merchant.objects.get(pk=m.pk).state == "active"


# --- holds --------------------------------------------------------------------------------------------
def test_place_terminal_hold_201_and_release():
    api = Api("technician")
    t = b.terminal("active")
    r = api.post(f"/terminals/{t.tid}/holds", {"kind": "maintenance", "reason": "firmware"})
    assert r.status_code == 201, r.content
    hold = r.json()
    assert hold["id"] == Hold.objects.get().pk
    assert hold["tid"] == t.tid
    assert hold["in_force"] is True
    assert r["Location"] == f"/api/v1/holds/{hold['id']}"
    r = api.post(f"/holds/{hold['id']}/release", {"reason": "done"})
    assert r.status_code == 200
    assert r.json()["released_at"] is not None
    r = api.post(f"/holds/{hold['id']}/release", {"reason": "again"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "hold_ended"
    assert api.post("/holds/999999/release", {"reason": "x"}).status_code == 404


def test_release_with_stale_if_match_is_409():
    api = Api("technician")
    t = b.terminal("active")
    hold_id = api.post(f"/terminals/{t.tid}/holds", {"kind": "fault", "reason": "x"}).json()["id"]
    r = api.post(f"/holds/{hold_id}/release", {"reason": "done"}, **{"If-Match": '"5"'})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "stale_version"


def test_scheduled_merchant_hold_with_iso_times():
    api = Api("agent")
    m = b.merchant()
    start = timezone.now() + timedelta(hours=1)
    body = {
        "kind": "merchant_suspension",
        "reason": "unpaid",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=1)).isoformat(),
    }
    r = api.post(f"/merchants/{m.pk}/holds", body)
    assert r.status_code == 201, r.content
    assert r.json()["on_merchant"] is True
    assert r.json()["merchant_id"] == m.pk
    assert r.json()["in_force"] is False
    assert api.post("/merchants/999999/holds", body).status_code == 404


@pytest.mark.parametrize(
    "window",
    [
        {"starts_at": "2030-01-02T00:00:00+08:00", "ends_at": "2030-01-01T00:00:00+08:00"},
        {"starts_at": "2030-01-01T00:00:00+08:00", "ends_at": "2030-01-01T00:00:00+08:00"},
        {"ends_at": "2020-01-01T00:00:00Z"},
        {"starts_at": "2030-01-01T00:00:00"},
        {"starts_at": "tomorrow"},
        {"ends_at": "2030-13-45T00:00:00Z"},
    ],
)
def test_bad_hold_times_are_422_and_write_nothing(window):
    api = Api("technician")
    t = b.terminal("active")
    r = api.post(f"/terminals/{t.tid}/holds", {"kind": "maintenance", "reason": "x", **window})
    assert r.status_code == 422, r.content
    assert not Hold.objects.exists()


def test_unknown_hold_kind_is_422_and_missing_kind_permission_is_403():
    t = b.terminal("active")
    r = Api("technician").post(f"/terminals/{t.tid}/holds", {"kind": "vacation", "reason": "x"})
    assert r.status_code == 422
    r = Api("technician").post(f"/terminals/{t.tid}/holds", {"kind": "merchant_suspension", "reason": "x"})
    assert r.status_code == 403


def test_risk_freeze_needs_step_up():
    api = Api("risk")
    t = b.terminal("active")
    r = api.post(f"/terminals/{t.tid}/holds", {"kind": "risk_freeze", "reason": "fraud"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "step_up_required"
    device = api.enrol_totp()
    r = api.post(
        f"/terminals/{t.tid}/holds",
        {"kind": "risk_freeze", "reason": "fraud"},
        **{"X-OTP": totp_code(device)},
    )
    assert r.status_code == 201


def test_list_holds_filters(django_assert_max_num_queries):
    api = Api("admin")
    m = b.merchant()
    t = b.terminal(merchant_obj=m)
    other = b.terminal()
    a = api.post(f"/terminals/{t.tid}/holds", {"kind": "fault", "reason": "x"}).json()["id"]
    gone = api.post(f"/terminals/{t.tid}/holds", {"kind": "maintenance", "reason": "x"}).json()["id"]
    api.post(f"/holds/{gone}/release", {"reason": "ok"})
    mh = api.post(f"/merchants/{m.pk}/holds", {"kind": "merchant_suspension", "reason": "x"}).json()["id"]
    api.post(f"/terminals/{other.tid}/holds", {"kind": "fault", "reason": "x"})
    with django_assert_max_num_queries(5):
        r = api.get("/holds", {"terminal": t.tid})
    assert sorted(h["id"] for h in r.json()["items"]) == sorted([a, gone])
    assert [h["id"] for h in api.get("/holds", {"terminal": t.tid, "active": "true"}).json()["items"]] == [a]
    assert [h["id"] for h in api.get("/holds", {"terminal": t.tid, "active": "false"}).json()["items"]] == [
        gone
    ]
    assert [h["id"] for h in api.get("/holds", {"merchant_id": m.pk}).json()["items"]] == [mh]
    assert len(api.get("/holds", {"limit": 500}).json()["items"]) == 4
    assert api.get(f"/holds/{a}").json()["kind"] == "fault"
    assert api.get("/holds/999999").status_code == 404


# --- the answer and refused attempts ------------------------------------------------------------------
def test_eligibility_allowed_writes_nothing():
    api = Api("admin")
    t = b.terminal("active")
    r = api.get(f"/terminals/{t.tid}/eligibility")
    assert r.status_code == 200
    assert r.json() == {"tid": t.tid, "allowed": True, "reasons": [], "iso_response_code": "00"}
    assert not RefusedAttempt.objects.exists()


def test_eligibility_refusals_are_counted_and_listed():
    api = Api("admin")
    t = b.terminal("active")
    api.post(f"/terminals/{t.tid}/holds", {"kind": "fault", "reason": "broken"})
    r = api.get(f"/terminals/{t.tid}/eligibility")
    data = r.json()
    assert data["allowed"] is False
    assert data["iso_response_code"] == "58"
    assert data["reasons"][0]["code"] == "terminal_hold"
    assert data["reasons"][0]["kind"] == "fault"
    r = api.get("/terminals/UNKNOWN1/eligibility")
    assert r.json()["iso_response_code"] == "97"
    assert RefusedAttempt.objects.count() == 2
    page = api.get("/refused-attempts", {"tid": t.tid}).json()
    assert [(x["tid"], x["response_code"]) for x in page["items"]] == [(t.tid, "58")]
    assert len(api.get("/refused-attempts").json()["items"]) == 2


def test_merchant_hold_gives_03():
    api = Api("admin")
    m = b.merchant()
    t = b.terminal(merchant_obj=m)
    api.post(f"/merchants/{m.pk}/holds", {"kind": "merchant_suspension", "reason": "unpaid"})
    assert api.get(f"/terminals/{t.tid}/eligibility").json()["iso_response_code"] == "03"


def test_deactivate_then_answer_refuses_58():
    api = Api("risk")
    device = api.enrol_totp()
    t = b.terminal("active")
    assert api.get(f"/terminals/{t.tid}/eligibility").json()["allowed"] is True
    api.post(f"/terminals/{t.tid}/deactivate", {"reason": "stop"}, **{"X-OTP": totp_code(device)})
    answer = api.get(f"/terminals/{t.tid}/eligibility").json()
    assert answer["allowed"] is False
    assert answer["iso_response_code"] == "58"


def test_allowed_answer_does_no_write_and_few_queries():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = Api("admin")
    t = b.terminal("active")
    api.get(f"/terminals/{t.tid}/eligibility")  # warm-up: the token's last_used_at is written once a minute
    with CaptureQueriesContext(connection) as ctx:
        r = api.get(f"/terminals/{t.tid}/eligibility")
    assert r.json()["allowed"] is True
    sqls = [q["sql"].upper() for q in ctx.captured_queries]
    assert not [q for q in sqls if q.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(sqls) <= 5


# --- bulk holds ---------------------------------------------------------------------------------------
def test_bulk_hold_places_one_hold_on_all_and_an_event_each_with_step_up():
    api = Api("technician")
    ts = [b.terminal("active") for _ in range(3)]
    body = {"tids": [t.tid for t in ts], "kind": "maintenance", "reason": "firmware push"}
    r = api.post("/holds/bulk", body)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "step_up_required"
    assert not Hold.objects.exists()
    device = api.enrol_totp()
    r = api.post("/holds/bulk", body, **{"X-OTP": totp_code(device)})
    assert r.status_code == 201, r.content
    hold = Hold.objects.get()
    notice_ids = list(Notice.objects.filter(hold_id=hold.pk).order_by("id").values_list("id", flat=True))
    assert len(notice_ids) == 3  # three terminals of three merchants: one notice each
    assert r.json() == {"placed": 3, "hold_id": hold.pk, "notice_ids": notice_ids}
    assert hold.bulk and hold.links.count() == 3
    events = AuditEvent.objects.filter(action="hold.place", object_id__in=body["tids"])
    assert events.count() == 3 and all(e.after["hold_id"] == hold.pk for e in events)
    answer = api.get(f"/terminals/{ts[0].tid}/eligibility").json()
    assert answer["iso_response_code"] == "58" and answer["reasons"][0]["hold_id"] == hold.pk
    detail = api.get(f"/terminals/{ts[1].tid}").json()
    assert [h["id"] for h in detail["holds"]] == [hold.pk] and detail["holds"][0]["bulk"]
    assert [h["id"] for h in api.get(f"/holds?terminal={ts[2].tid}").json()["items"]] == [hold.pk]


def test_a_bulk_hold_is_released_for_one_terminal_or_as_a_whole():
    api = Api("technician")
    device = api.enrol_totp()
    ts = [b.terminal("active") for _ in range(3)]
    body = {"tids": [t.tid for t in ts], "kind": "maintenance", "reason": "firmware push"}
    hold_id = api.post("/holds/bulk", body, **{"X-OTP": totp_code(device)}).json()["hold_id"]
    r = api.post(f"/holds/{hold_id}/release", {"reason": "done here", "tid": ts[0].tid})
    assert r.status_code == 200, r.content
    assert r.json()["released_at"] is None and r.json()["version"] == 2
    assert api.get(f"/terminals/{ts[0].tid}/eligibility").json()["allowed"]
    assert not api.get(f"/terminals/{ts[1].tid}/eligibility").json()["allowed"]
    again = api.post(f"/holds/{hold_id}/release", {"reason": "again", "tid": ts[0].tid})
    assert again.status_code == 409 and again.json()["error"]["code"] == "hold_ended"
    assert api.post(f"/holds/{hold_id}/release", {"reason": "x", "tid": "NOPE0000"}).status_code == 404
    r = api.post(f"/holds/{hold_id}/release", {"reason": "all done"})
    assert r.status_code == 200 and r.json()["released_at"] is not None
    assert all(api.get(f"/terminals/{t.tid}/eligibility").json()["allowed"] for t in ts)
    released = AuditEvent.objects.filter(action="hold.release").order_by("seq")
    assert [e.object_id for e in released] == [ts[0].tid, ts[1].tid, ts[2].tid]


def test_bulk_hold_single_terminal_needs_no_step_up_and_bad_lists_are_422():
    api = Api("technician")
    t = b.terminal("active")
    r = api.post("/holds/bulk", {"tids": [t.tid], "kind": "fault", "reason": "x"})
    assert r.status_code == 201 and r.json()["placed"] == 1
    assert Hold.objects.get(pk=r.json()["hold_id"]).terminal_id == t.pk  # an ordinary terminal hold
    r = api.post("/holds/bulk", {"tids": [t.tid, "NOPE0000"], "kind": "fault", "reason": "x"})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["tids"] == ["NOPE0000"]
    assert api.post("/holds/bulk", {"tids": [], "kind": "fault", "reason": "x"}).status_code == 422
    assert Hold.objects.count() == 1


# --- device alerts ------------------------------------------------------------------------------------
def _alert_for(state: str = "deactivated") -> str:
    from posfleet.lifecycle import refusals
    from posfleet.lifecycle.eligibility import answer_and_count

    t = b.terminal(state=state)
    answer_and_count(t.tid)
    answer_and_count(t.tid)
    refusals.scan_refusals()
    return t.tid


def test_device_alerts_list_filters_and_pages(django_assert_max_num_queries):
    first, second = _alert_for(), _alert_for("retired")
    api = Api("agent")
    with django_assert_max_num_queries(6):
        page = api.get("/device-alerts", {"limit": 1}).json()
    assert [a["tid"] for a in page["items"]] == [second]
    item = page["items"][0]
    assert (item["attempts"], item["reason"], item["acknowledged_at"]) == (
        2,
        "terminal_stopped_for_good",
        None,
    )
    rest = api.get("/device-alerts", {"limit": 1, "cursor": page["next_cursor"]}).json()
    assert [a["tid"] for a in rest["items"]] == [first] and rest["next_cursor"] is None
    assert [a["tid"] for a in api.get("/device-alerts", {"tid": first}).json()["items"]] == [first]
    assert api.get("/device-alerts", {"open": "false"}).json()["items"] == []


def test_risk_acknowledges_a_device_alert_once_with_its_note():
    tid = _alert_for()
    alert_id = Api("agent").get("/device-alerts").json()["items"][0]["id"]
    refused = Api("agent").post(f"/device-alerts/{alert_id}/acknowledge", {"reason": "seen"})
    assert refused.status_code == 403
    risk = Api("risk")
    r = risk.post(f"/device-alerts/{alert_id}/acknowledge", {"reason": "商户已报失"})
    assert r.status_code == 200, r.content
    assert r.json()["note"] == "商户已报失" and r.json()["acknowledged_by"]
    assert AuditEvent.objects.filter(action="alert.acknowledge", object_id=tid).count() == 1
    again = risk.post(f"/device-alerts/{alert_id}/acknowledge", {"reason": "again"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "alert_acknowledged"
    assert risk.post("/device-alerts/999999/acknowledge", {"reason": "x"}).status_code == 404
    assert risk.post(f"/device-alerts/{alert_id}/acknowledge", {"reason": ""}).status_code == 422
    assert [a["id"] for a in risk.get("/device-alerts", {"open": "false"}).json()["items"]] == [alert_id]
    assert risk.get("/device-alerts", {"open": "true"}).json()["items"] == []
