"""Console pages of settlement: run (with step-up), merchant page, disputes queue and dispute page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from posfleet.accounts.stepup import mark_session
from posfleet.core.actor import Actor
from posfleet.settlement.disputes import DisputeInput, open_dispute
from posfleet.settlement.models import SettlementBatch
from tests import builders as b
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db


def client_for(role="finance", stepped_up=False):
    c = Client()
    c.force_login(b.user(role=role))
    if stepped_up:
        s = c.session
        mark_session(s)
        s.save()
    return c


def test_login_required(client):
    r = client.get("/console/settlement/")
    assert r.status_code == 302 and "/console/login/" in r["Location"]


def test_run_page_asks_step_up_then_settles():
    m = b.merchant()
    day = days_ago(2)
    tx(m, 100_000, at(day))
    c = client_for()
    assert c.get("/console/settlement/").status_code == 200
    r = c.post("/console/settlement/", {"business_date": day.isoformat()})
    assert r.status_code == 302 and "/console/step-up/" in r["Location"]
    assert not SettlementBatch.objects.exists()
    c = client_for(stepped_up=True)
    r = c.post("/console/settlement/", {"business_date": day.isoformat()})
    assert r.status_code == 200
    assert SettlementBatch.objects.count() == 1
    assert m.name in r.content.decode()
    r = c.post("/console/settlement/", {"business_date": "bad"})
    assert r.status_code == 422


def test_run_page_forbidden_without_view_money():
    assert client_for("technician").get("/console/settlement/").status_code == 403


def test_merchant_page_and_statement(django_assert_max_num_queries):
    m = b.merchant()
    t = tx(m, 100_000, at(days_ago(2)))
    with transaction.atomic():
        open_dispute(Actor.system(), DisputeInput(t.pk, "chargeback", "x"))
    c = client_for()
    with django_assert_max_num_queries(25):
        r = c.get(f"/console/settlement/merchants/{m.pk}/")
    # The open dispute is named in words (the reason's message), not by its code.
    body = r.content.decode()
    assert r.status_code == 200 and "有 1 笔争议" in body and "open_disputes" not in body
    r = c.get(
        f"/console/settlement/merchants/{m.pk}/statement.csv",
        {"from": days_ago(3).isoformat(), "to": days_ago(0).isoformat()},
    )
    assert r.status_code == 200 and r.streaming  # sent line by line, never built whole
    assert b"".join(r.streaming_content).startswith(b"date,kind")
    assert c.get("/console/settlement/merchants/999999/").status_code == 404


def test_profile_form_needs_step_up_and_reason():
    m = b.merchant()
    c = client_for("risk")
    r = c.post(f"/console/settlement/merchants/{m.pk}/", {"mode": "T1", "delayed": "on", "reason": "fraud"})
    assert r.status_code == 302 and "/console/step-up/" in r["Location"]
    c = client_for("risk", stepped_up=True)
    r = c.post(f"/console/settlement/merchants/{m.pk}/", {"mode": "T1", "delayed": "on", "reason": ""})
    assert r.status_code == 422
    r = c.post(f"/console/settlement/merchants/{m.pk}/", {"mode": "T1", "delayed": "on", "reason": "fraud"})
    assert r.status_code == 302
    m.settlement_profile.refresh_from_db()
    assert m.settlement_profile.delayed


def test_disputes_queue_and_dispute_page(django_assert_max_num_queries):
    m = b.merchant()
    ds = []
    for i in range(5):
        with transaction.atomic():
            ds.append(
                open_dispute(
                    Actor.system(), DisputeInput(tx(m, 1000 + i, at(days_ago(1))).pk, "chargeback", "x")
                )
            )
    c = client_for()
    with django_assert_max_num_queries(12):
        r = c.get("/console/settlement/disputes/")
    assert r.status_code == 200 and r.content.decode().count("/console/settlement/disputes/") >= 5
    url = f"/console/settlement/disputes/{ds[0].pk}/"
    assert c.get(url).status_code == 200
    f = SimpleUploadedFile("r.pdf", b"%PDF-1.4 test")
    agent = client_for("agent")  # records the merchant's answer on its behalf; finance resolves
    r = agent.post(url, {"action": "answer", "answer": "receipt", "channel": "phone", "files": [f]})
    assert r.status_code == 302
    assert "on-behalf" in c.get(url).content.decode()
    doc = ds[0].documents.get()
    assert c.get(f"/console/settlement/documents/{doc.pk}/").status_code == 200
    r = c.post(url, {"action": "resolve", "outcome": "won", "reason": "receipt ok"})
    assert r.status_code == 302
    ds[0].refresh_from_db()
    assert ds[0].state == "won"
    assert c.get("/console/settlement/disputes/", {"state": "won"}).status_code == 200


def test_run_page_in_chinese():
    from django.utils import translation

    c = client_for()
    with translation.override("zh-hans"):
        r = c.get("/console/settlement/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "运行结算" in r.content.decode()


def test_merchant_money_rows_show_their_settlement_date():
    """The money page's rows carry the covering batch (computed for the page's rows only)."""
    from posfleet.settlement.services import run_settlement

    m = b.merchant()
    day = days_ago(2)
    old = tx(m, 1000, at(day))
    with transaction.atomic():
        [batch] = run_settlement(Actor.system(), day).created
    new = tx(m, 2000, at(days_ago(1)))
    c = client_for()
    r = c.get(f"/console/money/merchants/{m.pk}/")
    assert r.status_code == 200
    rows = {t.pk: t for t in r.context["rows"]}
    assert list(rows) == [new.pk, old.pk]
    assert (rows[old.pk].settlement_batch_id, rows[old.pk].settled_at) == (batch.pk, batch.created_at)
    assert rows[new.pk].settlement_batch_id is None and rows[new.pk].settled_at is None
    older = c.get(f"/console/money/merchants/{m.pk}/", {"before": old.pk})
    assert [t.pk for t in older.context["rows"]] == [new.pk]
    assert older.context["rows"][0].settled_at is None
