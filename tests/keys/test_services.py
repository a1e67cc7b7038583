import pytest
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.core.errors import (
    Conflict,
    InvalidTransition,
    PermissionDenied,
    StepUpRequired,
    ValidationFailed,
)
from posfleet.keys import services, wrapping
from posfleet.keys.models import DestructionRecord, KeyState, RequestState, TerminalKey
from posfleet.lifecycle.services import apply
from posfleet.registry.choices import TerminalState
from tests import builders as b
from tests.keys.builders import custodian, keyed_terminal

pytestmark = pytest.mark.django_db


def _activate(actor, tid):
    with transaction.atomic():
        return apply(actor, tid, "activate", reason="go live")


def test_activation_generates_a_wrapped_key_with_kcv_and_audit():
    t = b.terminal(TerminalState.ALLOCATED)
    assert services.keys_destroyed(t.tid)  # never keyed
    _activate(b.actor("technician"), t.tid)
    key = TerminalKey.objects.get(terminal=t)
    assert key.state == KeyState.LIVE
    assert wrapping.kcv(wrapping.unwrap(bytes(key.wrapped_key))) == key.kcv
    assert not services.keys_destroyed(t.tid)
    event = AuditEvent.objects.get(object_type="terminal_key", action="keys.generated")
    assert event.after == {"kcv": key.kcv, "state": "live"}


def test_failed_activation_leaves_no_key():
    t = b.terminal(TerminalState.ALLOCATED, patch="2000-01-01")  # below the model's patch level
    with pytest.raises(InvalidTransition):
        _activate(b.actor("technician"), t.tid)
    assert not TerminalKey.objects.filter(terminal=t).exists()


def _request(actor, tid, reason="decommissioned"):
    with transaction.atomic():
        return services.request_destruction(actor, tid, reason)


def _confirm(actor, tid, reason="confirmed"):
    with transaction.atomic():
        return services.confirm_destruction(actor, tid, reason)


def test_dual_control_destroys_the_key_and_keeps_a_record():
    t, key = keyed_terminal()
    first, second = custodian("alice"), custodian("bob")
    req = _request(first, t.tid)
    assert req.state == RequestState.PENDING
    assert not services.keys_destroyed(t.tid)
    rec = _confirm(second, t.tid)
    key.refresh_from_db()
    assert key.state == KeyState.DESTROYED and bytes(key.wrapped_key) == b"" and key.destroyed_at
    assert services.keys_destroyed(t.tid)
    assert (rec.sn, rec.kcv, rec.method) == (t.sn, key.kcv, "zeroized-wrapped-key")
    assert (rec.first_custodian_name, rec.second_custodian_name) == ("alice", "bob")
    actions = list(
        AuditEvent.objects.filter(object_type="terminal_key", object_id=t.tid).values_list(
            "action", flat=True
        )
    )
    assert actions[-2:] == ["keys.destruction_requested", "keys.destroyed"]


def test_same_custodian_cannot_confirm_own_request():
    t, key = keyed_terminal()
    first = custodian("carol")
    _request(first, t.tid)
    with pytest.raises(Conflict) as exc:
        _confirm(first, t.tid)
    assert exc.value.code == "same_custodian"
    key.refresh_from_db()
    assert key.state == KeyState.LIVE and bytes(key.wrapped_key)
    assert not DestructionRecord.objects.exists()


def test_non_custodian_refused_and_step_up_required():
    t, _key = keyed_terminal()
    with pytest.raises(PermissionDenied):
        _request(b.actor("warehouse"), t.tid)
    with pytest.raises(StepUpRequired):
        _request(custodian(stepped_up=False), t.tid)
    _request(custodian(), t.tid)
    with pytest.raises(StepUpRequired):
        _confirm(custodian(stepped_up=False), t.tid)
    with pytest.raises(PermissionDenied):
        _confirm(b.actor("finance"), t.tid)


def test_reason_required():
    t, _key = keyed_terminal()
    with pytest.raises(ValidationFailed):
        _request(custodian(), t.tid, reason="  ")


def test_destruction_only_for_decommissioned_terminals():
    t, _key = keyed_terminal(TerminalState.ACTIVE)
    with pytest.raises(Conflict) as exc:
        _request(custodian(), t.tid)
    assert exc.value.code == "terminal_not_decommissioned"


def test_second_request_while_pending_and_confirm_without_request_refused():
    t, _key = keyed_terminal()
    with pytest.raises(Conflict) as exc:
        _confirm(custodian(), t.tid)
    assert exc.value.code == "no_pending_request"
    _request(custodian(), t.tid)
    with pytest.raises(Conflict):
        _request(custodian(), t.tid)


