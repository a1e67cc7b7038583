"""Filing: validation writes nothing on bad input; portal users file only for themselves; queues."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.cases import services
from posfleet.cases.models import Case
from posfleet.core.errors import PermissionDenied, ValidationFailed
from posfleet.registry.choices import TerminalState
from tests import builders
from tests.cases import builders as cb


def _file(actor=None, **kwargs):
    with transaction.atomic():
        return services.file_case(actor or builders.actor("agent"), services.CaseInput(**kwargs))


def _unchanged(fn):
    cases, events = Case.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as info:
        fn()
    assert (Case.objects.count(), AuditEvent.objects.count()) == (cases, events)
    return info.value


@pytest.mark.django_db
class TestFileCase:
    def test_suspension_is_submitted_with_missing_materials(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[t.tid], channel="phone")
        assert case.state == "submitted"
        assert case.channel == "phone"
        assert case.missing_materials() == ["application_form", "business_licence_copy", "proof_of_identity"]
        assert list(case.terminals.values_list("tid", flat=True)) == [t.tid]
        event = AuditEvent.objects.order_by("-seq").first()
        assert (event.object_type, event.action, event.after["terminals"]) == ("case", "case.file", [t.tid])

    def test_start_in_the_past_is_422_and_changes_nothing(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        now = timezone.now()
        err = _unchanged(
            lambda: _file(
                kind="suspension",
                merchant_id=m.pk,
                terminals=[t.tid],
                reason="maintenance",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=1),
            )
        )
        assert "starts_at" in err.details

    def test_end_before_start_is_422(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        now = timezone.now()
        err = _unchanged(
            lambda: _file(
                kind="suspension",
                merchant_id=m.pk,
                terminals=[t.tid],
                reason="maintenance",
                starts_at=now + timedelta(days=2),
                ends_at=now + timedelta(days=1),
            )
        )
        assert err.details["ends_at"] == ["The end must be after the start."]

    def test_planned_date_in_the_past_is_422(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        err = _unchanged(
            lambda: _file(
                kind="deactivation",
                merchant_id=m.pk,
                terminals=[t.tid],
                reason="fault",
                planned_date=timezone.localdate() - timedelta(days=1),
            )
        )
        assert "planned_date" in err.details

    def test_terminal_of_another_merchant_is_422(self):
        m, other = builders.merchant(), builders.merchant()
        theirs = builders.terminal(merchant_obj=other)
        err = _unchanged(
            lambda: _file(kind="deactivation", merchant_id=m.pk, terminals=[theirs.tid], reason="fault")
        )
        assert "does not belong" in err.details["terminals"][0]

    def test_unknown_terminal_and_reason_outside_the_kind_list(self):
        m = builders.merchant()
        err = _unchanged(
            lambda: _file(kind="deactivation", merchant_id=m.pk, terminals=["NOPE0001"], reason="maintenance")
        )
        assert set(err.details) == {"terminals", "reason"}

    def test_unknown_kind(self):
        m = builders.merchant()
        err = _unchanged(lambda: _file(kind="holiday", merchant_id=m.pk, terminals=[], reason="other"))
        assert "kind" in err.details

    def test_suspension_needs_an_active_terminal_and_dates(self):
        m = builders.merchant()
        t = builders.terminal(TerminalState.DEACTIVATED, merchant_obj=m)
        err = _unchanged(
            lambda: _file(kind="suspension", merchant_id=m.pk, terminals=[t.tid], reason="fault")
        )
        assert {"terminals", "starts_at", "ends_at"} <= set(err.details)

    def test_reactivation_needs_a_suspended_terminal(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        err = _unchanged(
            lambda: _file(kind="reactivation", merchant_id=m.pk, terminals=[t.tid], reason="business_resumed")
        )
        assert "not suspended" in err.details["terminals"][0]

    def test_second_open_case_of_the_same_kind_for_a_terminal_is_refused(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        cb.file(kind="deactivation", merchant_id=m.pk, terminals=[t.tid])
        err = _unchanged(
            lambda: _file(kind="deactivation", merchant_id=m.pk, terminals=[t.tid], reason="fault")
        )
        assert "open request" in err.details["terminals"][0]

    def test_closure_covers_every_terminal_of_the_merchant(self):
        m = builders.merchant()
        a = builders.terminal(merchant_obj=m)
        b = builders.terminal(merchant_obj=m)
        builders.terminal(TerminalState.RETIRED, merchant_obj=m)
        case = cb.file(kind="closure", merchant_id=m.pk, terminals=[], reason="business_change")
        assert sorted(case.terminals.values_list("tid", flat=True)) == sorted([a.tid, b.tid])
        assert case.missing_materials() == [
            "application_form",
            "business_licence_copy",
            "proof_of_identity",
            "settlement_card",
        ]

    def test_agent_without_file_case_is_refused(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        with pytest.raises(PermissionDenied):
            cb.file(builders.actor("warehouse"), kind="deactivation", merchant_id=m.pk, terminals=[t.tid])


@pytest.mark.django_db
class TestPortalFiling:
    def test_portal_user_files_for_own_merchant_with_channel_portal(self):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        case = cb.file(
            cb.portal_actor(m), kind="deactivation", merchant_id=m.pk, terminals=[t.tid], channel="fax"
        )
        assert case.channel == "portal"
        assert case.created_by_name.startswith("m")

    def test_portal_user_cannot_file_for_another_merchant(self):
        m, other = builders.merchant(), builders.merchant()
        t = builders.terminal(merchant_obj=other)
        with pytest.raises(PermissionDenied):
            cb.file(cb.portal_actor(m), kind="deactivation", merchant_id=other.pk, terminals=[t.tid])
        assert Case.objects.count() == 0

    def test_portal_user_sees_only_own_cases(self):
        m, other = builders.merchant(), builders.merchant()
        mine = cb.file(
            kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid]
        )
        cb.file(
            kind="deactivation", merchant_id=other.pk, terminals=[builders.terminal(merchant_obj=other).tid]
        )
        me = cb.portal_actor(m)
        assert [c.pk for c in services.cases_for(me)] == [mine.pk]
        assert list(services.cases_for(me, merchant_id=other.pk)) == []


@pytest.mark.django_db
class TestQueuesAndComments:
    def test_cases_for_filters_and_sla_age(self, django_assert_max_num_queries):
        m = builders.merchant()
        for _ in range(3):
            cb.file(kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
        old = Case.objects.order_by("id").first()
        Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=5))
        staff = builders.actor("reviewer")
        with django_assert_max_num_queries(5):
            rows = list(services.cases_for(staff, kind="deactivation", state="submitted"))
            overdue = [c.pk for c in rows if c.overdue]
        assert len(rows) == 3
        assert overdue == [old.pk]

    def test_bad_filter_is_422(self):
        with pytest.raises(ValidationFailed):
            services.cases_for(builders.actor("reviewer"), state="sleeping")

    def test_internal_comment_hidden_from_merchant_timeline(self):
        m = builders.merchant()
        case = cb.file(
            kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid]
        )
        with transaction.atomic():
            services.add_comment(builders.actor("agent"), case.pk, "called, owner agrees", kind="call")
            services.add_comment(builders.actor("agent"), case.pk, "internal", visible_to_merchant=False)
        staff_view = [e["text"] for e in services.timeline(case)]
        merchant_view = [e["text"] for e in services.timeline(case, for_merchant=True)]
        assert "internal" in staff_view and "internal" not in merchant_view
        assert "called, owner agrees" in merchant_view

    def test_cancel_before_decision(self):
        m = builders.merchant()
        case = cb.file(
            kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid]
        )
        with transaction.atomic():
            services.cancel(cb.portal_actor(m), case.pk, "changed my mind")
        case.refresh_from_db()
        assert case.state == "cancelled"
