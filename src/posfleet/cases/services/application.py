"""Applications (重新办理): a new terminal for an existing merchant, or a new merchant with its first.

The path: filed (a new applicant becomes a merchant in state `applying`) → materials by the
applicant's kind → review: approval makes the merchant active and issues the letter; rejection gives
reasons and lets the applicant correct and resubmit → a terminal allocated from stock (`in_progress`) →
shipped (carrier, tracking number, date) → delivered → activated where it is installed (`completed`).
Each step checks everything first and writes nothing on bad input; lifecycle moves go through
`lifecycle.services.apply` / `apply_merchant` with the acting person's own permission (warehouse
allocates, technician activates), except the merchant's activation, a consequence of the approval.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from posfleet.cases.choices import OPEN_STATES, Carrier, CaseKind, CaseState, Reason
from posfleet.cases.models import Application, Case, CaseTerminal
from posfleet.cases.services import letters
from posfleet.cases.services.common import (
    check_version,
    delegate,
    get_case,
    portal_merchant_id,
    require,
    require_staff,
    update_case,
)
from posfleet.cases.services.inputs import CaseInput
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from posfleet.keys.models import KeyState, TerminalKey
from posfleet.lifecycle.services import apply, apply_merchant
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Merchant, Terminal, TerminalModel
from posfleet.registry.services import (
    MerchantInput,
    correct_applying_merchant,
    create_merchant,
    record_installation,
    validate_merchant,
)

TRACKING_RE = re.compile(r"^[A-Za-z0-9-]{6,40}$")
ADDRESS_MAX = 300
Errors = dict[str, list[str]]


def _add(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


# --- filing -------------------------------------------------------------------------------------------


def _check_address(address: str, errors: Errors) -> str:
    text = (address or "").strip()
    if not text:
        _add(errors, "install_address", _("Give the address where the terminal will be installed."))
    elif len(text) > ADDRESS_MAX:
        _add(errors, "install_address", _("At most %(n)s characters.") % {"n": ADDRESS_MAX})
    return text


def _check_model(name: str, errors: Errors) -> TerminalModel | None:
    """The model asked for (None: whatever permitted model the warehouse has)."""
    name = (name or "").strip()
    if not name:
        return None
    model = TerminalModel.objects.filter(name=name).first()
    if model is None or not model.permitted:
        _add(errors, "terminal_model", _("No permitted terminal model %(model)s.") % {"model": name})
        return None
    return model


def _check_applicant(applicant: MerchantInput, errors: Errors) -> None:
    for name, messages in validate_merchant(applicant).items():
        for message in messages:
            _add(errors, f"applicant.{name}", message)
    licence = (applicant.licence_no or "").strip()
    if licence:
        taken = (
            Merchant.objects.filter(licence_no=licence)
            .exclude(state=MerchantState.CLOSED)
            .values_list("pk", flat=True)
            .first()
        )
        if taken is not None:
            _add(
                errors,
                "applicant.licence_no",
                _(
                    "Merchant %(id)s already has this business licence number; "
                    "file the application for that merchant."
                )
                % {"id": taken},
            )


def check_filing(data: CaseInput, own: int | None, errors: Errors) -> tuple[Merchant | None, dict[str, Any]]:
    """Check an application's own fields; returns the existing merchant (None for a new applicant)
    and the cleaned application fields."""
    merchant = None
    if data.terminals:
        _add(errors, "terminals", _("An application asks for a new terminal; leave the terminals empty."))
    if data.applicant is not None and data.merchant_id is not None:
        _add(
            errors,
            "applicant",
            _("Give either merchant_id (an existing merchant) or applicant (a new one), not both."),
        )
    elif data.applicant is not None:
        if own is not None:
            _add(errors, "applicant", _("Your business's data is on record; apply as your business."))
        else:
            _check_applicant(data.applicant, errors)
    elif data.merchant_id is None:
        _add(errors, "merchant_id", _("Name the merchant, or give the new applicant's data."))
    else:
        merchant = Merchant.objects.filter(pk=data.merchant_id).first()
        if merchant is None:
            _add(errors, "merchant_id", _("No such merchant."))
        elif merchant.state == MerchantState.APPLYING:
            if Case.objects.filter(
                merchant=merchant, kind=CaseKind.APPLICATION, state__in=OPEN_STATES
            ).exists():
                _add(errors, "merchant_id", _("This applicant already has an application under way."))
        elif merchant.state != MerchantState.ACTIVE:
            _add(
                errors,
                "merchant_id",
                _("The merchant is %(state)s; a business that closed applies as a new merchant.")
                % {"state": merchant.get_state_display()},
            )
    fields = {
        "install_address": _check_address(data.install_address, errors),
        "terminal_model": _check_model(data.terminal_model, errors),
    }
    return merchant, fields


def default_reason(data: CaseInput) -> str:
    return Reason.NEW_MERCHANT if data.applicant is not None else Reason.ADDITIONAL_TERMINAL


def new_applicant(actor: Actor, applicant: MerchantInput) -> Merchant:
    """The applicant as a merchant in state `applying` (created on behalf of the person filing)."""
    return create_merchant(delegate(actor), applicant)


def record_filing(case: Case, new_merchant: bool, fields: dict[str, Any]) -> dict[str, Any]:
    """The application row of a filed case; returns what the filing's audit event adds."""
    model = fields["terminal_model"]
    Application.objects.create(
        case=case,
        new_merchant=new_merchant,
        install_address=fields["install_address"],
        terminal_model=model,
    )
    return {
        "new_merchant": new_merchant,
        "applicant_kind": case.merchant.kind,
        "install_address": fields["install_address"],
        "terminal_model": model.name if model else None,
    }


