"""The one answer: allowed iff active, no hold in force on terminal or merchant, merchant active."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.lifecycle import holds
from posfleet.lifecycle.eligibility import may_transact
from posfleet.registry.choices import MerchantState, TerminalState
from tests import builders


def _place(**kwargs):
    with transaction.atomic():
        return holds.place_hold(builders.actor(), reason="test", **kwargs)


@pytest.mark.django_db
class TestMayTransact:
    def test_active_terminal_of_active_merchant_is_allowed(self):
        t = builders.terminal(TerminalState.ACTIVE)
        answer = may_transact(t.tid)
        assert answer.allowed
        assert answer.iso_response_code == "00"
        assert answer.reasons == []

    def test_unknown_tid_is_97(self):
        answer = may_transact("NOPE0000")
        assert not answer.allowed
        assert answer.iso_response_code == "97"

    def test_unbound_terminal_is_97(self):
        t = builders.terminal(TerminalState.IN_STOCK)
        answer = may_transact(t.tid)
        assert answer.iso_response_code == "97"
        assert {r.code for r in answer.reasons} == {"no_merchant", "terminal_not_active"}

    @pytest.mark.parametrize(
        "state", [s for s in TerminalState.values if s not in (TerminalState.ACTIVE, TerminalState.IN_STOCK)]
    )
    def test_terminal_not_active_is_58(self, state):
        answer = may_transact(builders.terminal(state).tid)
        assert not answer.allowed
        assert answer.iso_response_code == "58"

    @pytest.mark.parametrize("state", [MerchantState.APPLYING, MerchantState.CLOSING, MerchantState.CLOSED])
    def test_merchant_not_active_is_03(self, state):
        t = builders.terminal(TerminalState.ACTIVE, merchant_obj=builders.merchant(state))
        answer = may_transact(t.tid)
        assert answer.iso_response_code == "03"

    def test_terminal_hold_is_58_and_merchant_hold_is_03(self):
        t = builders.terminal(TerminalState.ACTIVE)
        _place(kind="fault", tid=t.tid)
        assert may_transact(t.tid).iso_response_code == "58"
        _place(kind="maintenance", merchant_id=t.merchant_id)
        answer = may_transact(t.tid)
        assert answer.iso_response_code == "03"
        assert [r.code for r in answer.reasons] == ["terminal_hold", "merchant_hold"]

    def test_every_reason_is_listed(self):
        m = builders.merchant(MerchantState.CLOSING)
        t = builders.terminal(TerminalState.IN_REPAIR, merchant_obj=m)
        Hold = holds.Hold
        Hold.objects.create(terminal=t, merchant=m, kind="fault", reason="x")
        Hold.objects.create(merchant=m, on_merchant=True, kind="risk_freeze", reason="x")
        codes = [r.code for r in may_transact(t.tid).reasons]
        assert sorted(codes) == [
            "merchant_hold",
            "merchant_not_active",
            "terminal_hold",
            "terminal_not_active",
        ]

    def test_scheduled_hold_counts_exactly_at_its_start_and_end(self):
        t = builders.terminal(TerminalState.ACTIVE)
        start = timezone.now() + timedelta(hours=1)
        end = start + timedelta(hours=2)
        _place(kind="maintenance", tid=t.tid, starts_at=start, ends_at=end)
        assert may_transact(t.tid).allowed
        assert may_transact(t.tid, at=start - timedelta(microseconds=1)).allowed
        assert not may_transact(t.tid, at=start).allowed
        assert not may_transact(t.tid, at=end - timedelta(microseconds=1)).allowed
        assert may_transact(t.tid, at=end).allowed  # even though no worker has closed it

    def test_hold_on_other_merchant_does_not_count(self):
        t = builders.terminal(TerminalState.ACTIVE)
        other = builders.terminal(TerminalState.ACTIVE)
        _place(kind="risk_freeze", merchant_id=other.merchant_id)
        assert may_transact(t.tid).allowed

    def test_uses_one_query(self, django_assert_num_queries):
        t = builders.terminal(TerminalState.ACTIVE)
        with django_assert_num_queries(1):
            may_transact(t.tid)

    def test_stacked_terminal_and_merchant_holds_are_each_named_once(self):
        t = builders.terminal(TerminalState.ACTIVE)
        placed = [
            _place(kind="risk_freeze", tid=t.tid),
            _place(kind="fault", tid=t.tid),
            _place(kind="risk_freeze", merchant_id=t.merchant_id),
            _place(kind="compliance", merchant_id=t.merchant_id),
        ]
        answer = may_transact(t.tid)
        assert [r.hold_id for r in answer.reasons] == [h.pk for h in placed]
        assert [r.code for r in answer.reasons] == ["terminal_hold"] * 2 + ["merchant_hold"] * 2
        assert answer.iso_response_code == "03"


def test_the_answer_stamps_time_as_django_stores_it():
    """The answer passes its time through core.sql.db_datetime: Django's stored form, UTC or not."""
    from django.db import connection

    from posfleet.core.sql import db_datetime

    tz8 = timezone.get_fixed_timezone(480)
    for at in (timezone.now(), timezone.now().replace(microsecond=0), timezone.now().astimezone(tz8)):
        assert db_datetime(connection, at) == connection.ops.adapt_datetimefield_value(at)


@pytest.mark.django_db
def test_a_hold_released_since_was_in_force_at_an_earlier_time():
    t = builders.terminal(TerminalState.ACTIVE)
    before = timezone.now()
    hold = _place(kind="fault", tid=t.tid)
    with transaction.atomic():
        holds.release_hold(builders.actor(), hold.pk, reason="fixed")
    assert may_transact(t.tid).allowed
    assert not may_transact(t.tid, at=hold.starts_at + timedelta(microseconds=1)).allowed
    assert may_transact(t.tid, at=before - timedelta(seconds=1)).allowed


@pytest.mark.django_db
class TestAnswerAndCount:
    def test_a_refusal_is_counted_the_allowed_path_writes_nothing(self):
        from posfleet.lifecycle.eligibility import answer_and_count
        from posfleet.lifecycle.models import RefusedAttempt

        t = builders.terminal(TerminalState.ACTIVE)
        assert answer_and_count(t.tid).allowed
        assert not RefusedAttempt.objects.exists()
        hold = _place(kind="fault", tid=t.tid)
        answer = answer_and_count(t.tid)
        assert not answer.allowed
        [row] = RefusedAttempt.objects.all()
        assert (row.tid, row.response_code) == (t.tid, "58")
        assert row.reasons == [
            {"code": "terminal_hold", "iso_response_code": "58", "kind": "fault", "hold_id": hold.pk}
        ]
