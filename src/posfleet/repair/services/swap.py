"""Swapping a merchant's device for one from stock while the merchant keeps its TID.

The new device is the stock device with the newest security-patch level in stock for its model
(never below the model's minimum). The two devices exchange TIDs: the new one takes the merchant's
TID (with its holds and accessories) and is allocated and activated, which injects a fresh key; the
old one takes the new device's former TID, is deactivated and goes down the return path, its key to
dual-control destruction. The TID's history records the swap (SN old → new, who, why), and the
merchant gets a notice with a short operating guide for the model.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record
from posfleet.cases.services.application import stock_for
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, ValidationFailed
from posfleet.lifecycle import services as lifecycle
from posfleet.lifecycle.models import Hold, HoldTerminal
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Accessory, Merchant, Terminal, TerminalModel
from posfleet.repair.choices import FINAL_STATES, RepairState, SwapKind
from posfleet.repair.models import RepairOrder, Swap
from posfleet.repair.services.common import delegate, notify, release_fault_hold, require_staff

SWAPPABLE = (TerminalState.ACTIVE, TerminalState.IN_REPAIR)


def newest_patch(model: TerminalModel) -> str | None:
    """The newest security-patch level among the model's devices ready in stock."""
    return stock_for(model).aggregate(top=Max("security_patch_level"))["top"]


def _pick(old: Terminal, new_sn: str) -> Terminal:
    """The device to swap in: `new_sn` if it qualifies, else the best in stock for the model."""
    if new_sn:
        new = Terminal.objects.select_related("model").filter(sn=new_sn.strip()).first()
        if new is None or new.state != TerminalState.IN_STOCK or new.is_loaner:
            raise ValidationFailed(
                _("No device with SN %(sn)s is in stock.") % {"sn": new_sn},
                details={"new_sn": [_("Not a device in stock.")]},
            )
        if not new.model.permitted:
            raise ValidationFailed(
                _("Model %(model)s is no longer permitted.") % {"model": new.model.name},
                details={"new_sn": [_("Choose a device of a permitted model.")]},
            )
        top = newest_patch(new.model)
        if new.security_patch_level < new.model.min_security_patch_level or (
            top and new.security_patch_level < top
        ):
            raise ValidationFailed(
                _(
                    "Device %(sn)s has security patch level %(have)s; a swap takes the newest in stock for "
                    "%(model)s (%(top)s), never below its minimum %(min)s."
                )
                % {
                    "sn": new.sn,
                    "have": new.security_patch_level,
                    "model": new.model.name,
                    "top": top or "—",
                    "min": new.model.min_security_patch_level,
                },
                code="patch_not_newest",
                details={"new_sn": [_("Security patch level too old.")], "newest_in_stock": top},
            )
        return new
    candidates = stock_for(old.model if old.model.permitted else None)
    new = candidates.first()
    if new is None:
        raise Conflict(
            _("No device of model %(model)s is in stock for a swap.") % {"model": old.model.name}
            if old.model.permitted
            else _("No device of a permitted model is in stock for a swap."),
            code="no_stock",
        )
    return new


def _kind(old: Terminal, order: RepairOrder | None, kind: str) -> str:
    if kind:
        if kind not in SwapKind.values:
            raise ValidationFailed(
                details={"kind": [_("Choose one of: %(c)s.") % {"c": ", ".join(SwapKind.values)}]}
            )
        return kind
    if order is not None:
        return SwapKind.UNREPAIRABLE
    return SwapKind.UPGRADE if old.model.permitted else SwapKind.MODEL_RETIRED


def _exchange_tids(old: Terminal, new: Terminal) -> tuple[str, str]:
    """The new device takes the merchant's TID; the old one the new device's former TID."""
    tid, spare = old.tid, new.tid
    Terminal.objects.filter(pk=old.pk).update(tid=f"~{old.pk % 10_000_000:07d}")
    Terminal.objects.filter(pk=new.pk).update(
        tid=tid, version=new.version + 1, install_address=old.install_address
    )
    Terminal.objects.filter(pk=old.pk).update(tid=spare, version=old.version + 1)
    # What stands on the TID goes with it: holds, links of bulk holds, accessories at the shop.
    Hold.objects.filter(terminal_id=old.pk, released_at__isnull=True, closed=False).update(terminal_id=new.pk)
    HoldTerminal.objects.filter(terminal_id=old.pk, released_at__isnull=True).update(terminal_id=new.pk)
    Accessory.objects.filter(terminal_id=old.pk).update(terminal_id=new.pk)
    return tid, spare


def _lock_swappable(tid: str) -> tuple[Terminal, Merchant]:
    """The merchant's device under `tid`, locked (active or in repair, no open repair order), and its
    merchant."""
    old = (
        Terminal.objects.select_for_update(of=("self",), no_key=True)
        .select_related("model", "merchant")
        .filter(tid=(tid or "").strip().upper())
        .first()
    )
    if old is None:
        raise NotFound(_("No terminal with TID %(tid)s.") % {"tid": tid})
    if old.state not in SWAPPABLE or old.merchant is None:
        raise Conflict(
            _("Only a merchant's active or in-repair terminal can be swapped; %(tid)s is %(state)s.")
            % {"tid": old.tid, "state": old.get_state_display()},
            code="terminal_not_swappable",
        )
    if _orders().filter(terminal=old).exclude(state__in=FINAL_STATES).exists():
        raise Conflict(
            _("Terminal %(tid)s has an open repair order; mark it unrepairable or finish it first.")
            % {"tid": old.tid},
            code="open_repair_order",
        )
    return old, old.merchant


