"""A reactivation that reactivates: what it lifts, what it leaves standing, what it costs.

A merchant's reactivation lifts its own suspensions over the terminals of the case: each terminal's
own, a bulk suspension for those terminals, and a suspension of the whole merchant (the merchant's own
request, so its reactivation ends it). Any other stop stays, and the form and the review name each one
per terminal with whether the merchant can lift it (an appeal against a risk freeze or compliance
hold) or not (maintenance ends by itself, a fault with its repair), so nobody pays to reactivate a
terminal that stays stopped without being told. The fee is `money.fees.reactivation_fee_fen`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.cases.choices import REVIEWABLE_STATES, CaseKind
from posfleet.cases.models import Case
from posfleet.cases.services.appeals import APPEALABLE_KINDS
from posfleet.lifecycle.models import Hold, HoldKind, HoldTerminal
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Merchant, Terminal

SUSPENSION = HoldKind.MERCHANT_SUSPENSION


@dataclass(frozen=True)
class Stop:
    """Something that would still stop a terminal after the reactivation."""

    tid: str
    kind: str  # a hold kind, or "terminal_state" / "merchant_state"
    hold_id: int | None
    merchant_can_lift: bool
    how: str  # what lifts it, in the reader's language
    until: datetime | None = None

    @property
    def label(self) -> str:
        if self.kind in HoldKind.values:
            return str(HoldKind(self.kind).label)
        return _("Terminal not active") if self.kind == "terminal_state" else _("Merchant not active")

    def as_dict(self) -> dict[str, Any]:
        return {
            "tid": self.tid,
            "kind": self.kind,
            "hold_id": self.hold_id,
            "merchant_can_lift": self.merchant_can_lift,
            "how": self.how,
            "until": self.until.isoformat() if self.until else None,
        }


def _how(kind: str) -> tuple[bool, str]:
    if kind in APPEALABLE_KINDS:
        return True, _("You can appeal against it.")
    if kind == HoldKind.MAINTENANCE:
        return False, _("It ends by itself when the maintenance window closes.")
    if kind == HoldKind.FAULT:
        return False, _("It ends when the fault is repaired.")
    return False, _("Only the institution can lift it.")


def _hold_stop(tid: str, hold: Hold) -> Stop:
    can, how = _how(hold.kind)
    return Stop(tid, hold.kind, hold.pk, can, how, hold.ends_at)


def stops_after(
    merchant: Merchant, terminals: list[Terminal], now: datetime | None = None
) -> dict[str, list[Stop]]:
    """Per TID, what would still stop it once its suspensions are lifted (empty list: nothing)."""
    now = now or timezone.now()
    ids = {t.pk: t.tid for t in terminals}
    out: dict[str, list[Stop]] = {t.tid: [] for t in terminals}
    if not ids:
        return out
    others = Hold.objects.not_ended(now).exclude(kind=SUSPENSION)
    for t in terminals:
        if t.state != TerminalState.ACTIVE:
            how = _("The terminal is %(state)s.") % {"state": t.get_state_display()}
            out[t.tid].append(Stop(t.tid, "terminal_state", None, False, how))
    if merchant.state != MerchantState.ACTIVE:
        how = _("The merchant is %(state)s.") % {"state": merchant.get_state_display()}
        for tid in out:
            out[tid].append(Stop(tid, "merchant_state", None, False, how))
    for hold in others.filter(on_merchant=False, bulk=False, terminal_id__in=ids).order_by("id"):
        out[ids[hold.terminal_id]].append(_hold_stop(ids[hold.terminal_id], hold))  # type: ignore[index]
    links = HoldTerminal.objects.filter(
        terminal_id__in=ids, released_at__isnull=True, hold__in=others.filter(bulk=True)
    ).select_related("hold")
    for link in links.order_by("hold_id"):
        out[ids[link.terminal_id]].append(_hold_stop(ids[link.terminal_id], link.hold))
    for hold in others.filter(on_merchant=True, merchant_id=merchant.pk).order_by("id"):
        for tid in out:
            out[tid].append(_hold_stop(tid, hold))
    return out


def still_stopped(case: Case) -> list[Stop]:
    """For a reactivation not decided yet: what would stop each of its terminals once approved."""
    if case.kind != CaseKind.REACTIVATION or case.state not in REVIEWABLE_STATES:
        return []
    terminals = list(case.terminals.order_by("tid"))
    return [s for stops in stops_after(case.merchant, terminals).values() for s in stops]


def suspended_tids(tids: list[str], now: datetime) -> set[str]:
    """Which of these TIDs a suspension stands on (or is scheduled to): its own, a bulk one, or one
    on its merchant."""
    own, links = Hold.objects.not_ended(now).on_terminals(SUSPENSION, tids)
    merchant_wide = Hold.objects.not_ended(now).filter(kind=SUSPENSION, on_merchant=True)
    on_merchant = Terminal.objects.filter(tid__in=tids).filter(
        merchant_id__in=merchant_wide.values("merchant_id")
    )
    return (
        set(own.values_list("terminal__tid", flat=True))
        | set(links.values_list("terminal__tid", flat=True))
        | set(on_merchant.values_list("tid", flat=True))
    )


def suspensions_to_lift(
    merchant_id: int, tids: list[str], now: datetime
) -> tuple[list[int], list[tuple[int, str]], list[int]]:
    """The suspensions a reactivation of `tids` lifts: own holds, bulk links (hold id, TID), and the
    merchant-wide ones."""
    own, links = Hold.objects.not_ended(now).on_terminals(SUSPENSION, tids)
    merchant_wide = Hold.objects.not_ended(now).filter(
        Q(kind=SUSPENSION, on_merchant=True, merchant_id=merchant_id)
    )
    return (
        list(own.order_by("id").values_list("id", flat=True)),
        list(links.order_by("hold_id", "terminal_id").values_list("hold_id", "terminal__tid")),
        list(merchant_wide.order_by("id").values_list("id", flat=True)),
    )
