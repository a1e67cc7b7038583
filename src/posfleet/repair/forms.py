"""Reading the console's and portal's repair forms into service input (no rules here: services decide)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from posfleet.core.actor import Actor
from posfleet.repair.models import Fault
from posfleet.repair.services import faults
from posfleet.repair.services.faults import FaultInput


def clean(value: Any) -> str:
    """Form text without NUL bytes (PostgreSQL refuses them in text; that must not be a 500)."""
    return str(value or "").replace("\x00", "")


def when(value: str) -> datetime | None:
    """A `datetime-local` field in the user's time zone (Asia/Shanghai by default)."""
    parsed = parse_datetime(clean(value).strip()) if value else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def fault_input(post: QueryDict) -> FaultInput:
    try:
        started = when(post.get("started_at", ""))
    except ValueError:
        started = None
    return FaultInput(
        tid=clean(post.get("tid")).strip().upper()[:8],
        category=clean(post.get("category")),
        symptom=clean(post.get("symptom")),
        started_at=started,
        frequency=clean(post.get("frequency")),
        trigger=clean(post.get("trigger")),
        customer_feedback=clean(post.get("customer_feedback")),
        description=clean(post.get("description")),
        stop_terminal=post.get("stop_terminal") in ("on", "1", "true"),
    )


def file_fault(actor: Actor, request: HttpRequest) -> Fault:
    """Report the fault of the posted form with every uploaded file as evidence (staff and portal alike)."""
    fault = faults.report_fault(actor, fault_input(request.POST))
    note = clean(request.POST.get("file_note"))
    for upload in request.FILES.getlist("file"):
        faults.add_evidence(actor, fault.pk, upload, note)
    return fault


def _number(value: str) -> int | None:
    text = clean(value).strip()
    return int(text) if text.isdigit() and len(text) < 16 else (None if not text else -1)


def _yuan(value: str) -> int | None:
    """Yuan as typed (“350” or “350.50”) → fen; -1 for text that is no amount."""
    text = clean(value).strip()
    if not text:
        return None
    whole, _dot, part = text.partition(".")
    if not whole.isdigit() or (part and (not part.isdigit() or len(part) > 2)) or len(whole) > 12:
        return -1
    return int(whole) * 100 + int((part + "00")[:2])


def action_data(post: QueryDict, checklist: list[str]) -> dict[str, Any]:
    """The action form's fields as `orders.apply()` reads them."""
    data: dict[str, Any] = {
        name: clean(post.get(name))
        for name in (
            "note",
            "diagnosis",
            "where",
            "provider",
            "done",
            "firmware_before",
            "firmware_after",
            "patch_before",
            "patch_after",
            "test_results",
        )
        if post.get(name) is not None
    }
    if "under_warranty" in post or post.get("action") == "diagnose":
        data["under_warranty"] = post.get("under_warranty") in ("on", "1", "true")
    for name in ("days", "warranty_months", "quote_id"):
        if post.get(name):
            data[name] = _number(post.get(name, ""))
    if post.get("amount_yuan") is not None:
        data["amount_fen"] = _yuan(post.get("amount_yuan", ""))
    if post.get("parts"):
        parts = []
        for line in clean(post.get("parts")).splitlines():
            if line.strip():
                name, _sep, serial = line.partition(",")
                parts.append({"part": name.strip(), "serial": serial.strip()})
        data["parts"] = parts
    if post.get("action") == "qc":
        data["results"] = [
            {"check": c, "passed": post.get(f"pass_{c}") == "on", "note": clean(post.get(f"note_{c}"))}
            for c in checklist
        ]
    return data


def due_on(value: str) -> Any:
    text = clean(value).strip()
    return parse_date(text) if text else None
