"""The API shapes other systems script against: holds name their notices, notices their deliveries."""

from __future__ import annotations

import pytest

from posfleet.notices.models import Notice
from tests import builders as b
from tests.api.builders import Api, totp_code


@pytest.mark.django_db
def test_hold_and_release_answer_with_their_notices_and_the_list_shows_deliveries(
    django_capture_on_commit_callbacks,
):
    api = Api("risk")
    otp = {"X-OTP": totp_code(api.enrol_totp())}
    t = b.terminal()
    body = {
        "kind": "risk_freeze",
        "reason": "internal: rule R12",
        "reason_category": "account_anomaly",
        "merchant_message": "We are checking unusual refunds.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/terminals/{t.tid}/holds", body, **otp)
    assert r.status_code == 201, r.content
    notice = Notice.objects.get(pk=r.json()["notice_id"])
    assert notice.body == "We are checking unusual refunds." and notice.reason_category == "account_anomaly"
    with django_capture_on_commit_callbacks(execute=True):
        released = api.post(f"/holds/{r.json()['id']}/release", {"reason": "checked"}, **otp)
    assert released.status_code == 200, released.content
    lift = Notice.objects.get(pk=released.json()["notice_id"])
    assert lift.kind == "lift" and lift.hold_id == r.json()["id"]

    listed = api.get("/notices", {"merchant_id": t.merchant_id}).json()["items"]
    stop = next(n for n in listed if n["id"] == notice.pk)
    assert stop["reason_category"] == "account_anomaly" and stop["terminals"] == [t.tid]
    channels = {d["channel"]: d for d in stop["deliveries"]}
    assert channels["portal"]["state"] == "delivered"
    assert channels["sms"]["state"] == "sent" and channels["sms"]["attempts"] == 1
    assert channels["call"]["state"] == "queued"  # an agent's task
    assert set(channels["sms"]) >= {"channel", "state", "attempts", "error"}


@pytest.mark.django_db
def test_verify_answers_for_any_notice_and_says_false_otherwise(client):
    t = b.terminal()
    api = Api("technician")
    r = api.post(f"/terminals/{t.tid}/holds", {"kind": "fault", "reason": "screen"})
    code = Notice.objects.get(pk=r.json()["notice_id"]).clear_code
    ok = client.get("/api/v1/notices/verify", {"code": code, "phone_last4": "8000"}).json()
    assert ok["genuine"] is True and ok["kind"] == "stop" and ok["reason_category"] == "hardware_fault"
    assert ok["terminals"] == [t.tid] and ok["issued_at"]
    bad = client.get("/api/v1/notices/verify", {"code": code, "phone_last4": "0001"}).json()
    assert bad["genuine"] is False and "kind" not in bad


@pytest.mark.django_db
def test_an_unknown_category_is_422():
    t = b.terminal()
    r = Api("technician").post(
        f"/terminals/{t.tid}/holds", {"kind": "fault", "reason": "x", "reason_category": "whim"}
    )
    assert r.status_code == 422
