"""Append-only, hash-chained audit events (DESIGN.md §6).

`seq` is the chain position and the primary key: it is assigned from the chain head inside the same
transaction as the change, so the hash of every event can be computed before it is inserted (and
bulk-inserted for bulk changes). Updates and deletes are refused here and, on PostgreSQL, by a trigger.
"""

from __future__ import annotations

from typing import Any

from django.db import models
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


class AuditEvent(models.Model):
    """One event. Only two indexes are kept (the chain position and the object's history): every
    index is written on every audited change, and time order is chain order, so `seq` serves it."""

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
