"""Money while frozen: a risk freeze holds settlement; when it lifts the next run pays and tells."""

from __future__ import annotations

import pytest
from django.db import transaction

from posfleet.core.errors import PermissionDenied, ValidationFailed
from posfleet.lifecycle.holds import place_hold, release_hold
from posfleet.notices.models import Notice
from posfleet.settlement import freezes
from posfleet.settlement.models import SettlementBatch
from posfleet.settlement.services import pay_due, run_settlement
from tests import builders
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db


def freeze(merchant, *, tid=None, settlement=True, actor=None):
    actor = actor or builders.actor("risk")
    with transaction.atomic():
        target = {"tid": tid} if tid else {"merchant_id": merchant.pk}
        hold = place_hold(actor, kind="risk_freeze", reason="account anomaly", **target)
        if settlement:
            freezes.hold_settlement(actor, hold)
    return hold


def run(day):
    finance = builders.actor("finance")
    with transaction.atomic():
        return run_settlement(finance, day)


class TestHoldingSettlement:
    def test_a_freeze_holds_the_days_batch_and_nothing_is_paid(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        tx(m, 100_000, at(days_ago(2)), tid=t.tid)
        freeze(m, tid=t.tid)
        result = run(days_ago(2))
        batch = SettlementBatch.objects.get(merchant=m)
        assert batch.state == "held" and not result.paid
        money = freezes.held_money(m.pk)
        assert money.amount_fen == batch.payout_fen and money.batches == 1 and len(money.freezes) == 1
        assert not money.released_next_run

    def test_unpaid_batches_are_held_at_once(self):
        m = builders.merchant()
        tx(m, 50_000, at(days_ago(1)))
        with transaction.atomic():
            run_settlement(builders.actor("finance"), days_ago(1))  # payout tomorrow: settled, unpaid
        assert SettlementBatch.objects.get(merchant=m).state == "settled"
        freeze(m)
        assert SettlementBatch.objects.get(merchant=m).state == "held"

    def test_a_freeze_without_settlement_leaves_the_money_alone(self):
        m = builders.merchant()
        tx(m, 100_000, at(days_ago(2)))
        freeze(m, settlement=False)
        run(days_ago(1))  # a later day's run pays the batch due
        run(days_ago(2))
        with transaction.atomic():
            pay_due(builders.actor("finance"), days_ago(0))
        assert SettlementBatch.objects.get(merchant=m).state == "paid"

    def test_only_risk_freezes_on_one_merchant_and_only_risk_or_finance(self):
        m = builders.merchant()
        with transaction.atomic():
            maint = place_hold(
                builders.actor("admin"), kind="maintenance", reason="upgrade", merchant_id=m.pk
            )
        with pytest.raises(ValidationFailed):
            freezes.hold_settlement(builders.actor("admin"), maint)
        with transaction.atomic():
            hold = place_hold(builders.actor("admin"), kind="risk_freeze", reason="x", merchant_id=m.pk)
        with pytest.raises(PermissionDenied):
            freezes.hold_settlement(builders.actor("technician"), hold)


class TestWhenTheFreezeLifts:
    def test_the_next_run_pays_the_held_batches_and_tells_the_merchant(self):
        m = builders.merchant()
        tx(m, 100_000, at(days_ago(3)))
        hold = freeze(m)
        run(days_ago(3))
        assert SettlementBatch.objects.get(merchant=m).state == "held"
        with transaction.atomic():
            release_hold(builders.actor("risk"), hold.pk, reason="appeal approved")
        assert freezes.held_money(m.pk).released_next_run
        tx(m, 20_000, at(days_ago(2)))
        result = run(days_ago(2))
        states = dict(SettlementBatch.objects.filter(merchant=m).values_list("business_date", "state"))
        assert states == {days_ago(3): "paid", days_ago(2): "settled"}  # T+1: paid tomorrow
        assert {b.business_date for b in result.paid} >= {days_ago(3)}
        notice = Notice.objects.get(merchant=m, title="暂缓结算的款项已放行")
        assert "1 个结算批次" in notice.body
        assert freezes.held_money(m.pk).batches == 0

    def test_a_delay_set_by_finance_keeps_holding(self):
        from posfleet.settlement.profiles import set_profile

        m = builders.merchant()
        tx(m, 100_000, at(days_ago(3)))
        hold = freeze(m)
        with transaction.atomic():
            set_profile(builders.actor("finance"), m.pk, delayed=True, reason="pending review")
        run(days_ago(3))
        with transaction.atomic():
            release_hold(builders.actor("risk"), hold.pk, reason="cleared")
        with transaction.atomic():
            pay_due(builders.actor("finance"), days_ago(0))
        assert SettlementBatch.objects.get(merchant=m).state == "held"
        assert freezes.held_money(m.pk).delayed_by_finance


class TestPortalAndApi:
    def test_the_portal_shows_how_much_is_held_and_why(self, client):
        from tests.portal.builders import merchant_user

        m = builders.merchant()
        tx(m, 100_000, at(days_ago(2)))
        hold = freeze(m)
        run(days_ago(2))
        client.force_login(merchant_user(m))
        page = client.get("/portal/").content.decode()
        assert 'id="held-money"' in page and "held-why" in page
        assert f"hold={hold.pk}" in page

    def test_the_api_holds_settlement_with_a_freeze(self, client):
        from tests.cases.test_api import api

        m = builders.merchant()
        r = api(client, "risk").post(
            f"/merchants/{m.pk}/holds", {"kind": "risk_freeze", "reason": "异常交易", "hold_settlement": True}
        )
        assert r.status_code == 201, r.content
        assert freezes.frozen_merchant_ids() == {m.pk}
        r = api(client, "technician").post(
            f"/merchants/{m.pk}/holds", {"kind": "fault", "reason": "x", "hold_settlement": True}
        )
        assert r.status_code in (403, 422)

    def test_the_console_hold_form_can_hold_settlement(self, client, login):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        login("risk", stepped_up=True)
        r = client.post(
            f"/console/terminals/{t.tid}/holds/",
            {"kind": "risk_freeze", "reason": "异常交易", "hold_settlement": "on"},
        )
        assert r.status_code == 302
        assert freezes.frozen_merchant_ids() == {m.pk}
