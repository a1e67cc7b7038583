"""Search-as-you-type for people picking a merchant or a terminal (instead of typing an id).

Merchants by name (contains), phone or licence number (starts with); terminals by TID prefix or exact
SN. Both stay on indexes (the same lookups as the API's `q`) and return a handful of rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from posfleet.registry.filters import merchant_lookup_q, terminal_lookup_q
from posfleet.registry.models import Merchant, Terminal

LIMIT = 10


def pick_merchants(text: str, *, states: Sequence[str] = (), limit: int = LIMIT) -> list[Merchant]:
    text = text.strip()
    if not text:
        return []
    cond = merchant_lookup_q(text)
    if text.isdigit() and len(text) <= 12:
        cond |= Q(pk=int(text))  # the merchant number, for people who have it
    qs = Merchant.objects.filter(cond)
    if states:
        qs = qs.filter(state__in=list(states))
    return list(qs.order_by("name", "id")[:limit])


def pick_terminals(
    text: str, *, states: Sequence[str] = (), merchant_id: int | None = None, limit: int = LIMIT
) -> list[Terminal]:
    text = text.strip()
    if not text:
        return []
    qs = Terminal.objects.filter(terminal_lookup_q(text)).select_related("model", "merchant")
    if states:
        qs = qs.filter(state__in=list(states))
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return list(qs.order_by("tid")[:limit])


def merchant_name(merchant_id: object) -> str:
    """The name shown in a picker for an id already chosen (empty when there is none)."""
    try:
        pk = int(str(merchant_id))
    except (TypeError, ValueError):
        return ""
    return Merchant.objects.filter(pk=pk).values_list("name", flat=True).first() or ""
