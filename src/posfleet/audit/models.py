"""Append-only, hash-chained audit events (DESIGN.md §6).

`seq` is the chain position and the primary key: it is assigned from the chain head inside the same
transaction as the change, so the hash of every event can be computed before it is inserted (and
bulk-inserted for bulk changes). Updates and deletes are refused here and, on PostgreSQL, by a trigger.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models
from django.db.models.query import ModelIterable
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    CONSOLE = "console", _("Console")
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    WORKER = "worker", _("Worker")


class ChainHead(models.Model):
    """One row: the last seq and hash. Locking it serialises appends, which is what a chain needs."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)


class ChainSeqField(models.BigIntegerField):
    """`bigint` on PostgreSQL; on SQLite `integer`, so the primary key is the table's rowid.

    SQLite keeps a table declared with any other primary-key type as a rowid table plus a separate
    unique index on the key: one more B-tree written on every append, for nothing.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


# What a bulk change's events share with its first event and store only there (see AuditEvent).
SHARED_FIELDS = ("before", "after", "reason", "request_id")
_HYDRATION_FIELDS = ("batch_seq", "prev_hash", "hash")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Events come out whole: the shared values of a bulk change's events are filled in from the
    change's first event (`hydrate`), so no reader sees the stored, slimmer form."""

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._iterable_class is ModelIterable and self._result_cache:
            hydrate(self._result_cache)

    def only(self, *fields: Any) -> AuditEventQuerySet:
        """What hydrating reads is always loaded: a deferred field would cost a query per event."""
        return super().only(*fields, *_HYDRATION_FIELDS) if fields else super().only(*fields)

    def iterator(self, chunk_size: int | None = None) -> Iterator[Any]:
        rows = super().iterator(chunk_size=chunk_size)
        if self._iterable_class is not ModelIterable:
            yield from rows
            return
        yield from _hydrated(rows)


def _hydrated(rows: Iterable[AuditEvent], size: int = 2000) -> Iterator[AuditEvent]:
    """Hydrate a stream, `size` events at a time (one query a chunk at most, in any order)."""
    chunk: list[AuditEvent] = []
    for event in rows:
        chunk.append(event)
        if len(chunk) >= size:
            hydrate(chunk)
            yield from chunk
            chunk = []
    hydrate(chunk)
    yield from chunk


def hydrate(events: list[AuditEvent]) -> None:
    """Fill in the shared values (and the previous hash) of bulk-change members in `events`, with
    at most one query for first events and previous events not already in the list. That query
    reads rows as stored (the base manager): a previous event's own hash is all it needs, and
    hydrating it in turn would walk back through the whole change."""
    members = [e for e in events if e.batch_seq is not None]
    if not members:
        return
    by_seq = {e.seq: e for e in events}
    wanted = {m.batch_seq for m in members if m.batch_seq not in by_seq}
    wanted |= {m.seq - 1 for m in members if not m.prev_hash and m.seq - 1 not in by_seq}
    if wanted:
        by_seq |= {e.seq: e for e in AuditEvent._base_manager.filter(seq__in=wanted)}
    for member in members:
        head = by_seq.get(member.batch_seq)
        if head is None or head.batch_seq is not None:  # left as stored: verify() names it
            continue
        for name in SHARED_FIELDS:
            setattr(member, name, getattr(head, name))
        if not member.prev_hash:
            before = by_seq.get(member.seq - 1)
            member.prev_hash = before.hash if before is not None else ""


class AuditEvent(models.Model):
    """One event. Only two indexes are kept (the chain position and the object's history): every
    index is written on every audited change, and time order is chain order, so `seq` serves it.

    A bulk change (a hold on 100,000 terminals) writes one event per object that differ only in the
    object and the chain position. The first is stored whole; the others (`batch_seq` = the first
    one's seq) keep what they are searched by (time, actor, channel, object, action) and their own
    hash, and leave `SHARED_FIELDS` and `prev_hash` empty: the queryset fills them in on reading,
    and the hash covers the whole event as if stored whole, so `verify()` sees no difference. It
    halves what such a change writes.
    """

    seq = ChainSeqField(primary_key=True)
    occurred_at = models.DateTimeField()
    actor_type = models.CharField(max_length=8)  # "user" | "system"
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    role = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)  # checked by verify(), never looked up: no index
    batch_seq = models.BigIntegerField(
        null=True, blank=True, help_text="The seq of the first event of the same bulk change."
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit events are append-only")
