"""Holds stack; releasing one never releases another; permissions, step-up, validation, audit."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.audit.services import verify
from posfleet.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    StaleVersion,
    StepUpRequired,
    ValidationFailed,
)
from posfleet.lifecycle import holds
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from tests import builders


def place(actor=None, **kwargs):
    kwargs.setdefault("reason", "test")
    with transaction.atomic():
        return holds.place_hold(actor or builders.actor(), **kwargs)


def release(hold, actor=None, **kwargs):
    with transaction.atomic():
        return holds.release_hold(actor or builders.actor(), hold.pk, reason="done", **kwargs)


@pytest.mark.django_db
class TestPlaceHold:
    def test_places_and_audits(self):
        t = builders.terminal(TerminalState.ACTIVE)
        hold = place(kind="fault", tid=t.tid)
        event = AuditEvent.objects.exclude(object_type="notice").order_by("-seq").first()
        assert (event.action, event.object_type, event.object_id) == ("hold.place", "terminal", t.tid)
        assert event.after["hold_id"] == hold.pk
        assert not may_transact(t.tid).allowed

    def test_unknown_kind_is_422(self):
        t = builders.terminal()
        with pytest.raises(ValidationFailed):
            place(kind="nap", tid=t.tid)

    def test_end_before_start_is_refused(self):
        t = builders.terminal()
        now = timezone.now()
        with pytest.raises(ValidationFailed):
            place(
                kind="fault", tid=t.tid, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=1)
            )
        assert Hold.objects.count() == 0

    def test_risk_freeze_needs_step_up(self):
        t = builders.terminal()
        with pytest.raises(StepUpRequired):
            place(builders.actor("risk", stepped_up=False), kind="risk_freeze", tid=t.tid)

    def test_kind_permission_is_per_role(self):
        t = builders.terminal()
        with pytest.raises(PermissionDenied):
            place(builders.actor("warehouse"), kind="risk_freeze", tid=t.tid)
        assert place(builders.actor("risk"), kind="risk_freeze", tid=t.tid).pk

    def test_merchant_hold(self):
        t = builders.terminal()
        place(kind="compliance", merchant_id=t.merchant_id)
        assert may_transact(t.tid).iso_response_code == "03"


@pytest.mark.django_db
class TestReleaseHold:
    def test_releasing_one_leaves_the_other(self):
        t = builders.terminal()
        a = place(kind="fault", tid=t.tid)
        b = place(kind="maintenance", tid=t.tid)
        release(a)
        answer = may_transact(t.tid)
        assert [r.hold_id for r in answer.reasons] == [b.pk]
        release(b)
        assert may_transact(t.tid).allowed

    def test_release_twice_is_conflict(self):
        hold = place(kind="fault", tid=builders.terminal().tid)
        release(hold)
        with pytest.raises(Conflict):
            release(hold)

    def test_stale_version_is_409(self):
        hold = place(kind="fault", tid=builders.terminal().tid)
        with pytest.raises(StaleVersion):
            release(hold, expected_version=5)


@pytest.mark.django_db
class TestPlaceBulk:
    def test_one_hold_on_all_and_an_event_per_terminal(self):
        ts = [builders.terminal() for _ in range(5)]
        before = AuditEvent.objects.count()
        with transaction.atomic():
            hold = holds.place_bulk(
                builders.actor(), kind="maintenance", reason="upgrade", terminals=ts + ts[:1]
            )
        assert hold.bulk and hold.terminal_id is None
        assert sorted(hold.links.values_list("terminal_id", flat=True)) == sorted(t.pk for t in ts)
        events = list(AuditEvent.objects.filter(seq__gt=before).exclude(object_type="notice").order_by("seq"))
        assert [e.object_id for e in events] == [t.tid for t in ts]
        assert all(e.after["hold_id"] == hold.pk and e.reason == "upgrade" for e in events)
        assert all(not may_transact(t.tid).allowed for t in ts)
        assert {r.hold_id for t in ts for r in may_transact(t.tid).reasons} == {hold.pk}
        assert verify().ok

    def test_one_terminal_gets_an_ordinary_hold(self):
        t = builders.terminal()
        with transaction.atomic():
            hold = holds.place_bulk(
                builders.actor(stepped_up=False), kind="maintenance", reason="x", terminals=[t]
            )
        assert not hold.bulk and hold.terminal_id == t.pk

    def test_a_vanished_terminal_writes_nothing(self):
        ts = [builders.terminal() for _ in range(3)]
        ghost = Terminal(id=10**9, tid="GHOST001")
        before = AuditEvent.objects.count()
        with pytest.raises(NotFound), transaction.atomic():
            holds.place_bulk(builders.actor(), kind="maintenance", reason="x", terminals=[*ts, ghost])
        assert not Hold.objects.exists() and AuditEvent.objects.count() == before

    def test_released_for_one_terminal_the_others_stay_held(self):
        ts = [builders.terminal() for _ in range(3)]
        with transaction.atomic():
            hold = holds.place_bulk(builders.actor(), kind="maintenance", reason="x", terminals=ts)
        with transaction.atomic():
            holds.release_hold(builders.actor(stepped_up=False), hold.pk, reason="fixed", tid=ts[1].tid)
        assert [may_transact(t.tid).allowed for t in ts] == [False, True, False]
        with pytest.raises(Conflict), transaction.atomic():
            holds.release_hold(builders.actor(), hold.pk, reason="again", tid=ts[1].tid)
        with pytest.raises(StepUpRequired), transaction.atomic():
            holds.release_hold(builders.actor(stepped_up=False), hold.pk, reason="all")
        with transaction.atomic():
            holds.release_hold(builders.actor(), hold.pk, reason="all")
        assert all(may_transact(t.tid).allowed for t in ts)
        released = AuditEvent.objects.filter(action="hold.release").order_by("seq")
        assert [e.object_id for e in released] == [ts[1].tid, ts[0].tid, ts[2].tid]
        assert verify().ok

    def test_a_past_answer_sees_a_link_released_since(self):
        t0 = timezone.now()
        ts = [builders.terminal() for _ in range(2)]
        with transaction.atomic():
            hold = holds.place_bulk(
                builders.actor(), kind="maintenance", reason="x", terminals=ts, starts_at=t0
            )
        with transaction.atomic():
            holds.release_hold(builders.actor(), hold.pk, reason="fixed", tid=ts[0].tid)
        assert may_transact(ts[0].tid).allowed
        assert not may_transact(ts[0].tid, at=t0 + timedelta(microseconds=1)).allowed

    def test_bulk_needs_step_up(self):
        ts = [builders.terminal() for _ in range(2)]
        with pytest.raises(StepUpRequired), transaction.atomic():
            holds.place_bulk(builders.actor(stepped_up=False), kind="maintenance", reason="x", terminals=ts)


@pytest.mark.django_db
class TestCloseEndedHolds:
    def test_closes_ended_and_writes_audit_once(self):
        t = builders.terminal()
        hold = place(kind="maintenance", tid=t.tid, ends_at=timezone.now() + timedelta(minutes=5))
        later = timezone.now() + timedelta(minutes=10)
        assert holds.close_ended_holds(now=later) == 1
        assert holds.close_ended_holds(now=later) == 0  # idempotent
        hold.refresh_from_db()
        assert hold.closed
        assert AuditEvent.objects.filter(action="hold.expire", object_id=t.tid).count() == 1

    def test_a_bulk_hold_ends_on_each_terminal_still_under_it(self):
        ts = [builders.terminal() for _ in range(3)]
        with transaction.atomic():
            hold = holds.place_bulk(
                builders.actor(), kind="maintenance", reason="window", terminals=ts,
                ends_at=timezone.now() + timedelta(minutes=5),
            )  # fmt: skip
        release(hold, tid=ts[0].tid)
        later = timezone.now() + timedelta(minutes=10)
        assert all(may_transact(t.tid, at=later).allowed for t in ts)  # the answer never waits
        assert holds.close_ended_holds(now=later) == 1
        assert holds.close_ended_holds(now=later) == 0
        expired = AuditEvent.objects.filter(action="hold.expire").order_by("seq")
        assert [e.object_id for e in expired] == [ts[1].tid, ts[2].tid]
        assert all(e.after["closed"] and e.after["hold_id"] == hold.pk for e in expired)
        assert verify().ok
