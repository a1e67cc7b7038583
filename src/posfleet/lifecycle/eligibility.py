"""The one answer to "may this terminal transact?" (DESIGN.md §3), used by everything.

Allowed iff the terminal is `active`, no hold is in force on it or on its merchant, and the merchant is
`active`. It reads the database on every call (one indexed query, no cache), so it is right the
moment a stop commits, and scheduled hold starts and ends count at their exact time whatever the worker
is doing. Refusals name every reason; the ISO 8583 response code is the first that applies:
97 unknown or unbound terminal, 03 merchant not active or held, 58 terminal held or not active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from posfleet.core.sql import Statement, db_datetime, open_cursor, sqlite_now
from posfleet.lifecycle.models import RefusedAttempt
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


ANSWER_COLUMNS = "t.id, t.state, t.merchant_id, m.state, th.id, th.kind, mh.id, mh.kind, bh.id, bh.kind"


def answer_joins(past: bool) -> str:
    """What joins to the terminal `t` for the answer: its merchant and the holds in force on either at
    a time: the terminal's own (th), the bulk holds it is linked to (bh, through its links bt) and its
    merchant's (mh). Holds in force together come back as one row per combination, which `answer_of`
    dedupes. Every `%s` is the time. The HTTP fast path joins the same to its token check.

    The hold rule of `HoldQuerySet.in_force` in SQL. Now, "not released" is `released_at IS NULL`,
    which the partial and link indexes serve; in the past (ingest judges a transaction at its own
    time) a hold released since was still in force then, which no open-hold index can serve.
    """

    def released(alias: str) -> str:
        if past:
            return f"({alias}.released_at IS NULL OR {alias}.released_at > %s)"
        return f"{alias}.released_at IS NULL"

    def window(alias: str) -> str:
        return f"AND {alias}.starts_at <= %s AND ({alias}.ends_at IS NULL OR {alias}.ends_at > %s) "

    merchant_open = (
        f"mh.on_merchant AND {released('mh')}" if past else f"(mh.on_merchant AND {released('mh')})"
    )
    return (
        "LEFT JOIN registry_merchant m ON m.id = t.merchant_id "
        f"LEFT JOIN lifecycle_hold th ON th.terminal_id = t.id AND {released('th')} "
        f"{window('th')}"
        f"LEFT JOIN lifecycle_hold mh ON mh.merchant_id = t.merchant_id AND {merchant_open} "
        f"{window('mh')}"
        f"LEFT JOIN lifecycle_holdterminal bt ON bt.terminal_id = t.id AND {released('bt')} "
        f"LEFT JOIN lifecycle_hold bh ON bh.id = bt.hold_id AND {released('bh')} "
        f"{window('bh')}"
    )


def _answer_statement(past: bool) -> Statement:
    return Statement(f"SELECT {ANSWER_COLUMNS} FROM registry_terminal t {answer_joins(past)}WHERE t.tid = %s")


_ANSWER = _answer_statement(past=False)
_PAST_ANSWER = _answer_statement(past=True)
_NOW_STAMPS = _ANSWER.sql.count("%s") - 1  # every placeholder but the TID is the time
_PAST_STAMPS = _PAST_ANSWER.sql.count("%s") - 1


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
            rows = _ANSWER.run(cursor, vendor, [stamp] * _NOW_STAMPS + [tid]).fetchall()
        else:
            rows = _PAST_ANSWER.run(cursor, vendor, [stamp] * _PAST_STAMPS + [tid]).fetchall()
    finally:
        cursor.close()
    return answer_of(tid, rows)


def answer_of(tid: str, rows: Sequence[Sequence[Any]]) -> Answer:
    """The answer from the statement's rows (`ANSWER_COLUMNS`, one per combination of holds in force);
    no rows: the terminal is unknown."""
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


def answer_and_count(tid: str) -> Answer:
    """The answer to a terminal asking now; a refusal is counted (`RefusedAttempt`) for monitoring
    stopped terminals, the allowed path writes nothing."""
    return counted(may_transact(tid))


def counted(answer: Answer) -> Answer:
    """`answer`, a refusal counted (the HTTP fast path reads the answer in its own statement)."""
    if not answer.allowed:
        RefusedAttempt.objects.create(
            tid=answer.tid[:8],
            response_code=answer.iso_response_code,
            reasons=[r.as_dict() for r in answer.reasons],
        )
    return answer
