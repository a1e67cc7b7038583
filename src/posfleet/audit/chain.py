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


class NotTemplatable(ValueError):
    """The shared values contain the template's own marker (never in practice): hash one by one."""


_SENTINEL = "\x00object_id\x00"
assert sorted(FIELDS)[-1] == "seq"  # the template below relies on `seq` being the last key


class Template:
    """`canonical()` of events that differ only in `seq` and `object_id`, without a JSON dump each.

    A bulk change (a hold on 100,000 terminals) writes events that share everything else; dumping
    the same dict 100,000 times was most of its cost. The canonical bytes are cut once around the
    object id and the trailing sequence number, and each event is two joins. `tests/audit` checks
    the result is byte-identical to `canonical()`.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        text = canonical({**values, "seq": 0, "object_id": _SENTINEL})
        marker = json.dumps(_SENTINEL, ensure_ascii=False).encode()
        if text.count(marker) != 1 or not text.endswith(b'"seq":0}'):
            raise NotTemplatable()
        self._head, tail = text.split(marker)
        self._middle = tail[: -len(b"0}")]

    def body(self, seq: int, object_id: str) -> bytes:
        if object_id.isascii() and object_id.isalnum():
            quoted = f'"{object_id}"'.encode()
        else:
            quoted = json.dumps(object_id, ensure_ascii=False).encode()
        return b"".join((self._head, quoted, self._middle, str(seq).encode(), b"}"))

    def link(self, prev_hash: str, seq: int, object_id: str) -> str:
        return hashlib.sha256(prev_hash.encode() + b"\n" + self.body(seq, object_id)).hexdigest()

    def chain(self, prev_hash: str, first_seq: int, object_ids: list[str]) -> list[str]:
        """The hashes of events `first_seq`, `first_seq + 1`, … for `object_ids`, chained from
        `prev_hash`: `link()` in a loop, with the per-call lookups hoisted (100,000 calls a bulk)."""
        sha256, dumps = hashlib.sha256, json.dumps
        head, middle = self._head, self._middle
        digests: list[str] = []
        append = digests.append
        prev = prev_hash
        for seq, object_id in enumerate(object_ids, first_seq):
            if object_id.isascii() and object_id.isalnum():
                quoted = f'"{object_id}"'.encode()
            else:
                quoted = dumps(object_id, ensure_ascii=False).encode()
            prev = sha256(
                b"".join((prev.encode(), b"\n", head, quoted, middle, str(seq).encode(), b"}"))
            ).hexdigest()
            append(prev)
        return digests
