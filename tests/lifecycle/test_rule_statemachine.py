"""Hypothesis drives random lifecycle moves and holds; after every step the answer equals the rule.

The rule is recomputed here from the model (DESIGN.md §3), independently of eligibility.py's SQL.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from posfleet.cases.choices import CaseKind, CaseState
from posfleet.cases.models import Case
from posfleet.core.errors import DomainError
from posfleet.lifecycle import holds, services, transitions
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold, HoldKind, HoldTerminal
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Merchant, Terminal
from tests import builders


class LifecycleMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        # Each example runs in a savepoint rolled back in teardown, so examples do not see each other.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.hold_ids = []
        self.actor = builders.actor("admin")
        self.merchant = builders.merchant(MerchantState.ACTIVE)
        # The merchant closes only under its approved closure case (cases.guards): one is in progress.
        self.closure = Case.objects.create(
            merchant=self.merchant,
            kind=CaseKind.CLOSURE,
            reason="business_change",
            channel="phone",
            state=CaseState.IN_PROGRESS,
        )
        self.terminal = builders.terminal(TerminalState.IN_STOCK)
        self.neighbour = builders.terminal()  # shares bulk holds with the terminal
        self.bulk_ids = []
        self.now = timezone.now()

    @rule(action=st.sampled_from(transitions.ACTIONS))
    def move(self, action):
        params = {"merchant": self.merchant} if action == "allocate" else {}
        try:
            with transaction.atomic():
                services.apply(self.actor, self.terminal.tid, action, reason="hyp", **params)
        except DomainError:
            pass

    @rule(action=st.sampled_from(transitions.MERCHANT_ACTIONS))
    def merchant_move(self, action):
        try:
            with transaction.atomic():
                params = {"case": self.closure} if action == "close" else {}
                services.apply_merchant(self.actor, self.merchant.pk, action, reason="hyp", **params)
        except DomainError:
            pass

    @rule(
        kind=st.sampled_from(HoldKind.values),
        on_merchant=st.booleans(),
        start=st.integers(-3, 3),
        length=st.one_of(st.none(), st.integers(1, 4)),
    )
    def hold(self, kind, on_merchant, start, length):
        starts = self.now + timedelta(hours=start)
        ends = starts + timedelta(hours=length) if length else None
        if ends is not None and ends <= timezone.now():
            return
        target = {"merchant_id": self.merchant.pk} if on_merchant else {"tid": self.terminal.tid}
        with transaction.atomic():
            hold = holds.place_hold(
                self.actor, kind=kind, reason="hyp", starts_at=starts, ends_at=ends, **target
            )
        self.hold_ids.append(hold.pk)

    @rule(kind=st.sampled_from(HoldKind.values), start=st.integers(-3, 3), length=st.integers(1, 4))
    def bulk_hold(self, kind, start, length):
        starts = self.now + timedelta(hours=start)
        ends = starts + timedelta(hours=length)
        if ends <= timezone.now():
            return
        terminals = [Terminal.objects.get(pk=self.terminal.pk), self.neighbour]
        with transaction.atomic():
            hold = holds.place_bulk(
                self.actor, kind=kind, reason="hyp", terminals=terminals, starts_at=starts, ends_at=ends
            )
        self.hold_ids.append(hold.pk)
        self.bulk_ids.append(hold.pk)

    @precondition(lambda self: bool(getattr(self, "bulk_ids", None)))
    @rule(data=st.data())
    def release_for_terminal(self, data):
        hold_id = data.draw(st.sampled_from(self.bulk_ids))
        try:
            with transaction.atomic():
                holds.release_hold(self.actor, hold_id, reason="hyp", tid=self.terminal.tid)
        except DomainError:
            pass

    @precondition(lambda self: bool(getattr(self, "hold_ids", None)))
    @rule(data=st.data())
    def release(self, data):
        hold_id = data.draw(st.sampled_from(self.hold_ids))
        try:
            with transaction.atomic():
                holds.release_hold(self.actor, hold_id, reason="hyp")
        except DomainError:
            pass

    @rule(hours=st.integers(0, 5))
    def look_at(self, hours):
        self.now = timezone.now() + timedelta(hours=hours)

    @invariant()
    def answer_matches_rule(self):
        if not hasattr(self, "terminal"):
            return
        t = Terminal.objects.get(pk=self.terminal.pk)
        m = Merchant.objects.get(pk=self.merchant.pk) if t.merchant_id else None
        links = {link.hold_id: link for link in HoldTerminal.objects.filter(terminal=t)}

        def on_terminal(h):
            if h.bulk:
                link = links.get(h.pk)
                return link is not None and (link.released_at is None or link.released_at > self.now)
            return h.terminal_id == t.pk

        in_force = [h for h in Hold.objects.all() if h.in_force(self.now)]
        terminal_holds = {h.pk for h in in_force if on_terminal(h)}
        merchant_holds = {h.pk for h in in_force if h.on_merchant and m is not None and h.merchant_id == m.pk}
        expected = (
            t.state == TerminalState.ACTIVE
            and m is not None
            and m.state == MerchantState.ACTIVE
            and not terminal_holds
            and not merchant_holds
        )
        answer = may_transact(t.tid, at=self.now)
        assert answer.allowed == expected
        # Every hold in force is named, whatever else refuses the terminal.
        assert {r.hold_id for r in answer.reasons if r.code == "terminal_hold"} == terminal_holds
        assert {r.hold_id for r in answer.reasons if r.code == "merchant_hold"} == merchant_holds

    def teardown(self):
        if hasattr(self, "atomic"):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)


@pytest.mark.django_db
def test_answer_follows_the_rule_under_random_operations():
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=40, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
