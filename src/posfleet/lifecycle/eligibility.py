"""The one answer to "may this terminal transact?" (DESIGN.md §3), used by everything.

Allowed iff the terminal is `active`, no hold is in force on it or on its merchant, and the merchant is
`active`. It reads the database on every call (two indexed queries, no cache), so it is right the
moment a stop commits, and scheduled hold starts and ends count at their exact time whatever the worker
is doing. Refusals name every reason; the ISO 8583 response code is the first that applies:
97 unknown or unbound terminal, 03 merchant not active or held, 58 terminal held or not active.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from posfleet.registry.choices import MerchantState, TerminalState

APPROVED = "00"
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


@dataclass(frozen=True)
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


_TERMINAL_SQL = (
    "SELECT t.id, t.state, t.merchant_id, m.state FROM registry_terminal t "
    "LEFT JOIN registry_merchant m ON m.id = t.merchant_id WHERE t.tid = %s"
)
_HOLDS_SQL = (
    "SELECT id, kind, on_merchant FROM lifecycle_hold WHERE released_at IS NULL AND starts_at <= %s "
    "AND (ends_at IS NULL OR ends_at > %s) AND terminal_id = %s "
    "UNION ALL "
    "SELECT id, kind, on_merchant FROM lifecycle_hold WHERE released_at IS NULL AND starts_at <= %s "
    "AND (ends_at IS NULL OR ends_at > %s) AND on_merchant = %s AND merchant_id = %s "
    "ORDER BY 1"
)


def may_transact(tid: str, at: datetime | None = None) -> Answer:
    now = at or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_TERMINAL_SQL, [tid])
        row = cursor.fetchone()
        if row is None:
            return Answer(tid, False, [Reason("unknown_terminal", UNKNOWN_TERMINAL)])
        terminal_id, state, merchant_id, merchant_state = row
        reasons: list[Reason] = []
        if merchant_id is None:
            reasons.append(Reason("no_merchant", UNKNOWN_TERMINAL))
        elif merchant_state != MerchantState.ACTIVE:
            reasons.append(Reason("merchant_not_active", MERCHANT_NOT_ALLOWED, kind=merchant_state))
        if state != TerminalState.ACTIVE:
            reasons.append(Reason("terminal_not_active", NOT_PERMITTED_TO_TERMINAL, kind=state))
        stamp = connection.ops.adapt_datetimefield_value(now)
        cursor.execute(_HOLDS_SQL, [stamp, stamp, terminal_id, stamp, stamp, True, merchant_id or -1])
        for hold_id, kind, on_merchant in cursor.fetchall():
            if on_merchant:
                reasons.append(Reason("merchant_hold", MERCHANT_NOT_ALLOWED, kind=kind, hold_id=hold_id))
            else:
                reasons.append(Reason("terminal_hold", NOT_PERMITTED_TO_TERMINAL, kind=kind, hold_id=hold_id))
    return Answer(tid, not reasons, reasons)
