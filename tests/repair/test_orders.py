"""The repair order's state machine: every move through `orders.apply()`, the terminal following."""

from __future__ import annotations

import pytest
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.core.errors import InvalidTransition, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold
from posfleet.money import ledger
from posfleet.registry.models import Terminal
from posfleet.repair import transitions
from posfleet.repair.choices import RepairState
from posfleet.repair.models import QcResult, Quote, RepairOrder
from posfleet.repair.services import orders
from tests import builders
from tests.repair.builders import all_pass, fault, order_in, portal

pytestmark = pytest.mark.django_db


def act(actor, order, action, data=None, **kw):
    with transaction.atomic():
        return orders.apply(actor, order.pk, action, data or {}, **kw)


class TestReportAndDiagnose:
    def test_report_opens_an_order_and_stops_the_terminal(self):
        t = builders.terminal()
        f = fault(t)
        assert f.order.state == "reported"
        assert Hold.objects.get(pk=f.hold_id).kind == "fault"
        assert may_transact(t.tid).iso_response_code != "00"

    def test_the_merchant_is_told_on_its_channels(self):
        from posfleet.notices.models import Delivery, Notice
        from posfleet.registry.models import Merchant

        t = builders.terminal()
        Merchant.objects.filter(pk=t.merchant_id).update(email="shop@example.com")
        f = fault(t, stop=False)
        notice = Notice.objects.get(merchant_id=t.merchant_id, kind="notice")
        assert str(f.order.pk) in notice.body and t.tid in notice.title
        sent = dict(Delivery.objects.filter(notice=notice).values_list("channel", "recipient"))
        assert sent == {"portal": "", "sms": "13800138000", "email": "shop@example.com"}

    def test_diagnose_sends_the_terminal_to_repair(self):
        t = builders.terminal()
        f = fault(t, stop=False)
        order = act(
            builders.actor("technician"),
            f.order,
            "diagnose",
            {"diagnosis": "screen", "where": "manufacturer"},
        )
        assert order.state == "diagnosing" and order.where == "manufacturer"
        t.refresh_from_db()
        assert t.state == "in_repair"

    def test_a_merchant_cannot_diagnose(self):
        f = fault()
        with pytest.raises(PermissionDenied):
            act(portal(f.merchant), f.order, "diagnose", {"diagnosis": "x"})

    def test_stale_version_is_refused(self):
        f = fault()
        with pytest.raises(StaleVersion):
            act(builders.actor("technician"), f.order, "diagnose", {"diagnosis": "x"}, expected_version=7)

    def test_unknown_action_is_a_validation_error(self):
        f = fault()
        with pytest.raises(ValidationFailed):
            act(builders.actor("technician"), f.order, "explode")


class TestQuotes:
    def test_the_merchant_accepts_and_is_charged(self):
        order = order_in("awaiting_quote", warranty=False)
        quote = Quote.objects.get(order=order)
        order = act(portal(order.merchant), order, "accept_quote", {"quote_id": quote.pk})
        assert order.state == "quote_accepted" and order.charged_fen == 35000
        assert ledger.balances(order.merchant_id).amount_due_fen == 35000

    def test_another_merchant_cannot_accept(self):
        order = order_in("awaiting_quote", warranty=False)
        quote = Quote.objects.get(order=order)
        stranger = portal(builders.merchant())
        with pytest.raises(NotFound):
            act(stranger, order, "accept_quote", {"quote_id": quote.pk})
        order.refresh_from_db()
        assert order.state == "awaiting_quote"
        assert Quote.objects.get(pk=quote.pk).state == "offered"
        assert ledger.balances(order.merchant_id).amount_due_fen == 0

    def test_staff_cannot_accept_a_paid_quote(self):
        order = order_in("awaiting_quote", warranty=False)
        quote = Quote.objects.get(order=order)
        with pytest.raises(PermissionDenied):
            act(builders.actor("technician"), order, "accept_quote", {"quote_id": quote.pk})

    def test_under_warranty_staff_choose_and_nothing_is_charged(self):
        order = order_in("awaiting_quote", warranty=True)
        quote = Quote.objects.get(order=order)
        order = act(builders.actor("technician"), order, "accept_quote", {"quote_id": quote.pk})
        assert order.charged_fen == 0 and ledger.balances(order.merchant_id).amount_due_fen == 0

    def test_start_needs_an_accepted_quote_outside_warranty(self):
        order = order_in("diagnosing", warranty=False)
        with pytest.raises(InvalidTransition):
            act(builders.actor("technician"), order, "start")

    def test_decline(self):
        order = order_in("awaiting_quote", warranty=False)
        quote = Quote.objects.get(order=order)
        order = act(portal(order.merchant), order, "decline_quote", {"quote_id": quote.pk})
        assert Quote.objects.get(pk=quote.pk).state == "declined" and order.state == "awaiting_quote"


