"""`apply()`: the one function that moves a repair order, and what each move does.

It locks the order, checks the version (stale → 409), finds the move in `transitions.TABLE`, checks
who may make it, runs the action's own checks and consequences (quotes, steps, QC, the terminal's
lifecycle and fault hold, the charge) and writes the new state with one audit event, all in the
caller's transaction. Consequences outside repair go through their own services with a delegated
actor (`common.delegate`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from posfleet.accounts.roles import perm
from posfleet.api.fields import MAX_FEN
from posfleet.audit.services import Change, record
from posfleet.core import versions
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, InvalidTransition, PermissionDenied, StaleVersion, ValidationFailed
from posfleet.lifecycle import services as lifecycle
from posfleet.money import ledger
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from posfleet.repair import transitions
from posfleet.repair.choices import DEFAULT_QC_CHECKS, QuoteState, RepairState, Where
from posfleet.repair.models import QcResult, Quote, RepairOrder, RepairPart, RepairStep
from posfleet.repair.services.common import (
    delegate,
    get_order,
    notify,
    portal_merchant_id,
    release_fault_hold,
)

Errors = dict[str, list[str]]
PATCH = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Outcome:
    """What an action changed besides the state: order fields and the audit's extra facts."""

    fields: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


def qc_checks(order: RepairOrder) -> tuple[str, ...]:
    """The function tests QC runs for the order's model (its own list, or all of them)."""
    checks = order.terminal.model.qc_checks or []
    return tuple(checks) or DEFAULT_QC_CHECKS


def _fail(errors: Errors) -> None:
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), details=errors)


def _text(data: dict[str, Any], name: str, errors: Errors, limit: int = 2000, required: bool = False) -> str:
    value = str(data.get(name) or "").replace("\x00", "").strip()
    if required and not value:
        errors.setdefault(name, []).append(_("This field is required."))
    if len(value) > limit:
        errors.setdefault(name, []).append(_("At most %(n)s characters.") % {"n": limit})
    return value


