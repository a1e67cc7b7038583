"""A closure worked through the console pages end to end (test client): review, stop with step-up,
statement, export, returns with one damaged printer, dual-control key destruction, settle, complete."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.accounts.stepup import SESSION_KEY
from posfleet.audit.services import verify
from posfleet.cases.models import Case
from posfleet.core.actor import Actor
from posfleet.keys import services as keys
from posfleet.money import ledger
from posfleet.registry.models import Accessory, Merchant
from tests import builders
from tests.cases import builders as cb

pytestmark = pytest.mark.django_db


def as_role(client, role, *, stepped_up=False):
    u = builders.user(role=role)
    client.force_login(u)
    if stepped_up:
        session = client.session
        session[SESSION_KEY] = timezone.now().isoformat()
        session.save()
    return u


@pytest.fixture
def closing_merchant():
    m = builders.merchant()
    t1, t2 = builders.terminal(merchant_obj=m), builders.terminal(merchant_obj=m)
    printer = Accessory.objects.create(terminal=t1, kind="printer", serial="PR-1")
    system = Actor.system("cli")
    with transaction.atomic():
        keys.generate_for(t1, system)
        keys.generate_for(t2, system)
        m.contract.deposit_fen = 100000
        m.contract.save()
        ledger.receive_deposit(system, m.pk, 100000, ref=f"deposit:{m.pk}")
    return m, t1, t2, printer


def test_closure_through_the_console(client, closing_merchant, django_capture_on_commit_callbacks):
    m, t1, t2, printer = closing_merchant
    case = cb.file(cb.portal_actor(m), kind="closure", merchant_id=m.pk, reason="business_change")
    cb.upload_required(case)

    as_role(client, "reviewer")
    r = client.post(f"/console/cases/{case.pk}/decide/", {"decision": "approve", "reason": "同意注销"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state in ("approved", "in_progress")

    # Completing too early names what is open and changes nothing.
    r = client.post(f"/console/cases/{case.pk}/complete/")
    assert r.status_code == 409
    assert Merchant.objects.get(pk=m.pk).state != "closed"

    # Stopping is sensitive: without a fresh step-up the console sends the user to verify.
    r = client.post(f"/console/cases/{case.pk}/stop/")
    assert r.status_code == 302 and r["Location"].startswith("/console/step-up/")
    as_role(client, "reviewer", stepped_up=True)
    r = client.post(f"/console/cases/{case.pk}/stop/")
    assert r.status_code == 302, r.content.decode()[:3000]
    t1.refresh_from_db()
    assert t1.state == "deactivated"

    assert client.post(f"/console/cases/{case.pk}/statement/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):  # the worker builds it (Huey immediate)
        assert client.post(f"/console/cases/{case.pk}/export/").status_code == 302
    export = client.get(f"/console/cases/{case.pk}/export.csv")
    assert export.status_code == 200 and export["X-Content-SHA256"]

    as_role(client, "warehouse")
    page = client.get(f"/console/cases/{case.pk}/")
    assert set(page.context["returns_form"].fields) == {
        f"terminal:{t1.tid}",
        f"terminal:{t2.tid}",
        f"accessory:{printer.pk}",
    }
    r = client.post(
        f"/console/cases/{case.pk}/returns/",
        {f"terminal:{t1.tid}": "good", f"terminal:{t2.tid}": "good", f"accessory:{printer.pk}": "damaged"},
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert case.returns.get(item=f"accessory:{printer.pk}").charge_fen == m.contract.damage_prices["printer"]

    c1 = builders.actor("custodian")
    c2 = builders.actor("custodian")
    for tid in (t1.tid, t2.tid):
        with transaction.atomic():
            keys.request_destruction(c1, tid, "closure")
        with transaction.atomic():
            keys.confirm_destruction(c2, tid, "closure")

    as_role(client, "finance")
    r = client.post(f"/console/cases/{case.pk}/settle/", {"proof": "转账回单 2026-001"})
    assert r.status_code == 302 and r["Location"].startswith("/console/step-up/")
    as_role(client, "finance", stepped_up=True)
    r = client.post(f"/console/cases/{case.pk}/settle/", {"proof": "转账回单 2026-001"})
    assert r.status_code == 302, r.content.decode()[:3000]
    settlement = Case.objects.get(pk=case.pk).settlement
    assert settlement.penalty_fen == m.contract.early_termination_penalty_fen
    assert settlement.refund_fen == 100000 - settlement.penalty_fen - settlement.damage_fen

    page = client.get(f"/console/cases/{case.pk}/")
    failing = [c for c in page.context["checklist"] if not c["ok"] and c["item"] != "account_closed"]
    assert failing == []
    r = client.post(f"/console/cases/{case.pk}/complete/")
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Merchant.objects.get(pk=m.pk).state == "closed"
    bal = ledger.balances(m.pk)
    assert (bal.amount_due_fen, bal.deposit_held_fen, bal.unsettled_fen, bal.settled_unpaid_fen) == (
        0,
        0,
        0,
        0,
    )
    assert verify().ok
