"""The registry: merchants, terminal models, terminals, accessories and contracts (DESIGN.md §1).

Only lifecycle services write `Terminal.state`, `Merchant.state` and `version`; everything else here is
reference data. Settlement card numbers are stored encrypted with their last four digits for display.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.core import crypto
from posfleet.registry.choices import AccessoryKind, MerchantKind, MerchantState, TerminalState

# What a merchant's contract copies from its template when signed (later template edits leave it be).
CONTRACT_TERMS = (
    "min_term_months",
    "deposit_fen",
    "monthly_fee_fen",
    "suspension_fee_fen",
    "reactivation_fee_fen",
    "early_termination_penalty_fen",
    "damage_prices",
)


class ContractTemplate(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    min_term_months = models.PositiveIntegerField(default=12)
    deposit_fen = models.BigIntegerField(default=0)
    monthly_fee_fen = models.BigIntegerField(default=0)
    suspension_fee_fen = models.BigIntegerField(default=0)
    reactivation_fee_fen = models.BigIntegerField(default=0)
    early_termination_penalty_fen = models.BigIntegerField(default=0)
    damage_prices = models.JSONField(default=dict, help_text=_("Damage/loss price in fen per item kind"))

    class Meta:
        verbose_name = _("contract template")

    def __str__(self) -> str:
        return self.name

    def terms(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONTRACT_TERMS}


class Merchant(models.Model):
    kind = models.CharField(max_length=20, choices=MerchantKind.choices)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    contact_name = models.CharField(max_length=100)
    phone = models.CharField(max_length=20)
    email = models.EmailField(blank=True)
    licence_no = models.CharField(max_length=40, blank=True)
    legal_representative = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=300, blank=True)
    settlement_card_enc = models.TextField(blank=True)
    settlement_card_last4 = models.CharField(max_length=4, blank=True)
    state = models.CharField(max_length=10, choices=MerchantState.choices, default=MerchantState.APPLYING)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("merchant")

    def __str__(self) -> str:
        return self.name

    def set_settlement_card(self, number: str) -> None:
        digits = "".join(ch for ch in number if ch.isdigit())
        self.settlement_card_enc = crypto.encrypt(digits)
        self.settlement_card_last4 = digits[-4:] if digits else ""

    @property
    def settlement_card_masked(self) -> str:
        return f"**** **** **** {self.settlement_card_last4}" if self.settlement_card_last4 else ""


class Contract(models.Model):
    merchant = models.OneToOneField(Merchant, on_delete=models.PROTECT, related_name="contract")
    template = models.ForeignKey(ContractTemplate, on_delete=models.PROTECT)
    starts_on = models.DateField(default=timezone.localdate)
    min_term_months = models.PositiveIntegerField()
    deposit_fen = models.BigIntegerField()
    monthly_fee_fen = models.BigIntegerField()
    suspension_fee_fen = models.BigIntegerField()
    reactivation_fee_fen = models.BigIntegerField()
    early_termination_penalty_fen = models.BigIntegerField()
    damage_prices = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.merchant} / {self.template.code}"


class TerminalModel(models.Model):
    manufacturer = models.CharField(max_length=100)
    name = models.CharField(max_length=100, unique=True)
    permitted = models.BooleanField(default=True)
    min_security_patch_level = models.CharField(max_length=10, help_text=_("YYYY-MM-DD"))
    # Prevention and repair: how often a terminal of this model is inspected, the function tests its
    # QC runs after a repair, and the short operating guide that goes with a swap notice.
    inspection_interval_days = models.PositiveIntegerField(_("inspection interval (days)"), default=180)
    qc_checks = models.JSONField(_("QC checklist"), default=list, blank=True)
    operating_guide = models.TextField(_("operating guide"), blank=True)

    class Meta:
        ordering = ["manufacturer", "name"]
        verbose_name = _("terminal model")

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.name}"


class Terminal(models.Model):
    tid = models.CharField("TID", max_length=8, unique=True)
    sn = models.CharField("SN", max_length=40, unique=True)
    model = models.ForeignKey(TerminalModel, on_delete=models.PROTECT, related_name="terminals")
    firmware_version = models.CharField(max_length=40)
    security_patch_level = models.CharField(max_length=10)
    install_address = models.CharField(max_length=300, blank=True)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="terminals"
    )
    state = models.CharField(max_length=12, choices=TerminalState.choices, default=TerminalState.IN_STOCK)
    is_loaner = models.BooleanField(
        _("loaner"), default=False, db_default=False, help_text=_("Lent while a terminal is in repair")
    )
    last_inspected_at = models.DateTimeField(_("last inspected"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("terminal")
        indexes = [
            models.Index(fields=["state", "id"], name="terminal_state_idx"),
            models.Index(fields=["merchant", "id"], name="terminal_merchant_idx"),
            models.Index(fields=["model", "id"], name="terminal_model_idx"),
        ]

    def __str__(self) -> str:
        return self.tid


class Accessory(models.Model):
    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="accessories")
    kind = models.CharField(max_length=10, choices=AccessoryKind.choices)
    serial = models.CharField(max_length=60, blank=True)

    class Meta:
        verbose_name = _("accessory")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial}".strip()
