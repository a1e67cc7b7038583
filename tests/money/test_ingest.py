from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.core.errors import PermissionDenied, ValidationFailed
from posfleet.money import ledger
from posfleet.money.ingest import ingest
from posfleet.money.models import Journal, Posting, Transaction
from posfleet.registry.choices import TerminalState
from tests import builders
from tests.money.builders import item, merchant_on

pytestmark = pytest.mark.django_db


def fin():
    return builders.actor("finance")


def run(items, actor=None):
    with transaction.atomic():
        return ingest(actor or fin(), items)


@pytest.fixture
def term():
    return builders.terminal()


class TestSeedFigures:
    @pytest.mark.parametrize(
        ("plan", "channel", "fee"),
        [
            ("STANDARD", "credit", 6000),
            ("STANDARD", "wechat", 3800),
            ("STANDARD", "alipay", 3800),
            ("STANDARD", "unionpay_qr", 6000),
            ("STANDARD", "debit", 2500),
            ("CLASSIC", "debit", 2000),
            ("CLASSIC", "wechat", 4800),
        ],
    )
    def test_fee_on_10000_yuan(self, plan, channel, fee):
        t = builders.terminal(merchant_obj=merchant_on(plan))
        [r] = run([item(t.tid, channel=channel, amount_fen=1_000_000)])
        assert (r.status, r.fee_fen, r.net_fen) == ("created", fee, 1_000_000 - fee)
        tx = Transaction.objects.get(switch_id=r.id)
        assert (tx.fee_fen, tx.rate_plan_code, tx.merchant_id) == (fee, plan, t.merchant_id)
        assert ledger.balances(t.merchant_id).unsettled_fen == 1_000_000 - fee


class TestRefunds:
    def test_refund_and_reversal(self, term):
        results = run(
            [
                item(term.tid, amount_fen=1_000_000, switch_id="SALE1"),
                item(term.tid, amount_fen=1_000_000, switch_id="SALE2"),
                item(term.tid, type="refund", amount_fen=200_000, original_id="SALE1"),
                item(term.tid, type="reversal", amount_fen=1_000_000, original_id="SALE2"),
            ]
        )
        assert [(r.fee_fen, r.net_fen) for r in results] == [
            (6000, 994_000),
            (6000, 994_000),
            (0, -200_000),
            (-6000, -994_000),
        ]
        assert ledger.balances(term.merchant_id).unsettled_fen == 994_000 - 200_000
        assert Posting.objects.filter(account__code="fee_income").get().amount_fen == -6000  # 12000 − 6000


