"""The rows of one keyset page (the console's lists and the API's share it).

SQLite computes a row's result columns before it sorts, so an annotation (a per-row subquery) on a
list that must be sorted runs once for every matching row, not once per row shown: 200,000 times
for a big merchant's transactions, newest first. `page_rows` takes the page's keys first and
annotates only those rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

Annotate = Callable[[QuerySet[Any]], QuerySet[Any]]


def page_rows(qs: QuerySet[Any], order: str, n: int, annotate: Annotate | None = None) -> list[Any]:
    """The first `n` rows of `qs` in `order` (a unique key, e.g. "-id"). With `annotate`, one query of
    the form `… WHERE pk IN (SELECT pk … ORDER BY … LIMIT n) ORDER BY …`: the inner part reads the keys
    from an index, and `annotate`'s columns are computed for those `n` rows only."""
    if annotate is None:
        return list(qs.order_by(order)[:n])
    keys = qs.order_by(order).values("pk")[:n]
    return list(annotate(qs.model._default_manager.filter(pk__in=keys)).order_by(order))
