"""Recording audit events, always inside the caller's transaction, and verifying the chain.

Services call `record()` with one change or several, or `record_bulk()` for one change of many
objects (a hold on 100,000 terminals: one event each, all else shared), after writing their change
and before their transaction commits, so the change and its trace commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from posfleet.audit import _write, chain
from posfleet.audit._write import HEAD_COLUMNS, HEAD_JOIN, record_bulk
from posfleet.audit.change import SECRET_KEYS, Change, scrub
from posfleet.audit.models import AuditEvent, ChainHead
from posfleet.core.actor import Actor

__all__ = [
    "HEAD_COLUMNS",
    "HEAD_JOIN",
    "SECRET_KEYS",
    "Change",
    "VerifyResult",
    "record",
    "record_bulk",
    "scrub",
    "verify",
]


def record(
    actor: Actor,
    changes: Change | Sequence[Change],
    *,
    at: datetime | None = None,
    cursor: Any = None,
    at_db: Any = None,
    head: tuple[int, str] | None = None,
) -> int:
    """Append the events of one change or several to the chain; returns how many were written.

    A caller already holding a cursor on the connection passes it. On SQLite a writer holding the
    write lock may read the chain head with its own first statement (join `HEAD_JOIN`, select
    `HEAD_COLUMNS`) and pass it as `head`, with `at_db` (`at` as the database takes it): one
    statement less on every single change."""
    if not isinstance(changes, Change):
        return _write.record_many(actor, changes, at=at, cursor=cursor)
    conn = transaction.get_connection()
    if cursor is None:
        with conn.cursor() as own:
            return record(actor, changes, at=at, cursor=own, at_db=at_db)
    _write.record_one(
        actor, changes, at=at or timezone.now(), cursor=cursor, connection=conn, at_db=at_db, head=head
    )
    return 1


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken: int | None = None
    problem: str = ""


def verify(events: Iterable[AuditEvent] | None = None) -> VerifyResult:
    """Walk the chain from the start; name the first event whose link or content does not hold."""
    prev = chain.GENESIS
    expected_seq = 1
    checked = 0
    rows = events if events is not None else AuditEvent.objects.order_by("seq").iterator(chunk_size=5000)
    for event in rows:
        values = {f: getattr(event, f) for f in chain.FIELDS}
        if event.seq != expected_seq:
            return VerifyResult(False, checked, event.seq, f"gap: expected seq {expected_seq}")
        if event.prev_hash != prev:
            return VerifyResult(False, checked, event.seq, "previous hash does not match")
        if chain.link(prev, values) != event.hash:
            return VerifyResult(False, checked, event.seq, "content does not match its hash")
        prev = event.hash
        expected_seq += 1
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq != checked:
        return VerifyResult(
            False, checked, checked + 1, f"chain head says {head.seq} events, found {checked}"
        )
    return VerifyResult(True, checked)
