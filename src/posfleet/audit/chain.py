"""The hash chain: a canonical form of an event and the SHA-256 over it and the previous hash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "role",
    "channel",
    "object_type",
    "object_id",
    "action",
    "before",
    "after",
    "reason",
    "request_id",
)


def stamp(at: datetime) -> str:
    """The canonical text of an event's time (UTC, microseconds)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict[str, Any]) -> bytes:
    """JSON of exactly FIELDS, keys sorted; `occurred_at` as a datetime or already `stamp()`ed."""
    at = values["occurred_at"]
    if isinstance(at, datetime):
        values = {**values, "occurred_at": stamp(at)}
    if len(values) != len(FIELDS):
        values = {k: values[k] for k in FIELDS}
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, values: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(values)).hexdigest()
