"""Reporting a fault (portal, console, API) and attaching evidence checked by content.

A report opens its repair order in `reported`. The merchant chooses whether the terminal stops
meanwhile: a `fault` hold, placed on the merchant's behalf and announced to them.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from posfleet.audit.services import Change, record
from posfleet.cases.models import files_dir
from posfleet.cases.services.materials import max_bytes
from posfleet.core import uploads
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, ValidationFailed
from posfleet.lifecycle import holds
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from posfleet.repair.choices import FINAL_STATES, SYMPTOMS, FaultCategory, Frequency
from posfleet.repair.models import Fault, FaultEvidence, RepairOrder
from posfleet.repair.services.common import delegate, get_order, notify, portal_merchant_id, require_staff

Errors = dict[str, list[str]]
REPORTABLE_STATES = (TerminalState.ACTIVE, TerminalState.IN_REPAIR, TerminalState.ALLOCATED)


@dataclass
class FaultInput:
    tid: str
    category: str
    symptom: str
    started_at: datetime | None
    frequency: str
    trigger: str = ""
    customer_feedback: str = ""
    description: str = ""
    stop_terminal: bool = False


def _text(errors: Errors, name: str, value: str, limit: int) -> str:
    text = (value or "").replace("\x00", "").strip()
    if len(text) > limit:
        errors.setdefault(name, []).append(_("At most %(n)s characters.") % {"n": limit})
    return text


def _check(data: FaultInput, now: datetime) -> Errors:
    errors: Errors = {}
    if data.category not in FaultCategory.values:
        errors["category"] = [_("Choose one of: %(c)s.") % {"c": ", ".join(FaultCategory.values)}]
    elif data.symptom not in SYMPTOMS[data.category]:
        errors["symptom"] = [
            _("For %(cat)s choose one of: %(s)s.")
            % {"cat": data.category, "s": ", ".join(SYMPTOMS[data.category])}
        ]
    if data.frequency not in Frequency.values:
        errors["frequency"] = [_("Choose one of: %(c)s.") % {"c": ", ".join(Frequency.values)}]
    if data.started_at is None:
        errors["started_at"] = [_("This field is required.")]
    elif timezone.is_naive(data.started_at):
        errors["started_at"] = [_("Times must carry a time zone offset (ISO 8601).")]
    elif data.started_at > now:
        errors["started_at"] = [_("Must not be in the future.")]
    return errors


def _terminal(actor: Actor, tid: str) -> Terminal:
    own = portal_merchant_id(actor)
    if own is None:
        require_staff(actor, "report_fault", "work_repair")
    terminal = (
        Terminal.objects.select_related("merchant", "model").filter(tid=(tid or "").strip().upper()).first()
    )
    if terminal is None or (own is not None and terminal.merchant_id != own):
        raise ValidationFailed(
            _("No terminal with TID %(tid)s.") % {"tid": tid}, details={"tid": [_("No such terminal.")]}
        )
    return terminal


def report_fault(actor: Actor, data: FaultInput) -> Fault:
    """Record the fault, open its repair order, and stop the terminal if the merchant chose to."""
    terminal = _terminal(actor, data.tid)
    now = timezone.now()
    errors = _check(data, now)
    trigger = _text(errors, "trigger", data.trigger, 500)
    feedback = _text(errors, "customer_feedback", data.customer_feedback, 4000)
    description = _text(errors, "description", data.description, 4000)
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), details=errors)
    if terminal.merchant is None or terminal.state not in REPORTABLE_STATES:
        raise Conflict(
            _("Terminal %(tid)s is %(state)s; only a merchant's terminal can have a fault reported.")
            % {"tid": terminal.tid, "state": terminal.get_state_display()},
            code="terminal_not_in_service",
        )
    open_order = RepairOrder.objects.filter(terminal=terminal).exclude(state__in=FINAL_STATES).first()
    if open_order is not None:
        raise Conflict(
            _("Terminal %(tid)s already has open repair order #%(id)s.")
            % {"tid": terminal.tid, "id": open_order.pk},
            code="open_repair_order",
            details={"repair_order_id": open_order.pk},
        )
    assert data.started_at is not None
    fault = Fault.objects.create(
        terminal=terminal,
        merchant=terminal.merchant,
        tid=terminal.tid,
        sn=terminal.sn,
        category=data.category,
        symptom=data.symptom,
        description=description,
        started_at=data.started_at,
        frequency=data.frequency,
        trigger=trigger,
        customer_feedback=feedback,
        stop_terminal=bool(data.stop_terminal),
        channel=actor.channel,
        reported_by=actor.user,
        reported_by_name=actor.name,
        created_at=now,
    )
    order = RepairOrder.objects.create(
        fault=fault, terminal=terminal, merchant=terminal.merchant, created_at=now, updated_at=now
    )
    after = {
        "fault_id": fault.pk,
        "repair_order_id": order.pk,
        "tid": terminal.tid,
        "sn": terminal.sn,
        "category": fault.category,
        "symptom": fault.symptom,
        "stop_terminal": fault.stop_terminal,
    }
    record(actor, Change("repair_order", str(order.pk), "repair.report", None, after, fault.symptom), at=now)
    if fault.stop_terminal:
        hold = holds.place_hold(
            delegate(actor), kind="fault", reason=f"fault #{fault.pk}: {fault.symptom}", tid=terminal.tid
        )
        Fault.objects.filter(pk=fault.pk).update(hold_id=hold.pk)
        fault.hold_id = hold.pk
    notify(
        actor,
        terminal.merchant,
        gettext_lazy("Fault report received for terminal %(tid)s"),
        gettext_lazy("We received your fault report (repair order %(id)s) for terminal %(tid)s. %(stop)s"),
        {
            "tid": terminal.tid,
            "id": order.pk,
            "stop": gettext_lazy("The terminal is stopped until it is repaired.")
            if fault.stop_terminal
            else gettext_lazy("The terminal stays in service meanwhile."),
        },
    )
    return fault


def get_fault(actor: Actor, fault_id: int) -> Fault:
    fault = Fault.objects.select_related("order", "terminal").filter(pk=fault_id).first()
    if fault is None:
        raise NotFound(_("No fault %(id)s.") % {"id": fault_id})
    get_order(actor, fault.order.pk)  # NotFound when not the actor's to see
    return fault


def _is_text(data: bytes) -> bool:
    """A log as plain UTF-8 text: decodes, and no control characters other than tab and line ends."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text)


