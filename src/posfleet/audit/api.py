"""Audit endpoint: the hash-chained events of one object (or of all), for people with `view_audit`.

Pages are keyset on `seq` (the chain position): oldest first by default, `order=desc` for newest first.
"""

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router

from posfleet.api.common import DEFAULT_LIMIT, Cursor, Limit, keyset_page, require_perm
from posfleet.api.errors import ERRORS
from posfleet.api.fields import Search
from posfleet.audit import chain, filters
from posfleet.audit import schemas as s
from posfleet.audit.models import AuditEvent

router = Router(tags=["audit"])

# What a reader of the log sees: the chained fields but the internal actor id, and the hash.
FIELDS = (*(f for f in chain.FIELDS if f != "actor_id"), "hash")


@router.get("/audit", response={200: s.AuditPage, **ERRORS})
def list_audit(
    request: HttpRequest,
    object_type: Search = None,
    object_id: Search = None,
    action: Search = None,
    order: Literal["asc", "desc"] = "asc",
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Audit events, e.g. `?object_type=terminal&object_id=12345678` for one terminal's history."""
    require_perm(request, "view_audit")
    qs = filters.filter_events(
        AuditEvent.objects.only(*FIELDS),
        object_type=object_type or "",
        object_id=object_id or "",
        action=action or "",
    )
    rows, next_cursor = keyset_page(qs, cursor, limit, key="seq", descending=order == "desc")
    return {"items": [{f: getattr(e, f) for f in FIELDS} for e in rows], "next_cursor": next_cursor}
