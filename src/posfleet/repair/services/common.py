"""What the repair services share: who may see an order, the delegated actor for consequences, and
notices to the merchant (written in the merchant's language, zh-Hans)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.cases.services.common import portal_merchant_id
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied
from posfleet.lifecycle import holds
from posfleet.lifecycle.models import Hold
from posfleet.notices.tell import tell_merchant
from posfleet.registry.models import Merchant
from posfleet.repair.models import RepairOrder

STAFF_READ = ("view_fleet", "work_repair", "report_fault", "lend_loaner", "swap_terminal")

__all__ = ["delegate", "get_order", "notify", "portal_merchant_id", "release_fault_hold", "require_staff"]


def require_staff(actor: Actor, *codenames: str) -> None:
    """The actor holds one of `codenames`; a portal login never counts as staff."""
    if portal_merchant_id(actor) is not None or not any(actor.has_perm(perm(c)) for c in codenames):
        raise PermissionDenied()


def can_read(actor: Actor, merchant_id: int) -> bool:
    own = portal_merchant_id(actor)
    if own is not None:
        return own == merchant_id
    return any(actor.has_perm(perm(c)) for c in STAFF_READ)


def get_order(actor: Actor, order_id: int, *, for_update: bool = False) -> RepairOrder:
    """The order if the actor may see it; another merchant's order is simply not found."""
    qs = RepairOrder.objects.select_related("terminal", "terminal__model", "merchant", "fault")
    if for_update:
        qs = qs.select_for_update(of=("self",), no_key=True)
    order = qs.filter(pk=order_id).first()
    if order is None or not can_read(actor, order.merchant_id):
        raise NotFound(_("No repair order %(id)s.") % {"id": order_id})
    return order


def delegate(actor: Actor) -> Actor:
    """A system actor carrying out a repair's consequences (lifecycle moves, holds, charges, notices)
    on behalf of `actor`, who needs only the repair capability; the audit names them."""
    return actor.on_behalf("repair")


def notify(
    actor: Actor, merchant: Merchant, title: Any, body: Any, params: dict[str, Any] | None = None
) -> None:
    """A notice to the merchant in zh-Hans, sent over its channels (portal, SMS, e-mail, webhooks).
    `title` and `body` are lazy translations, filled with `params` in that language."""
    values = params or {}
    with translation.override("zh-hans"):
        tell_merchant(delegate(actor), merchant, str(title) % values, str(body) % values)


def release_fault_hold(actor: Actor, hold_id: int | None, reason: str) -> bool:
    """End the fault hold a report placed, if it still stands."""
    if hold_id is None:
        return False
    hold = Hold.objects.filter(pk=hold_id, released_at__isnull=True, closed=False).first()
    if hold is None:
        return False
    holds.release_hold(delegate(actor), hold.pk, reason=reason)
    return True
