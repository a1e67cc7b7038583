"""Recording audit events, always inside the caller's transaction.

Services call `record()` (one event) or `record_many()` (a bulk change) after writing their change and
before their transaction commits, so the change and its trace commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from posfleet.audit import chain
from posfleet.audit.models import AuditEvent, ChainHead
from posfleet.core.actor import Actor
from posfleet.core.sql import Statement

# Keys whose values never enter an audit payload (DESIGN.md: keys, PANs and ID numbers stay out).
SECRET_KEYS = frozenset(
    {"settlement_card", "settlement_card_enc", "id_number", "key", "tmk", "password", "secret"}
)


@dataclass(frozen=True)
class Change:
    object_type: str
    object_id: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""


def scrub(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    if payload is None:
        return None
    return {k: ("[redacted]" if k in SECRET_KEYS else v) for k, v in payload.items()}


_COLUMNS = (*chain.FIELDS, "prev_hash", "hash")


def _head() -> ChainHead:
    """Lock the chain head. Callers lock their own rows FOR NO KEY UPDATE first, so the deferred
    foreign-key checks at COMMIT (KEY SHARE locks) never wait on a writer that waits for this head."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def _lock_head(cursor: Any, vendor: str) -> tuple[int, str]:
    """(seq, hash) of the chain head, locked until commit (SQLite: the IMMEDIATE transaction)."""
    row = (_HEAD_PG if vendor == "postgresql" else _HEAD).run(cursor, vendor).fetchone()
    if row is None:
        head = _head()
        return head.seq, head.hash
    return int(row[0]), str(row[1])


_HEAD = Statement("SELECT seq, hash FROM audit_chainhead WHERE id = 1")
_HEAD_PG = Statement(_HEAD.sql + " FOR UPDATE")
_MOVE_HEAD = Statement("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1")
_INSERT = Statement(
    f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)


def record_many(
    actor: Actor, changes: Sequence[Change], *, at: datetime | None = None, cursor: Any = None
) -> int:
    """Append events for `changes` to the chain; must run inside the change's own transaction.

    Every audited change in posfleet passes here, one event or a hundred thousand, so it is written
    for speed: the head is read and locked with one statement, events are hashed in Python (the hash
    needs the previous one) and inserted with one `executemany`, and the head is moved with one
    UPDATE. The ORM would spend most of the time preparing values (and SQLite caps a bulk INSERT
    at 999 parameters), which made a 100k-terminal hold take minutes. A caller already holding a
    cursor on the connection (`apply()`) passes it in. Returns the number of events written.
    """
    if not changes:
        return 0
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("audit.record must run inside the change's transaction")
    if cursor is None:
        with conn.cursor() as own:
            return record_many(actor, changes, at=at, cursor=own)
    at = at or timezone.now()
    at_db = conn.ops.adapt_datetimefield_value(at)
    as_json = conn.ops.adapt_json_value
    at_text = chain.stamp(at)
    rows: list[tuple[Any, ...]] = []
    vendor = conn.vendor
    seq, prev = _lock_head(cursor, vendor)
    actor_type, actor_id, actor_name = actor.kind, actor.user_id, actor.name
    role, channel, request_id = actor.role, actor.channel, actor.request_id
    for change in changes:
        seq += 1
        before, after = scrub(change.before), scrub(change.after)
        object_id = str(change.object_id)
        values: dict[str, Any] = {
            "seq": seq,
            "occurred_at": at_text,
            "actor_type": actor_type,
            "actor_id": actor_id,
            "actor_name": actor_name,
            "role": role,
            "channel": channel,
            "object_type": change.object_type,
            "object_id": object_id,
            "action": change.action,
            "before": before,
            "after": after,
            "reason": change.reason,
            "request_id": request_id,
        }
        digest = chain.link(prev, values)
        rows.append(
            (
                seq,
                at_db,
                actor_type,
                actor_id,
                actor_name,
                role,
                channel,
                change.object_type,
                object_id,
                change.action,
                None if before is None else as_json(before, None),
                None if after is None else as_json(after, None),
                change.reason,
                request_id,
                prev,
                digest,
            )
        )
        prev = digest
    if len(rows) == 1:
        _INSERT.run(cursor, vendor, rows[0])
    else:
        _INSERT.run_many(cursor, vendor, rows)
    _MOVE_HEAD.run(cursor, vendor, [seq, prev])
    return len(rows)


def record(actor: Actor, change: Change, *, at: datetime | None = None) -> None:
    record_many(actor, [change], at=at)


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
