"""The hash chain: a canonical form of an event and the SHA-256 over it and the previous hash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from json.encoder import encode_basestring
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
    """The canonical text of an event's time (UTC, microseconds): what strftime's
    "%Y-%m-%dT%H:%M:%S.%fZ" gives, through isoformat (a tenth of its cost) for four-digit years."""
    utc = at.astimezone(UTC)
    if utc.year < 1000:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


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


def dump_payload(payload: dict[str, Any] | None) -> str:
    """A before/after payload as `canonical()` writes it inside an event (`null` for None). The
    single-event path stores this same text, so each payload is dumped once, not twice."""
    return _encode_payload(payload)


# json.dumps with these options builds a new encoder on every call; this one is built once.
_encode_payload = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def link_one(
    prev_hash: str,
    seq: int,
    occurred_at: str,
    actor_type: str,
    actor_id: int | None,
    actor_name: str,
    role: str,
    channel: str,
    object_type: str,
    object_id: str,
    action: str,
    before: str,
    after: str,
    reason: str,
    request_id: str,
) -> str | None:
    """`link()` of one event from its values, `before`/`after` already `dump_payload()`ed.

    Every audited change hashes one event; dumping a 14-key dict with sorted keys was a fifth of
    the change's own cost. The canonical text is assembled here in `FIELDS`' sorted order with the
    encoder `json.dumps` itself uses for strings, so it is byte-identical to `canonical()`
    (`tests/audit/test_chain.py` checks it with hypothesis). Returns None when a value is not a plain
    `str`/`int` (a lazy translation, a subclass): the caller then takes `link()`.
    """
    if not (actor_id is None or type(actor_id) is int) or not _all_str(
        (
            occurred_at,
            actor_type,
            actor_name,
            role,
            channel,
            object_type,
            object_id,
            action,
            reason,
            request_id,
        )
    ):
        return None
    q = encode_basestring
    body = "".join(
        (
            '{"action":', q(action),
            ',"actor_id":', "null" if actor_id is None else str(actor_id),
            ',"actor_name":', q(actor_name),
            ',"actor_type":', q(actor_type),
            ',"after":', after,
            ',"before":', before,
            ',"channel":', q(channel),
            ',"object_id":', q(object_id),
            ',"object_type":', q(object_type),
            ',"occurred_at":', q(occurred_at),
            ',"reason":', q(reason),
            ',"request_id":', q(request_id),
            ',"role":', q(role),
            ',"seq":', str(seq), "}",
        )
    )  # fmt: skip
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _all_str(values: tuple[Any, ...]) -> bool:
    return set(map(type, values)) == _STR_ONLY


_STR_ONLY = {str}


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
