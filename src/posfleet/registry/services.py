"""Creating merchants and registering terminals: validation, contract from template, audit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed
from posfleet.registry.choices import AccessoryKind, MerchantKind, MerchantState, TerminalState
from posfleet.registry.models import Accessory, Contract, ContractTemplate, Merchant, Terminal, TerminalModel
from posfleet.registry.signals import merchant_created

TID_RE = re.compile(r"^[0-9A-Z]{8}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{6,19}$")
PATCH_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TAKEN_CHUNK = 450  # items a query when looking for TIDs and SNs already registered: 900 parameters at most


def _require(actor: Actor, codename: str) -> None:
    if not actor.has_perm(perm(codename)):
        raise PermissionDenied()


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


@dataclass
class MerchantInput:
    kind: str
    name: str
    contact_name: str
    phone: str
    email: str = ""
    licence_no: str = ""
    legal_representative: str = ""
    settlement_card: str = ""
    address: str = ""
    contract_template: str | None = None
    rate_plan: str | None = None  # money: plan code, None = the default plan (STANDARD)
    settlement_mode: str | None = None  # money: "T1" (default) or "D0"


def validate_merchant(data: MerchantInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def bad(field: str, msg: str) -> None:
        errors.setdefault(field, []).append(msg)

    if data.kind not in MerchantKind.values:
        bad("kind", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(MerchantKind.values)})
    for field in ("name", "contact_name", "phone"):
        if not str(getattr(data, field) or "").strip():
            bad(field, _("This field is required."))
    if len(data.name) > 200:
        bad("name", _("At most 200 characters."))
    if data.phone and not PHONE_RE.match(data.phone.strip()):
        bad("phone", _("Enter a valid phone number."))
    if data.email:
        try:
            validate_email(data.email)
        except DjangoValidationError:
            bad("email", _("Enter a valid e-mail address."))
    if data.kind in (MerchantKind.SOLE_PROPRIETOR, MerchantKind.ENTERPRISE) and not data.licence_no.strip():
        bad("licence_no", _("A business licence number is required for businesses."))
    if data.kind == MerchantKind.ENTERPRISE and not data.legal_representative.strip():
        bad("legal_representative", _("A legal representative is required for enterprises."))
    if data.settlement_card:
        digits = re.sub(r"[\s-]", "", data.settlement_card)
        if not digits.isdigit() or not 12 <= len(digits) <= 19 or not _luhn_ok(digits):
            bad("settlement_card", _("Enter a valid bank card number."))
    return errors


def default_template() -> ContractTemplate:
    """The template a merchant gets when none is named; shipped on first use.

    Two first merchants created at the same moment both try to ship it: the loser's INSERT fails on the
    unique code inside a savepoint and it reads the winner's row instead of failing the request.
    """
    template = ContractTemplate.objects.filter(is_default=True).order_by("id").first()
    if template is not None:
        return template
    try:
        with transaction.atomic():
            return _ship_default_template()
    except IntegrityError:
        return ContractTemplate.objects.get(code="STANDARD-2026")


def _ship_default_template() -> ContractTemplate:
    return ContractTemplate.objects.create(
        code="STANDARD-2026",
        name="标准POS服务合同",
        is_default=True,
        min_term_months=12,
        deposit_fen=29900,
        monthly_fee_fen=0,
        suspension_fee_fen=2000,
        reactivation_fee_fen=5000,
        early_termination_penalty_fen=20000,
        damage_prices={
            "terminal": 80000,
            "printer": 15000,
            "scanner": 12000,
            "base": 5000,
            "charger": 3000,
            "sim": 1000,
            "other": 5000,
        },
    )


def create_merchant(actor: Actor, data: MerchantInput) -> Merchant:
    _require(actor, "manage_merchant")
    errors = validate_merchant(data)
    template = None
    if data.contract_template:
        template = ContractTemplate.objects.filter(code=data.contract_template).first()
        if template is None:
            errors.setdefault("contract_template", []).append(_("No such contract template."))
    if errors:
        raise ValidationFailed(details=errors)
    template = template or default_template()
    merchant = Merchant(
        kind=data.kind,
        name=data.name.strip(),
        contact_name=data.contact_name.strip(),
        phone=data.phone.strip(),
        email=data.email.strip(),
        licence_no=data.licence_no.strip(),
        legal_representative=data.legal_representative.strip(),
        address=data.address.strip(),
        state=MerchantState.APPLYING,
    )
    if data.settlement_card:
        merchant.set_settlement_card(data.settlement_card)
    merchant.save()
    Contract.objects.create(merchant=merchant, template=template, **template.terms())
    after = {
        "kind": merchant.kind,
        "name": merchant.name,
        "state": merchant.state,
        "contract": template.code,
        "settlement_card": merchant.settlement_card_masked,
    }
    record(actor, Change("merchant", str(merchant.pk), "merchant.create", None, after, "created"))

    # In the transaction: the money app assigns the rate plan; a listener raising ValidationFailed undoes all.
    merchant_created.send(sender=Merchant, merchant=merchant, data=data, actor=actor)
    return merchant


# The applicant's data a merchant still applying may correct (contract and plan stay as created).
CORRECTABLE = (
    "kind",
    "name",
    "contact_name",
    "phone",
    "email",
    "licence_no",
    "legal_representative",
    "address",
)


def correct_applying_merchant(actor: Actor, merchant_id: int, data: MerchantInput) -> Merchant:
    """Correct the data of a merchant that is still applying (a rejected application resubmitted).

    Once a merchant is active its data is on record and this refuses; the settlement card is replaced
    only when a new number is given. The audit event names the fields that changed, never the card.
    """
    _require(actor, "manage_merchant")
    errors = validate_merchant(data)
    if errors:
        raise ValidationFailed(details=errors)
    merchant = Merchant.objects.select_for_update(no_key=True).filter(pk=merchant_id).first()
    if merchant is None:
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
    if merchant.state != MerchantState.APPLYING:
        raise ValidationFailed(
            _("Only the data of a merchant that is still applying can be corrected here."),
            details={
                "merchant_id": [_("The merchant is %(state)s.") % {"state": merchant.get_state_display()}]
            },
        )
    before = {f: getattr(merchant, f) for f in CORRECTABLE}
    for f in CORRECTABLE:
        setattr(merchant, f, str(getattr(data, f) or "").strip())
    changed = [f for f in CORRECTABLE if before[f] != getattr(merchant, f)]
    if data.settlement_card:
        old_last4 = merchant.settlement_card_last4
        merchant.set_settlement_card(data.settlement_card)
        changed.append("settlement_card")
        before["settlement_card"] = f"**** {old_last4}" if old_last4 else ""
    if not changed:
        return merchant
    merchant.save(update_fields=[*CORRECTABLE, "settlement_card_enc", "settlement_card_last4"])
    after = {f: getattr(merchant, f) for f in changed if f != "settlement_card"}
    if "settlement_card" in changed:
        after["settlement_card"] = merchant.settlement_card_masked
    record(
        actor,
        Change(
            "merchant",
            str(merchant.pk),
            "merchant.correct",
            {f: before[f] for f in changed},
            after,
            "corrected while applying",
        ),
    )
    return merchant


def get_merchant(merchant_id: int) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
    return merchant


@dataclass
class TerminalInput:
    tid: str
    sn: str
    model: str
    firmware_version: str
    security_patch_level: str
    install_address: str = ""
    accessories: tuple[str, ...] = ()


def validate_terminal(data: TerminalInput, models_by_name: dict[str, TerminalModel]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def bad(field: str, msg: str) -> None:
        errors.setdefault(field, []).append(msg)

    if not TID_RE.match(data.tid or ""):
        bad("tid", _("A TID is exactly 8 characters: digits or capital letters."))
    if not (data.sn or "").strip() or len(data.sn) > 40:
        bad("sn", _("A serial number of 1 to 40 characters is required."))
    if data.model not in models_by_name:
        bad("model", _("Unknown terminal model %(model)s.") % {"model": data.model})
    if not (data.firmware_version or "").strip():
        bad("firmware_version", _("This field is required."))
    if not PATCH_RE.match(data.security_patch_level or ""):
        bad("security_patch_level", _("Use the form YYYY-MM-DD."))
    for item in data.accessories:
        if item not in AccessoryKind.values:
            bad("accessories", _("Unknown accessory %(item)s.") % {"item": item})
    return errors


def _terminal_objects(data: TerminalInput, model: TerminalModel) -> Terminal:
    return Terminal(
        tid=data.tid,
        sn=data.sn.strip(),
        model=model,
        firmware_version=data.firmware_version.strip(),
        security_patch_level=data.security_patch_level,
        install_address=data.install_address.strip(),
        state=TerminalState.IN_STOCK,
    )


def record_installation(actor: Actor, terminal: Terminal, address: str, reason: str) -> Terminal:
    """Where a terminal is installed (the address the merchant gave), with its audit event."""
    if not (actor.has_perm(perm("activate_terminal")) or actor.has_perm(perm("register_terminal"))):
        raise PermissionDenied()
    text = (address or "").strip()
    if not text or len(text) > 300:
        raise ValidationFailed(
            details={"install_address": [_("An address of 1 to 300 characters is required.")]}
        )
    before = terminal.install_address
    if text == before:
        return terminal
    Terminal.objects.filter(pk=terminal.pk).update(install_address=text)
    terminal.install_address = text
    record(
        actor,
        Change(
            "terminal",
            terminal.tid,
            "terminal.install",
            {"install_address": before},
            {"install_address": text},
            reason,
        ),
    )
    return terminal


def batch_problems(
    items: Sequence[TerminalInput], models_by_name: dict[str, TerminalModel]
) -> list[dict[str, list[str]]]:
    """Each item's problems (empty when none): its own fields, then a TID or SN already registered or,
    if not, one an earlier item of the batch has."""
    taken_tid: set[str] = set()
    taken_sn: set[str] = set()
    for start in range(0, len(items), TAKEN_CHUNK):
        chunk = items[start : start + TAKEN_CHUNK]
        taken = Terminal.objects.filter(
            Q(tid__in={i.tid for i in chunk}) | Q(sn__in={i.sn for i in chunk})
        ).values_list("tid", "sn")
        for tid, sn in taken:
            taken_tid.add(tid)
            taken_sn.add(sn)
    seen_tid: set[str] = set()
    seen_sn: set[str] = set()
    problems = []
    for item in items:
        errors = validate_terminal(item, models_by_name)
        if item.tid in taken_tid:
            errors.setdefault("tid", []).append(_("TID %(tid)s is already registered.") % {"tid": item.tid})
        elif item.tid in seen_tid:
            errors.setdefault("tid", []).append(_("TID %(tid)s appears twice.") % {"tid": item.tid})
        if item.sn in taken_sn:
            errors.setdefault("sn", []).append(_("SN %(sn)s is already registered.") % {"sn": item.sn})
        elif item.sn in seen_sn:
            errors.setdefault("sn", []).append(_("SN %(sn)s appears twice.") % {"sn": item.sn})
        seen_tid.add(item.tid)
        seen_sn.add(item.sn)
        problems.append(errors)
    return problems


def register_terminals(
    actor: Actor, items: list[TerminalInput], *, reason: str = "registered"
) -> list[Terminal]:
    """Register terminals into stock; all or nothing. Errors are keyed by the item's position."""
    _require(actor, "register_terminal")
    models_by_name = {m.name: m for m in TerminalModel.objects.all()}
    errors = {str(i): e for i, e in enumerate(batch_problems(items, models_by_name)) if e}
    if errors:
        raise ValidationFailed(details=errors)
    terminals = [_terminal_objects(item, models_by_name[item.model]) for item in items]
    Terminal.objects.bulk_create(terminals, batch_size=2000)
    by_tid = dict(Terminal.objects.filter(tid__in=[t.tid for t in terminals]).values_list("tid", "id"))
    accessories = [
        Accessory(terminal_id=by_tid[item.tid], kind=kind) for item in items for kind in item.accessories
    ]
    Accessory.objects.bulk_create(accessories, batch_size=2000)
    for t in terminals:
        t.pk = by_tid[t.tid]
    record(
        actor,
        [
            Change(
                "terminal",
                t.tid,
                "terminal.register",
                None,
                {"state": t.state, "sn": t.sn, "model": t.model.name, "version": t.version},
                reason,
            )
            for t in terminals
        ],
    )
    return terminals