def test_cancel_then_request_again():
    t, _key = keyed_terminal()
    _request(custodian(), t.tid)
    with transaction.atomic():
        services.cancel_destruction(custodian(), t.tid, "wrong terminal")
    assert services.pending_request(t) is None
    _request(custodian(), t.tid)


def test_no_activation_after_destruction_until_rekeyed():
    t, _key = keyed_terminal(TerminalState.RETURNED)
    _request(custodian(), t.tid)
    _confirm(custodian(), t.tid)
    admin = b.actor("admin")
    with transaction.atomic():
        apply(admin, t.tid, "refurbish", reason="refurbished")
        apply(admin, t.tid, "allocate", reason="new merchant", merchant=b.merchant())
    with pytest.raises(InvalidTransition) as exc:
        _activate(admin, t.tid)
    assert "re-key" in str(exc.value.message)
    with transaction.atomic():
        new = services.rekey(custodian(), t.tid, "refurbished and re-keyed")
    _activate(admin, t.tid)
    assert TerminalKey.objects.get(terminal=t, state=KeyState.LIVE).pk == new.pk  # no second key


def test_rekey_refused_for_terminal_not_refurbished_or_with_live_key():
    t, _key = keyed_terminal(TerminalState.RETURNED)
    with pytest.raises(Conflict):
        with transaction.atomic():
            services.rekey(custodian(), t.tid)
    t2 = b.terminal(TerminalState.IN_STOCK)
    with transaction.atomic():
        services.rekey(custodian(), t2.tid)
    with pytest.raises(Conflict):
        with transaction.atomic():
            services.rekey(custodian(), t2.tid)


def test_destroy_entry_point_requests_then_confirms():
    t, key = keyed_terminal()
    with transaction.atomic():
        out1 = services.destroy(custodian(), t.tid, "decommission")
    assert out1.state == "pending_second_custodian"
    with transaction.atomic():
        out2 = services.destroy(custodian(), t.tid, "confirm")
    assert (out2.state, out2.kcv) == ("destroyed", key.kcv)


def test_audit_payloads_never_contain_key_material():
    t, key = keyed_terminal()
    wrapped_hex = bytes(key.wrapped_key).hex()
    _request(custodian(), t.tid)
    _confirm(custodian(), t.tid)
    for event in AuditEvent.objects.filter(object_type="terminal_key"):
        text = repr(event.before) + repr(event.after) + event.reason
        assert wrapped_hex not in text.lower()
        assert "wrapped_key" not in text


def test_refurbish_refused_while_a_live_key_remains():
    t, _key = keyed_terminal(TerminalState.RETURNED)
    with pytest.raises(InvalidTransition) as exc, transaction.atomic():
        apply(b.actor("admin"), t.tid, "refurbish", reason="refurbished")
    assert "Destroy the terminal's key" in str(exc.value.message)
    _request(custodian(), t.tid)
    _confirm(custodian(), t.tid)
    with transaction.atomic():
        apply(b.actor("admin"), t.tid, "refurbish", reason="refurbished")


def test_key_rolls_back_with_the_activation():
    t = b.terminal(TerminalState.ALLOCATED)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        apply(b.actor("technician"), t.tid, "activate", reason="go live")
        assert TerminalKey.objects.filter(terminal=t).exists()
        raise Boom
    assert not TerminalKey.objects.filter(terminal=t).exists()
    assert services.keys_destroyed(t.tid)


def test_the_administrator_is_not_a_key_custodian():
    """Dual control is two different people in the custodian role; an administrator (or a superuser)
    without the role counts as neither."""
    t, _key = keyed_terminal()
    superuser = b.user(role="admin")
    superuser.is_superuser = True
    superuser.save(update_fields=["is_superuser"])
    from django.contrib.auth.models import Permission

    granted = b.user(role="technician")  # a direct grant is not the role
    granted.user_permissions.add(Permission.objects.get(codename="destroy_keys"))
    for admin in (b.actor("admin"), b.actor(u=superuser), b.actor(u=granted)):
        with pytest.raises(PermissionDenied), transaction.atomic():
            services.request_destruction(admin, t.tid, "decommissioned")
    _request(custodian(), t.tid)
    for admin in (b.actor("admin"), b.actor(u=superuser)):
        with pytest.raises(PermissionDenied), transaction.atomic():
            services.confirm_destruction(admin, t.tid, "decommissioned")
    assert not services.keys_destroyed(t.tid)
