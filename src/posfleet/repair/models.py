"""Faults, repair orders and what hangs on them: evidence, quotes, steps with parts, QC results, loaners
and swaps. Only `services.orders.apply()` writes `RepairOrder.state` (the table in `transitions`).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.cases.models import files_dir
from posfleet.registry.choices import Condition
from posfleet.registry.models import Merchant, Terminal
from posfleet.repair.choices import (
    FaultCategory,
    Frequency,
    LoanerState,
    QuoteState,
    RepairState,
    SwapKind,
    Symptom,
    Where,
)

USER = settings.AUTH_USER_MODEL


class Fault(models.Model):
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="faults")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="faults")
    tid = models.CharField("TID", max_length=8, db_index=True)
    sn = models.CharField(
        "SN", max_length=40, help_text=_("The device reported, as the TID may change devices")
    )
    category = models.CharField(_("category"), max_length=10, choices=FaultCategory.choices)
    symptom = models.CharField(_("symptom"), max_length=20, choices=Symptom.choices)
    description = models.TextField(_("description"), blank=True)
    started_at = models.DateTimeField(_("started at"))
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    trigger = models.CharField(_("trigger"), max_length=500, blank=True)
    customer_feedback = models.TextField(_("customer feedback"), blank=True)
    stop_terminal = models.BooleanField(_("stop the terminal meanwhile"), default=False)
    hold_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=10)
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reported_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("fault")
        indexes = [models.Index(fields=["created_at"], name="fault_created_idx")]


class FaultEvidence(models.Model):
    fault = models.ForeignKey(Fault, on_delete=models.PROTECT, related_name="evidence")
    stored_name = models.CharField(max_length=80, unique=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    note = models.CharField(max_length=500, blank=True)
    uploaded_by_name = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    @property
    def path(self) -> Path:
        return files_dir("repair") / self.stored_name


class RepairOrder(models.Model):
    fault = models.OneToOneField(Fault, on_delete=models.PROTECT, related_name="order")
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="repair_orders")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="repair_orders")
    state = models.CharField(max_length=20, choices=RepairState.choices, default=RepairState.REPORTED)
    where = models.CharField(_("where"), max_length=20, choices=Where.choices, default=Where.IN_HOUSE)
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    under_warranty = models.BooleanField(_("under warranty"), default=False)
    warranty_months = models.PositiveSmallIntegerField(_("warranty after repair (months)"), default=0)
    charged_fen = models.BigIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("repair order")
        indexes = [
            models.Index(fields=["state", "id"], name="repair_state_idx"),
            models.Index(fields=["terminal", "id"], name="repair_terminal_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Quote(models.Model):
    order = models.ForeignKey(RepairOrder, on_delete=models.PROTECT, related_name="quotes")
    where = models.CharField(max_length=20, choices=Where.choices)
    provider = models.CharField(max_length=200)
    amount_fen = models.BigIntegerField()
    days = models.PositiveSmallIntegerField()
    warranty_months = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=QuoteState.choices, default=QuoteState.OFFERED)
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["amount_fen", "id"]


class RepairStep(models.Model):
    order = models.ForeignKey(RepairOrder, on_delete=models.PROTECT, related_name="steps")
    done = models.TextField(_("what was done"))
    firmware_before = models.CharField(max_length=40, blank=True)
    firmware_after = models.CharField(max_length=40, blank=True)
    patch_before = models.CharField(max_length=10, blank=True)
    patch_after = models.CharField(max_length=10, blank=True)
    test_results = models.TextField(_("test results"), blank=True)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    by_name = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class RepairPart(models.Model):
    step = models.ForeignKey(RepairStep, on_delete=models.CASCADE, related_name="parts")
    part = models.CharField(max_length=100)
    serial = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["id"]


class QcResult(models.Model):
    order = models.ForeignKey(RepairOrder, on_delete=models.PROTECT, related_name="qc_results")
    round = models.PositiveSmallIntegerField()
    item = models.CharField(max_length=20)
    passed = models.BooleanField()
    note = models.CharField(max_length=500, blank=True)
    by_name = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["round", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "round", "item"], name="qc_check_once")]


class Loaner(models.Model):
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="loans")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="loaners")
    order = models.ForeignKey(RepairOrder, on_delete=models.PROTECT, related_name="loaners")
    state = models.CharField(max_length=10, choices=LoanerState.choices, default=LoanerState.LENT)
    lent_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField(_("due on"))
    lent_by_name = models.CharField(max_length=150)
    returned_at = models.DateTimeField(null=True, blank=True)
    condition = models.CharField(max_length=10, choices=Condition.choices, blank=True)
    charge_fen = models.BigIntegerField(default=0)
    inspected_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["terminal"], condition=models.Q(state="lent"), name="loaner_lent_once"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(state="lent"), name="one_loaner_per_order"
            ),
        ]


class Swap(models.Model):
    """A merchant's TID moved to another device: `terminal` is the new device (it now carries the TID),
    `old_terminal` the old one (it took the new device's former TID and goes down the return path)."""

    tid = models.CharField("TID", max_length=8, db_index=True)
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+")
    old_terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+")
    old_tid_now = models.CharField(max_length=8)
    old_sn = models.CharField(max_length=40)
    new_sn = models.CharField(max_length=40)
    security_patch_level = models.CharField(max_length=10)
    kind = models.CharField(max_length=20, choices=SwapKind.choices)
    reason = models.TextField()
    order = models.ForeignKey(
        RepairOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="swaps"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="swaps")
    by_name = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
