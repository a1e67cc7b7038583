"""The appeal through the API: `POST /cases` with `"kind": "appeal", "hold_id": N`, the 409, the decision."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold
from tests import builders
from tests.cases.builders import PDF
from tests.cases.test_api import api
from tests.cases.test_appeals import freeze

pytestmark = pytest.mark.django_db


def test_file_upload_and_approve_an_appeal_by_api(client):
    m = builders.merchant(kind="individual")
    t = builders.terminal(merchant_obj=m)
    hold = freeze(tid=t.tid)
    agent = api(client, "agent")
    r = agent.post("/cases", {"kind": "appeal", "hold_id": hold.pk, "reason": "transactions_genuine"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "appeal" and body["merchant_id"] == m.pk
    assert body["missing_materials"] == ["proof_of_identity", "transaction_evidence"]
    case_id = body["id"]

    again = agent.post("/cases", {"kind": "appeal", "hold_id": hold.pk, "reason": "other"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "appeal_open"
    assert again.json()["error"]["details"] == {"case_id": case_id}

    for kind in body["missing_materials"]:
        f = SimpleUploadedFile(f"{kind}.pdf", PDF, content_type="application/pdf")
        assert agent.post(f"/cases/{case_id}/materials", files={"type": kind, "file": f}).status_code == 201

    detail = agent.get(f"/cases/{case_id}").json()
    assert detail["hold_id"] == hold.pk and detail["terminals"] == [t.tid]
    assert detail["hold"]["kind"] == "risk_freeze" and detail["hold"]["in_force"] is True
    assert detail["sla_hours"] == 48

    refused = api(client, "reviewer").post(
        f"/cases/{case_id}/decision", {"decision": "approve", "reason": "ok"}
    )
    assert refused.status_code == 403
    ok = api(client, "risk").post(f"/cases/{case_id}/decision", {"decision": "approve", "reason": "收据真实"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["state"] == "completed" and ok.json()["hold"]["in_force"] is False
    assert Hold.objects.get(pk=hold.pk).released_at is not None
    assert may_transact(t.tid).allowed


def test_appeal_errors_name_the_field(client):
    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    agent = api(client, "agent")
    r = agent.post("/cases", {"kind": "appeal", "merchant_id": m.pk, "reason": "other"})
    assert r.status_code == 422 and "hold_id" in r.json()["error"]["details"]
    fault = freeze(tid=t.tid, kind="fault")
    r = agent.post("/cases", {"kind": "appeal", "hold_id": fault.pk, "reason": "other"})
    assert r.status_code == 422 and "hold_id" in r.json()["error"]["details"]


def test_a_rejected_appeal_says_what_next(client):
    m = builders.merchant()
    hold = freeze(merchant_id=m.pk)
    case_id = (
        api(client, "agent")
        .post("/cases", {"kind": "appeal", "hold_id": hold.pk, "reason": "other"})
        .json()["id"]
    )
    r = api(client, "risk").post(f"/cases/{case_id}/decision", {"decision": "reject", "reason": "证据不足"})
    assert r.status_code == 200
    assert r.json()["state"] == "rejected" and r.json()["next_steps"]