# --- review -------------------------------------------------------------------------------------------


def application_of(case: Case) -> Application:
    if case.kind != CaseKind.APPLICATION:
        raise InvalidTransition(_("Only applications have this step."))
    return Application.objects.select_related("terminal_model", "terminal").get(case=case)


def approve(actor: Actor, case: Case, text: str, common: dict[str, Any]) -> None:
    """The merchant becomes active (a new applicant through the merchant table), then the letter."""
    helper = delegate(actor)
    app = application_of(case)
    merchant = Merchant.objects.select_for_update(no_key=True).get(pk=case.merchant_id)
    activated = False
    if merchant.state == MerchantState.APPLYING:
        apply_merchant(
            helper, merchant.pk, "activate", reason=_("Application case #%(id)s approved") % {"id": case.pk}
        )
        activated = True
    elif merchant.state != MerchantState.ACTIVE:
        raise Conflict(
            _("The merchant is %(state)s; only an applying or active merchant can be given a terminal.")
            % {"state": merchant.get_state_display()},
            code="merchant_not_open",
            details={"merchant_state": merchant.state},
        )
    case.merchant.state = MerchantState.ACTIVE
    update_case(
        actor,
        case,
        "approve",
        text,
        extra={"decision": "approve", "merchant_activated": activated},
        state=CaseState.APPROVED,
        **common,
    )
    model = app.terminal_model.name if app.terminal_model else "按库存配发"
    letter_id = letters.issue_confirmation(
        helper, case, extra_lines=[f"安装地址：{app.install_address}", f"机型：{model}"]
    )
    Case.objects.filter(pk=case.pk).update(letter_notice_id=letter_id)
    case.letter_notice_id = letter_id


def resubmit(
    actor: Actor,
    case_id: int,
    *,
    note: str = "",
    install_address: str | None = None,
    terminal_model: str | None = None,
    applicant: MerchantInput | None = None,
    expected_version: int | None = None,
) -> Case:
    """A rejected application corrected and sent back to review (the applicant or an agent for them).

    The applicant's data can be corrected only while the merchant is still applying; an active
    merchant's data is on record.
    """
    case = get_case(actor, case_id, for_update=True)
    own = portal_merchant_id(actor)
    if own is None:
        require(actor, "file_case")
    check_version(case, expected_version)
    app = application_of(case)
    if case.state != CaseState.REJECTED:
        raise InvalidTransition(
            _("Only a rejected application can be resubmitted; this one is %(state)s.")
            % {"state": case.get_state_display()},
            details={"state": case.state},
        )
    errors: Errors = {}
    text = (note or "").strip()
    if len(text) > 2000:
        _add(errors, "note", _("At most %(n)s characters.") % {"n": 2000})
    address = _check_address(install_address, errors) if install_address is not None else None
    model = _check_model(terminal_model, errors) if terminal_model else None
    if applicant is not None:
        if case.merchant.state != MerchantState.APPLYING:
            _add(errors, "applicant", _("The merchant's data is on record; ask an agent to change it."))
        else:
            for name, messages in validate_merchant(applicant).items():
                for message in messages:
                    _add(errors, f"applicant.{name}", message)
    if errors:
        raise ValidationFailed(details=errors)
    changed: dict[str, Any] = {}
    if applicant is not None:
        correct_applying_merchant(delegate(actor), case.merchant_id, applicant)
        changed["applicant"] = True
    if address is not None and address != app.install_address:
        app.install_address = changed["install_address"] = address
    if model is not None and model != app.terminal_model:
        app.terminal_model = model
        changed["terminal_model"] = model.name
    app.save(update_fields=["install_address", "terminal_model"])
    return update_case(
        actor,
        case,
        "reapply",
        text or _("corrected and resubmitted"),
        extra=changed,
        state=CaseState.SUBMITTED,
        decision_reason="",
        decided_at=None,
        decided_by=None,
    )


