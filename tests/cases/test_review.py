"""Review and the suspension/reactivation consequences: holds, fees, letters, reminders."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.cases import services
from posfleet.cases.models import Case, CaseComment
from posfleet.cases.services import review
from posfleet.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold
from posfleet.money.ledger import balances
from posfleet.notices.models import Notice
from tests import builders
from tests.cases import builders as cb


@pytest.mark.django_db
class TestDecide:
    def test_reason_is_required_and_nothing_changes(self):
        m = builders.merchant()
        case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
        with pytest.raises(ValidationFailed):
            cb.decide(case, "reject", reason="  ")
        case.refresh_from_db()
        assert case.state == "submitted"

    def test_only_reviewers_decide(self):
        m = builders.merchant()
        case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
        with pytest.raises(PermissionDenied):
            cb.decide(case, "reject", actor=builders.actor("agent"))
        with pytest.raises(PermissionDenied):
            cb.decide(case, "reject", actor=cb.portal_actor(m))

    def test_approval_with_missing_materials_is_409(self):
        m = builders.merchant()
        case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
        with pytest.raises(Conflict) as info:
            cb.decide(case)
        assert info.value.code == "materials_missing"
        assert Hold.objects.count() == 0

    def test_reject_tells_the_merchant_why(self):
        m = builders.merchant()
        case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
        cb.decide(case, "reject", reason="licence copy is unreadable")
        case.refresh_from_db()
        assert (case.state, case.decision_reason) == ("rejected", "licence copy is unreadable")
        assert CaseComment.objects.filter(
            case=case, visible_to_merchant=True, body__contains="unreadable"
        ).exists()
        assert Notice.objects.filter(case_id=case.pk, body__contains="unreadable").exists()
        with pytest.raises(InvalidTransition):
            cb.decide(case, "approve")

    def test_stale_version_is_refused(self):
        from posfleet.core.errors import StaleVersion

        m = builders.merchant()
        case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
        with pytest.raises(StaleVersion), transaction.atomic():
            services.decide(
                builders.actor("reviewer"), case.pk, "reject", "x", expected_version=case.version + 1
            )


@pytest.mark.django_db
class TestSuspension:
    def test_approval_places_holds_charges_fee_issues_letter(self, django_capture_on_commit_callbacks):
        m = builders.merchant()
        t1, t2 = builders.terminal(merchant_obj=m), builders.terminal(merchant_obj=m)
        win = cb.window(hours_from_now=0.01, length_hours=72)
        with django_capture_on_commit_callbacks(execute=True):
            case = cb.approved("suspension", m, [t1.tid, t2.tid], **win)
        case.refresh_from_db()
        assert case.state == "approved"
        holds = Hold.objects.filter(kind="merchant_suspension", terminal__in=[t1, t2])
        assert holds.count() == 2
        assert {h.ends_at for h in holds} == {win["ends_at"]}
        inside = win["starts_at"] + timedelta(hours=1)
        answer = may_transact(t1.tid, at=inside)
        assert not answer.allowed and answer.iso_response_code == "58"
        assert may_transact(t1.tid, at=win["ends_at"] + timedelta(minutes=1)).allowed
        assert balances(m.pk).amount_due_fen == m.contract.suspension_fee_fen
        letter = Notice.objects.get(pk=case.letter_notice_id)
        assert letter.kind == "letter" and letter.pdf_path and letter.case_id == case.pk

    def test_reminder_is_sent_once_before_the_end(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        case = cb.approved("suspension", m, [t.tid], **cb.window(hours_from_now=0.01, length_hours=48))
        case.refresh_from_db()
        due = review.reminder_due_at(case)
        assert due == case.ends_at - timedelta(days=1)
        with transaction.atomic():
            assert not review.send_reminder(case.pk, now=due - timedelta(minutes=1))
        with transaction.atomic():
            assert review.send_reminder(case.pk, now=due + timedelta(minutes=1))
        with transaction.atomic():
            assert not review.send_reminder(case.pk, now=due + timedelta(minutes=2))
        assert Notice.objects.filter(case_id=case.pk, kind="reminder").count() == 1
        assert review.due_reminder_ids(now=due + timedelta(minutes=3)) == []

    def test_reminder_is_scheduled_after_commit(self, django_capture_on_commit_callbacks):
        from huey.contrib.djhuey import HUEY

        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        before = len(HUEY.scheduled())
        with django_capture_on_commit_callbacks(execute=True):
            cb.approved("suspension", m, [t.tid], **cb.window(hours_from_now=1, length_hours=72))
        assert len(HUEY.scheduled()) == before + 1

    def test_window_already_over_is_409(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[t.tid], **cb.window(0.01, 1))
        cb.upload_required(case)
        Case.objects.filter(pk=case.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
        with pytest.raises(Conflict):
            cb.decide(case)
        assert Hold.objects.count() == 0


@pytest.mark.django_db
class TestReactivation:
    def test_releases_hold_at_once_charges_fee_and_completes_suspension(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        other_hold_terminal = builders.terminal(merchant_obj=m)
        susp = cb.approved("suspension", m, [t.tid], **cb.window(hours_from_now=0, length_hours=72))
        with transaction.atomic():
            from posfleet.lifecycle.holds import place_hold

            place_hold(builders.actor(), kind="fault", reason="screen", tid=other_hold_terminal.tid)
        assert not may_transact(t.tid).allowed
        react = cb.approved("reactivation", m, [t.tid])
        react.refresh_from_db()
        assert react.state == "completed"
        assert may_transact(t.tid).allowed
        assert not may_transact(other_hold_terminal.tid).allowed  # other holds stay
        susp.refresh_from_db()
        assert susp.state == "completed"
        contract = m.contract
        assert balances(m.pk).amount_due_fen == contract.suspension_fee_fen + contract.reactivation_fee_fen
        assert Notice.objects.filter(case_id=react.pk, kind="letter").exists()

    def test_a_bulk_suspension_ends_for_the_case_terminals_only(self):
        from posfleet.lifecycle.holds import place_bulk

        m = builders.merchant()
        t, neighbour = builders.terminal(merchant_obj=m), builders.terminal(merchant_obj=m)
        with transaction.atomic():
            hold = place_bulk(
                builders.actor(), kind="merchant_suspension", reason="renovation", terminals=[t, neighbour]
            )
        react = cb.approved("reactivation", m, [t.tid])
        react.refresh_from_db()
        assert react.state == "completed"
        assert may_transact(t.tid).allowed and not may_transact(neighbour.tid).allowed
        hold.refresh_from_db()
        assert hold.released_at is None and hold.links.get(terminal=t).released_at is not None
