"""Every (state, action) pair of the terminal table through `apply()`, plus its checks."""

import pytest
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.core.errors import (
    InvalidTransition,
    PermissionDenied,
    StaleVersion,
    StepUpRequired,
    ValidationFailed,
)
from posfleet.lifecycle import services, transitions
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Terminal
from tests import builders
from tests.cases import builders as cb

ALL_PAIRS = [(s, a) for s in TerminalState.values for a in transitions.ACTIONS]


@pytest.mark.django_db
class TestApply:
    @pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
    def test_every_state_action_pair(self, state, action):
        actor = builders.actor("admin")
        t = builders.terminal(state)
        params = {"merchant": builders.merchant()} if action == "allocate" else {}
        move = transitions.find(state, action)
        events_before = AuditEvent.objects.count()
        if move is None:
            with pytest.raises(InvalidTransition), transaction.atomic():
                services.apply(actor, t.tid, action, reason="test", **params)
            t.refresh_from_db()
            assert t.state == state
            assert AuditEvent.objects.count() == events_before
        else:
            with transaction.atomic():
                services.apply(actor, t.tid, action, reason="test", **params)
            t.refresh_from_db()
            assert t.state == move.target
            assert t.version == 2
            # other apps may write their own events in the same transaction (keys at activation)
            event = AuditEvent.objects.filter(object_type="terminal", action=f"terminal.{action}").last()
            assert event is not None
            assert event.before["state"] == state
            assert event.after["state"] == move.target
            assert event.actor_name == actor.name

    def test_reason_is_required(self):
        t = builders.terminal(TerminalState.ACTIVE)
        with pytest.raises(ValidationFailed), transaction.atomic():
            services.apply(builders.actor(), t.tid, "deactivate", reason="  ")

    def test_stale_version_is_refused_and_writes_nothing(self):
        t = builders.terminal(TerminalState.ACTIVE)
        with pytest.raises(StaleVersion), transaction.atomic():
            services.apply(builders.actor(), t.tid, "deactivate", reason="x", expected_version=7)
        t.refresh_from_db()
        assert t.state == TerminalState.ACTIVE

    def test_deactivate_needs_step_up(self):
        t = builders.terminal(TerminalState.ACTIVE)
        with pytest.raises(StepUpRequired), transaction.atomic():
            services.apply(builders.actor(stepped_up=False), t.tid, "deactivate", reason="x")

    def test_role_without_permission_is_refused(self):
        t = builders.terminal(TerminalState.ACTIVE)
        with pytest.raises(PermissionDenied), transaction.atomic():
            services.apply(builders.actor("finance"), t.tid, "deactivate", reason="x")

    def test_activation_refuses_unpermitted_model(self):
        model = builders.terminal_model("OLD1", permitted=False)
        t = builders.terminal(TerminalState.ALLOCATED, model=model)
        with pytest.raises(InvalidTransition) as err, transaction.atomic():
            services.apply(builders.actor(), t.tid, "activate", reason="x")
        assert "no longer permitted" in str(err.value.message)

    def test_activation_refuses_old_patch_level(self):
        t = builders.terminal(TerminalState.ALLOCATED, patch="2020-01-01")
        with pytest.raises(InvalidTransition), transaction.atomic():
            services.apply(builders.actor(), t.tid, "activate", reason="x")

    def test_activation_needs_active_merchant(self):
        m = builders.merchant(MerchantState.APPLYING)
        t = builders.terminal(TerminalState.ALLOCATED, merchant_obj=m)
        with pytest.raises(InvalidTransition), transaction.atomic():
            services.apply(builders.actor(), t.tid, "activate", reason="x")

    def test_allocate_binds_and_refurbish_unbinds(self):
        m = builders.merchant()
        t = builders.terminal(TerminalState.IN_STOCK)
        with transaction.atomic():
            services.apply(builders.actor(), t.tid, "allocate", reason="x", merchant=m)
        assert Terminal.objects.get(pk=t.pk).merchant_id == m.pk
        r = builders.terminal(TerminalState.RETURNED)
        with transaction.atomic():
            services.apply(builders.actor(), r.tid, "refurbish", reason="x")
        assert Terminal.objects.get(pk=r.pk).merchant_id is None

    def test_bulk_apply_is_all_or_nothing(self):
        a = builders.terminal(TerminalState.ACTIVE)
        b = builders.terminal(TerminalState.IN_STOCK)
        with pytest.raises(InvalidTransition), transaction.atomic():
            services.apply_many(builders.actor(), [a.tid, b.tid], "deactivate", reason="x")
        assert Terminal.objects.get(pk=a.pk).state == TerminalState.ACTIVE


@pytest.mark.django_db
class TestApplyMerchant:
    @pytest.mark.parametrize(
        ("state", "action"), [(s, a) for s in MerchantState.values for a in transitions.MERCHANT_ACTIONS]
    )
    def test_every_state_action_pair(self, state, action):
        m = builders.merchant(state)
        move = transitions.find_merchant(state, action)
        if move is None:
            with pytest.raises(InvalidTransition), transaction.atomic():
                services.apply_merchant(builders.actor(), m.pk, action, reason="x")
        else:
            params = {}
            if action in ("start_closing", "close"):  # only under an approved closure case (cases.guards)
                case = cb.file(kind="closure", merchant_id=m.pk, terminals=[])
                cb.upload_required(case)
                case = cb.decide(case)
                params = {"case": case} if action == "close" else {}
            with transaction.atomic():
                services.apply_merchant(builders.actor(), m.pk, action, reason="x", **params)
            m.refresh_from_db()
            assert m.state == move.target
