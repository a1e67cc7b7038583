"""Loaners: a pool of flagged terminals in stock lent while a merchant's terminal is in repair.

Lending allocates and activates the loaner for the merchant (its key is injected at activation);
its return is a return like any other: stopped, received, inspected by the warehouse, and damage or
loss charged from the merchant's contract. Back in `returned`, it rejoins the pool the usual way
(keys destroyed by two custodians, refurbished, re-keyed).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from posfleet.audit.services import Change, record
from posfleet.cases.services.application import stock_for
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, ValidationFailed
from posfleet.lifecycle import services as lifecycle
from posfleet.money import ledger
from posfleet.registry.choices import Condition
from posfleet.registry.models import Terminal
from posfleet.registry.prices import damage_charge
from posfleet.repair.choices import FINAL_STATES, LoanerState
from posfleet.repair.models import Loaner
from posfleet.repair.services.common import delegate, get_order, notify, require_staff

DEFAULT_DAYS = 14
MAX_DAYS = 180


def lend(
    actor: Actor, merchant_id: int, repair_order_id: int, *, due_on: date | None = None, tid: str = ""
) -> Loaner:
    """Lend the best loaner in stock (or `tid`) to the merchant of an open repair order."""
    require_staff(actor, "lend_loaner")
    order = get_order(actor, repair_order_id, for_update=True)
    if order.merchant_id != merchant_id:
        raise ValidationFailed(
            _("Repair order %(id)s is not this merchant's.") % {"id": order.pk},
            details={"repair_order_id": [_("The order belongs to another merchant.")]},
        )
    if order.state in FINAL_STATES:
        raise Conflict(_("Repair order %(id)s is closed.") % {"id": order.pk}, code="order_closed")
    if Loaner.objects.filter(order=order, state=LoanerState.LENT).exists():
        raise Conflict(_("A loaner is already lent for this repair order."), code="loaner_already_lent")
    today = timezone.localdate()
    due = due_on or today + timedelta(days=DEFAULT_DAYS)
    if not today <= due <= today + timedelta(days=MAX_DAYS):
        raise ValidationFailed(details={"due_on": [_("From today to %(n)s days ahead.") % {"n": MAX_DAYS}]})
    pool = stock_for(None, loaner=True)
    loaner_terminal = pool.filter(tid=tid.strip().upper()).first() if tid else pool.first()
    if loaner_terminal is None:
        raise Conflict(
            _("No loaner terminal is in stock.")
            if not tid
            else _("%(tid)s is not a loaner in stock.") % {"tid": tid},
            code="no_loaner_in_stock",
        )
    helper = delegate(actor)
    why = _("loaner during repair order #%(id)s") % {"id": order.pk}
    lifecycle.apply(helper, loaner_terminal.tid, "allocate", reason=why, merchant=order.merchant)
    Terminal.objects.filter(pk=loaner_terminal.pk).update(install_address=order.terminal.install_address)
    lifecycle.apply(helper, loaner_terminal.tid, "activate", reason=why)  # the key is injected here
    loan = Loaner.objects.create(
        terminal=loaner_terminal, merchant=order.merchant, order=order, due_on=due, lent_by_name=actor.name
    )
    after = {
        "loaner_id": loan.pk,
        "tid": loaner_terminal.tid,
        "due_on": due.isoformat(),
        "repair_order_id": order.pk,
    }
    record(
        actor,
        [
            Change("repair_order", str(order.pk), "repair.loaner_lent", None, after, why),
            Change("terminal", loaner_terminal.tid, "loaner.lend", None, after, why),
        ],
    )
    notify(
        actor,
        order.merchant,
        gettext_lazy("Loaner terminal %(loaner)s lent"),
        gettext_lazy(
            "While terminal %(tid)s is in repair, loaner terminal %(loaner)s takes your payments. "
            "Please return it by %(due)s."
        ),
        {"tid": order.terminal.tid, "loaner": loaner_terminal.tid, "due": due.isoformat()},
    )
    return loan


def return_loaner(actor: Actor, tid: str, *, condition: str, note: str = "") -> Loaner:
    """The warehouse receives a loaner back and inspects it; damage or loss is charged per contract."""
    require_staff(actor, "lend_loaner")
    tid = (tid or "").strip().upper()
    loan = (
        Loaner.objects.select_for_update(of=("self",), no_key=True)
        .select_related("terminal", "merchant")
        .filter(terminal__tid=tid, state=LoanerState.LENT)
        .first()
    )
    if loan is None:
        raise NotFound(_("No loaner is lent under TID %(tid)s.") % {"tid": tid})
    if condition not in Condition.values:
        raise ValidationFailed(
            details={"condition": [_("Choose one of: %(c)s.") % {"c": ", ".join(Condition.values)}]}
        )
    text = (note or "").replace("\x00", "").strip()[:2000]
    helper = delegate(actor)
    why = _("loaner returned (repair order #%(id)s)") % {"id": loan.order_id}
    lifecycle.apply(helper, tid, "deactivate", reason=why)
    lifecycle.apply(helper, tid, "receive_return", reason=why)
    charge = damage_charge(getattr(loan.merchant, "contract", None), "terminal", condition)
    if charge:
        ledger.charge(
            helper,
            loan.merchant_id,
            "damage_charge",
            charge,
            ref=f"loaner:{loan.pk}:return",
            memo=f"{tid} {condition}",
        )
    now = timezone.now()
    Loaner.objects.filter(pk=loan.pk).update(
        state=LoanerState.RETURNED,
        returned_at=now,
        condition=condition,
        charge_fen=charge,
        inspected_by_name=actor.name,
    )
    loan.refresh_from_db()
    after = {"loaner_id": loan.pk, "condition": condition, "charge_fen": charge}
    record(
        actor,
        [
            Change("terminal", tid, "loaner.return", {"state": LoanerState.LENT}, after, text or condition),
            Change(
                "repair_order",
                str(loan.order_id),
                "repair.loaner_returned",
                None,
                after | {"tid": tid},
                text or condition,
            ),
        ],
        at=now,
    )
    return loan


def is_overdue(loan: Loaner, today: date | None = None) -> bool:
    """Lent and past its due day: what `overdue()` selects, for one loan."""
    return loan.state == LoanerState.LENT and loan.due_on < (today or timezone.localdate())


def overdue(today: date | None = None) -> QuerySet[Loaner]:
    return (
        Loaner.objects.select_related("terminal", "merchant", "order")
        .filter(state=LoanerState.LENT, due_on__lt=today or timezone.localdate())
        .order_by("due_on", "id")
    )


def lent_to(merchant_id: int) -> QuerySet[Loaner]:
    return Loaner.objects.select_related("terminal", "order", "order__terminal").filter(
        merchant_id=merchant_id, state=LoanerState.LENT
    )


def lent_to_all() -> QuerySet[Loaner]:
    return Loaner.objects.select_related("terminal").filter(state=LoanerState.LENT).order_by("due_on", "id")