# --- fulfilment ---------------------------------------------------------------------------------------


def stock_for(model: TerminalModel | None, *, loaner: bool = False) -> QuerySet[Terminal]:
    """Terminals in stock that may go to a merchant: a permitted model at or above its minimum
    security-patch level, keyed or never keyed (one whose keys were destroyed waits for re-keying);
    the newest patch level first. The loaner pool (`loaner=True`) is a stock of its own."""
    destroyed = TerminalKey.objects.filter(state=KeyState.DESTROYED).values("terminal_id")
    live = TerminalKey.objects.filter(state=KeyState.LIVE).values("terminal_id")
    qs = (
        Terminal.objects.filter(
            state=TerminalState.IN_STOCK,
            is_loaner=loaner,  # the loaner pool is lent during repairs, never handed out for good
            model__permitted=True,
            security_patch_level__gte=F("model__min_security_patch_level"),
        )
        .exclude(Q(pk__in=destroyed) & ~Q(pk__in=live))
        .select_related("model")
    )
    if model is not None:
        qs = qs.filter(model=model)
    return qs.order_by("-security_patch_level", "id")


def _step(case: Case, state: str, message: str) -> None:
    if case.state != state:
        raise InvalidTransition(message, details={"state": case.state})


def _pick(app: Application, tid: str | None) -> Terminal:
    model = app.terminal_model
    if not tid:
        terminal = stock_for(model).first()
        if terminal is None:
            message = (
                _("No %(model)s terminal is in stock.") % {"model": model.name}
                if model
                else _("No terminal of a permitted model is in stock.")
            )
            raise Conflict(message, code="no_stock", details={"model": model.name if model else None})
        return terminal
    terminal = Terminal.objects.select_related("model").filter(tid=tid.strip().upper()).first()
    if terminal is None:
        raise ValidationFailed(details={"tid": [_("No terminal with TID %(tid)s.") % {"tid": tid}]})
    if model is not None and terminal.model_id != model.pk:
        raise ValidationFailed(
            details={
                "tid": [
                    _("Terminal %(tid)s is a %(have)s; the application asks for a %(want)s.")
                    % {"tid": terminal.tid, "have": terminal.model.name, "want": model.name}
                ]
            }
        )
    if terminal.security_patch_level < terminal.model.min_security_patch_level:
        raise ValidationFailed(
            details={
                "tid": [
                    _("Terminal %(tid)s is below its model's minimum security-patch level.")
                    % {"tid": terminal.tid}
                ]
            }
        )
    return terminal


def allocate(
    actor: Actor, case_id: int, *, tid: str | None = None, expected_version: int | None = None
) -> Case:
    """Warehouse: bind a terminal from stock to the merchant (the given TID, or the best in stock)."""
    require_staff(actor, "allocate_terminal")
    case = get_case(actor, case_id, for_update=True)
    check_version(case, expected_version)
    app = application_of(case)
    _step(
        case,
        CaseState.APPROVED,
        _("A terminal is allocated once the application is approved, and only once."),
    )
    terminal = _pick(app, tid)
    reason = _("Application case #%(id)s") % {"id": case.pk}
    apply(actor, terminal.tid, "allocate", reason=reason, merchant=case.merchant)
    now = timezone.now()
    app.terminal, app.allocated_at = terminal, now
    app.save(update_fields=["terminal", "allocated_at"])
    CaseTerminal.objects.create(case=case, terminal=terminal)
    return update_case(
        actor,
        case,
        "allocate",
        terminal.tid,
        extra={"tid": terminal.tid, "model": terminal.model.name},
        state=CaseState.IN_PROGRESS,
    )


def _allocated(case: Case, app: Application) -> Terminal:
    _step(case, CaseState.IN_PROGRESS, _("Allocate a terminal to the approved application first."))
    assert app.terminal is not None  # in progress means allocated
    return app.terminal


def _check_day(value: date | None, name: str, earliest: date, errors: Errors) -> None:
    if value is None:
        _add(errors, name, _("This field is required."))
    elif value > timezone.localdate():
        _add(errors, name, _("The date cannot be in the future."))
    elif value < earliest:
        _add(errors, name, _("The date cannot be before %(day)s.") % {"day": earliest.isoformat()})


def carrier_zh(carrier: str) -> str:
    with translation.override("zh-hans"):
        return str(Carrier(carrier).label) if carrier in Carrier.values else carrier


