"""Request and response shapes of the registry API: merchants, their contracts, terminal models,
terminals and the CSV import.

Field names other systems script against are fixed; fields may be added, never renamed. Outputs are
built by the `*_out` functions from model rows, so every router renders them the same way and the
settlement card is only ever shown masked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field

from posfleet.registry.models import Contract, Merchant, Terminal, TerminalModel


# --- merchants ----------------------------------------------------------------------------------------
class MerchantIn(Schema):
    kind: str
    name: str
    contact_name: str
    phone: str
    email: str = ""
    licence_no: str = ""
    legal_representative: str = ""
    settlement_card: str = Field("", description="Card number; stored encrypted, only ever shown masked")
    address: str = ""
    contract_template: str | None = Field(None, description="Template code; the default template if omitted")
    rate_plan: str | None = Field(None, description="Rate plan code; the default plan if omitted")
    settlement_mode: str | None = Field(None, description='"T1" (default) or "D0"')


class ContractOut(Schema):
    template: str
    starts_on: date
    min_term_months: int
    deposit_fen: int
    monthly_fee_fen: int
    suspension_fee_fen: int
    reactivation_fee_fen: int
    early_termination_penalty_fen: int
    damage_prices: dict[str, int] = Field(description="Damage/loss price in fen per item kind")


class MerchantOut(Schema):
    id: int
    kind: str
    name: str
    contact_name: str
    phone: str
    email: str
    licence_no: str
    legal_representative: str
    address: str
    settlement_card: str = Field(description="Masked: **** **** **** 1234")
    state: str
    version: int
    contract_template: str | None = None
    contract: ContractOut | None = None
    created_at: datetime


class MerchantPage(Schema):
    items: list[MerchantOut]
    next_cursor: str | None


def _contract_out(c: Contract) -> dict[str, Any]:
    return {
        "template": c.template.code,
        "starts_on": c.starts_on,
        "min_term_months": c.min_term_months,
        "deposit_fen": c.deposit_fen,
        "monthly_fee_fen": c.monthly_fee_fen,
        "suspension_fee_fen": c.suspension_fee_fen,
        "reactivation_fee_fen": c.reactivation_fee_fen,
        "early_termination_penalty_fen": c.early_termination_penalty_fen,
        "damage_prices": dict(c.damage_prices or {}),
    }


def merchant_queryset() -> QuerySet[Merchant]:
    """Merchants with what `merchant_out` reads (contract and template) selected: one query per page."""
    return Merchant.objects.select_related("contract__template")


def merchant_out(m: Merchant) -> dict[str, Any]:
    """Needs `contract__template` selected (`merchant_queryset`) to stay one query per page."""
    try:
        contract: Contract | None = m.contract
    except Contract.DoesNotExist:
        contract = None
    return {
        "id": m.pk,
        "kind": m.kind,
        "name": m.name,
        "contact_name": m.contact_name,
        "phone": m.phone,
        "email": m.email,
        "licence_no": m.licence_no,
        "legal_representative": m.legal_representative,
        "address": m.address,
        "settlement_card": m.settlement_card_masked,
        "state": m.state,
        "version": m.version,
        "contract_template": contract.template.code if contract is not None else None,
        "contract": _contract_out(contract) if contract is not None else None,
        "created_at": m.created_at,
    }


# --- terminals ----------------------------------------------------------------------------------------
class TerminalModelOut(Schema):
    id: int
    name: str
    manufacturer: str
    permitted: bool
    min_security_patch_level: str


class TerminalModelPage(Schema):
    items: list[TerminalModelOut]
    next_cursor: str | None


class TerminalIn(Schema):
    tid: str = Field(description="Exactly 8 characters: digits or capital letters")
    sn: str
    model: str = Field(description="Terminal model name, see GET /terminal-models")
    firmware_version: str
    security_patch_level: str = Field(description="YYYY-MM-DD")
    install_address: str = ""
    accessories: list[str] = Field(
        default_factory=list, description="printer, scanner, base, charger, sim, other"
    )


class TerminalOut(Schema):
    id: int
    tid: str
    sn: str
    model: str
    firmware_version: str
    security_patch_level: str
    install_address: str
    merchant_id: int | None
    state: str
    version: int
    updated_at: datetime


class TerminalPage(Schema):
    items: list[TerminalOut]
    next_cursor: str | None


class AccessoryOut(Schema):
    kind: str
    serial: str


class ImportRejected(Schema):
    line: int
    tid: str
    errors: dict[str, list[str]]


class ImportOut(Schema):
    imported: int
    rejected: list[ImportRejected]


def terminal_out(t: Terminal) -> dict[str, Any]:
    return {
        "id": t.pk,
        "tid": t.tid,
        "sn": t.sn,
        "model": t.model.name,
        "firmware_version": t.firmware_version,
        "security_patch_level": t.security_patch_level,
        "install_address": t.install_address,
        "merchant_id": t.merchant_id,
        "state": t.state,
        "version": t.version,
        "updated_at": t.updated_at,
    }


def model_out(m: TerminalModel) -> dict[str, Any]:
    return {
        "id": m.pk,
        "name": m.name,
        "manufacturer": m.manufacturer,
        "permitted": m.permitted,
        "min_security_patch_level": m.min_security_patch_level,
    }
