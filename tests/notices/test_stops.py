"""Every stop and lift tells the merchant: category, terminals, dates, what to do, a code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.lifecycle import holds, services
from posfleet.notices import services as notice_services
from posfleet.notices.models import Notice
from posfleet.registry.models import Merchant
from tests import builders


def _place(**kw):
    with transaction.atomic():
        return holds.place_hold(builders.actor("admin"), reason="internal: alert #77 score 0.93", **kw)


@pytest.mark.django_db
class TestTell:
    def test_a_risk_freeze_tells_the_merchant_why_without_the_internal_reason(self):
        t = builders.terminal()
        hold = _place(kind="risk_freeze", tid=t.tid, reason_category="account_anomaly")
        [notice] = hold.notices
        assert notice.kind == "stop" and notice.reason_category == "account_anomaly"
        assert notice.terminals == [t.tid] and notice.hold_id == hold.pk
        assert "alert #77" not in notice.body + notice.title + str(notice.facts)
        assert notice.facts["hotline"] and notice.facts["materials"] and notice.facts["appeal_deadline"]
        answer = notice_services.verify(notice.code, "8000")  # type: ignore[attr-defined]
        assert answer["genuine"] and answer["reason_category"] == "account_anomaly"
        assert answer["terminals"] == [t.tid] and answer["kind"] == "stop"
        assert not notice_services.verify(notice.code, "1234")["genuine"]  # type: ignore[attr-defined]

    def test_staff_text_replaces_the_template_and_the_kind_picks_the_default_category(self):
        t = builders.terminal()
        hold = _place(kind="fault", tid=t.tid, merchant_message="Card reader broken; a technician calls.")
        [notice] = hold.notices
        assert notice.reason_category == "hardware_fault"
        assert notice.body == "Card reader broken; a technician calls."
        assert not notice.facts["appeal_deadline"]  # a fault is not appealed

    def test_a_bulk_stop_sends_one_notice_per_merchant(self):
        m1, m2 = builders.merchant(), builders.merchant()
        ts = [builders.terminal(merchant_obj=m1) for _ in range(3)] + [builders.terminal(merchant_obj=m2)]
        with transaction.atomic():
            hold = holds.place_bulk(
                builders.actor("admin"), kind="maintenance", reason="upgrade", terminals=ts,
                ends_at=timezone.now() + timedelta(hours=2),
            )  # fmt: skip
        by_merchant = {n.merchant_id: n.terminals for n in hold.notices}
        assert by_merchant == {m1.pk: sorted(t.tid for t in ts[:3]), m2.pk: [ts[3].tid]}
        assert Notice.objects.filter(hold_id=hold.pk).count() == 2

    def test_release_tells_the_lift_with_the_category_of_the_stop(self):
        t = builders.terminal()
        hold = _place(kind="compliance", tid=t.tid, reason_category="policy")
        with transaction.atomic():
            released = holds.release_hold(builders.actor("admin"), hold.pk, reason="cleared")
        [lift] = released.notices
        assert (lift.kind, lift.reason_category, lift.terminals) == ("lift", "policy", [t.tid])
        again = Notice.objects.filter(hold_id=hold.pk).count()
        assert again == 2

    def test_a_merchant_hold_lists_its_terminals(self):
        m = builders.merchant()
        ts = sorted(builders.terminal(merchant_obj=m).tid for _ in range(2))
        hold = _place(kind="risk_freeze", merchant_id=m.pk, reason_category="transaction_dispute")
        assert hold.notices[0].terminals == ts

    def test_a_window_far_ahead_is_announced_the_lead_time_before_and_its_end_is_told(self, settings):
        settings.POSFLEET_NOTICE_LEAD_HOURS = 24
        t = builders.terminal()
        start = timezone.now() + timedelta(days=3)
        hold = _place(kind="maintenance", tid=t.tid, starts_at=start, ends_at=start + timedelta(hours=4))
        [notice] = hold.notices
        assert notice.publish_at == start - timedelta(hours=24)
        assert notice_services.notices_for(t.merchant_id) == []  # not announced yet
        holds.close_ended_holds(now=start + timedelta(hours=5))
        ended = Notice.objects.get(hold_id=hold.pk, kind="lift")
        assert ended.facts["event"] == "hold_ended" and ended.terminals == [t.tid]

    def test_an_unbound_terminal_has_nobody_to_tell(self):
        t = builders.terminal("in_stock")
        assert _place(kind="fault", tid=t.tid).notices == []

    def test_an_unknown_category_is_refused(self):
        from posfleet.core.errors import ValidationFailed

        t = builders.terminal()
        with pytest.raises(ValidationFailed):
            _place(kind="fault", tid=t.tid, reason_category="because")

    def test_a_deactivation_tells_once_per_merchant_per_transaction(self):
        m = builders.merchant()
        ts = [builders.terminal(merchant_obj=m) for _ in range(2)]
        with transaction.atomic():
            services.apply_many(builders.actor("admin"), [t.tid for t in ts], "deactivate", reason="old")
        [notice] = Notice.objects.filter(kind="deactivation")
        assert notice.terminals == sorted(t.tid for t in ts) and notice.merchant_id == m.pk
        assert Merchant.objects.get(pk=m.pk).notices.count() == 1
