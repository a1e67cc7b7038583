"""Read-only queries behind the console lists: filters and keyset pagination that stay fast at 1M rows.

No COUNT(*) and no OFFSET: a page is "the next N rows by id after the last one shown" (or before the first
one, for "previous"), which the (state, id), (merchant, id) and (model, id) indexes answer directly.
Free-text search is resolved first against the small tables (merchants and models by name) and exact
TID / SN, so the terminal query only ever uses indexed equality and IN conditions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.lifecycle.models import Hold, HoldTerminal
from posfleet.registry.models import Merchant, Terminal, TerminalModel

PAGE_SIZE = 50
NAME_MATCH_LIMIT = 500  # merchants/models a free-text search may expand to


@dataclass
class TerminalFilters:
    q: str = ""
    state: str = ""
    model_id: int | None = None
    merchant_id: int | None = None
    hold: str = ""  # "", "any", "none" or a hold kind


@dataclass
class Page:
    rows: list[Any]
    next_after: int | None = None
    prev_before: int | None = None
    holds: dict[int, list[Hold]] = field(default_factory=dict)


def search_q(q: str) -> Q:
    """TID or SN exactly, or a merchant or model whose name contains the text."""
    text = q.strip()
    cond = Q(tid=text.upper()) | Q(sn=text) | Q(sn=text.upper())
    merchant_ids = list(
        Merchant.objects.filter(name__icontains=text)
        .order_by("id")
        .values_list("id", flat=True)[:NAME_MATCH_LIMIT]
    )
    if text.isdigit():
        merchant_ids.append(int(text))
    if merchant_ids:
        cond |= Q(merchant_id__in=merchant_ids)
    model_ids = list(
        TerminalModel.objects.filter(Q(name__icontains=text) | Q(manufacturer__icontains=text)).values_list(
            "id", flat=True
        )[:NAME_MATCH_LIMIT]
    )
    if model_ids:
        cond |= Q(model_id__in=model_ids)
    return cond


def held_q(kind: str) -> Q:
    """Terminals with a hold of `kind` ("any" = any kind) in force on them or on their merchant."""
    holds = Hold.objects.in_force()
    if kind != "any":
        holds = holds.filter(kind=kind)
    on_terminal = holds.filter(on_merchant=False, bulk=False).values("terminal_id")
    on_merchant = holds.filter(on_merchant=True).values("merchant_id")
    linked = HoldTerminal.objects.filter(
        released_at__isnull=True, hold_id__in=holds.filter(bulk=True).values("id")
    ).values("terminal_id")
    return Q(pk__in=on_terminal) | Q(merchant_id__in=on_merchant) | Q(pk__in=linked)


def terminal_queryset(f: TerminalFilters) -> QuerySet[Terminal]:
    qs = Terminal.objects.all()
    if f.state:
        qs = qs.filter(state=f.state)
    if f.model_id:
        qs = qs.filter(model_id=f.model_id)
    if f.merchant_id:
        qs = qs.filter(merchant_id=f.merchant_id)
    if f.q.strip():
        qs = qs.filter(search_q(f.q))
    if f.hold == "none":
        qs = qs.exclude(held_q("any"))
    elif f.hold:
        qs = qs.filter(held_q(f.hold))
    return qs


def keyset(
    qs: QuerySet[Any], *, key: str, after: int | None, before: int | None, size: int, descending: bool = False
) -> tuple[list[Any], int | None, int | None]:
    """One page ordered by `key`; returns (rows, next_after, prev_before) — cursors are key values."""
    asc, desc = (f"-{key}", key) if descending else (key, f"-{key}")
    gt, lt = ("lt", "gt") if descending else ("gt", "lt")
    if before is not None:
        rows = list(qs.filter(**{f"{key}__{lt}": before}).order_by(desc)[: size + 1])
        has_more_back = len(rows) > size
        rows = list(reversed(rows[:size]))
        next_after = getattr(rows[-1], key) if rows else None
        prev_before = getattr(rows[0], key) if rows and has_more_back else None
        return rows, next_after, prev_before
    if after is not None:
        qs = qs.filter(**{f"{key}__{gt}": after})
    rows = list(qs.order_by(asc)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_after = getattr(rows[-1], key) if rows and has_more else None
    prev_before = getattr(rows[0], key) if rows and after is not None else None
    return rows, next_after, prev_before


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


def terminal_page(
    f: TerminalFilters, *, after: int | None = None, before: int | None = None, size: int | None = None
) -> Page:
    size = size or PAGE_SIZE
    qs = terminal_queryset(f).select_related("model", "merchant")
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