def _orders() -> QuerySet[RepairOrder]:
    return RepairOrder.objects.select_for_update(of=("self",), no_key=True).select_related("fault")


def _unrepairable_order(old: Terminal, repair_order_id: int | None) -> RepairOrder | None:
    """The unrepairable order the swap answers: the one named, else the latest not yet swapped."""
    if repair_order_id is not None:
        order = _orders().filter(pk=repair_order_id, terminal=old, state=RepairState.UNREPAIRABLE).first()
        if order is None:
            raise ValidationFailed(
                details={"repair_order_id": [_("No unrepairable repair order on this terminal.")]}
            )
        return order
    return (
        _orders()
        .filter(terminal=old, state=RepairState.UNREPAIRABLE, swaps__isnull=True)
        .order_by("-id")
        .first()
    )


def swap(
    actor: Actor,
    tid: str,
    *,
    reason: str,
    new_sn: str = "",
    kind: str = "",
    repair_order_id: int | None = None,
) -> Swap:
    """Swap the device under `tid` (step-up); see the module doc."""
    require_staff(actor, "swap_terminal")
    require_step_up(actor)
    text = lifecycle.require_reason(reason)
    old, merchant = _lock_swappable(tid)
    order = _unrepairable_order(old, repair_order_id)
    swap_kind = _kind(old, order, kind)
    new = _pick(old, new_sn)
    if order is not None:
        release_fault_hold(actor, order.fault.hold_id, _("swapped: %(why)s") % {"why": text})
    old_sn, new_sn_value = old.sn, new.sn
    merchant_tid, spare = _exchange_tids(old, new)
    now = timezone.now()
    facts = {
        "old_sn": old_sn,
        "new_sn": new_sn_value,
        "old_model": old.model.name,
        "new_model": new.model.name,
        "security_patch_level": new.security_patch_level,
        "kind": swap_kind,
        "old_device_tid": spare,
        "repair_order_id": order.pk if order else None,
    }
    record(
        actor,
        [
            Change(
                "terminal", merchant_tid, "terminal.swap", {"sn": old_sn}, {"sn": new_sn_value} | facts, text
            ),
            Change(
                "terminal", spare, "terminal.swap_out", {"sn": new_sn_value}, {"sn": old_sn} | facts, text
            ),
        ],
        at=now,
    )
    _move_lifecycles(actor, merchant_tid, spare, merchant, text)
    Terminal.objects.filter(pk=new.pk).update(last_inspected_at=now)
    done = Swap.objects.create(
        tid=merchant_tid,
        terminal=new,
        old_terminal=old,
        old_tid_now=spare,
        old_sn=old_sn,
        new_sn=new_sn_value,
        security_patch_level=new.security_patch_level,
        kind=swap_kind,
        reason=text,
        order=order,
        merchant=merchant,
        by_name=actor.name,
        at=now,
    )
    if order is not None:
        record(actor, Change("repair_order", str(order.pk), "repair.swapped", None, facts, text), at=now)
    _notify(actor, done, new)
    return done


def _move_lifecycles(actor: Actor, merchant_tid: str, spare: str, merchant: Merchant, text: str) -> None:
    """The old device (now under `spare`) is deactivated; the new one, under the merchant's TID, is
    allocated and activated, which injects its fresh key."""
    helper = delegate(actor)
    lifecycle.apply(
        helper,
        spare,
        "deactivate",
        reason=_("swapped out of %(tid)s: %(why)s") % {"tid": merchant_tid, "why": text},
    )
    lifecycle.apply(helper, merchant_tid, "allocate", reason=text, merchant=merchant)
    lifecycle.apply(helper, merchant_tid, "activate", reason=text)


def _notify(actor: Actor, done: Swap, new: Terminal) -> None:
    guide = new.model.operating_guide.strip()
    notify(
        actor,
        done.merchant,
        gettext_lazy("Terminal %(tid)s replaced"),
        gettext_lazy(
            "Your terminal %(tid)s now runs on a new device (SN %(old)s → %(new)s, model %(model)s, security "
            "patch %(patch)s). Keep using the same TID. Please hand the old device to our courier.\n\n"
            "Operating guide for %(model)s:\n%(guide)s"
        ),
        {
            "tid": done.tid,
            "old": done.old_sn,
            "new": done.new_sn,
            "model": new.model.name,
            "patch": done.security_patch_level,
            "guide": guide
            or gettext_lazy("Switch on, sign in with your cashier code, and take a test payment."),
        },
    )


def swaps_of(tid: str) -> list[Swap]:
    return list(Swap.objects.filter(tid=tid).order_by("-id"))


def as_dict(done: Swap) -> dict[str, Any]:
    return {
        "tid": done.tid,
        "old_sn": done.old_sn,
        "new_sn": done.new_sn,
        "security_patch_level": done.security_patch_level,
    }