def check_evidence(upload: Any) -> tuple[bytes, str, str]:
    """(bytes, content type, extension) of a photo (JPEG/PNG) or log (PDF or text), judged by content."""
    data = uploads.read_limited(upload, max_bytes())
    if not data:
        raise ValidationFailed(_("The file is empty."), details={"file": [_("The file is empty.")]})
    kind = uploads.sniff(data[:16])
    if kind is not None:
        return data, kind[0], kind[1]
    if _is_text(data):
        return data, "text/plain", "txt"
    raise ValidationFailed(
        _("Only photos (JPEG, PNG) and logs (PDF or plain text) are accepted."),
        details={"file": [_("The content is not a JPEG, PNG, PDF or text file.")]},
    )


def add_evidence(actor: Actor, fault_id: int, upload: Any, note: str = "") -> FaultEvidence:
    """Attach a photo or log to a fault whose order is still open."""
    fault = get_fault(actor, fault_id)
    order = get_order(actor, fault.order.pk, for_update=True)
    if portal_merchant_id(actor) is None:
        require_staff(actor, "report_fault", "work_repair")
    if upload is None:
        raise ValidationFailed(details={"file": [_("This field is required.")]})
    if order.state in FINAL_STATES:
        raise Conflict(_("This repair order is closed; no more evidence can be added."), code="order_closed")
    errors: Errors = {}
    text = _text(errors, "note", note, 500)
    if errors:
        raise ValidationFailed(details=errors)
    data, content_type, ext = check_evidence(upload)
    digest = hashlib.sha256(data).hexdigest()
    stored = f"{uuid.uuid4().hex}.{ext}"
    target = files_dir("repair") / stored
    target.write_bytes(data)
    try:
        evidence = FaultEvidence.objects.create(
            fault=fault,
            stored_name=stored,
            original_name=str(getattr(upload, "name", "") or "")[-255:],
            content_type=content_type,
            size=len(data),
            sha256=digest,
            note=text,
            uploaded_by_name=actor.name,
        )
        after = {
            "evidence_id": evidence.pk,
            "content_type": content_type,
            "size": len(data),
            "sha256": digest,
        }
        record(
            actor, Change("repair_order", str(order.pk), "repair.evidence", None, after, text or content_type)
        )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return evidence


def read_evidence(actor: Actor, evidence_id: int) -> tuple[FaultEvidence, bytes]:
    evidence = FaultEvidence.objects.select_related("fault").filter(pk=evidence_id).first()
    if evidence is None:
        raise NotFound(_("No such file."))
    get_fault(actor, evidence.fault_id)
    try:
        return evidence, evidence.path.read_bytes()
    except FileNotFoundError:
        raise NotFound(_("The stored file is missing.")) from None
