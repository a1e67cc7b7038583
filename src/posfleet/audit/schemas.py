"""Response shapes of the audit API: events of the hash chain, in keyset pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class AuditEventOut(Schema):
    seq: int
    occurred_at: datetime
    actor_type: str
    actor_name: str
    role: str
    channel: str
    object_type: str
    object_id: str
    action: str
    before: Any = None
    after: Any = None
    reason: str
    request_id: str
    hash: str


class AuditPage(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None
