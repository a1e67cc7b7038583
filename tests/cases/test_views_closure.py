"""A closure worked through the console pages end to end (test client): review, stop with step-up,
statement, export, returns with one damaged printer, dual-control key destruction, settle, complete."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.audit.services import verify
from posfleet.cases import services as case_services
from posfleet.cases.models import Case
from posfleet.core.actor import Actor
from posfleet.keys import services as keys
from posfleet.lifecycle.eligibility import may_transact
from posfleet.money import ledger
from posfleet.registry.models import Accessory, Merchant
from tests import builders
from tests.cases import builders as cb

pytestmark = pytest.mark.django_db


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


def test_closure_through_the_console(client, login, closing_merchant, django_capture_on_commit_callbacks):
    m, t1, t2, printer = closing_merchant
    case = cb.file(cb.portal_actor(m), kind="closure", merchant_id=m.pk, reason="business_change")
    cb.upload_required(case)

    login("reviewer")
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
    login("reviewer", stepped_up=True)
    r = client.post(f"/console/cases/{case.pk}/stop/")
    assert r.status_code == 302, r.content.decode()[:3000]
    t1.refresh_from_db()
    assert t1.state == "deactivated"

    assert client.post(f"/console/cases/{case.pk}/statement/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):  # the worker builds it (Huey immediate)
        assert client.post(f"/console/cases/{case.pk}/export/").status_code == 302
    export = client.get(f"/console/cases/{case.pk}/export.csv")
    assert export.status_code == 200 and export["X-Content-SHA256"]

    login("warehouse")
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

    login("finance")
    r = client.post(f"/console/cases/{case.pk}/settle/", {"proof": "转账回单 2026-001"})
    assert r.status_code == 302 and r["Location"].startswith("/console/step-up/")
    login("finance", stepped_up=True)
    r = client.post(f"/console/cases/{case.pk}/settle/", {"proof": "转账回单 2026-001"})
    assert r.status_code == 302, r.content.decode()[:3000]
    settlement = Case.objects.get(pk=case.pk).settlement
    assert settlement.penalty_fen == m.contract.early_termination_penalty_fen
    assert settlement.refund_fen == 100000 - settlement.penalty_fen - settlement.damage_fen

    # finance settles the money; completing the case is the reviewer's (work_case), not finance's
    assert client.post(f"/console/cases/{case.pk}/complete/").status_code in (302, 403)
    assert Case.objects.get(pk=case.pk).state != "completed"
    login("reviewer", stepped_up=True)
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


def test_shortfall_is_paid_through_the_finance_screen(client, login, django_capture_on_commit_callbacks):
    """A small deposit: penalty and a damaged terminal exceed it, so the merchant pays the rest."""
    fleet = cb.lent_fleet(deposit_fen=10_000)
    m, t1, t2, printer = fleet["merchant"], fleet["t1"], fleet["t2"], fleet["printer"]
    case = cb.file(cb.portal_actor(m), kind="closure", merchant_id=m.pk, reason="financial")
    cb.upload_required(case)
    cb.decide(case)
    worker = builders.actor("reviewer")
    with transaction.atomic():
        case_services.stop_terminals(worker, case.pk)
    cb.settle_transactions(fleet["sale_day"])
    with transaction.atomic():
        case_services.issue_final_statement(worker, case.pk)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        case_services.start_export(worker, case.pk)
    with transaction.atomic():
        case_services.record_returns(
            builders.actor("warehouse"),
            case.pk,
            [
                {"item": f"terminal:{t1.tid}", "condition": "damaged"},
                {"item": f"terminal:{t2.tid}", "condition": "good"},
                {"item": f"accessory:{printer.pk}", "condition": "good"},
            ],
        )
    cb.destroy_keys(t1.tid)
    cb.destroy_keys(t2.tid)

    login("finance", stepped_up=True)
    r = client.post(f"/console/cases/{case.pk}/settle/", {"proof": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    settlement = Case.objects.get(pk=case.pk).settlement
    assert settlement.state == "awaiting_payment" and settlement.shortfall_fen > 0
    page = client.get(f"/console/cases/{case.pk}/")
    assert b'id="payment-form"' in page.content

    r = client.post(f"/console/cases/{case.pk}/payment/", {"amount": "abc"})
    assert r.status_code == 422
    shortfall = settlement.shortfall_fen
    r = client.post(
        f"/console/cases/{case.pk}/payment/",
        {"amount": f"{shortfall // 100}.{shortfall % 100:02d}", "ref": "POS-PAY-1"},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Case.objects.get(pk=case.pk).settlement.state == "settled"

    login("reviewer")
    r = client.post(f"/console/cases/{case.pk}/complete/")
    assert r["Location"].startswith("/console/step-up/")  # closing the merchant is sensitive
    login("reviewer", stepped_up=True)
    r = client.post(f"/console/cases/{case.pk}/complete/")
    assert r["Location"] == f"/console/cases/{case.pk}/"
    assert Merchant.objects.get(pk=m.pk).state == "closed"
    assert ledger.balances(m.pk).amount_due_fen == 0


def test_deactivation_of_one_terminal(client, login, django_capture_on_commit_callbacks):
    """A deactivation keeps the merchant and the other terminal running."""
    fleet = cb.lent_fleet(deposit_fen=30_000)
    m, t1, t2, printer = fleet["merchant"], fleet["t1"], fleet["t2"], fleet["printer"]
    login("agent")
    r = client.post(
        "/console/cases/new/",
        {
            "merchant": m.pk,
            "kind": "deactivation",
            "terminals": [t1.tid],
            "reason": "technology_upgrade",
            "channel": "branch",
        },
    )
    assert r.status_code == 302
    case = Case.objects.get(kind="deactivation")
    cb.upload_required(case)
    login("reviewer", stepped_up=True)
    client.post(f"/console/cases/{case.pk}/decide/", {"decision": "approve", "reason": "同意停用"})
    assert client.post(f"/console/cases/{case.pk}/stop/").status_code == 302
    assert not may_transact(t1.tid).allowed and may_transact(t2.tid).allowed
    page = client.get(f"/console/cases/{case.pk}/")
    assert [c["item"] for c in page.context["checklist"]][-1] == "money_settled"
    returns = set(page.context["returns_form"].fields)
    assert returns == {f"terminal:{t1.tid}", f"accessory:{printer.pk}"}
    assert Merchant.objects.get(pk=m.pk).state == "active"


def test_scheduled_stop_from_the_console(client, login):
    from datetime import timedelta

    fleet = cb.lent_fleet(deposit_fen=30_000)
    m, t1 = fleet["merchant"], fleet["t1"]
    case = cb.approved("deactivation", m, [t1.tid], reason="technology_upgrade")
    login("reviewer", stepped_up=True)
    client.cookies["django_language"] = "en"
    later = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(f"/console/cases/{case.pk}/stop/", {"at": later})
    assert r.status_code == 302, r.content.decode()[:2000]
    case.refresh_from_db()
    assert case.effective_at is not None and case.stopped_at is None
    assert may_transact(t1.tid).allowed
    r = client.post(f"/console/cases/{case.pk}/stop/", {"at": "not a time"})
    assert r.status_code == 422


def test_stop_now_stops_at_once_even_with_a_planned_time_and_says_so(client, login):
    from datetime import timedelta

    fleet = cb.lent_fleet(deposit_fen=30_000)
    m, t1 = fleet["merchant"], fleet["t1"]
    case = cb.approved("deactivation", m, [t1.tid], reason="technology_upgrade")
    Case.objects.filter(pk=case.pk).update(effective_at=timezone.now() + timedelta(days=3))
    login("reviewer", stepped_up=True)
    client.cookies["django_language"] = "en"
    case.refresh_from_db()
    r = client.post(
        f"/console/cases/{case.pk}/stop/", {"when": "now", "at": "", "version": case.version}, follow=True
    )
    case.refresh_from_db()
    assert case.stopped_at is not None and not may_transact(t1.tid).allowed
    assert "were stopped" in r.content.decode()


def test_scheduled_stop_says_when_and_keeps_trading(client, login):
    from datetime import timedelta

    fleet = cb.lent_fleet(deposit_fen=30_000)
    m, t1 = fleet["merchant"], fleet["t1"]
    case = cb.approved("deactivation", m, [t1.tid], reason="technology_upgrade")
    login("reviewer", stepped_up=True)
    client.cookies["django_language"] = "en"
    later = timezone.localtime(timezone.now() + timedelta(days=2))
    r = client.post(
        f"/console/cases/{case.pk}/stop/",
        {"when": "at", "at": later.strftime("%Y-%m-%dT%H:%M"), "version": case.version},
        follow=True,
    )
    case.refresh_from_db()
    assert case.stopped_at is None and may_transact(t1.tid).allowed
    body = r.content.decode()
    assert "scheduled for " + later.strftime("%Y-%m-%d %H:%M") in body and "were stopped" not in body
    r = client.post(f"/console/cases/{case.pk}/stop/", {"when": "at", "at": "", "version": case.version})
    assert r.status_code == 422 and "Give the time" in r.content.decode()