class TestIdempotence:
    def test_reingest_is_duplicate_and_changes_nothing(self, term):
        items = [item(term.tid), item(term.tid, channel="wechat")]
        first = run(items)
        postings = Posting.objects.count()
        again = run(items)
        assert [r.status for r in again] == ["duplicate", "duplicate"]
        assert [r.transaction_id for r in again] == [r.transaction_id for r in first]
        assert [r.fee_fen for r in again] == [6000, 3800]
        assert Transaction.objects.count() == 2
        assert Posting.objects.count() == postings

    def test_duplicate_with_different_content(self, term):
        x = item(term.tid)
        run([x])
        [r] = run([{**x, "amount_fen": 999}])
        assert r.status == "error"
        assert r.error["code"] == "duplicate_conflict"
        assert Transaction.objects.get(switch_id=x["id"]).amount_fen == 1_000_000

    def test_same_id_twice_in_one_batch(self, term):
        x = item(term.tid)
        r1, r2, r3 = run([x, dict(x), {**x, "channel": "debit"}])
        assert (r1.status, r2.status, r3.status) == ("created", "duplicate", "error")
        assert r2.transaction_id == r1.transaction_id
        assert r3.error["code"] == "duplicate_conflict"
        assert Transaction.objects.count() == 1

    def test_same_instant_other_offset_is_same_content(self, term):
        x = item(term.tid, occurred_at="2026-11-20T10:00:00+08:00")
        run([x])
        [r] = run([{**x, "occurred_at": "2026-11-20T02:00:00+00:00"}])
        assert r.status == "duplicate"


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"tid": "NOSUCH01"}, "unknown_terminal"),
            ({"channel": "visa"}, "unknown_channel"),
            ({"type": "void"}, "unknown_type"),
            ({"amount_fen": -100}, "invalid_amount"),
            ({"amount_fen": 0}, "invalid_amount"),
            ({"amount_fen": 10.5}, "invalid_amount"),
            ({"amount_fen": "10.5"}, "invalid_amount"),
            ({"amount_fen": True}, "invalid_amount"),
            ({"amount_fen": None}, "invalid_amount"),
            ({"occurred_at": "yesterday"}, "invalid_time"),
            ({"occurred_at": "2026-13-01T00:00:00+08:00"}, "invalid_time"),
            ({"id": ""}, "invalid_id"),
            ({"id": "x" * 65}, "invalid_id"),
        ],
    )
    def test_item_error_writes_nothing_for_that_item(self, term, change, code):
        good = item(term.tid)
        bad = {**item(term.tid), **change}
        r_good, r_bad = run([good, bad])
        assert r_good.status == "created"
        assert r_bad.status == "error"
        assert r_bad.error["code"] == code
        assert r_bad.error["message"]
        assert Transaction.objects.count() == 1
        assert ledger.balances(term.merchant_id).unsettled_fen == 994_000

    def test_future_time(self, term):
        [r] = run([item(term.tid, occurred_at=timezone.now() + timedelta(days=3))])
        assert r.error["code"] == "invalid_time"

    def test_not_a_dict(self):
        [r] = run(["nope"])
        assert r.error["code"] == "invalid_item"

    def test_unbound_terminal(self):
        t = builders.terminal(TerminalState.IN_STOCK)
        [r] = run([item(t.tid)])
        assert r.error["code"] == "unbound_terminal"

    def test_all_bad_writes_no_journal(self):
        run([item("NOSUCH01")])
        assert not Journal.objects.exists()

    def test_too_many_items(self, term):
        with pytest.raises(ValidationFailed):
            run([item(term.tid)] * 10_001)

    def test_permission(self, term):
        with pytest.raises(PermissionDenied):
            run([item(term.tid)], actor=builders.actor("agent"))


