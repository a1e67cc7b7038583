"""Request and response shapes of the core API (registry, lifecycle, holds, audit).

Field names other systems script against are fixed by issue 2 §7; fields may be added, never renamed.
Outputs are built by the `*_out` functions from model rows, so every router renders the same way and
the settlement card is only ever shown masked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from posfleet.lifecycle.models import Hold
from posfleet.registry.models import Contract, Merchant, Terminal, TerminalModel


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorDetail


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


def merchant_out(m: Merchant) -> dict[str, Any]:
    """Needs `contract__template` selected (select_related) to stay one query per page."""
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


class HoldOut(Schema):
    id: int
    kind: str
    reason: str
    on_merchant: bool
    bulk: bool = Field(description="Placed on many terminals at once (`tid` is then null)")
    tid: str | None
    merchant_id: int | None
    placed_by: str | None
    placed_at: datetime
    starts_at: datetime
    ends_at: datetime | None
    released_at: datetime | None
    release_reason: str
    in_force: bool
    version: int


class HoldPage(Schema):
    items: list[HoldOut]
    next_cursor: str | None


class TerminalDetailOut(TerminalOut):
    merchant_name: str | None
    accessories: list[AccessoryOut]
    holds: list[HoldOut] = Field(description="Holds in force or scheduled, on the terminal or its merchant")


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


def hold_out(h: Hold, now: datetime | None = None) -> dict[str, Any]:
    """Needs `terminal` and `placed_by` selected (select_related) to stay one query per page."""
    return {
        "id": h.pk,
        "kind": h.kind,
        "reason": h.reason,
        "on_merchant": h.on_merchant,
        "bulk": h.bulk,
        "tid": h.terminal.tid if h.terminal_id is not None and h.terminal is not None else None,
        "merchant_id": h.merchant_id,
        "placed_by": h.placed_by.get_username() if h.placed_by_id is not None and h.placed_by else None,
        "placed_at": h.placed_at,
        "starts_at": h.starts_at,
        "ends_at": h.ends_at,
        "released_at": h.released_at,
        "release_reason": h.release_reason,
        "in_force": h.in_force(now or timezone.now()),
        "version": h.version,
    }


# --- lifecycle ----------------------------------------------------------------------------------------
class ReasonIn(Schema):
    reason: str


class AllocateIn(Schema):
    merchant_id: int
    reason: str


class BulkHoldIn(Schema):
    tids: list[str] = Field(description="1 to 100000 TIDs; more than one needs step-up")
    kind: str
    reason: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class BulkHoldOut(Schema):
    placed: int = Field(description="Terminals under the hold")
    hold_id: int = Field(description="The hold: one for all of them (an ordinary terminal hold for one)")


class ReleaseIn(Schema):
    reason: str
    tid: str | None = Field(None, description="Release a bulk hold for this terminal only")


class HoldIn(Schema):
    kind: str = Field(description="merchant_suspension, maintenance, risk_freeze, compliance or fault")
    reason: str
    starts_at: datetime | None = Field(None, description="ISO 8601 with offset; now if omitted")
    ends_at: datetime | None = Field(None, description="ISO 8601 with offset; open-ended if omitted")


class EligibilityReason(Schema):
    code: str
    iso_response_code: str
    kind: str | None = None
    hold_id: int | None = None


class EligibilityOut(Schema):
    tid: str
    allowed: bool
    reasons: list[EligibilityReason]
    iso_response_code: str


class RefusedAttemptOut(Schema):
    id: int
    tid: str
    at: datetime
    response_code: str
    reasons: list[dict[str, Any]]


class RefusedAttemptPage(Schema):
    items: list[RefusedAttemptOut]
    next_cursor: str | None


# --- audit --------------------------------------------------------------------------------------------
class AuditEventOut(Schema):
    seq: int
    occurred_at: datetime
    actor_type: str
    actor_name: str
    role: str
    channel: str
    object_type: str
    object_id: str
    action: str
    before: Any = None
    after: Any = None
    reason: str
    request_id: str
    hash: str


class AuditPage(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None
