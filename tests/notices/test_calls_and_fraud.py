"""Phone-call tasks for agents, and fraud reports for risk officers."""

from __future__ import annotations

import pytest
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.lifecycle import holds
from posfleet.notices import calls
from posfleet.notices.models import CallTask, Delivery, FraudReport
from tests import builders
from tests.api.builders import Api


def _freeze():
    t = builders.terminal()
    with transaction.atomic():
        hold = holds.place_hold(
            builders.actor("admin"), kind="risk_freeze", reason="internal", tid=t.tid,
            reason_category="account_anomaly",
        )  # fmt: skip
    return hold.notices[0]


@pytest.mark.django_db
def test_an_agent_works_the_call_queue_and_the_outcome_is_evidence():
    notice = _freeze()
    api = Api("agent")
    [task] = api.get("/call-tasks", {"state": "open"}).json()["items"]
    assert task["notice_id"] == notice.pk
    assert "Never ask for card numbers" in task["script"] or "卡号" in task["script"]
    r = api.post(
        f"/call-tasks/{task['id']}/outcome",
        {"outcome": "no_answer", "note": "voicemail", "callback_at": "2030-01-01T10:00:00+08:00"},
    )
    assert r.status_code == 200 and r.json()["state"] == "open" and r.json()["callback_at"]
    r = api.post(f"/call-tasks/{task['id']}/outcome", {"outcome": "reached", "note": "owner informed"})
    assert r.json()["state"] == "done"
    assert Delivery.objects.get(notice=notice, channel="call").state == "delivered"
    events = AuditEvent.objects.filter(object_type="notice", object_id=str(notice.pk), action="call.outcome")
    assert events.count() == 2
    assert api.post(f"/call-tasks/{task['id']}/outcome", {"outcome": "reached"}).status_code == 409
    assert Api("warehouse").get("/call-tasks").status_code == 403


@pytest.mark.django_db
def test_a_wrong_number_fails_the_call_delivery():
    notice = _freeze()
    task = CallTask.objects.get(notice=notice)
    with transaction.atomic():
        calls.record_outcome(builders.actor("agent"), task.pk, outcome="wrong_number")
    d = Delivery.objects.get(notice=notice, channel="call")
    assert (d.state, d.error) == ("failed", "wrong_number")


@pytest.mark.django_db
def test_fraud_reports_from_a_merchant_and_an_agent_form_the_risk_queue():
    from posfleet.accounts.models import MerchantUser

    m = builders.merchant()
    own = Api("agent")
    own.user.groups.clear()
    MerchantUser.objects.create(user=own.user, merchant=m)
    body = {"caller_number": "+86 170 0000 0000", "channel": "phone", "claimed": "your POS will be stopped",
            "asked_for": "the SMS code"}  # fmt: skip
    r = own.post("/fraud-reports", body)
    assert r.status_code == 201 and r.json()["merchant_id"] == m.pk
    other = builders.merchant()
    assert own.post("/fraud-reports", body | {"merchant_id": other.pk}).status_code == 403
    agent = Api("agent")
    assert agent.post("/fraud-reports", body | {"merchant_id": other.pk, "channel": "sms"}).status_code == 201
    assert agent.get("/fraud-reports").status_code == 403
    queue = Api("risk").get("/fraud-reports").json()["items"]
    assert len(queue) == 2 and FraudReport.objects.filter(state="open").count() == 2
    assert own.post("/fraud-reports", body | {"channel": "fax"}).status_code == 422
