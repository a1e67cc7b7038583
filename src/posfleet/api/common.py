"""Small helpers every API router shares: read permission, keyset pagination, `If-Match`/`ETag`.

Reads have no service function of their own, so the read permission is checked here, at the edge;
every write goes through a service, which checks its own permission.

Pagination is keyset on a unique, indexed, increasing column (`id`, `seq`): a page is `WHERE key >
last ORDER BY key LIMIT n+1`, so it stays as fast on the millionth row as on the first and never
counts. The cursor is opaque to clients ("k" and the last key in hex), so its form may change.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query

from posfleet.accounts.roles import perm
from posfleet.api.auth import actor_of
from posfleet.core.actor import Actor
from posfleet.core.errors import PermissionDenied, Unauthenticated, ValidationFailed
from posfleet.core.paging import Annotate, page_rows

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
CURSOR_PATTERN = r"^k[0-9a-f]{1,15}$"  # "k" and the last key in hex: opaque to clients

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page, 1 to 500")]
Cursor = Annotated[
    str | None,
    Query(pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page; omit for the first"),
]
_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def actor_with(request: HttpRequest, codename: str) -> Actor:
    """The request's Actor, after checking it holds `codename` (for reads, which have no service)."""
    actor = actor_of(request)
    if not actor.has_perm(perm(codename)):
        raise PermissionDenied()
    return actor


def require_perm(request: HttpRequest, codename: str) -> None:
    """Check a read permission on the token's user without building an Actor (one query fewer on hot
    reads such as the eligibility answer)."""
    token: Any = getattr(request, "api_token", None) or getattr(request, "auth", None)
    user: Any = getattr(token, "user", None)
    if user is None:
        raise Unauthenticated()
    if not (user.is_active and user.has_perm(perm(codename))):
        raise PermissionDenied()


def encode_cursor(key: int) -> str:
    return f"k{key:x}"


def decode_cursor(cursor: str | None) -> int | None:
    """The key in a cursor; the parameter's pattern (`CURSOR_PATTERN`) already admits only real ones."""
    if not cursor:
        return None
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise ValidationFailed(
            _("The cursor is not valid."), details={"cursor": [_("Use next_cursor from a previous page.")]}
        )
    return int(cursor[1:], 16)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            _("limit must be between 1 and %(max)d.") % {"max": MAX_LIMIT},
            details={"limit": [_("Between 1 and %(max)d.") % {"max": MAX_LIMIT}]},
        )
    return limit


def keyset_page(
    qs: QuerySet[Any],
    cursor: str | None,
    limit: int,
    *,
    key: str = "id",
    descending: bool = False,
    annotate: Annotate | None = None,
) -> tuple[list[Any], str | None]:
    """One page of `qs` ordered by `key` after `cursor`, and the cursor of the next page (or None).
    `annotate`: columns computed for the page's rows only (`core.paging.page_rows`)."""
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    if after is not None:
        qs = qs.filter(**{f"{key}__lt" if descending else f"{key}__gt": after})
    rows = page_rows(qs, f"-{key}" if descending else key, limit + 1, annotate)
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(getattr(rows[-1], key))
    return rows, None


def if_match(request: HttpRequest) -> int | None:
    """The version named by `If-Match` (`3`, `"3"` or `W/"3"`); None when absent or `*`."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw or raw == "*":
        return None
    match = _ETAG_RE.match(raw)
    if match is None:
        raise ValidationFailed(
            _('If-Match must name a version, like "3".'),
            details={"If-Match": [_("Use the ETag of the last response.")]},
        )
    return int(match.group(1))


def file_response(content_types: str | tuple[str, ...], description: str) -> dict[str, Any]:
    """`openapi_extra` of an operation that answers 200 with a file (declare `response={200: None}`),
    so the document says what the body is."""
    types = (content_types,) if isinstance(content_types, str) else content_types
    content = {t: {"schema": {"type": "string", "format": "binary"}} for t in types}
    return {"responses": {200: {"description": description, "content": content}}}


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: HttpResponse, version: int) -> None:
    response["ETag"] = etag(version)
