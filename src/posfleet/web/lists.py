"""List pages by keyset: no COUNT(*) and no OFFSET, so a page stays fast at a million rows.

A page is "the next N rows by key after the last one shown" (or before the first one, for
"previous"), which an index on (filter, key) answers directly.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict

from posfleet.core.paging import Annotate, page_rows
from posfleet.web.staff import int_or_none


def keyset(
    qs: QuerySet[Any],
    *,
    key: str,
    after: int | None,
    before: int | None,
    size: int,
    descending: bool = False,
    annotate: Annotate | None = None,
) -> tuple[list[Any], int | None, int | None]:
    """One page ordered by `key`; returns (rows, next_after, prev_before) — cursors are key values.
    `annotate`: columns computed for the page's rows only (`core.paging.page_rows`)."""
    asc, desc = (f"-{key}", key) if descending else (key, f"-{key}")
    gt, lt = ("lt", "gt") if descending else ("gt", "lt")
    if before is not None:
        rows = page_rows(qs.filter(**{f"{key}__{lt}": before}), desc, size + 1, annotate)
        has_more_back = len(rows) > size
        rows = list(reversed(rows[:size]))
        next_after = getattr(rows[-1], key) if rows else None
        prev_before = getattr(rows[0], key) if rows and has_more_back else None
        return rows, next_after, prev_before
    if after is not None:
        qs = qs.filter(**{f"{key}__{gt}": after})
    rows = page_rows(qs, asc, size + 1, annotate)
    has_more = len(rows) > size
    rows = rows[:size]
    next_after = getattr(rows[-1], key) if rows and has_more else None
    prev_before = getattr(rows[0], key) if rows and after is not None else None
    return rows, next_after, prev_before


def list_page(
    params: QueryDict,
    qs: QuerySet[Any],
    *,
    key: str,
    size: int,
    descending: bool = False,
    annotate: Annotate | None = None,
) -> dict[str, Any]:
    """A console list's page at the request's `after`/`before` cursor, as the pager of its template
    reads it: the rows, the next and previous cursors and the query string without the cursor."""
    rows, next_after, prev_before = keyset(
        qs,
        key=key,
        after=int_or_none(params.get("after")),
        before=int_or_none(params.get("before")),
        size=size,
        descending=descending,
        annotate=annotate,
    )
    rest = params.copy()
    for k in ("after", "before"):
        rest.pop(k, None)
    return {
        "rows": rows,
        "next_after": next_after,
        "prev_before": prev_before,
        "base_query": rest.urlencode(),
    }
