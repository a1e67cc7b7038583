"""What a service tells the audit log: one change of one object, its payloads scrubbed of secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    if payload is None or SECRET_KEYS.isdisjoint(payload):  # nothing to hide: no copy
        return payload
    return {k: ("[redacted]" if k in SECRET_KEYS else v) for k, v in payload.items()}
