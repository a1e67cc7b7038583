"""The SQL of `lifecycle.services.apply()`, private to it.

`apply()` runs on every terminal change, thousands a second in the bench, so its lock and update are
fixed statements on the driver's cursor, and the locked row becomes a model without the ORM's
per-row work (a compiled query, or `raw()`, cost several times the database's own). On SQLite the
lock also reads the audit chain head, which `audit.services.record` then takes as `head`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import models, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils.translation import gettext as _

from posfleet.audit.services import HEAD_COLUMNS, HEAD_JOIN
from posfleet.core.errors import NotFound
from posfleet.core.sql import Statement
from posfleet.registry.models import Terminal


def lock_terminal(tid: str, cursor: Any = None, conn: Any = None, head: list[Any] | None = None) -> Terminal:
    """The terminal row, locked FOR NO KEY UPDATE until commit (SQLite: the IMMEDIATE transaction).

    This is on every change's path, so it is one fixed statement read with a plain cursor and turned
    into a model with `from_db` (a compiled ORM query, or even `raw()`, cost several times the database
    work); model and merchant load lazily, only for the guards that read them. On SQLite the same
    statement reads the audit chain head (audit.services.HEAD_JOIN), appended to `head` if given.
    """
    conn = conn or transaction.get_connection()
    if cursor is None:
        with conn.cursor() as own:
            return lock_terminal(tid, own, conn)
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


def write_state(
    cursor: Any, vendor: str, terminal: Terminal, fields: dict[str, Any], now_db: Any, *, rebind: bool
) -> bool:
    """UPDATE the state (and the binding, when it changes) from the version the caller saw; False
    when a writer without the row lock got there first."""
    params: list[Any] = [fields["state"].value, fields["version"], now_db]
    if rebind:
        merchant = fields.get("merchant")
        params.append(merchant.pk if merchant is not None else None)
    params += [terminal.pk, terminal.version]
    return bool(_UPDATES[", merchant_id = %s" if rebind else ""].run(cursor, vendor, params).rowcount == 1)
