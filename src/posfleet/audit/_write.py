"""The audit log's writing path, private to `audit.services`.

Every audited change passes here, one event or a hundred thousand, so it is written for speed
rather than for reading: fixed statements on the caller's cursor, payloads dumped once, events alike
but for the object id templated and inserted slim with one INSERT … SELECT, and on SQLite their
hashes computed on a second thread while the caller writes (with a short GIL switch interval
meanwhile). The ORM cost most of the time (a 100k-terminal hold took minutes). What it writes is
what `chain` says; `audit.services.verify` checks it.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from posfleet.audit import chain
from posfleet.audit.change import Change, scrub
from posfleet.audit.models import AuditEvent, ChainHead
from posfleet.core.actor import Actor
from posfleet.core.sql import Statement

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


# On SQLite a writer holds the database's write lock from BEGIN IMMEDIATE, so the head can be read
# with the writer's own first statement (apply() joins it to the terminal's lock) and handed to
# record_one(head=…): one statement less on every audited change. A stale head cannot fork the
# chain: seq is the primary key and the head only moves from the seq it was read at.
HEAD_JOIN = "LEFT JOIN audit_chainhead AS audit_head ON audit_head.id = 1"
HEAD_COLUMNS = "audit_head.seq, audit_head.hash"

_HEAD = Statement("SELECT seq, hash FROM audit_chainhead WHERE id = 1")
_HEAD_PG = Statement(_HEAD.sql + " FOR UPDATE")
_MOVE_HEAD = Statement("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1 AND seq = %s")
_INSERT = Statement(
    f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)


def record_many(
    actor: Actor, changes: Sequence[Change], *, at: datetime | None = None, cursor: Any = None
) -> int:
    """Append events for `changes` to the chain; must run inside the change's own transaction.

    Every audited change in posfleet passes here, one event or a hundred thousand, so it is written
    for speed: the head is read and locked with one statement, events are hashed in Python (the hash
    needs the previous one) and inserted with one `executemany` (or, when they are alike but for the
    object id, templated and inserted with one INSERT … SELECT: see `record_bulk`), and the head is
    moved with one UPDATE. The ORM would spend most of the time preparing values (and SQLite caps a bulk INSERT
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
    if len(changes) == 1:
        record_one(actor, changes[0], at=at, cursor=cursor, connection=conn)
        return 1
    at_db = conn.ops.adapt_datetimefield_value(at)
    as_json = conn.ops.adapt_json_value
    at_text = chain.stamp(at)
    rows: list[tuple[Any, ...]] = []
    vendor = conn.vendor
    seq, prev = _lock_head(cursor, vendor)
    read_at = seq
    if len(changes) > 1 and _alike(changes):
        first = changes[0]
        try:
            return _record_alike(
                actor,
                _Shape(first.object_type, first.action, first.before, first.after, first.reason),
                [str(c.object_id) for c in changes],
                at,
                cursor,
                (seq, prev),
            )
        except chain.NotTemplatable:  # raised before anything is written; the general path below
            pass
    if vendor == "postgresql":
        return _record_rows_pg(actor, changes, at, at_text, cursor, (seq, prev))
    for n, change, object_id, shared, follows, digest in _linked(actor, at_text, changes, seq, prev):
        before, after = shared["before"], shared["after"]
        rows.append(
            (
                n,
                at_db,
                actor.kind,
                actor.user_id,
                actor.name,
                actor.role,
                actor.channel,
                change.object_type,
                object_id,
                change.action,
                None if before is None else as_json(before, None),
                None if after is None else as_json(after, None),
                change.reason,
                actor.request_id,
                follows,
                digest,
            )
        )
        seq, prev = n, digest
    _INSERT.run_many(cursor, vendor, rows)
    _move_head(cursor, vendor, read_at, seq, prev)
    return len(rows)


def _linked(
    actor: Actor, at_text: str, changes: Sequence[Change], seq: int, prev: str
) -> Iterator[tuple[int, Change, str, dict[str, Any], str, str]]:
    """Each change's place in the chain after (`seq`, `prev`): its seq, object id, shared values, the hash
    it follows and its own."""
    for change in changes:
        seq += 1
        object_id = str(change.object_id)
        shared = _shared_values(
            actor, at_text, change.object_type, change.action, change.before, change.after, change.reason
        )
        digest = chain.link(prev, shared | {"seq": seq, "object_id": object_id})
        yield seq, change, object_id, shared, prev, digest
        prev = digest


def _record_rows_pg(
    actor: Actor,
    changes: Sequence[Change],
    at: datetime,
    at_text: str,
    cursor: Any,
    head: tuple[int, str],
) -> int:
    """`record_many`'s general path on PostgreSQL: the events as one JSON document, inserted with one
    INSERT … SELECT (`_INSERT_ROWS_PG`). executemany costs a statement per event there, and psycopg
    binds an array of JSON texts in Python at ~0.1 ms an element: either took a settlement run's 400
    events 30-80 ms. What the events of one call share (time, actor, request) is bound once."""
    seq, prev = head
    read_at = seq
    events: list[dict[str, Any]] = []
    for n, change, object_id, shared, follows, digest in _linked(actor, at_text, changes, seq, prev):
        events.append(
            {
                "seq": n,
                "object_type": change.object_type,
                "object_id": object_id,
                "action": change.action,
                "before": shared["before"],  # None: SQL NULL (json_to_recordset's rule)
                "after": shared["after"],
                "reason": change.reason,
                "prev_hash": follows,
                "hash": digest,
            }
        )
        seq, prev = n, digest
    params = [
        transaction.get_connection().ops.adapt_datetimefield_value(at),
        actor.kind,
        actor.user_id,
        actor.name,
        actor.role,
        actor.channel,
        actor.request_id,
        json.dumps(events),
    ]
    _INSERT_ROWS_PG.run(cursor, "postgresql", params)
    _move_head(cursor, "postgresql", read_at, seq, prev)
    return len(events)


def record_one(
    actor: Actor,
    change: Change,
    *,
    at: datetime,
    cursor: Any,
    connection: Any,
    at_db: Any = None,
    head: tuple[int, str] | None = None,
) -> None:
    """Append one event: every audited single change (`apply()` thousands of times a second) comes
    here, so each payload is dumped once, for the hash and for the row alike (the compact, sorted
    JSON `canonical()` uses), and the canonical text is assembled by `chain.link_one` instead of
    dumping the whole event again. `at_db` is `at` as the database takes it, when the caller has it;
    `head` the chain head (seq, hash) when the caller read it under the write lock (SQLite only,
    see HEAD_JOIN)."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the change's transaction")
    vendor = connection.vendor
    if at_db is None:
        at_db = connection.ops.adapt_datetimefield_value(at)
    before, after = scrub(change.before), scrub(change.after)
    before_text, after_text = chain.dump_payload(before), chain.dump_payload(after)
    object_id = str(change.object_id)
    at_text = chain.stamp(at)
    if head is None or vendor != "sqlite":
        head = _lock_head(cursor, vendor)
    seq, prev = head
    seq += 1
    user_id = actor.user_id
    digest = chain.link_one(
        prev, seq, at_text, actor.kind, user_id, actor.name, actor.role, actor.channel,
        change.object_type, object_id, change.action, before_text, after_text, change.reason,
        actor.request_id,
    )  # fmt: skip
    if digest is None:  # a value that is not a plain str or int: the general canonical form
        shared = _shared_values(
            actor, at_text, change.object_type, change.action, change.before, change.after, change.reason
        )
        digest = chain.link(prev, shared | {"seq": seq, "object_id": object_id})
    if vendor == "sqlite":  # a JSON column is text here: the dumped payload as it is
        before_db = None if before is None else before_text
        after_db = None if after is None else after_text
    else:
        as_json = connection.ops.adapt_json_value
        before_db = None if before is None else as_json(before, None)
        after_db = None if after is None else as_json(after, None)
    _INSERT.run(
        cursor,
        vendor,
        (
            seq, at_db, actor.kind, user_id, actor.name, actor.role, actor.channel, change.object_type,
            object_id, change.action, before_db, after_db, change.reason, actor.request_id, prev, digest,
        ),
    )  # fmt: skip
    _move_head(cursor, vendor, seq - 1, seq, digest)


def _move_head(cursor: Any, vendor: str, read_at: int, seq: int, digest: str) -> None:
    """Move the head from `read_at` (the seq it was read at) to `seq`; anything else is a bug that
    would fork the chain, so the change rolls back instead."""
    if _MOVE_HEAD.run(cursor, vendor, [seq, digest, read_at]).rowcount != 1:
        raise RuntimeError("the audit chain head moved under this change")


def _shared_values(
    actor: Actor,
    at_text: str,
    object_type: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
) -> dict[str, Any]:
    """An event's hashed values but `seq` and `object_id` (`chain.FIELDS`), payloads scrubbed."""
    return {
        "occurred_at": at_text,
        "actor_type": actor.kind,
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "role": actor.role,
        "channel": actor.channel,
        "object_type": object_type,
        "action": action,
        "before": scrub(before),
        "after": scrub(after),
        "reason": reason,
        "request_id": actor.request_id,
    }


def _alike(changes: Sequence[Change]) -> bool:
    """All changes the same but for the object id (the same before/after objects): a bulk change."""
    first = changes[0]
    return all(
        c.before is first.before
        and c.after is first.after
        and c.object_type == first.object_type
        and c.action == first.action
        and c.reason == first.reason
        for c in changes
    )


@dataclass(frozen=True)
class _Shape:
    object_type: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str


def record_bulk(
    actor: Actor,
    object_type: str,
    object_ids: Sequence[str],
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    at: datetime | None = None,
    alongside: Callable[[], object] | None = None,
) -> int:
    """One event per object id, all else shared: what a bulk change (a hold on 100,000 terminals)
    writes. The same events as `record_many` with alike changes, without building a Change each.

    `alongside` is the change itself (the caller's bulk write). On SQLite it runs while the events'
    hashes are computed on a second thread: SQLite releases the GIL while it writes, so the hashing
    (a fifth of a 100,000-terminal hold) costs no time. Elsewhere it runs first. Either way it runs
    exactly once, before any event is written, and an error in it writes no event."""
    if not object_ids:
        if alongside is not None:
            alongside()
        return 0
    shape = _Shape(object_type, action, before, after, reason)
    ids = list(map(str, object_ids))
    try:
        template = _template(actor, shape, at := at or timezone.now())
    except chain.NotTemplatable:
        if alongside is not None:
            alongside()
        changes = [Change(object_type, o, action, before, after, reason) for o in ids]
        return record_many(actor, changes, at=at)
    return _record_alike(actor, shape, ids, at, template=template, alongside=alongside)


def _template(actor: Actor, shape: _Shape, at: datetime) -> chain.Template:
    """The chain template of events alike but for the object id; raises NotTemplatable (never in
    practice) before anything is locked or written."""
    shared = _shared_values(
        actor, chain.stamp(at), shape.object_type, shape.action, shape.before, shape.after, shape.reason
    )
    return chain.Template(shared)


def _record_alike(
    actor: Actor,
    shape: _Shape,
    object_ids: list[str],
    at: datetime,
    cursor: Any = None,
    head: tuple[int, str] | None = None,
    *,
    template: chain.Template | None = None,
    alongside: Callable[[], object] | None = None,
) -> int:
    """Events alike but for the object id: the payload is scrubbed, dumped and templated once, the
    first event is inserted whole and the others slim with one INSERT … SELECT."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("audit.record must run inside the change's transaction")
    if cursor is None:
        with conn.cursor() as own:
            return _record_alike(
                actor, shape, object_ids, at, own, head, template=template, alongside=alongside
            )
    vendor = conn.vendor
    if template is None:
        template = _template(actor, shape, at)  # may raise NotTemplatable: nothing written yet
    before, after = scrub(shape.before), scrub(shape.after)
    if alongside is not None and vendor != "sqlite":
        alongside()  # the caller's rows first, then the head (the lock order of _head())
        alongside = None
    seq, prev = head if head is not None else _lock_head(cursor, vendor)
    base, n = seq, len(object_ids)
    ops = conn.ops
    at_db = ops.adapt_datetimefield_value(at)
    before_db = None if before is None else ops.adapt_json_value(before, None)
    after_db = None if after is None else ops.adapt_json_value(after, None)
    constants = [at_db, actor.kind, actor.user_id, actor.name, actor.role, actor.channel, shape.object_type]
    last = prev
    for chunk in _digest_chunks(template, prev, base + 1, object_ids, vendor, alongside):
        if chunk.start == 0:  # the first event whole, with the usual INSERT …
            _INSERT.run(
                cursor,
                vendor,
                (
                    base + 1, at_db, actor.kind, actor.user_id, actor.name, actor.role, actor.channel,
                    shape.object_type, object_ids[0], shape.action, before_db, after_db, shape.reason,
                    actor.request_id, prev, chunk.digests[0],
                ),
            )  # fmt: skip
        last = chunk.digests[-1]
        if chunk.count == 0:
            continue
        # … the others slim (AuditEvent: SHARED_FIELDS and prev_hash left to the first), with one
        # INSERT … SELECT over their object ids and hashes: binding 17 parameters a row from Python
        # cost three times SQLite's own work.
        first = base + 1 + chunk.first_member
        if vendor == "postgresql":
            params = [first - 1, *constants, shape.action, base + 1, chunk.object_ids, chunk.hashes]
            _INSERT_MEMBERS_PG.run(cursor, vendor, params)
        else:
            params = [first, *constants, shape.action, chunk.hashes, base + 1, chunk.object_ids]
            _INSERT_MEMBERS.run(cursor, vendor, params)
    _move_head(cursor, vendor, base, base + n, last)
    return n


# Events hashed per chunk on SQLite, so that hashing one chunk overlaps writing the one before.
HASH_CHUNK = 10_000
_SWITCH_INTERVAL = 0.0002
_switching = threading.Lock()
_switching_depth = 0
_saved_interval = 0.005


@contextmanager
def _prompt_switching() -> Iterator[None]:
    """A short GIL switch interval while the hashing thread runs. Back from SQLite, the writing
    thread waits for the GIL until the interpreter's switch interval (5 ms) has passed: after every
    one of a bulk change's statements, a quarter of the time the hashing saved. The interval is
    the process's; it is restored when the last such change ends."""
    global _switching_depth, _saved_interval
    with _switching:
        if _switching_depth == 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(_SWITCH_INTERVAL)
        _switching_depth += 1
    try:
        yield
    finally:
        with _switching:
            _switching_depth -= 1
            if _switching_depth == 0:
                sys.setswitchinterval(_saved_interval)


@dataclass(frozen=True)
class _Chunk:
    """Events `start` … of a bulk change, hashed, with the parameters of their slim rows (all but
    the change's first event): on SQLite a JSON array of object ids and a blob of hashes, ready
    to bind, so the writing thread has nothing left to do in Python."""

    start: int
    digests: list[str]
    first_member: int  # offset of the first slim event in this chunk
    count: int  # slim events in this chunk
    object_ids: Any
    hashes: Any


def _chunk(start: int, digests: list[str], object_ids: list[str], vendor: str) -> _Chunk:
    skip = 1 if start == 0 else 0  # the change's first event is stored whole, apart
    ids = object_ids[start + skip : start + len(digests)]
    hashes = digests[skip:]
    if vendor == "postgresql":
        return _Chunk(start, digests, start + skip, len(ids), ids, hashes)
    # A blob: substr() on it counts bytes, not characters.
    return _Chunk(start, digests, start + skip, len(ids), json.dumps(ids), "".join(hashes).encode())


def _digest_chunks(
    template: chain.Template,
    prev: str,
    first_seq: int,
    object_ids: list[str],
    vendor: str,
    alongside: Callable[[], object] | None,
) -> Iterator[_Chunk]:
    """The events of `object_ids`, hashed in order and chained from `prev`, chunk by chunk.

    On SQLite, with more than one chunk or a caller's write to run (`alongside`), a second thread
    hashes (and prepares the rows) while this one writes: SQLite releases the GIL while it works,
    so hashing (a fifth of a 100,000-terminal hold) then costs next to no time. The write lock is
    held since BEGIN IMMEDIATE, so the head read before cannot move meanwhile. Elsewhere: all at
    once, in order.
    """
    n = len(object_ids)
    if vendor != "sqlite" or (alongside is None and n <= HASH_CHUNK):
        yield _chunk(0, template.chain(prev, first_seq, object_ids), object_ids, vendor)
        return
    chunks: queue.SimpleQueue[_Chunk | BaseException] = queue.SimpleQueue()

    def produce() -> None:
        last = prev
        try:
            for start in range(0, n, HASH_CHUNK):
                digests = template.chain(last, first_seq + start, object_ids[start : start + HASH_CHUNK])
                last = digests[-1]
                chunks.put(_chunk(start, digests, object_ids, vendor))
        except BaseException as exc:  # handed to the consumer, which raises it
            chunks.put(exc)

    with _prompt_switching(), ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(produce)
        if alongside is not None:
            alongside()  # an error here leaves the pool to finish hashing, then propagates
        for _start in range(0, n, HASH_CHUNK):
            got = chunks.get()
            if isinstance(got, BaseException):
                raise got
            yield got


_MEMBER_COLUMNS = ", ".join((*_COLUMNS, "batch_seq"))
_INSERT_MEMBERS = Statement(
    f"INSERT INTO audit_auditevent ({_MEMBER_COLUMNS}) "
    "SELECT %s + j.key, %s, %s, %s, %s, %s, %s, %s, j.value, %s, NULL, NULL, '', '', '', "
    "CAST(substr(%s, j.key * 64 + 1, 64) AS TEXT), %s "
    "FROM json_each(%s) AS j"
)
_INSERT_ROWS_PG = Statement(
    f"INSERT INTO audit_auditevent ({', '.join(_COLUMNS)}) "
    "SELECT e.seq, %s, %s, %s, %s, %s, %s, e.object_type, e.object_id, e.action, e.before, e.after, "
    "e.reason, %s, e.prev_hash, e.hash FROM json_to_recordset(%s::json) AS e(seq bigint, "
    "object_type text, object_id text, action text, before jsonb, after jsonb, reason text, "
    "prev_hash text, hash text)"
)
_INSERT_MEMBERS_PG = Statement(
    f"INSERT INTO audit_auditevent ({_MEMBER_COLUMNS}) "
    "SELECT %s + u.n, %s, %s, %s, %s, %s, %s, %s, u.object_id, %s, NULL, NULL, '', '', '', u.hash, %s "
    "FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(object_id, hash, n)"
)