def ship(
    actor: Actor,
    case_id: int,
    *,
    carrier: str,
    tracking_no: str = "",
    shipped_on: date | None = None,
    expected_version: int | None = None,
) -> Case:
    """Warehouse: the terminal left for the merchant (carrier, tracking number, date)."""
    require_staff(actor, "ship_terminal")
    case = get_case(actor, case_id, for_update=True)
    check_version(case, expected_version)
    app = application_of(case)
    terminal = _allocated(case, app)
    if app.shipped_on is not None:
        raise InvalidTransition(_("The terminal was already shipped."), code="already_shipped")
    errors: Errors = {}
    if carrier not in Carrier.values:
        _add(errors, "carrier", _("Choose one of: %(c)s.") % {"c": ", ".join(Carrier.values)})
    tracking = (tracking_no or "").strip()
    if carrier != Carrier.IN_PERSON and not TRACKING_RE.match(tracking):
        _add(errors, "tracking_no", _("Give the carrier's tracking number (6 to 40 letters, digits or '-')."))
    elif tracking and not TRACKING_RE.match(tracking):
        _add(errors, "tracking_no", _("6 to 40 letters, digits or '-'."))
    allocated = timezone.localdate(app.allocated_at) if app.allocated_at else timezone.localdate()
    _check_day(shipped_on, "shipped_on", allocated, errors)
    if errors:
        raise ValidationFailed(details=errors)
    assert shipped_on is not None
    app.carrier, app.tracking_no, app.shipped_on = carrier, tracking, shipped_on
    app.save(update_fields=["carrier", "tracking_no", "shipped_on"])
    update_case(
        actor,
        case,
        "ship",
        f"{terminal.tid} {tracking}".strip(),
        extra={
            "tid": terminal.tid,
            "carrier": carrier,
            "tracking_no": tracking,
            "shipped_on": shipped_on.isoformat(),
        },
    )
    letters.notify(
        delegate(actor),
        case,
        f"您申请的终端已发出（申请编号 {case.pk}）",
        f"终端 {terminal.tid} 已于 {shipped_on.isoformat()} 发出，承运方：{carrier_zh(carrier)}"
        + (f"，运单号：{tracking}" if tracking else "")
        + f"。安装地址：{app.install_address}。到货后技术人员将上门安装开通。",
    )
    return case


def deliver(
    actor: Actor, case_id: int, *, delivered_on: date | None = None, expected_version: int | None = None
) -> Case:
    """The terminal arrived at the installation address (warehouse from the carrier, or the technician)."""
    require_staff(actor, "ship_terminal", "activate_terminal")
    case = get_case(actor, case_id, for_update=True)
    check_version(case, expected_version)
    app = application_of(case)
    terminal = _allocated(case, app)
    if app.shipped_on is None:
        raise InvalidTransition(_("Record the shipment before the delivery."), code="not_shipped")
    if app.delivered_on is not None:
        raise InvalidTransition(_("The delivery was already recorded."), code="already_delivered")
    errors: Errors = {}
    _check_day(delivered_on, "delivered_on", app.shipped_on, errors)
    if errors:
        raise ValidationFailed(details=errors)
    assert delivered_on is not None
    app.delivered_on = delivered_on
    app.save(update_fields=["delivered_on"])
    return update_case(
        actor,
        case,
        "deliver",
        f"{terminal.tid} {delivered_on.isoformat()}",
        extra={"tid": terminal.tid, "delivered_on": delivered_on.isoformat()},
    )


def activate(actor: Actor, case_id: int, *, expected_version: int | None = None) -> Case:
    """Technician: installed at the application's address and activated; the application is done."""
    require_staff(actor, "activate_terminal")
    case = get_case(actor, case_id, for_update=True)
    check_version(case, expected_version)
    app = application_of(case)
    terminal = _allocated(case, app)
    if app.delivered_on is None:
        raise Conflict(
            _("The terminal has not been delivered yet; record its delivery before activating it."),
            code="not_delivered",
        )
    reason = _("Installed at %(address)s (application case #%(id)s)") % {
        "address": app.install_address,
        "id": case.pk,
    }
    terminal = apply(actor, terminal.tid, "activate", reason=reason)
    record_installation(actor, terminal, app.install_address, reason)
    now = timezone.now()
    app.activated_at = now
    app.save(update_fields=["activated_at"])
    update_case(
        actor,
        case,
        "activate",
        terminal.tid,
        extra={"tid": terminal.tid},
        state=CaseState.COMPLETED,
        completed_at=now,
    )
    letters.notify(
        delegate(actor),
        case,
        f"终端已开通（申请编号 {case.pk}）",
        f"终端 {terminal.tid} 已在 {app.install_address} 安装开通，现在可以收款。",
    )
    return case


def get_application(actor: Actor, case_id: int) -> Application:
    case = get_case(actor, case_id)
    app = Application.objects.select_related("terminal_model", "terminal").filter(case=case).first()
    if app is None:
        raise NotFound(_("Case %(id)s is not an application.") % {"id": case_id})
    return app
