"""Read-only queries behind the console's terminal and hold lists, paged by keyset (`web.lists`).

The (state, id), (merchant, id) and (model, id) indexes answer each page directly. What a list keeps
is each app's filters module (`registry.filters`, `lifecycle.filters`, `audit.filters`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.lifecycle.filters import filter_held
from posfleet.lifecycle.models import Hold, HoldTerminal
from posfleet.registry.filters import TerminalFilters, filter_terminals
from posfleet.registry.models import Terminal
from posfleet.web.lists import keyset

PAGE_SIZE = 50


@dataclass
class Page:
    rows: list[Any]
    next_after: int | None = None
    prev_before: int | None = None
    holds: dict[int, list[Hold]] = field(default_factory=dict)


def holds_in_force_for(terminals: list[Terminal]) -> dict[int, list[Hold]]:
    """Holds in force per terminal id, counting holds on each terminal's merchant and the bulk holds
    each is under: two queries."""
    if not terminals:
        return {}
    tids = [t.pk for t in terminals]
    mids = {t.merchant_id for t in terminals if t.merchant_id}
    holds = Hold.objects.in_force().filter(
        Q(terminal_id__in=tids) | Q(on_merchant=True, merchant_id__in=mids)
    )
    by_terminal: dict[int, list[Hold]] = defaultdict(list)
    by_merchant: dict[int, list[Hold]] = defaultdict(list)
    for h in holds:
        if h.on_merchant:
            by_merchant[h.merchant_id].append(h)  # type: ignore[index]
        else:
            by_terminal[h.terminal_id].append(h)  # type: ignore[index]
    links = HoldTerminal.objects.filter(terminal_id__in=tids, released_at__isnull=True).select_related("hold")
    for link in links.filter(hold__in=Hold.objects.in_force().filter(bulk=True)):
        by_terminal[link.terminal_id].append(link.hold)
    return {
        t.pk: by_terminal.get(t.pk, []) + (by_merchant.get(t.merchant_id, []) if t.merchant_id else [])
        for t in terminals
    }


COUNT_CAP = 10_000  # beyond this a list says "more than 10,000" rather than counting a big table


def matching_terminals(f: TerminalFilters, *, hold: str = "") -> QuerySet[Terminal]:
    """Every terminal the list's filters match (the same rule for the page, its total and a selection
    of everything matching)."""
    return filter_held(filter_terminals(Terminal.objects.all(), f), hold)


def capped_count(qs: QuerySet[Any], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows match, counted up to `cap` (the bool says the real number is larger)."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap


def terminal_page(
    matching: QuerySet[Terminal],
    *,
    after: int | None = None,
    before: int | None = None,
    size: int | None = None,
) -> Page:
    """One page of the terminal list out of `matching` (`matching_terminals`: built once, so its
    look-ups run once for the page and its total)."""
    size = size or PAGE_SIZE
    qs = matching.select_related("model", "merchant")
    rows, next_after, prev_before = keyset(qs, key="id", after=after, before=before, size=size)
    return Page(rows, next_after, prev_before, holds_in_force_for(rows))


def split_holds(holds: list[Hold], now: datetime | None = None) -> dict[str, list[Hold]]:
    """In force / scheduled / past, as the detail pages show them."""
    now = now or timezone.now()
    out: dict[str, list[Hold]] = {"in_force": [], "scheduled": [], "past": []}
    for h in holds:
        if h.in_force(now):
            out["in_force"].append(h)
        elif h.released_here_at is None and h.starts_at > now:
            out["scheduled"].append(h)
        else:
            out["past"].append(h)
    return out


def history(object_type: str, object_id: str, limit: int = 200) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by("-seq")[:limit]
    )
