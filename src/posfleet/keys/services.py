"""Key services: generate at activation, dual-control destruction, re-keying after refurbishment.

No function here returns or records key material: callers get metadata (KCV, state, dates) only.
Like every service, these never commit; the caller's transaction holds the change and its audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import is_custodian, perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, PermissionDenied
from posfleet.keys import wrapping
from posfleet.keys.models import (
    METHOD,
    DestructionRecord,
    DestructionRequest,
    KeyState,
    RequestState,
    TerminalKey,
)
from posfleet.lifecycle.services import get_terminal, require_reason
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal

DESTROYABLE_STATES = (TerminalState.DEACTIVATED, TerminalState.RETURNED, TerminalState.RETIRED)
REKEYABLE_STATES = (TerminalState.IN_STOCK, TerminalState.ALLOCATED)


def _live_key(terminal: Terminal, *, for_update: bool = False) -> TerminalKey | None:
    qs = TerminalKey.objects.filter(terminal=terminal, state=KeyState.LIVE)
    if for_update:
        qs = qs.select_for_update(no_key=True)
    return qs.first()


def _create_key(actor: Actor, terminal: Terminal, action: str, reason: str) -> TerminalKey:
    wrapped, check = wrapping.generate()
    key = TerminalKey.objects.create(terminal=terminal, wrapped_key=wrapped, kcv=check)
    record(
        actor,
        Change("terminal_key", terminal.tid, action, None, {"kcv": check, "state": key.state}, reason),
        at=key.created_at,
    )
    return key


def generate_for(terminal: Terminal, actor: Actor) -> TerminalKey:
    """Give `terminal` a master key unless it has a live one (e.g. re-keyed before activation).

    Called inside the activation's transaction (lifecycle.signals.terminal_applied), so a failure
    here rolls the activation back.
    """
    existing = _live_key(terminal, for_update=True)
    if existing is not None:
        return existing
    return _create_key(actor, terminal, "keys.generated", "activation")


def keys_destroyed(tid: str) -> bool:
    """True when no live key remains for `tid`: destroyed, or never keyed."""
    return not TerminalKey.objects.filter(terminal__tid=tid, state=KeyState.LIVE).exists()


def needs_rekey(terminal: Terminal) -> bool:
    """A terminal whose keys were destroyed and which has no live key since."""
    keys = TerminalKey.objects.filter(terminal=terminal)
    return keys.filter(state=KeyState.DESTROYED).exists() and not keys.filter(state=KeyState.LIVE).exists()


def activation_guard(terminal: Terminal, params: dict[str, Any]) -> Any:
    """Lifecycle guard on "activate": destroyed keys block activation until the terminal is re-keyed."""
    if needs_rekey(terminal):
        return _("The terminal's keys were destroyed; a key custodian must re-key it before activation.")
    return None


def refurbish_guard(terminal: Terminal, params: dict[str, Any]) -> Any:
    """Lifecycle guard on "refurbish": a device goes back to stock only after its key is destroyed,
    so the next merchant's terminal never carries the last one's key."""
    if _live_key(terminal) is not None:
        return _("Destroy the terminal's key (two key custodians) before refurbishing it.")
    return None


def _custodian(actor: Actor) -> None:
    """A person in the custodian role (dual control is two different custodians; nobody else counts)."""
    if actor.kind != "user" or not is_custodian(actor.user):
        raise PermissionDenied(_("Only key custodians may do this."))
    require_step_up(actor)


def _destroyable(terminal: Terminal) -> None:
    if terminal.state not in DESTROYABLE_STATES:
        raise Conflict(
            _(
                "Keys can only be destroyed for deactivated, returned or retired terminals; %(tid)s is %(state)s."
            )
            % {"tid": terminal.tid, "state": terminal.get_state_display()},
            code="terminal_not_decommissioned",
            details={"state": terminal.state},
        )


def pending_request(terminal: Terminal, *, for_update: bool = False) -> DestructionRequest | None:
    qs = DestructionRequest.objects.filter(terminal=terminal, state=RequestState.PENDING)
    if for_update:
        qs = qs.select_for_update(no_key=True)
    return qs.first()


def request_destruction(actor: Actor, tid: str, reason: str) -> DestructionRequest:
    """First custodian: ask for the terminal's live key to be destroyed."""
    _custodian(actor)
    text = require_reason(reason)
    terminal = get_terminal(tid, for_update=True)
    _destroyable(terminal)
    key = _live_key(terminal, for_update=True)
    if key is None:
        raise Conflict(_("Terminal %(tid)s has no live key to destroy.") % {"tid": tid}, code="no_live_key")
    if pending_request(terminal) is not None:
        raise Conflict(
            _("A destruction request for %(tid)s already waits for a second custodian.") % {"tid": tid},
            code="destruction_pending",
        )
    req = DestructionRequest.objects.create(terminal=terminal, key=key, requested_by=actor.user, reason=text)
    record(
        actor,
        Change(
            "terminal_key",
            tid,
            "keys.destruction_requested",
            {"kcv": key.kcv, "state": key.state},
            {"kcv": key.kcv, "request_state": req.state, "request_id": req.pk},
            text,
        ),
        at=req.requested_at,
    )
    return req


