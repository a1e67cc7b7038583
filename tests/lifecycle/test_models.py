"""The hold rule written once: the queryset, the Python predicate and the answer agree."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold, HoldTerminal, in_force_at
from tests import builders

H = timedelta(hours=1)


def ids(qs):
    return sorted(qs.values_list("pk", flat=True))


@pytest.mark.django_db
class TestHoldQuerySet:
    def test_in_force_now_and_not_ended(self):
        t = builders.terminal()
        now = timezone.now()
        running = Hold.objects.create(terminal=t, kind="fault", reason="x", starts_at=now - H)
        scheduled = Hold.objects.create(terminal=t, kind="fault", reason="x", starts_at=now + H)
        over = Hold.objects.create(
            terminal=t, kind="fault", reason="x", starts_at=now - 2 * H, ends_at=now - H
        )
        released = Hold.objects.create(
            terminal=t, kind="fault", reason="x", starts_at=now - 2 * H, released_at=now - H
        )
        assert ids(Hold.objects.in_force()) == [running.pk]
        assert ids(Hold.objects.not_ended()) == sorted([running.pk, scheduled.pk])
        assert ids(Hold.objects.ended()) == sorted([over.pk, released.pk])
        # in the past, a hold released since was still in force
        assert ids(Hold.objects.in_force(now - 90 * timedelta(minutes=1))) == sorted([over.pk, released.pk])
        assert ids(Hold.objects.live_since(now - 90 * timedelta(minutes=1))) == sorted(
            [running.pk, scheduled.pk, over.pk, released.pk]
        )
        assert ids(Hold.objects.live_since(now - timedelta(minutes=30))) == sorted([running.pk, scheduled.pk])

    def test_standing_on_and_placed_on_terminal(self):
        a, b = builders.terminal(), builders.terminal()
        now = timezone.now()
        own = Hold.objects.create(terminal=a, kind="fault", reason="x", starts_at=now - H)
        on_merchant = Hold.objects.create(
            merchant=a.merchant, on_merchant=True, kind="risk_freeze", reason="x", starts_at=now - H
        )
        bulk = Hold.objects.create(bulk=True, kind="maintenance", reason="x", starts_at=now - H)
        HoldTerminal.objects.create(hold=bulk, terminal=a, released_at=now - timedelta(minutes=5))
        HoldTerminal.objects.create(hold=bulk, terminal=b)
        assert ids(Hold.objects.standing_on(a.pk)) == [own.pk]
        assert ids(Hold.objects.standing_on(a.pk, a.merchant_id)) == sorted([own.pk, on_merchant.pk])
        assert ids(Hold.objects.standing_on(b.pk)) == [bulk.pk]
        history = {h.pk: h for h in Hold.objects.placed_on_terminal(a.pk)}
        assert sorted(history) == sorted([own.pk, bulk.pk])
        assert not history[bulk.pk].in_force()  # released for a alone
        assert history[own.pk].in_force()
        assert {h.pk: h.in_force() for h in Hold.objects.placed_on_terminal(b.pk)} == {bulk.pk: True}

    def test_on_terminals_of_a_kind(self):
        a, b = builders.terminal(), builders.terminal()
        now = timezone.now()
        own = Hold.objects.create(terminal=a, kind="merchant_suspension", reason="x", starts_at=now)
        Hold.objects.create(terminal=a, kind="fault", reason="x", starts_at=now)
        bulk = Hold.objects.create(bulk=True, kind="merchant_suspension", reason="x", starts_at=now)
        HoldTerminal.objects.create(hold=bulk, terminal=b)
        mine, links = Hold.objects.not_ended().on_terminals("merchant_suspension", [a.tid, b.tid])
        assert ids(mine) == [own.pk]
        assert list(links.values_list("hold_id", "terminal_id")) == [(bulk.pk, b.pk)]


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(
    start=st.integers(-5, 5),
    length=st.one_of(st.none(), st.integers(1, 6)),
    released=st.one_of(st.none(), st.integers(-5, 0)),
    at=st.integers(-6, 6),
)
def test_predicate_queryset_and_answer_agree(start, length, released, at):
    """For any window, release and time, the three readers of the rule give the same verdict."""
    now = timezone.now().replace(microsecond=0)
    t = builders.terminal()
    starts = now + start * H
    ends = starts + length * H if length is not None else None
    released_at = now + released * H if released is not None else None
    if released_at is not None and released_at < starts:
        released_at = starts
    hold = Hold.objects.create(
        terminal=t, kind="fault", reason="x", starts_at=starts, ends_at=ends, released_at=released_at
    )
    when = now + at * H + timedelta(minutes=1)
    expected = in_force_at(starts, ends, released_at, when)
    assert (hold.pk in ids(Hold.objects.in_force(when))) == expected
    assert may_transact(t.tid, at=when).allowed == (not expected)
    right_now = timezone.now()
    assert (hold.pk in ids(Hold.objects.in_force())) == in_force_at(starts, ends, released_at, right_now)
