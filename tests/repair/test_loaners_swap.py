"""Loaners lent and returned like any return; swaps to the newest patch level in stock under the same TID."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.core.errors import Conflict, StepUpRequired, ValidationFailed
from posfleet.keys import services as keys
from posfleet.keys.models import KeyState, TerminalKey
from posfleet.lifecycle import services as lifecycle
from posfleet.lifecycle.eligibility import may_transact
from posfleet.money import ledger
from posfleet.registry.models import Contract, Terminal
from posfleet.repair.models import Loaner, Swap
from posfleet.repair.services import loaners, prevention, swap
from tests import builders
from tests.repair.builders import fault, loaner, order_in

pytestmark = pytest.mark.django_db


def lend(order, actor=None, **kw):
    with transaction.atomic():
        return loaners.lend(actor or builders.actor("warehouse"), order.merchant_id, order.pk, **kw)


class TestLend:
    def test_lends_an_active_keyed_loaner_with_a_due_date(self):
        pool = loaner()
        order = order_in("diagnosing")
        loan = lend(order)
        pool.refresh_from_db()
        assert pool.state == "active" and pool.merchant_id == order.merchant_id
        assert loan.due_on == timezone.localdate() + timedelta(days=14)
        assert TerminalKey.objects.filter(terminal=pool, state=KeyState.LIVE).exists()
        assert may_transact(pool.tid).iso_response_code == "00"

    def test_no_loaner_in_stock_is_a_clear_conflict_and_changes_nothing(self):
        builders.terminal("in_stock")  # ordinary stock is never lent
        order = order_in("diagnosing")
        with pytest.raises(Conflict) as exc:
            lend(order)
        assert exc.value.code == "no_loaner_in_stock"
        assert not Loaner.objects.exists()

    def test_order_of_another_merchant(self):
        loaner()
        order = order_in("diagnosing")
        with pytest.raises(ValidationFailed), transaction.atomic():
            loaners.lend(builders.actor("warehouse"), builders.merchant().pk, order.pk)

    def test_technician_may_not_lend(self):
        loaner()
        from posfleet.core.errors import PermissionDenied

        with pytest.raises(PermissionDenied):
            lend(order_in("diagnosing"), builders.actor("technician"))


class TestReturn:
    def test_damaged_return_is_charged_from_the_contract(self):
        pool = loaner()
        order = order_in("diagnosing")
        Contract.objects.filter(merchant=order.merchant).update(damage_prices={"terminal": 80000})
        lend(order)
        with transaction.atomic():
            loan = loaners.return_loaner(builders.actor("warehouse"), pool.tid, condition="damaged")
        pool.refresh_from_db()
        assert pool.state == "returned" and loan.state == "returned" and loan.charge_fen == 80000
        assert ledger.balances(order.merchant_id).amount_due_fen == 80000

    def test_overdue(self):
        loaner()
        loan = lend(order_in("diagnosing"))
        Loaner.objects.filter(pk=loan.pk).update(due_on=timezone.localdate() - timedelta(days=1))
        assert list(loaners.overdue()) == [Loaner.objects.get(pk=loan.pk)]

    def test_is_overdue_agrees_with_the_overdue_query(self):
        pool = loaner()
        loan = lend(order_in("diagnosing"))
        today = timezone.localdate()
        assert not loaners.is_overdue(loan, today)  # due in 14 days
        assert not loaners.is_overdue(loan, loan.due_on)  # due today: not yet late
        assert loaners.is_overdue(loan, loan.due_on + timedelta(days=1))
        with transaction.atomic():
            returned = loaners.return_loaner(builders.actor("warehouse"), pool.tid, condition="good")
        assert not loaners.is_overdue(returned, returned.due_on + timedelta(days=1))


def _swap(tid, actor=None, **kw):
    with transaction.atomic():
        return swap.swap(actor or builders.actor("technician"), tid, reason="mainboard corroded", **kw)


class TestSwap:
    def test_unrepairable_swap_keeps_the_tid_with_the_newest_patch(self):
        t = builders.terminal()
        lifecycle_key = keys.generate_for(t, builders.actor("admin"))
        order_in("unrepairable", t)
        builders.terminal("in_stock", patch="2026-03-01")
        newest = builders.terminal("in_stock", patch="2026-08-01")
        old_sn, tid = t.sn, t.tid
        done = _swap(tid)
        assert swap.as_dict(done) == {
            "tid": tid,
            "old_sn": old_sn,
            "new_sn": newest.sn,
            "security_patch_level": "2026-08-01",
        }
        now = Terminal.objects.get(tid=tid)
        assert now.pk == newest.pk and now.state == "active" and now.merchant_id == t.merchant_id
        assert may_transact(tid).iso_response_code == "00"
        new_key = TerminalKey.objects.get(terminal=now, state=KeyState.LIVE)
        assert new_key.kcv != lifecycle_key.kcv or new_key.pk != lifecycle_key.pk
        old = Terminal.objects.get(pk=t.pk)
        assert old.state == "deactivated" and old.sn == old_sn and old.tid == done.old_tid_now
        event = AuditEvent.objects.get(object_type="terminal", object_id=tid, action="terminal.swap")
        assert event.before["sn"] == old_sn and event.after["sn"] == newest.sn
        # The old device's key to dual-control destruction, then the return path.
        first, second = builders.actor("custodian"), builders.actor("custodian")
        with transaction.atomic():
            keys.destroy(first, old.tid, "swapped out")
        with transaction.atomic():
            keys.destroy(second, old.tid, "swapped out")
        assert TerminalKey.objects.get(pk=lifecycle_key.pk).state == KeyState.DESTROYED
        with transaction.atomic():
            lifecycle.apply(builders.actor("warehouse"), old.tid, "receive_return", reason="courier")
        assert Swap.objects.get().order.state == "unrepairable"
        assert prevention.history(now)["swaps"] == [done]

    def test_a_device_with_an_old_patch_is_refused_and_nothing_changes(self):
        t = builders.terminal()
        old_device = builders.terminal("in_stock", patch="2026-02-01")
        builders.terminal("in_stock", patch="2026-08-01")
        with pytest.raises(ValidationFailed) as exc:
            _swap(t.tid, new_sn=old_device.sn)
        assert exc.value.code == "patch_not_newest"
        t.refresh_from_db()
        assert (
            t.state == "active" and Terminal.objects.get(tid=t.tid).pk == t.pk and not Swap.objects.exists()
        )

    def test_step_up_is_required(self):
        t = builders.terminal()
        builders.terminal("in_stock")
        with pytest.raises(StepUpRequired):
            _swap(t.tid, actor=builders.actor("technician", stepped_up=False))

    def test_open_repair_order_blocks(self):
        t = builders.terminal()
        builders.terminal("in_stock")
        order_in("diagnosing", t)
        with pytest.raises(Conflict):
            _swap(t.tid)

    def test_holds_follow_the_tid(self):
        from posfleet.lifecycle import holds

        t = builders.terminal()
        builders.terminal("in_stock", patch="2026-08-01")
        with transaction.atomic():
            holds.place_hold(builders.actor("risk"), kind="risk_freeze", reason="dispute", tid=t.tid)
        _swap(t.tid, kind="upgrade")
        assert may_transact(t.tid).iso_response_code != "00"


class TestPrevention:
    def test_due_for_inspection_per_model_interval(self):
        short = builders.terminal_model("Q1")
        short.inspection_interval_days = 30
        short.save()
        old = builders.terminal(model=short)
        Terminal.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
        new = builders.terminal(model=short)  # registered today (builders backdate registration)
        Terminal.objects.filter(pk=new.pk).update(created_at=timezone.now())
        long_model = builders.terminal_model("Q2")
        long_t = builders.terminal(model=long_model)
        Terminal.objects.filter(pk=long_t.pk).update(created_at=timezone.now() - timedelta(days=40))
        assert [t.tid for t in prevention.due_for_inspection()] == [old.tid]

    def test_faults_per_model_month_and_mttr(self):
        order_in("done")
        fault()
        rows = prevention.faults_per_model_month()
        assert sum(r.faults for r in rows) == 2
        mttr = prevention.mean_time_to_repair()
        assert mttr[0].repairs == 1 and mttr[0].mean_hours >= 0