def _pending_decision(actor: Actor, tid: str, reason: str) -> tuple[str, Terminal, DestructionRequest]:
    """What a custodian deciding the pending request of `tid` needs: (their reason, the terminal,
    the request), both locked."""
    _custodian(actor)
    text = require_reason(reason)
    terminal = get_terminal(tid, for_update=True)
    req = pending_request(terminal, for_update=True)
    if req is None:
        raise Conflict(
            _("No destruction request for %(tid)s is pending.") % {"tid": tid}, code="no_pending_request"
        )
    return text, terminal, req


def _decide(req: DestructionRequest, state: str, actor: Actor, text: str, at: datetime) -> None:
    req.state = state
    req.decided_by = actor.user
    req.decided_at = at
    req.decision_reason = text
    req.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])


def confirm_destruction(actor: Actor, tid: str, reason: str) -> DestructionRecord:
    """Second custodian (a different person): erase the wrapped key and keep a destruction record."""
    text, terminal, req = _pending_decision(actor, tid, reason)
    if req.requested_by_id == actor.user_id:
        raise Conflict(
            _("A second, different key custodian must confirm the destruction you requested (dual control)."),
            code="same_custodian",
            details={"custodian": [_("The confirming custodian must differ from the requesting one.")]},
        )
    _destroyable(terminal)
    key = TerminalKey.objects.select_for_update(no_key=True).get(pk=req.key_id)
    if key.state != KeyState.LIVE:
        raise Conflict(_("This key is already destroyed."), code="no_live_key")
    now = timezone.now()
    key.wrapped_key = b""
    key.state = KeyState.DESTROYED
    key.destroyed_at = now
    key.save(update_fields=["wrapped_key", "state", "destroyed_at"])
    _decide(req, RequestState.DESTROYED, actor, text, now)
    rec = DestructionRecord.objects.create(
        terminal=terminal,
        key=key,
        request=req,
        sn=terminal.sn,
        kcv=key.kcv,
        first_custodian_id=req.requested_by_id,
        second_custodian=actor.user,
        first_custodian_name=req.requested_by.get_username(),
        second_custodian_name=actor.name,
        at=now,
        method=METHOD,
    )
    record(
        actor,
        Change(
            "terminal_key",
            tid,
            "keys.destroyed",
            {"kcv": key.kcv, "state": KeyState.LIVE},
            {
                "kcv": key.kcv,
                "state": key.state,
                "sn": terminal.sn,
                "first_custodian": rec.first_custodian_name,
                "second_custodian": rec.second_custodian_name,
                "method": METHOD,
                "record_id": rec.pk,
            },
            text,
        ),
        at=now,
    )
    return rec


def cancel_destruction(actor: Actor, tid: str, reason: str) -> DestructionRequest:
    """Withdraw a pending request (either custodian)."""
    text, _terminal, req = _pending_decision(actor, tid, reason)
    _decide(req, RequestState.CANCELLED, actor, text, timezone.now())
    record(
        actor,
        Change(
            "terminal_key",
            tid,
            "keys.destruction_cancelled",
            {"request_state": RequestState.PENDING},
            {"request_state": req.state, "request_id": req.pk},
            text,
        ),
        at=req.decided_at,
    )
    return req


