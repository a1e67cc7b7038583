"""Request and response shapes of the registry API: merchants, their contracts, terminal models,
terminals and the CSV import.

Field names other systems script against are fixed; fields may be added, never renamed. Outputs are
read from the model rows by the `*Out` schemas, so every router renders them the same way and the
settlement card is only ever shown masked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, Field

from posfleet.api.fields import ANY_TEXT, Tid, optional_text, text
from posfleet.registry.choices import AccessoryKind, MerchantKind
from posfleet.registry.models import Contract, Merchant

PHONE_PATTERN = r"^\+?[0-9][0-9\- ]{6,19}$"  # services.PHONE_RE


# --- merchants ----------------------------------------------------------------------------------------
def _email(value: str) -> str:
    """Django's e-mail check, so the field is refused with the others (the document says: text)."""
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError(_("Enter a valid e-mail address.")) from None
    return value


class MerchantFields(Schema):
    """What describes a merchant, alike whether staff register it or it applies for its first terminal."""

    kind: MerchantKind
    name: str = text(200)
    contact_name: str = text(100)
    phone: str = Field(pattern=PHONE_PATTERN, max_length=20, description="Digits, spaces or dashes; + first")
    email: Annotated[str, AfterValidator(_email)] = optional_text(254)
    licence_no: str = optional_text(40, description="Required for sole proprietors and enterprises")
    legal_representative: str = optional_text(100, description="Required for enterprises")
    settlement_card: str = Field(
        "",
        max_length=40,
        pattern=r"^[0-9 -]*$",
        description="Card number (12 to 19 digits, Luhn); stored encrypted, only ever shown masked",
    )
    address: str = optional_text(300, description="Business address")


class MerchantIn(MerchantFields):
    contract_template: str | None = Field(
        None, max_length=40, pattern=ANY_TEXT, description="Template code; the default template if omitted"
    )
    rate_plan: str | None = Field(
        None, max_length=40, pattern=ANY_TEXT, description="Rate plan code; the default plan if omitted"
    )
    settlement_mode: Literal["T1", "D0"] | None = Field(None, description='"T1" (default) or "D0"')


class ContractOut(Schema):
    template: str = Field(alias="template.code")
    starts_on: date
    min_term_months: int
    deposit_fen: int
    monthly_fee_fen: int
    suspension_fee_fen: int
    reactivation_fee_fen: int
    early_termination_penalty_fen: int
    damage_prices: dict[str, int] = Field(description="Damage/loss price in fen per item kind")

    @staticmethod
    def resolve_damage_prices(c: Contract) -> dict[str, int]:
        return dict(c.damage_prices or {})


def _contract_of(m: Merchant) -> Contract | None:
    try:
        return m.contract
    except Contract.DoesNotExist:
        return None


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
    settlement_card: str = Field(alias="settlement_card_masked", description="Masked: **** **** **** 1234")
    state: str
    version: int
    contract_template: str | None = None
    contract: ContractOut | None = None
    created_at: datetime

    @staticmethod
    def resolve_contract_template(m: Merchant) -> str | None:
        contract = _contract_of(m)
        return contract.template.code if contract is not None else None

    @staticmethod
    def resolve_contract(m: Merchant) -> Contract | None:
        return _contract_of(m)


class MerchantPage(Schema):
    items: list[MerchantOut]
    next_cursor: str | None


def merchant_queryset() -> QuerySet[Merchant]:
    """Merchants with what `MerchantOut` reads (contract and template) selected: one query per page."""
    return Merchant.objects.select_related("contract__template")


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
    tid: Tid
    sn: str = text(40)
    model: str = Field(
        min_length=1,
        max_length=100,
        pattern=ANY_TEXT,
        description="Terminal model name, see GET /terminal-models",
    )
    firmware_version: str = text(40)
    security_patch_level: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="YYYY-MM-DD")
    install_address: str = optional_text(300)
    accessories: list[AccessoryKind] = Field(default_factory=list, max_length=20)


class TerminalOut(Schema):  # needs `model` selected to stay one query per page
    id: int
    tid: str
    sn: str
    model: str = Field(alias="model.name")
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
