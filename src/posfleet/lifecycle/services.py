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

from django.db import models, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import HEAD_COLUMNS, HEAD_JOIN, Change, record, record_many, record_one
from posfleet.core.actor import Actor
from posfleet.core.errors import InvalidTransition, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from posfleet.core.sql import Statement, db_datetime, open_cursor
from posfleet.lifecycle import signals, transitions
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
        return _lock_terminal(tid)
    try:
        return Terminal.objects.select_related("model", "merchant").get(tid=tid)
    except Terminal.DoesNotExist:
        raise NotFound(_("No terminal with TID %(tid)s.") % {"tid": tid}) from None


def _lock_terminal(tid: str, cursor: Any = None, conn: Any = None, head: list[Any] | None = None) -> Terminal:
    """The terminal row, locked FOR NO KEY UPDATE until commit (SQLite: the IMMEDIATE transaction).

    This is on every change's path, so it is one fixed statement read with a plain cursor and turned
    into a model with `from_db` (a compiled ORM query, or even `raw()`, cost several times the database
    work); model and merchant load lazily, only for the guards that read them. On SQLite the same
    statement reads the audit chain head (audit.services.HEAD_JOIN), appended to `head` if given.
    """
    conn = conn or transaction.get_connection()
    if cursor is None:
        with conn.cursor() as own:
            return _lock_terminal(tid, own, conn)
    vendor = conn.vendor
    row = (_LOCK_PG if vendor == "postgresql" else _LOCK).run(cursor, vendor, [tid]).fetchone()
    if row is None:
        raise NotFound(_("No terminal with TID %(tid)s.") % {"tid": tid})
    if vendor == "sqlite":  # times come back as text (see _LOCK): aware UTC datetimes, as the ORM's
        values = list(row[:_HEAD_AT])
        if head is not None and row[_HEAD_AT] is not None:
            head.append((row[_HEAD_AT], row[_HEAD_AT + 1]))
        for i in _DATETIME_POSITIONS:
            if values[i] is not None:
                values[i] = _from_iso(values[i]).replace(tzinfo=UTC)
        row = tuple(values)
    if pre_init.has_listeners(Terminal) or post_init.has_listeners(Terminal):
        return Terminal.from_db(conn.alias, _TERMINAL_COLUMNS, row)
    # What from_db() leaves behind, without Model.__init__'s per-field setattr and its two signals
    # (nobody listens to them for Terminal; checked just above).
    terminal = Terminal.__new__(Terminal)
    terminal.__dict__.update(zip(_TERMINAL_COLUMNS, row, strict=True))
    state = terminal._state = ModelState()
    state.adding, state.db = False, conn.alias
    return terminal


_TERMINAL_COLUMNS = [f.attname for f in Terminal._meta.concrete_fields]
_DATETIME_POSITIONS = frozenset(
    i for i, f in enumerate(Terminal._meta.concrete_fields) if isinstance(f, models.DateTimeField)
)
_LOCK_SQL = "SELECT {} FROM registry_terminal WHERE tid = %s"
_LOCK_PG = Statement(
    _LOCK_SQL.format(", ".join(f.column for f in Terminal._meta.concrete_fields)) + " FOR NO KEY UPDATE"
)
# SQLite: the datetime columns as `+column`, an expression without the declared type, so the driver
# hands back the stored text instead of running Django's regex converter on it (datetime.fromisoformat
# reads the same text in a tenth of the time).
_LOCK = Statement(
    "SELECT {}, {} FROM registry_terminal AS t {} WHERE t.tid = %s".format(
        ", ".join(
            f"+t.{f.column}" if i in _DATETIME_POSITIONS else f"t.{f.column}"
            for i, f in enumerate(Terminal._meta.concrete_fields)
        ),
        HEAD_COLUMNS,
        HEAD_JOIN,
    )
)
_HEAD_AT = len(_TERMINAL_COLUMNS)  # where the head's seq and hash start in a _LOCK row
_from_iso = datetime.fromisoformat
_UPDATES = {
    binding: Statement(
        "UPDATE registry_terminal SET state = %s, version = %s, updated_at = %s"
        + binding
        + " WHERE id = %s AND version = %s"
    )
    for binding in ("", ", merchant_id = %s")
}


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
    """Carry out `action` on terminal `tid`; raise a DomainError (nothing written) if it may not."""
    if action not in transitions.ACTIONS:
        raise ValidationFailed(_("Unknown action %(action)s.") % {"action": action})
    text = require_reason(reason)
    conn = transaction.get_connection()
    cursor = open_cursor(conn)  # one cursor for the lock, the update and the audit event
    try:
        head: list[tuple[int, str]] = []  # SQLite: the chain head, read with the lock
        terminal = _lock_terminal(tid, cursor, conn, head)
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

        before = _snapshot(terminal)
        now = datetime.now(UTC)  # timezone.now() with USE_TZ (always on here), without a settings read
        fields: dict[str, Any] = {"state": move.target, "version": terminal.version + 1, "updated_at": now}
        if move.binds:
            fields["merchant"] = params["merchant"]
        if move.unbinds:
            fields["merchant"] = None
        binding = ""
        now_db = db_datetime(conn, now)
        sql_params: list[Any] = [move.target.value, terminal.version + 1, now_db]
        if move.binds or move.unbinds:
            binding = ", merchant_id = %s"
            sql_params.append(params_merchant_id(fields))
        sql_params += [terminal.pk, terminal.version]
        if (
            _UPDATES[binding].run(cursor, conn.vendor, sql_params).rowcount != 1
        ):  # a writer without the row lock got there first
            raise StaleVersion()
        for name, value in fields.items():
            setattr(terminal, name, value)
        change = Change("terminal", terminal.tid, f"terminal.{action}", before, _snapshot(terminal), text)
        record_one(
            actor,
            change,
            at=now,
            cursor=cursor,
            connection=conn,
            at_db=now_db,
            head=head[0] if head else None,
        )
    finally:
        cursor.close()
    # In the same transaction: listeners (keys at activation) write with the change or roll it back.
    signals.terminal_applied.send(
        sender=Terminal, terminal=terminal, action=action, actor=actor, before=before
    )
    _after_commit(action, terminal)
    return terminal


def params_merchant_id(fields: dict[str, Any]) -> int | None:
    merchant = fields.get("merchant")
    return merchant.pk if merchant is not None else None


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


__all__ = ["apply", "apply_many", "get_terminal", "record_many", "require_reason"]


def apply_merchant(
    actor: Actor, merchant_id: int, action: str, *, reason: str, expected_version: int | None = None
) -> Merchant:
    """The merchant lifecycle's one writer, built like `apply()`."""
    if action not in transitions.MERCHANT_ACTIONS:
        raise ValidationFailed(_("Unknown action %(action)s.") % {"action": action})
    text = require_reason(reason)
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
    now = timezone.now()
    before = {"state": merchant.state, "version": merchant.version}
    updated = Merchant.objects.filter(pk=merchant.pk, version=merchant.version).update(
        state=move.target, version=merchant.version + 1, updated_at=now
    )
    if updated != 1:
        raise StaleVersion()
    merchant.state, merchant.version, merchant.updated_at = move.target, merchant.version + 1, now
    after = {"state": merchant.state, "version": merchant.version}
    record(actor, Change("merchant", str(merchant.pk), f"merchant.{action}", before, after, text), at=now)
    return merchant