class TestQc:
    def test_a_failed_check_goes_back_to_repairing_and_cannot_finish(self):
        order = order_in("repairing")
        tech = builders.actor("technician")
        order = act(tech, order, "qc", {"results": all_pass(failed=("print",))})
        assert order.state == "repairing"
        with pytest.raises(InvalidTransition):
            act(tech, order, "finish")
        order.refresh_from_db()
        assert order.state == "repairing"
        assert QcResult.objects.filter(order=order, passed=False).count() == 1

    def test_a_missing_check_is_refused(self):
        order = order_in("repairing")
        with pytest.raises(ValidationFailed):
            act(builders.actor("technician"), order, "qc", {"results": all_pass()[:-1]})

    def test_finish_brings_the_terminal_back_and_releases_the_hold(self):
        t = builders.terminal()
        order = order_in("done", t)
        t.refresh_from_db()
        assert order.state == "done" and t.state == "active" and t.last_inspected_at is not None
        assert Hold.objects.get(pk=order.fault.hold_id).released_at is not None
        assert may_transact(t.tid).iso_response_code == "00"

    def test_step_records_parts_and_patch(self):
        order = order_in("repairing")
        act(
            builders.actor("technician"),
            order,
            "step",
            {"done": "reflash", "patch_after": "2026-09-01", "parts": [{"part": "battery", "serial": "B9"}]},
        )
        assert Terminal.objects.get(pk=order.terminal_id).security_patch_level == "2026-09-01"
        assert order.steps.get().parts.get().serial == "B9"


class TestCancel:
    def test_cancel_releases_everything(self):
        t = builders.terminal()
        order = order_in("diagnosing", t)
        order = act(builders.actor("technician"), order, "cancel", {"note": "merchant found the cable loose"})
        t.refresh_from_db()
        assert order.state == "cancelled" and t.state == "active"
        assert may_transact(t.tid).iso_response_code == "00"


@pytest.mark.parametrize("state", RepairState.values)
@pytest.mark.parametrize("action", transitions.ACTIONS)
def test_every_state_action_pair_moves_by_the_table_or_is_refused(state, action):
    order = order_in(state) if state != "reported" else fault().order
    assert order.state == state
    allowed = action in transitions.available(state)
    before = RepairOrder.objects.get(pk=order.pk).version
    data = {
        "diagnosis": "x",
        "note": "x",
        "done": "x",
        "results": all_pass(),
        "provider": "p",
        "amount_fen": 1,
        "days": 1,
        "warranty_months": 1,
        "quote_id": 0,
    }
    try:
        act(builders.actor("admin"), order, action, data)
    except (InvalidTransition, ValidationFailed, PermissionDenied) as exc:
        if not allowed:
            assert isinstance(exc, InvalidTransition)
        assert RepairOrder.objects.get(pk=order.pk).version == before
    else:
        assert allowed
        assert AuditEvent.objects.filter(
            object_type="repair_order", object_id=str(order.pk), action=f"repair.{action}"
        ).exists()
