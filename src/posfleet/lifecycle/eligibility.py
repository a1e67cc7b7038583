"""The one answer to "may this terminal transact?" (DESIGN.md §3), used by everything.

Allowed iff the terminal is `active`, no hold is in force on it or on its merchant, and the merchant is
`active`. It reads the database on every call (one indexed query, no cache), so it is right the
moment a stop commits, and scheduled hold starts and ends count at their exact time whatever the worker
is doing. Refusals name every reason; the ISO 8583 response code is the first that applies:
97 unknown or unbound terminal, 03 merchant not active or held, 58 terminal held or not active.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from posfleet.core.sql import Statement, db_datetime, open_cursor, sqlite_now
from posfleet.registry.choices import MerchantState, TerminalState

APPROVED = "00"
_ACTIVE = "active"  # TerminalState.ACTIVE and MerchantState.ACTIVE, compared as a plain str
assert _ACTIVE == TerminalState.ACTIVE == MerchantState.ACTIVE
MERCHANT_NOT_ALLOWED = "03"
NOT_PERMITTED_TO_TERMINAL = "58"
UNKNOWN_TERMINAL = "97"


@dataclass(frozen=True)
class Reason:
    code: str
    response_code: str
    kind: str = ""
    hold_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "iso_response_code": self.response_code}
        if self.kind:
            data["kind"] = self.kind
        if self.hold_id is not None:
            data["hold_id"] = self.hold_id
        return data


@dataclass(slots=True)
class Answer:
    tid: str
    allowed: bool
    reasons: list[Reason] = field(default_factory=list)

    @property
    def iso_response_code(self) -> str:
        if self.allowed:
            return APPROVED
        order = (UNKNOWN_TERMINAL, MERCHANT_NOT_ALLOWED, NOT_PERMITTED_TO_TERMINAL)
        codes = {r.response_code for r in self.reasons}
        return next(c for c in order if c in codes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tid": self.tid,
            "allowed": self.allowed,
            "reasons": [r.as_dict() for r in self.reasons],
            "iso_response_code": self.iso_response_code,
        }


# One statement: the terminal, its merchant, and the holds in force on either: the terminal's own
# (th), the bulk holds it is linked to (bh, through its links bt) and its merchant's (mh). Holds in
# force together come back as one row per combination, which the loop below dedupes. The partial
# and link indexes serve every join.
_ANSWER = Statement(
    "SELECT t.id, t.state, t.merchant_id, m.state, th.id, th.kind, mh.id, mh.kind, bh.id, bh.kind "
    "FROM registry_terminal t "
    "LEFT JOIN registry_merchant m ON m.id = t.merchant_id "
    "LEFT JOIN lifecycle_hold th ON th.terminal_id = t.id AND th.released_at IS NULL "
    "AND th.starts_at <= %s AND (th.ends_at IS NULL OR th.ends_at > %s) "
    "LEFT JOIN lifecycle_hold mh ON mh.merchant_id = t.merchant_id AND (mh.on_merchant AND mh.released_at IS NULL) "
    "AND mh.starts_at <= %s AND (mh.ends_at IS NULL OR mh.ends_at > %s) "
    "LEFT JOIN lifecycle_holdterminal bt ON bt.terminal_id = t.id AND bt.released_at IS NULL "
    "LEFT JOIN lifecycle_hold bh ON bh.id = bt.hold_id AND bh.released_at IS NULL "
    "AND bh.starts_at <= %s AND (bh.ends_at IS NULL OR bh.ends_at > %s) "
    "WHERE t.tid = %s"
)
# For a time in the past (ingested transactions are judged at their own time) a hold released since
# was still in force then; this variant cannot use the open-hold indexes, and only ingest needs it.
_PAST_ANSWER = Statement(
    "SELECT t.id, t.state, t.merchant_id, m.state, th.id, th.kind, mh.id, mh.kind, bh.id, bh.kind "
    "FROM registry_terminal t "
    "LEFT JOIN registry_merchant m ON m.id = t.merchant_id "
    "LEFT JOIN lifecycle_hold th ON th.terminal_id = t.id AND (th.released_at IS NULL OR th.released_at > %s) "
    "AND th.starts_at <= %s AND (th.ends_at IS NULL OR th.ends_at > %s) "
    "LEFT JOIN lifecycle_hold mh ON mh.merchant_id = t.merchant_id AND mh.on_merchant "
    "AND (mh.released_at IS NULL OR mh.released_at > %s) "
    "AND mh.starts_at <= %s AND (mh.ends_at IS NULL OR mh.ends_at > %s) "
    "LEFT JOIN lifecycle_holdterminal bt ON bt.terminal_id = t.id "
    "AND (bt.released_at IS NULL OR bt.released_at > %s) "
    "LEFT JOIN lifecycle_hold bh ON bh.id = bt.hold_id AND (bh.released_at IS NULL OR bh.released_at > %s) "
    "AND bh.starts_at <= %s AND (bh.ends_at IS NULL OR bh.ends_at > %s) "
    "WHERE t.tid = %s"
)


def may_transact(tid: str, at: datetime | None = None) -> Answer:
    conn = connections[DEFAULT_DB_ALIAS]  # looked up once: each proxy access costs a context lookup
    vendor = conn.vendor
    if at is None and vendor == "sqlite":  # now, as SQLite stores times, straight from the clock
        stamp: Any = sqlite_now()
        past = False
    else:
        current = datetime.now(UTC)  # timezone.now() with USE_TZ (always on), without a settings read
        now = at or current
        stamp = db_datetime(conn, now)
        past = now < current  # a hold released since may have been in force then
    # A fixed statement on the driver's own cursor (core.sql): Django's cursor wrapper cost more to
    # build than SQLite spends on the statement; on PostgreSQL prepared, as planning it cost more
    # than running it.
    cursor = open_cursor(conn, prepared=True)
    try:
        if not past:  # nothing released so far was in force at `now`
            rows = _ANSWER.run(cursor, vendor, [stamp] * 6 + [tid]).fetchall()
        else:
            rows = _PAST_ANSWER.run(cursor, vendor, [stamp] * 10 + [tid]).fetchall()
    finally:
        cursor.close()
    if not rows:
        return Answer(tid, False, [Reason("unknown_terminal", UNKNOWN_TERMINAL)])
    if len(rows) == 1:  # the allowed path, which most answers take, without building any reason
        _id, state, merchant_id, merchant_state, th, _tk, mh, _mk, bh, _bk = rows[0]
        if (
            th is None
            and mh is None
            and bh is None
            and state == _ACTIVE
            and merchant_state == _ACTIVE
            and merchant_id is not None
        ):
            return Answer(tid, True, [])
    _id, state, merchant_id, merchant_state = rows[0][:4]
    reasons: list[Reason] = []
    if merchant_id is None:
        reasons.append(Reason("no_merchant", UNKNOWN_TERMINAL))
    elif merchant_state != MerchantState.ACTIVE:
        reasons.append(Reason("merchant_not_active", MERCHANT_NOT_ALLOWED, kind=merchant_state))
    if state != TerminalState.ACTIVE:
        reasons.append(Reason("terminal_not_active", NOT_PERMITTED_TO_TERMINAL, kind=state))
    held: dict[int, Reason] = {}
    for row in rows:
        if row[4] is not None:
            held[row[4]] = Reason("terminal_hold", NOT_PERMITTED_TO_TERMINAL, kind=row[5], hold_id=row[4])
        if row[6] is not None:
            held[row[6]] = Reason("merchant_hold", MERCHANT_NOT_ALLOWED, kind=row[7], hold_id=row[6])
        if row[8] is not None:
            held[row[8]] = Reason("terminal_hold", NOT_PERMITTED_TO_TERMINAL, kind=row[9], hold_id=row[8])
    reasons.extend(held[k] for k in sorted(held))
    return Answer(tid, not reasons, reasons)