class TestFlagging:
    def test_deactivated_terminal_is_recorded_flagged_and_alerted(self):
        t = builders.terminal(TerminalState.DEACTIVATED)
        with transaction.atomic():
            [r] = ingest(fin(), [item(t.tid)])
        assert (r.status, r.flagged) == ("created", True)
        tx = Transaction.objects.get(switch_id=r.id)
        assert tx.flagged
        assert tx.flag_reasons[0]["code"] == "terminal_not_active"
        assert tx.flag_reasons[0]["iso_response_code"] == "58"
        event = AuditEvent.objects.get(action="transaction.flagged", object_id=r.id)
        assert event.after["tid"] == t.tid
        assert ledger.balances(t.merchant_id).unsettled_fen == 994_000

    def test_merchant_notified_after_commit(self, django_capture_on_commit_callbacks):
        from posfleet.notices.models import Notice

        t = builders.terminal(TerminalState.DEACTIVATED)
        with django_capture_on_commit_callbacks(execute=True):
            run([item(t.tid), item(t.tid, channel="wechat")])
        notice = Notice.objects.get(merchant=t.merchant)
        assert "2" in notice.body and t.tid in notice.body

    def test_the_alert_goes_out_on_the_merchants_channels(self, django_capture_on_commit_callbacks):
        from posfleet.notices.models import Delivery, Notice
        from posfleet.registry.models import Merchant

        t = builders.terminal(TerminalState.DEACTIVATED)
        Merchant.objects.filter(pk=t.merchant_id).update(email="shop@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            run([item(t.tid)])
        notice = Notice.objects.get(merchant_id=t.merchant_id)
        sent = dict(Delivery.objects.filter(notice=notice).values_list("channel", "recipient"))
        assert sent == {"portal": "", "sms": "13800138000", "email": "shop@example.com"}

    def test_hold_counts_at_occurred_at(self):
        from posfleet.lifecycle.models import Hold

        t = builders.terminal()
        start = timezone.now() - timedelta(hours=2)
        Hold.objects.create(
            terminal=t, kind="fault", reason="test", starts_at=start, ends_at=start + timedelta(hours=1)
        )
        during, after = run(
            [
                item(t.tid, occurred_at=start + timedelta(minutes=5)),
                item(t.tid, occurred_at=start + timedelta(hours=1, minutes=5)),
            ]
        )
        assert (during.flagged, after.flagged) == (True, False)

    def test_merchant_hold_and_released_hold(self):
        from posfleet.lifecycle.models import Hold

        t = builders.terminal()
        start = timezone.now() - timedelta(hours=5)
        Hold.objects.create(
            merchant=t.merchant, on_merchant=True, kind="risk_freeze", reason="x", starts_at=start
        )
        other = builders.terminal()
        Hold.objects.create(
            terminal=other,
            kind="fault",
            reason="x",
            starts_at=start,
            released_at=start + timedelta(minutes=30),
        )
        held, before, released, while_in_force = run(
            [
                item(t.tid, occurred_at=start + timedelta(hours=1)),
                item(t.tid, occurred_at=start - timedelta(hours=1)),
                item(other.tid, occurred_at=start + timedelta(hours=1)),
                # released since, the hold was in force then: the same rule as may_transact(at=)
                item(other.tid, occurred_at=start + timedelta(minutes=15)),
            ]
        )
        assert (held.flagged, before.flagged, released.flagged) == (True, False, False)
        assert while_in_force.flagged
        assert Transaction.objects.get(switch_id=held.id).flag_reasons[0]["code"] == "merchant_hold"

    def test_bulk_hold_counts_per_terminal(self):
        from posfleet.lifecycle.models import Hold, HoldTerminal

        a, b = builders.terminal(), builders.terminal()
        start = timezone.now() - timedelta(hours=2)
        hold = Hold.objects.create(bulk=True, kind="maintenance", reason="window", starts_at=start)
        HoldTerminal.objects.create(hold=hold, terminal=a)
        HoldTerminal.objects.create(hold=hold, terminal=b, released_at=start + timedelta(hours=1))
        held, released = run(
            [
                item(a.tid, occurred_at=start + timedelta(minutes=90)),
                item(b.tid, occurred_at=start + timedelta(minutes=90)),
            ]
        )
        # As for a released hold of its own (above): released for b, it no longer flags b.
        assert (held.flagged, released.flagged) == (True, False)
        assert Transaction.objects.get(switch_id=held.id).flag_reasons[0]["code"] == "terminal_hold"

    def test_active_terminal_not_flagged(self, term):
        [r] = run([item(term.tid)])
        assert not r.flagged


class TestPlanAtTime:
    def test_fee_uses_plan_in_force_at_occurred_at(self):
        from posfleet.money.models import MerchantPlan, RatePlan

        m = merchant_on("STANDARD")
        t = builders.terminal(merchant_obj=m)
        switch = timezone.now() - timedelta(days=1)
        MerchantPlan.objects.filter(merchant=m).update(effective_from=switch - timedelta(days=5))
        MerchantPlan.objects.create(
            merchant=m, plan=RatePlan.objects.get(code="CLASSIC"), effective_from=switch, created_by="t"
        )
        before, after = run(
            [
                item(t.tid, channel="wechat", occurred_at=switch - timedelta(hours=1)),
                item(t.tid, channel="wechat", occurred_at=switch + timedelta(hours=1)),
            ]
        )
        assert (before.fee_fen, after.fee_fen) == (3800, 4800)
