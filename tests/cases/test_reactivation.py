"""A reactivation that reactivates: a merchant-wide suspension is lifted, what would still stop each
terminal is shown before approval, and the fee is charged only when something was lifted."""

from __future__ import annotations

import pytest
from django.db import transaction

from posfleet.cases import services
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.holds import place_hold, release_hold
from posfleet.lifecycle.models import Hold
from posfleet.money.fees import reactivation_fee_fen
from posfleet.money.ledger import balances
from tests import builders
from tests.cases import builders as cb
from tests.cases.test_api import api
from tests.portal.builders import merchant_user

pytestmark = pytest.mark.django_db


def hold(kind, **target):
    with transaction.atomic():
        return place_hold(builders.actor("admin"), kind=kind, reason=f"{kind} for a test", **target)


class TestFee:
    def test_the_contract_fee_once_and_nothing_when_nothing_was_lifted(self):
        assert reactivation_fee_fen(5000, 3) == 5000
        assert reactivation_fee_fen(5000, 0) == 0
        with pytest.raises(ValueError):
            reactivation_fee_fen(-1, 1)


class TestMerchantWideSuspension:
    def test_a_terminal_under_a_merchant_wide_suspension_counts_as_suspended_and_is_freed(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        suspension = hold("merchant_suspension", merchant_id=m.pk)
        assert not may_transact(t.tid).allowed
        react = cb.approved("reactivation", m, [t.tid])  # filing no longer says "not suspended"
        react.refresh_from_db()
        assert react.state == "completed"
        assert Hold.objects.get(pk=suspension.pk).released_at is not None
        assert may_transact(t.tid).allowed
        assert balances(m.pk).amount_due_fen == m.contract.reactivation_fee_fen

    def test_nothing_left_to_lift_costs_nothing(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        suspension = hold("merchant_suspension", tid=t.tid)
        case = cb.file(kind="reactivation", merchant_id=m.pk, terminals=[t.tid])
        cb.upload_required(case)
        with transaction.atomic():  # lifted meanwhile by staff: the reactivation lifts nothing
            release_hold(builders.actor("admin"), suspension.pk, reason="lifted at the branch")
        cb.decide(case)
        assert balances(m.pk).amount_due_fen == 0


class TestStillStopped:
    def test_the_review_names_every_stop_that_remains_and_who_can_lift_it(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        hold("merchant_suspension", tid=t.tid)
        freeze = hold("risk_freeze", merchant_id=m.pk)
        fault = hold("fault", tid=t.tid)
        case = cb.file(kind="reactivation", merchant_id=m.pk, terminals=[t.tid])
        stops = {s.kind: s for s in services.still_stopped(case)}
        assert set(stops) == {"risk_freeze", "fault"}
        assert stops["risk_freeze"].hold_id == freeze.pk and stops["risk_freeze"].merchant_can_lift
        assert stops["fault"].hold_id == fault.pk and not stops["fault"].merchant_can_lift

    def test_approval_still_lifts_the_suspension_and_the_letter_says_what_remains(self):
        from posfleet.notices.models import Notice

        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        hold("merchant_suspension", tid=t.tid)
        hold("risk_freeze", tid=t.tid)
        react = cb.approved("reactivation", m, [t.tid])
        letter = Notice.objects.get(case_id=react.pk, kind="letter")
        assert f"终端 {t.tid} 仍停机：风控冻结" in letter.body
        assert not may_transact(t.tid).allowed

    def test_api_portal_form_and_console_review_show_them(self, client, login):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        hold("merchant_suspension", tid=t.tid)
        hold("compliance", tid=t.tid)
        case = cb.file(kind="reactivation", merchant_id=m.pk, terminals=[t.tid])
        body = api(client, "reviewer").get(f"/cases/{case.pk}").json()
        assert [(s["tid"], s["kind"], s["merchant_can_lift"]) for s in body["still_stopped"]] == [
            (t.tid, "compliance", True)
        ]
        login("reviewer")
        page = client.get(f"/console/cases/{case.pk}/").content.decode()
        assert 'id="still-stopped"' in page and 'data-kind="compliance"' in page
        client.force_login(merchant_user(m))
        form = client.get("/portal/requests/new/?kind=reactivation").content.decode()
        assert 'id="still-stopped"' in form and f'data-tid="{t.tid}"' in form
        detail = client.get(f"/portal/requests/{case.pk}/").content.decode()
        assert 'id="still-stopped"' in detail and 'data-kind="compliance"' in detail
