"""Builders for repair tests: a reported fault, an order moved to a given state, a loaner pool."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from posfleet.core.actor import Actor
from posfleet.registry.models import Merchant, Terminal
from posfleet.repair.choices import DEFAULT_QC_CHECKS
from posfleet.repair.models import Fault, RepairOrder
from posfleet.repair.services import faults, orders
from tests import builders
from tests.cases.builders import JPEG, PNG
from tests.portal.builders import merchant_user

__all__ = ["JPEG", "PNG", "all_pass", "fault", "loaner", "order_in", "photo", "portal"]


def portal(merchant: Merchant) -> Actor:
    return Actor.for_user(merchant_user(merchant), "portal")


def photo(name: str = "screen.png", data: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def fault(
    terminal: Terminal | None = None, *, actor: Actor | None = None, stop: bool = True, **kw: Any
) -> Fault:
    terminal = terminal or builders.terminal()
    data = faults.FaultInput(
        tid=terminal.tid,
        category=kw.pop("category", "hardware"),
        symptom=kw.pop("symptom", "screen"),
        started_at=kw.pop("started_at", timezone.now() - timedelta(hours=3)),
        frequency=kw.pop("frequency", "always"),
        trigger=kw.pop("trigger", "dropped on the counter"),
        stop_terminal=stop,
        **kw,
    )
    with transaction.atomic():
        return faults.report_fault(actor or builders.actor("technician"), data)


def all_pass(failed: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"check": c, "passed": c not in failed} for c in DEFAULT_QC_CHECKS]


PATH = {
    "diagnosing": [("diagnose", {"diagnosis": "cracked screen", "where": "manufacturer"})],
    "awaiting_quote": [
        ("quote", {"provider": "Acme service", "amount_fen": 35000, "days": 5, "warranty_months": 3})
    ],
}


def order_in(state: str, terminal: Terminal | None = None, *, warranty: bool = True) -> RepairOrder:
    """A repair order walked through the service to `state` (under warranty unless told)."""
    tech = builders.actor("technician")
    f = fault(terminal, actor=tech)
    order = f.order
    steps: list[tuple[str, dict[str, Any]]] = [
        ("diagnose", {"diagnosis": "cracked screen", "where": "in_house", "under_warranty": warranty})
    ]
    if state in ("awaiting_quote", "quote_accepted"):
        steps += PATH["awaiting_quote"]
    if state == "quote_accepted":
        steps += [("accept_quote", {})]  # the quote id is filled in below
    if state == "awaiting_parts":
        steps += [("await_parts", {"note": "screen ordered"})]
    if state == "remote_fix":
        steps += [("remote_fix", {"note": "app reinstalled remotely"})]
    if state == "cancelled":
        steps += [("cancel", {"note": "merchant found the cable loose"})]
    if state in ("repairing", "qc", "done", "unrepairable"):
        steps += [("start", {})]
    if state in ("qc", "done"):
        steps += [("step", {"done": "replaced the screen", "parts": [{"part": "screen", "serial": "S1"}]})]
        steps += [("qc", {"results": all_pass()})]
    if state == "done":
        steps += [("finish", {})]
    if state == "unrepairable":
        steps += [("unrepairable", {"note": "mainboard corroded"})]
    for action, data in steps:
        if action == "accept_quote":
            data = {"quote_id": order.quotes.get().pk}
        with transaction.atomic():
            order = orders.apply(tech, order.pk, action, data)
    return order


def loaner(patch: str = "2026-06-01") -> Terminal:
    t = builders.terminal("in_stock", patch=patch)
    Terminal.objects.filter(pk=t.pk).update(is_loaner=True)
    t.is_loaner = True
    return t
