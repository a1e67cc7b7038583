"""Recording audit events, always inside the caller's transaction.

Services call `record()` (one event) or `record_many()` (a bulk change) after writing their change and
before their transaction commits, so the change and its trace commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from posfleet.audit import chain
from posfleet.audit.models import AuditEvent, ChainHead
from posfleet.core.actor import Actor

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


def _lock_head(cursor: Any) -> tuple[int, str]:
    """(seq, hash) of the chain head, locked until commit: the hot path in raw SQL (see record_many)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cursor.execute(f"SELECT seq, hash FROM audit_chainhead WHERE id = 1{lock}")
    row = cursor.fetchone()
    if row is None:
        head = _head()
        return head.seq, head.hash
    return int(row[0]), str(row[1])


@lru_cache(maxsize=4)
def _insert_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in _COLUMNS)
    marks = ", ".join(["%s"] * len(_COLUMNS))
    return f"INSERT INTO {qn(AuditEvent._meta.db_table)} ({columns}) VALUES ({marks})"


_JSON_FIELD = AuditEvent._meta.get_field("after")


def _json(value: Any, conn: Any) -> Any:
    return _JSON_FIELD.get_db_prep_save(value, conn)


def record_many(actor: Actor, changes: Sequence[Change], *, at: datetime | None = None) -> list[AuditEvent]:
    """Append events for `changes` to the chain; must run inside the change's own transaction.

    Every audited change in posfleet passes here, one event or a hundred thousand, so it is written
    for speed: the head is read and locked with one statement, events are hashed in Python (the hash
    needs the previous one) and inserted with one `executemany`, and the head is moved with one
    UPDATE. The ORM would spend most of the time preparing values (and SQLite caps a bulk INSERT
    at 999 parameters), which made a 100k-terminal hold take minutes. The returned events are
    unsaved-looking instances for callers that want to read what was written.
    """
    if not changes:
        return []
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("audit.record must run inside the change's transaction")
    at = at or timezone.now()
    at_db = conn.ops.adapt_datetimefield_value(at)
    events: list[AuditEvent] = []
    rows: list[tuple[Any, ...]] = []
    with conn.cursor() as cursor:
        seq, prev = _lock_head(cursor)
        for change in changes:
            seq += 1
            values: dict[str, Any] = {
                "seq": seq,
                "occurred_at": at,
                "actor_type": actor.kind,
                "actor_id": actor.user_id,
                "actor_name": actor.name,
                "role": actor.role,
                "channel": actor.channel,
                "object_type": change.object_type,
                "object_id": str(change.object_id),
                "action": change.action,
                "before": scrub(change.before),
                "after": scrub(change.after),
                "reason": change.reason,
                "request_id": actor.request_id,
            }
            digest = chain.link(prev, values)
            rows.append(
                (
                    seq,
                    at_db,
                    values["actor_type"],
                    values["actor_id"],
                    values["actor_name"],
                    values["role"],
                    values["channel"],
                    values["object_type"],
                    values["object_id"],
                    values["action"],
                    _json(values["before"], conn),
                    _json(values["after"], conn),
                    values["reason"],
                    values["request_id"],
                    prev,
                    digest,
                )
            )
            if len(changes) <= 100:
                events.append(AuditEvent(**values, prev_hash=prev, hash=digest))
            prev = digest
        cursor.executemany(_insert_sql(conn.vendor), rows)
        cursor.execute("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1", [seq, prev])
    return events


def record(actor: Actor, change: Change, *, at: datetime | None = None) -> AuditEvent:
    return record_many(actor, [change], at=at)[0]


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
