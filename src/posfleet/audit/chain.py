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


def canonical(values: dict[str, Any]) -> bytes:
    data = {k: values[k] for k in FIELDS}
    at = data["occurred_at"]
    if isinstance(at, datetime):
        data["occurred_at"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, values: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(values)).hexdigest()
