"""`apply()`: the one function that changes a terminal's lifecycle state.

It looks the move up in the transition table, checks the actor's permission, step-up for sensitive
moves, the guards and the reason, then writes the new state with optimistic concurrency (the UPDATE
matches the version the caller saw) and the audit event in the caller's transaction. It never commits:
the request, job or command around it does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record
from posfleet.core import versions
from posfleet.core.actor import Actor
from posfleet.core.errors import InvalidTransition, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from posfleet.core.sql import db_datetime, open_cursor
from posfleet.lifecycle import _sql, signals, transitions
from posfleet.registry.models import Merchant, Terminal


def require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(_("A reason is required."), details={"reason": [_("This field is required.")]})
    if len(text) > 2000:
        raise ValidationFailed(_("The reason is too long (2000 characters at most)."))
    return text


def get_terminal(tid: str, *, for_update: bool = False) -> Terminal:
    if for_update:
        return _sql.lock_terminal(tid)
    try:
        return Terminal.objects.select_related("model", "merchant").get(tid=tid)
    except Terminal.DoesNotExist:
        raise NotFound(_("No terminal with TID %(tid)s.") % {"tid": tid}) from None


def _snapshot(terminal: Terminal) -> dict[str, Any]:
    return {"state": terminal.state, "merchant_id": terminal.merchant_id, "version": terminal.version}


def apply(
    actor: Actor,
    tid: str,
    action: str,
    *,
    reason: str,
    expected_version: int | None = None,
    **params: Any,
) -> Terminal:
    """Carry out `action` on terminal `tid`: lock, check, write, record; raise a DomainError (nothing
    written) if it may not."""
    if action not in transitions.ACTIONS:
        raise ValidationFailed(_("Unknown action %(action)s.") % {"action": action})
    text = require_reason(reason)
    conn = transaction.get_connection()
    cursor = open_cursor(conn)  # one cursor for the lock, the update and the audit event
    try:
        head: list[tuple[int, str]] = []  # SQLite: the chain head, read with the lock
        terminal = _sql.lock_terminal(tid, cursor, conn, head)
        move = _check(actor, terminal, action, expected_version, params)
        before = _snapshot(terminal)
        now = datetime.now(UTC)  # timezone.now() with USE_TZ (always on here), without a settings read
        fields: dict[str, Any] = {"state": move.target, "version": terminal.version + 1, "updated_at": now}
        if move.binds or move.unbinds:
            fields["merchant"] = params["merchant"] if move.binds else None
        now_db = db_datetime(conn, now)
        if not _sql.write_state(cursor, conn.vendor, terminal, fields, now_db, rebind="merchant" in fields):
            raise StaleVersion()  # a writer without the row lock got there first
        for name, value in fields.items():
            setattr(terminal, name, value)
        change = Change("terminal", terminal.tid, f"terminal.{action}", before, _snapshot(terminal), text)
        record(actor, change, at=now, cursor=cursor, at_db=now_db, head=head[0] if head else None)
    finally:
        cursor.close()
    # In the same transaction: listeners (keys at activation) write with the change or roll it back.
    signals.terminal_applied.send(
        sender=Terminal, terminal=terminal, action=action, actor=actor, before=before, params=params
    )
    _after_commit(action, terminal)
    return terminal


def _check(
    actor: Actor, terminal: Terminal, action: str, expected_version: int | None, params: dict[str, Any]
) -> transitions.Transition:
    """The move `action` takes from the terminal's state, if the version, the table, the actor's
    permission and step-up, and every guard allow it."""
    if not any(actor.has_perm(perm(p)) for p in transitions.permissions_for(action)):
        raise PermissionDenied()  # before anything about the terminal: a stranger learns nothing
    if expected_version is not None and expected_version != terminal.version:
        raise StaleVersion(details={"current_version": terminal.version})
    move = transitions.find(terminal.state, action)
    if move is None:
        raise InvalidTransition(
            _("Cannot %(action)s a terminal that is %(state)s.")
            % {"action": transitions.action_label(action), "state": terminal.get_state_display()},
            details={"state": terminal.state, "action": action},
        )
    if not actor.has_perm(perm(move.permission)):
        raise PermissionDenied()
    if move.sensitive:
        require_step_up(actor)
    refusals = [
        str(msg) for guard in transitions.guards_for(move) if (msg := guard(terminal, params)) is not None
    ]
    if refusals:
        raise InvalidTransition(refusals[0], details={"guards": refusals}, code="guard_failed")
    return move


def _after_commit(action: str, terminal: Terminal) -> None:
    if not signals.terminal_changed.has_listeners(Terminal):  # nothing to tell: no hook to register
        return
    tid = terminal.tid
    transaction.on_commit(lambda: signals.terminal_changed.send(sender=Terminal, tid=tid, action=action))


def apply_many(actor: Actor, tids: Iterable[str], action: str, *, reason: str) -> list[Terminal]:
    """A bulk move (console selection): all or nothing, step-up required like any bulk change."""
    tids = list(dict.fromkeys(tids))
    if not tids:
        raise ValidationFailed(_("Select at least one terminal."))
    if len(tids) > 1:
        require_step_up(actor)
    return [apply(actor, tid, action, reason=reason) for tid in tids]


def apply_merchant(
    actor: Actor,
    merchant_id: int,
    action: str,
    *,
    reason: str,
    expected_version: int | None = None,
    **params: Any,
) -> Merchant:
    """The merchant lifecycle's one writer, built like `apply()`; guards see `params` (e.g. the case)."""
    if action not in transitions.MERCHANT_ACTIONS:
        raise ValidationFailed(_("Unknown action %(action)s.") % {"action": action})
    text = require_reason(reason)
    if not any(actor.has_perm(perm(p)) for p in transitions.merchant_permissions_for(action)):
        raise PermissionDenied()
    merchant = Merchant.objects.select_for_update(no_key=True).filter(pk=merchant_id).first()
    if merchant is None:
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
    if expected_version is not None and expected_version != merchant.version:
        raise StaleVersion(details={"current_version": merchant.version})
    move = transitions.find_merchant(merchant.state, action)
    if move is None:
        raise InvalidTransition(
            _("Cannot %(action)s a merchant that is %(state)s.")
            % {"action": transitions.action_label(action), "state": merchant.get_state_display()},
            details={"state": merchant.state, "action": action},
        )
    if not actor.has_perm(perm(move.permission)):
        raise PermissionDenied()
    if move.sensitive:
        require_step_up(actor)
    refusals = _merchant_refusals(move, merchant, params)
    if refusals:
        raise InvalidTransition(refusals[0], details={"guards": refusals}, code="guard_failed")
    now = timezone.now()
    before, after = versions.write(merchant, now, state=move.target)
    record(actor, Change("merchant", str(merchant.pk), f"merchant.{action}", before, after, text), at=now)
    return merchant


def _merchant_refusals(
    move: transitions.MerchantTransition, merchant: Merchant, params: dict[str, Any]
) -> list[str]:
    refusals: list[str] = []
    for guard in transitions.merchant_guards_for(move):
        answer = guard(merchant, params)
        if answer is None:
            continue
        refusals += [str(m) for m in answer] if isinstance(answer, list | tuple) else [str(answer)]
    return refusals