@dataclass(frozen=True)
class DestroyOutcome:
    state: str
    kcv: str
    request: DestructionRequest
    record: DestructionRecord | None = None


def destroy(actor: Actor, tid: str, reason: str) -> DestroyOutcome:
    """One entry point for the API and console: request if nothing is pending, else confirm."""
    terminal = get_terminal(tid, for_update=True)
    if pending_request(terminal) is None:
        req = request_destruction(actor, tid, reason)
        return DestroyOutcome(req.state, req.key.kcv, req)
    rec = confirm_destruction(actor, tid, reason)
    return DestroyOutcome(RequestState.DESTROYED, rec.kcv, rec.request, rec)


def rekey(actor: Actor, tid: str, reason: str = "re-keyed after refurbishment") -> TerminalKey:
    """A custodian gives a refurbished terminal (in stock or allocated) a new key after destruction."""
    _custodian(actor)
    text = require_reason(reason)
    terminal = get_terminal(tid, for_update=True)
    if terminal.state not in REKEYABLE_STATES:
        raise Conflict(
            _("Only refurbished terminals in stock or allocated can be re-keyed; %(tid)s is %(state)s.")
            % {"tid": tid, "state": terminal.get_state_display()},
            code="terminal_not_refurbished",
        )
    if _live_key(terminal, for_update=True) is not None:
        raise Conflict(_("Terminal %(tid)s already has a live key.") % {"tid": tid}, code="live_key_exists")
    return _create_key(actor, terminal, "keys.rekeyed", text)


# --- read side (metadata only) ----------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def record_dict(rec: DestructionRecord) -> dict[str, Any]:
    return {
        "tid": rec.terminal.tid,
        "sn": rec.sn,
        "kcv": rec.kcv,
        "first_custodian": rec.first_custodian_name,
        "second_custodian": rec.second_custodian_name,
        "at": _iso(rec.at),
        "method": rec.method,
    }


def key_status(tid: str) -> dict[str, Any]:
    """What anyone with view_fleet may see about a terminal's keys: never the key."""
    terminal = get_terminal(tid)
    keys = list(TerminalKey.objects.filter(terminal=terminal).order_by("-id"))
    current = keys[0] if keys else None
    pending = pending_request(terminal)
    records = DestructionRecord.objects.filter(terminal=terminal).select_related("terminal")
    return {
        "tid": terminal.tid,
        "state": current.state if current else "none",
        "state_label": str(current.get_state_display()) if current else _("none"),
        "kcv": current.kcv if current else None,
        "created_at": _iso(current.created_at) if current else None,
        "destroyed_at": _iso(current.destroyed_at) if current else None,
        "keys_destroyed": current is None or current.state == KeyState.DESTROYED,
        "needs_rekey": bool(keys) and all(k.state == KeyState.DESTROYED for k in keys),
        "pending_request": (
            {
                "requested_by": pending.requested_by.get_username(),
                "requested_at": _iso(pending.requested_at),
                "reason": pending.reason,
            }
            if pending
            else None
        ),
        "destruction_records": [record_dict(r) for r in records],
        "history": [
            {
                "kcv": k.kcv,
                "state": k.state,
                "created_at": _iso(k.created_at),
                "destroyed_at": _iso(k.destroyed_at),
            }
            for k in keys
        ],
    }


def view_keys(actor: Actor, tid: str) -> dict[str, Any]:
    if not (actor.has_perm(perm("view_fleet")) or actor.has_perm(perm("destroy_keys"))):
        raise PermissionDenied()
    return key_status(tid)


def pending_requests() -> list[DestructionRequest]:
    return list(
        DestructionRequest.objects.filter(state=RequestState.PENDING)
        .select_related("terminal", "requested_by", "key")
        .order_by("requested_at")
    )


def recent_records(limit: int = 50) -> list[DestructionRecord]:
    return list(DestructionRecord.objects.select_related("terminal").order_by("-at", "-id")[:limit])


__all__ = [
    "activation_guard",
    "cancel_destruction",
    "confirm_destruction",
    "destroy",
    "generate_for",
    "key_status",
    "keys_destroyed",
    "needs_rekey",
    "pending_requests",
    "recent_records",
    "refurbish_guard",
    "rekey",
    "request_destruction",
    "view_keys",
]