def _int(data: dict[str, Any], name: str, errors: Errors, *, high: int, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            errors.setdefault(name, []).append(_("This field is required."))
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        errors.setdefault(name, []).append(_("A whole number from 0 to %(n)s.") % {"n": high})
        return None
    return value


def _where(data: dict[str, Any], errors: Errors, default: str) -> str:
    where = str(data.get("where") or default)
    if where not in Where.values:
        errors["where"] = [_("Choose one of: %(c)s.") % {"c": ", ".join(Where.values)}]
    return where


def _patch(data: dict[str, Any], name: str, errors: Errors) -> str:
    value = str(data.get(name) or "").strip()
    if value and not PATCH.match(value):
        errors.setdefault(name, []).append(_("A patch level is written YYYY-MM-DD."))
    return value


def _terminal_moves(actor: Actor, order: RepairOrder, action: str, why: str) -> None:
    """The terminal follows: `in_repair` while the device is away, `active` again after it."""
    terminal = Terminal.objects.get(pk=order.terminal_id)
    wanted = TerminalState.IN_REPAIR if action == "start_repair" else TerminalState.ACTIVE
    source = TerminalState.ACTIVE if action == "start_repair" else TerminalState.IN_REPAIR
    if terminal.state == source and terminal.state != wanted:
        lifecycle.apply(delegate(actor), terminal.tid, action, reason=why)


# --- the actions ----------------------------------------------------------------------------------------


def _diagnose(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    errors: Errors = {}
    diagnosis = _text(data, "diagnosis", errors, 4000, required=True)
    where = _where(data, errors, order.where)
    provider = _text(data, "provider", errors, 200)
    warranty = data.get("under_warranty", order.under_warranty)
    if not isinstance(warranty, bool):
        errors["under_warranty"] = [_("true or false")]
    _fail(errors)
    if order.state == RepairState.REPORTED:
        _terminal_moves(actor, order, "start_repair", _("repair order #%(id)s") % {"id": order.pk})
    return Outcome(
        {"diagnosis": diagnosis, "where": where, "provider": provider, "under_warranty": warranty},
        {"where": where, "provider": provider, "under_warranty": warranty},
    )


def _close_fault(actor: Actor, order: RepairOrder, why: str) -> dict[str, Any]:
    _terminal_moves(actor, order, "finish_repair", why)
    released = release_fault_hold(actor, order.fault.hold_id, why)
    return {"fault_hold_released": released}


def _remote_fix(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    errors: Errors = {}
    note = _text(data, "note", errors, 2000, required=True)
    _fail(errors)
    facts = _close_fault(actor, order, _("fixed remotely: %(note)s") % {"note": note})
    notify(
        actor,
        order.merchant,
        gettext_lazy("Terminal %(tid)s fixed remotely"),
        gettext_lazy(
            "Repair order %(id)s: your terminal %(tid)s was fixed remotely and takes payments again."
        ),
        {"tid": order.terminal.tid, "id": order.pk},
    )
    return Outcome({"finished_at": timezone.now()}, facts | {"note": note})


def _quote(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    errors: Errors = {}
    where = _where(data, errors, order.where)
    provider = _text(data, "provider", errors, 200, required=True)
    amount = _int(data, "amount_fen", errors, high=MAX_FEN)
    days = _int(data, "days", errors, high=365)
    months = _int(data, "warranty_months", errors, high=120)
    _fail(errors)
    assert amount is not None and days is not None and months is not None  # _fail() raised otherwise
    quote = Quote.objects.create(
        order=order, where=where, provider=provider, amount_fen=amount, days=days, warranty_months=months
    )
    if not order.under_warranty:
        notify(
            actor,
            order.merchant,
            gettext_lazy("A repair quote for terminal %(tid)s"),
            gettext_lazy(
                "Repair order %(id)s: %(provider)s quotes %(amount)s yuan, %(days)s days, %(months)s months "
                "warranty. Accept or decline it in the portal."
            ),
            {
                "tid": order.terminal.tid,
                "id": order.pk,
                "provider": provider,
                "amount": f"{(amount or 0) / 100:.2f}",
                "days": days,
                "months": months,
            },
        )
    return Outcome({}, {"quote_id": quote.pk, "provider": provider, "amount_fen": amount, "where": where})


def _quote_of(order: RepairOrder, data: dict[str, Any]) -> Quote:
    errors: Errors = {}
    qid = _int(data, "quote_id", errors, high=2**63 - 1)
    _fail(errors)
    assert qid is not None
    quote = Quote.objects.select_for_update(no_key=True).filter(pk=qid, order=order).first()
    if quote is None:
        raise ValidationFailed(details={"quote_id": [_("No such quote on this repair order.")]})
    if quote.state != QuoteState.OFFERED:
        raise Conflict(
            _("This quote is already %(state)s.") % {"state": quote.get_state_display()}, code="quote_decided"
        )
    return quote


def _merchant_decides(actor: Actor, order: RepairOrder, action: str) -> None:
    """A quote is accepted by the order's own merchant; staff choose one only under warranty (free).
    Declining may also be recorded by staff for a merchant on the phone."""
    own = portal_merchant_id(actor)
    if own is not None:
        return  # get_order() already proved the order is theirs
    if action == "accept_quote":
        if not (actor.has_perm(perm("work_repair")) and order.under_warranty):
            raise PermissionDenied(_("Only the merchant accepts a quote that costs them money."))
    elif not (actor.has_perm(perm("work_repair")) or actor.has_perm(perm("report_fault"))):
        raise PermissionDenied()


def _accept_quote(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    quote = _quote_of(order, data)
    now = timezone.now()
    Quote.objects.filter(pk=quote.pk).update(
        state=QuoteState.ACCEPTED, decided_by_name=actor.name, decided_at=now
    )
    Quote.objects.filter(order=order, state=QuoteState.OFFERED).exclude(pk=quote.pk).update(
        state=QuoteState.SET_ASIDE, decided_at=now
    )
    charge = 0 if order.under_warranty else quote.amount_fen
    if charge:
        ledger.charge(
            delegate(actor),
            order.merchant_id,
            "repair_charge",
            charge,
            ref=f"repair:{order.pk}:quote:{quote.pk}",
            memo=f"repair order {order.pk} {quote.provider}",
        )
    fields = {
        "where": quote.where,
        "provider": quote.provider,
        "warranty_months": quote.warranty_months,
        "charged_fen": charge,
    }
    return Outcome(fields, {"quote_id": quote.pk, "charged_fen": charge})


def _decline_quote(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    quote = _quote_of(order, data)
    Quote.objects.filter(pk=quote.pk).update(
        state=QuoteState.DECLINED, decided_by_name=actor.name, decided_at=timezone.now()
    )
    return Outcome({}, {"quote_id": quote.pk})


def _await_parts(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    errors: Errors = {}
    note = _text(data, "note", errors, 2000)
    _fail(errors)
    return Outcome({}, {"note": note})


def _start(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    accepted = order.quotes.filter(state=QuoteState.ACCEPTED).exists()
    if not (order.under_warranty or accepted):
        raise InvalidTransition(
            _("A repair outside warranty starts only after the merchant accepted a quote."),
            code="quote_not_accepted",
        )
    return Outcome()


def _step(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    errors: Errors = {}
    done = _text(data, "done", errors, 4000, required=True)
    results = _text(data, "test_results", errors, 4000)
    firmware = {n: _text(data, n, errors, 40) for n in ("firmware_before", "firmware_after")}
    patches = {n: _patch(data, n, errors) for n in ("patch_before", "patch_after")}
    parts = data.get("parts") or []
    if not isinstance(parts, list) or len(parts) > 50:
        errors["parts"] = [_("A list of at most 50 parts.")]
        parts = []
    clean_parts = []
    for n, part in enumerate(parts):
        name = str((part or {}).get("part") or "").replace("\x00", "").strip()
        serial = str((part or {}).get("serial") or "").replace("\x00", "").strip()
        if not name or len(name) > 100 or len(serial) > 100:
            errors[f"parts.{n}"] = [_("A part (at most 100 characters) and its serial.")]
        clean_parts.append((name, serial))
    _fail(errors)
    terminal = order.terminal
    step = RepairStep.objects.create(
        order=order,
        done=done,
        test_results=results,
        firmware_before=firmware["firmware_before"] or terminal.firmware_version,
        firmware_after=firmware["firmware_after"],
        patch_before=patches["patch_before"] or terminal.security_patch_level,
        patch_after=patches["patch_after"],
        by=actor.user,
        by_name=actor.name,
    )
    RepairPart.objects.bulk_create([RepairPart(step=step, part=p, serial=s) for p, s in clean_parts])
    device: dict[str, str] = {}
    if step.firmware_after:
        device["firmware_version"] = step.firmware_after
    if step.patch_after:
        device["security_patch_level"] = step.patch_after
    if device:  # the device now runs what the step installed
        Terminal.objects.filter(pk=terminal.pk).update(**device)
    facts = {"step_id": step.pk, "parts": [{"part": p, "serial": s} for p, s in clean_parts], **device}
    return Outcome({}, facts)


def qc_results(order: RepairOrder, data: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """The checklist's results: every check of the model's list exactly once, each passed or not."""
    wanted = qc_checks(order)
    raw = data.get("results")
    errors: Errors = {}
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(
            details={"results": [_("Give a result for each check: %(c)s.") % {"c": ", ".join(wanted)}]}
        )
    seen: dict[str, tuple[bool, str]] = {}
    for n, row in enumerate(raw):
        item = str((row or {}).get("check") or "")
        passed = (row or {}).get("passed")
        note = str((row or {}).get("note") or "").replace("\x00", "")[:500]
        if item not in wanted:
            errors[f"results.{n}"] = [_("%(c)s is not on this model's checklist.") % {"c": item}]
        elif item in seen:
            errors[f"results.{n}"] = [_("%(c)s appears twice.") % {"c": item}]
        elif not isinstance(passed, bool):
            errors[f"results.{n}"] = [_("passed is true or false.")]
        else:
            seen[item] = (passed, note)
    missing = [c for c in wanted if c not in seen]
    if missing and not errors:
        errors["results"] = [_("Missing checks: %(c)s.") % {"c": ", ".join(missing)}]
    _fail(errors)
    return [(c, seen[c][0], seen[c][1]) for c in wanted]


def _qc(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    results = data["_results"]
    last = order.qc_results.order_by("-round").values_list("round", flat=True).first() or 0
    now = timezone.now()
    QcResult.objects.bulk_create(
        [
            QcResult(order=order, round=last + 1, item=c, passed=p, note=n, by_name=actor.name, at=now)
            for c, p, n in results
        ]
    )
    failed = [c for c, p, _n in results if not p]
    return Outcome({}, {"round": last + 1, "failed": failed})


def _finish(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    last = order.qc_results.order_by("-round").values_list("round", flat=True).first()
    if last is None or order.qc_results.filter(round=last, passed=False).exists():
        raise InvalidTransition(
            _("Every QC check must pass before the repair is finished."), code="qc_failed"
        )
    errors: Errors = {}
    months = _int(data, "warranty_months", errors, high=120, required=False)
    _fail(errors)
    now = timezone.now()
    facts = _close_fault(actor, order, _("repair order #%(id)s done") % {"id": order.pk})
    Terminal.objects.filter(pk=order.terminal_id).update(last_inspected_at=now)
    warranty = order.warranty_months if months is None else months
    notify(
        actor,
        order.merchant,
        gettext_lazy("Terminal %(tid)s repaired"),
        gettext_lazy(
            "Repair order %(id)s is done: terminal %(tid)s passed every function test and takes payments "
            "again (warranty %(months)s months). Please return any loaner terminal."
        ),
        {"tid": order.terminal.tid, "id": order.pk, "months": warranty},
    )
    return Outcome({"finished_at": now, "warranty_months": warranty}, facts | {"warranty_months": warranty})


def _unrepairable(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    errors: Errors = {}
    note = _text(data, "note", errors, 2000, required=True)
    _fail(errors)
    return Outcome(
        {"finished_at": timezone.now(), "diagnosis": (order.diagnosis + "\n" + note).strip()}, {"note": note}
    )


def _cancel(actor: Actor, order: RepairOrder, data: dict[str, Any]) -> Outcome:
    errors: Errors = {}
    note = _text(data, "note", errors, 2000, required=True)
    _fail(errors)
    facts = _close_fault(actor, order, _("repair order #%(id)s cancelled") % {"id": order.pk})
    return Outcome({"finished_at": timezone.now()}, facts | {"note": note})


HANDLERS: dict[str, Callable[[Actor, RepairOrder, dict[str, Any]], Outcome]] = {
    "diagnose": _diagnose,
    "remote_fix": _remote_fix,
    "quote": _quote,
    "accept_quote": _accept_quote,
    "decline_quote": _decline_quote,
    "await_parts": _await_parts,
    "start": _start,
    "step": _step,
    "qc_pass": _qc,
    "qc_fail": _qc,
    "finish": _finish,
    "unrepairable": _unrepairable,
    "cancel": _cancel,
}


def apply(
    actor: Actor,
    order_id: int,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    expected_version: int | None = None,
) -> RepairOrder:
    """Carry out `action` on repair order `order_id` (see the module doc); nothing is written if refused."""
    if action not in transitions.ACTIONS:
        raise ValidationFailed(
            _("Unknown action %(action)s.") % {"action": action},
            details={"action": list(transitions.ACTIONS)},
        )
    data = dict(data or {})
    order = get_order(actor, order_id, for_update=True)
    if expected_version is not None and expected_version != order.version:
        raise StaleVersion(details={"current_version": order.version})
    row_action = action
    if action == "qc" and order.state == RepairState.REPAIRING:
        data["_results"] = qc_results(order, data)
        row_action = "qc_pass" if all(p for _c, p, _n in data["_results"]) else "qc_fail"
    move = transitions.find(order.state, row_action)
    if move is None:
        raise InvalidTransition(
            _("Cannot %(action)s a repair order that is %(state)s.")
            % {"action": transitions.label(action).lower(), "state": order.get_state_display()},
            details={"state": order.state, "action": action, "allowed": transitions.available(order.state)},
        )
    if move.permission:
        if portal_merchant_id(actor) is not None or not actor.has_perm(perm(move.permission)):
            raise PermissionDenied()
    else:
        _merchant_decides(actor, order, action)
    outcome = HANDLERS[row_action](actor, order, data)
    now = timezone.now()
    before, after = versions.write(order, now, **(outcome.fields | {"state": move.target}))
    after |= outcome.facts
    reason = str(data.get("note") or data.get("diagnosis") or data.get("done") or action)[:2000]
    record(actor, Change("repair_order", str(order.pk), f"repair.{action}", before, after, reason), at=now)
    return order
