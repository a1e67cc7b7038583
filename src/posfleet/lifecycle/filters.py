"""Which holds a list shows, and which terminals a hold filter keeps: the query parameters of the
API's hold list and of the console's terminal list, turned into querysets in one place.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from posfleet.lifecycle.models import Hold, HoldQuerySet, HoldTerminal
from posfleet.registry.models import Terminal


def filter_holds(
    qs: HoldQuerySet,
    *,
    now: datetime,
    terminal: str | None = None,
    merchant_id: int | None = None,
    kind: str | None = None,
    active: bool | None = None,
) -> HoldQuerySet:
    """`terminal` (TID): holds on that terminal, its own and the bulk holds it is (or was) under;
    `merchant_id`: holds on the merchant itself; `active=True`: in force at `now` or scheduled,
    `active=False`: ended or released (a bulk hold, as a whole)."""
    if terminal:
        found = Terminal.objects.filter(tid=terminal).values_list("pk", flat=True).first()
        qs = qs.filter(pk__in=Hold.objects.placed_on_terminal(found or 0).values("pk"))
    if merchant_id is not None:
        qs = qs.filter(on_merchant=True, merchant_id=merchant_id)
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.not_ended(now) if active else qs.ended(now)
    return qs


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


def filter_held(qs: QuerySet[Terminal], hold: str) -> QuerySet[Terminal]:
    """`hold`: "" keeps every terminal, "none" those without a hold in force, "any" those with one,
    a hold kind those with a hold of that kind."""
    if hold == "none":
        return qs.exclude(held_q("any"))
    if hold:
        return qs.filter(held_q(hold))
    return qs
