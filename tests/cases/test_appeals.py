"""Appeals against a stop the institution placed: filing, one open appeal per hold, review by risk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from posfleet.cases import services
from posfleet.cases.choices import CaseState, required_materials
from posfleet.cases.models import Case
from posfleet.core.errors import Conflict, PermissionDenied, StepUpRequired, ValidationFailed
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.holds import place_bulk, place_hold, release_hold
from posfleet.lifecycle.models import Hold
from posfleet.notices.models import Notice
from posfleet.registry.choices import MerchantKind
from tests import builders
from tests.cases import builders as cb


def freeze(tid=None, merchant_id=None, kind="risk_freeze"):
    with transaction.atomic():
        return place_hold(
            builders.actor("admin"), kind=kind, reason="account anomaly", tid=tid, merchant_id=merchant_id
        )


def file_appeal(actor=None, **kwargs):
    kwargs.setdefault("reason", "transactions_genuine")
    with transaction.atomic():
        return services.file_case(
            actor or builders.actor("agent"), services.CaseInput(kind="appeal", **kwargs)
        )


def appeal(hold, merchant, actor=None, **kwargs):
    return file_appeal(actor, merchant_id=merchant.pk, hold_id=hold.pk, **kwargs)


def with_materials(case, actor=None):
    cb.upload_required(case, actor)
    return case


@pytest.mark.django_db
class TestFiling:
    def test_the_merchant_appeals_a_freeze_on_its_terminal(self):
        m = builders.merchant(kind=MerchantKind.INDIVIDUAL)
        t = builders.terminal(merchant_obj=m)
        hold = freeze(tid=t.tid)
        shop = cb.portal_actor(m)
        case = file_appeal(shop, hold_id=hold.pk, note="正常交易")
        assert (case.kind, case.state, case.hold_id, case.channel) == (
            "appeal",
            "submitted",
            hold.pk,
            "portal",
        )
        assert case.merchant_id == m.pk
        assert list(case.scope.values_list("terminal__tid", flat=True)) == [t.tid]
        assert case.missing_materials() == ["proof_of_identity", "transaction_evidence"]

    def test_businesses_are_asked_for_their_licence(self):
        assert required_materials("appeal", "enterprise") == (
            "proof_of_identity",
            "business_licence_copy",
            "transaction_evidence",
        )
        assert "business_licence_copy" not in required_materials("appeal", "individual")

    def test_an_agent_files_from_the_hold_alone(self):
        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        case = file_appeal(hold_id=hold.pk, reason="dispute_resolved", channel="phone")
        assert case.merchant_id == m.pk and case.channel == "phone" and case.scope.count() == 0

    @pytest.mark.parametrize("kind", ["merchant_suspension", "maintenance", "fault"])
    def test_only_stops_the_institution_placed_for_risk_or_compliance(self, kind):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        hold = freeze(tid=t.tid, kind=kind)
        with pytest.raises(ValidationFailed) as err:
            appeal(hold, m)
        assert "hold_id" in err.value.details

    def test_an_ended_hold_or_another_merchants_cannot_be_appealed(self):
        m, other = builders.merchant(), builders.merchant()
        t = builders.terminal(merchant_obj=m)
        hold = freeze(tid=t.tid)
        with pytest.raises(ValidationFailed):
            appeal(hold, other)
        with transaction.atomic():
            release_hold(builders.actor("risk"), hold.pk, reason="cleared")
        with pytest.raises(ValidationFailed):
            appeal(hold, m)
        with pytest.raises(ValidationFailed) as err:
            file_appeal(merchant_id=m.pk, reason="other")
        assert "hold_id" in err.value.details

    def test_a_merchant_cannot_appeal_for_another(self):
        m, other = builders.merchant(), builders.merchant()
        hold = freeze(merchant_id=m.pk)
        with pytest.raises(PermissionDenied):
            file_appeal(cb.portal_actor(other), hold_id=hold.pk, merchant_id=m.pk)

    def test_one_open_appeal_per_hold_is_a_409_naming_it(self):
        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        first = appeal(hold, m)
        with pytest.raises(Conflict) as err:
            appeal(hold, m)
        assert err.value.status == 409 and err.value.code == "appeal_open"
        assert err.value.details == {"case_id": first.pk}
        with transaction.atomic():
            services.cancel(builders.actor("agent"), first.pk, "filed by mistake")
        assert appeal(hold, m).pk != first.pk  # a withdrawn appeal no longer counts

    def test_the_database_holds_the_rule_too(self):
        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        appeal(hold, m)
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.create(merchant=m, kind="appeal", reason="other", channel="portal", hold=hold)

    def test_a_race_past_the_check_is_still_a_409(self, monkeypatch):
        from posfleet.cases.services import appeals

        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        first = appeal(hold, m)
        real = appeals.open_appeal
        calls = []

        def missed_once(hold_id):  # the other filing committed just after this one looked
            calls.append(hold_id)
            return None if len(calls) == 1 else real(hold_id)

        monkeypatch.setattr(appeals, "open_appeal", missed_once)
        with pytest.raises(Conflict) as err:
            appeal(hold, m)
        assert err.value.details == {"case_id": first.pk}
        assert Case.objects.filter(kind="appeal").count() == 1

    def test_a_bulk_hold_is_appealed_for_the_merchants_own_terminals(self):
        m, other = builders.merchant(), builders.merchant()
        mine = [builders.terminal(merchant_obj=m), builders.terminal(merchant_obj=m)]
        theirs = builders.terminal(merchant_obj=other)
        with transaction.atomic():
            hold = place_bulk(
                builders.actor("risk"), kind="compliance", reason="policy", terminals=[*mine, theirs]
            )
        case = appeal(hold, m, reason="compliance_fixed")
        assert sorted(case.scope.values_list("terminal__tid", flat=True)) == sorted(t.tid for t in mine)


@pytest.mark.django_db
class TestReview:
    def test_risk_approves_the_hold_is_released_and_the_merchant_told(self):
        m = builders.merchant(kind=MerchantKind.INDIVIDUAL)
        t = builders.terminal(merchant_obj=m)
        hold = freeze(tid=t.tid)
        case = with_materials(appeal(hold, m))
        assert may_transact(t.tid).iso_response_code == "58"
        cb.decide(case, "approve", builders.actor("risk"), reason="收据真实，解除冻结")
        case.refresh_from_db()
        hold.refresh_from_db()
        assert case.state == CaseState.COMPLETED and hold.released_at is not None
        assert may_transact(t.tid).allowed
        assert Notice.objects.filter(case_id=case.pk, title__contains="申诉申请已通过").exists()

    def test_only_risk_decides_and_approval_needs_a_fresh_step_up(self):
        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        case = with_materials(appeal(hold, m))
        with pytest.raises(PermissionDenied):
            cb.decide(case, "approve", builders.actor("reviewer"))
        with pytest.raises(StepUpRequired):
            cb.decide(case, "approve", builders.actor("risk", stepped_up=False))
        assert Hold.objects.get(pk=hold.pk).released_at is None

    def test_reject_tells_why_and_what_next(self):
        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        case = appeal(hold, m)
        cb.decide(case, "reject", builders.actor("risk", stepped_up=False), reason="收据与交易不符")
        case.refresh_from_db()
        assert case.state == "rejected" and Hold.objects.get(pk=hold.pk).released_at is None
        notice = Notice.objects.get(case_id=case.pk)
        assert "收据与交易不符" in notice.body and "再次提出申诉" in notice.body
        assert services.appeal_next_steps(case)
        assert appeal(hold, m).pk != case.pk  # and it may appeal again

    def test_need_materials_as_other_cases(self):
        m = builders.merchant()
        case = appeal(freeze(merchant_id=m.pk), m)
        cb.decide(case, "need_materials", builders.actor("risk", stepped_up=False), reason="请补充合同")
        case.refresh_from_db()
        assert case.state == "needs_materials"
        with pytest.raises(Conflict):  # still missing
            cb.decide(case, "approve", builders.actor("risk"))

    def test_approving_a_bulk_hold_frees_only_this_merchants_terminals(self):
        m, other = builders.merchant(), builders.merchant()
        mine = builders.terminal(merchant_obj=m)
        theirs = builders.terminal(merchant_obj=other)
        with transaction.atomic():
            hold = place_bulk(
                builders.actor("risk"), kind="risk_freeze", reason="dispute", terminals=[mine, theirs]
            )
        case = with_materials(appeal(hold, m, reason="dispute_resolved"))
        cb.decide(case, "approve", builders.actor("risk"))
        assert may_transact(mine.tid).allowed and not may_transact(theirs.tid).allowed

    def test_a_hold_released_meanwhile_still_completes_the_appeal(self):
        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        case = with_materials(appeal(hold, m))
        with transaction.atomic():
            release_hold(builders.actor("risk"), hold.pk, reason="cleared by risk")
        cb.decide(case, "approve", builders.actor("risk"))
        case.refresh_from_db()
        assert case.state == "completed"


@pytest.mark.django_db
class TestSla:
    @override_settings(POSFLEET_APPEAL_SLA_HOURS=8)
    def test_the_sla_comes_from_settings_and_flags_overdue(self):
        m = builders.merchant()
        case = appeal(freeze(merchant_id=m.pk), m)
        assert case.sla_hours == 8 and not case.overdue
        Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(hours=9))
        case.refresh_from_db()
        assert case.overdue
