"""The optional filters of a list: each query parameter that was given narrows the queryset."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def filter_given(qs: QuerySet[M], **lookups: Any) -> QuerySet[M]:
    """`qs` filtered by each lookup whose value was given; None and "" mean not given."""
    for lookup, value in lookups.items():
        if value is not None and value != "":
            qs = qs.filter(**{lookup: value})
    return qs
