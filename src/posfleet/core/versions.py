"""Optimistic concurrency for the rows that carry a `version` (cases, repair orders, merchants): a write
lands only on the version that was read and moves it on, so a concurrent writer gets `StaleVersion`
instead of silently losing the other's change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from posfleet.core.errors import StaleVersion


def write(obj: Any, now: datetime, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write `fields` on `obj`'s row with the next version and `updated_at=now`, and on `obj` itself;
    returns its state and version before and after, for the audit event."""
    before = {"state": obj.state, "version": obj.version}
    values = {**fields, "version": obj.version + 1, "updated_at": now}
    if type(obj)._default_manager.filter(pk=obj.pk, version=obj.version).update(**values) != 1:
        raise StaleVersion()
    for name, value in values.items():
        setattr(obj, name, value)
    return before, {"state": obj.state, "version": obj.version}
