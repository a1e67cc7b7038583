"""What a merchant's contract charges, as lines a person reads before committing to anything: the
fees, the deposit, the early-termination penalty and the damage/loss price of each item lent.

The contract stores fen and item kinds; these lines carry their label and the amount in fen (pages
format it in yuan). Which lines matter for a request is decided here, not in the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from posfleet.registry.choices import AccessoryKind, Condition
from posfleet.registry.models import Contract, Merchant


@dataclass(frozen=True)
class Price:
    label: str
    fen: int
    note: str = ""


def contract_of(merchant: Merchant | int) -> Contract | None:
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    return Contract.objects.filter(merchant_id=merchant_id).order_by("-pk").first()


def item_label(kind: str) -> str:
    if kind == "terminal":
        return _("Terminal")
    return str(dict(AccessoryKind.choices).get(kind, kind))


def damage_charge(contract: Contract | None, kind: str, condition: str) -> int:
    """Fen a merchant owes for an item of `kind` lent under `contract` that comes back in `condition`:
    nothing when good, else the contract's damage/loss price for the kind (or for `other`)."""
    if condition == Condition.GOOD or contract is None:
        return 0
    prices = contract.damage_prices or {}
    return int(prices.get(kind, prices.get("other", 0)))


def damage_lines(contract: Contract) -> list[Price]:
    prices: dict[str, Any] = contract.damage_prices or {}
    return [Price(_("Damage or loss: %(item)s") % {"item": item_label(k)}, int(v)) for k, v in prices.items()]


def all_lines(contract: Contract) -> list[Price]:
    return [
        Price(_("Deposit"), contract.deposit_fen),
        Price(_("Monthly service fee"), contract.monthly_fee_fen),
        Price(_("Suspension fee"), contract.suspension_fee_fen),
        Price(_("Reactivation fee"), contract.reactivation_fee_fen),
        Price(
            _("Early-termination penalty"),
            contract.early_termination_penalty_fen,
            _("if the contract ends within %(n)d months") % {"n": contract.min_term_months},
        ),
        *damage_lines(contract),
    ]


def for_request(merchant: Merchant | int, kind: str) -> list[Price]:
    """The costs a request of `kind` may bring, from the merchant's contract (empty without one)."""
    contract = contract_of(merchant)
    if contract is None:
        return []
    if kind == "suspension":
        return [
            Price(_("Suspension fee"), contract.suspension_fee_fen),
            Price(_("Reactivation fee (when you ask to resume)"), contract.reactivation_fee_fen),
        ]
    if kind == "reactivation":
        return [Price(_("Reactivation fee"), contract.reactivation_fee_fen)]
    if kind in {"deactivation", "closure"}:
        return [
            Price(
                _("Early-termination penalty"),
                contract.early_termination_penalty_fen,
                _("if the contract ends within %(n)d months of %(start)s")
                % {"n": contract.min_term_months, "start": contract.starts_on.isoformat()},
            ),
            Price(_("Deposit held (deductions are taken from it, the rest refunded)"), contract.deposit_fen),
            *damage_lines(contract),
        ]
    if kind == "application":
        return [
            Price(_("Deposit"), contract.deposit_fen),
            Price(_("Monthly service fee"), contract.monthly_fee_fen),
        ]
    return []
