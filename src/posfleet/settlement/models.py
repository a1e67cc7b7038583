"""Settlement: per-merchant settlement profile, daily batches and disputes.

Transactions themselves live in `posfleet.money`; a transaction is settled when its merchant's batch for
its business date covers its id (`SettlementBatch.max_transaction_id`, see `settled.py`), so settling a
day writes one row per merchant, not one per transaction. Batches are written
only by `services.run_settlement`, disputes only by `disputes.py`: the state fields are never edited
directly by views.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.registry.models import Merchant


class SettlementMode(models.TextChoices):
    T1 = "T1", _("T+1 (paid the next day)")
    D0 = "D0", _("D0 (paid the same day)")


class SettlementProfile(models.Model):
    """How a merchant is settled, and whether risk/finance keep its money back (delayed settlement).

    A merchant without a profile row is settled T+1, not delayed (profiles are created with merchants,
    but older rows and imported merchants may lack one).
    """

    merchant = models.OneToOneField(Merchant, on_delete=models.PROTECT, related_name="settlement_profile")
    mode = models.CharField(max_length=2, choices=SettlementMode.choices, default=SettlementMode.T1)
    delayed = models.BooleanField(_("delayed settlement"), default=False)
    delayed_reason = models.TextField(blank=True)
    delayed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("settlement profile")

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.mode}{' delayed' if self.delayed else ''}"


class BatchState(models.TextChoices):
    SETTLED = "settled", _("Settled, not yet paid")
    PAID = "paid", _("Paid")
    HELD = "held", _("Held (delayed settlement)")


class SettlementRun(models.Model):
    """One call of `run_settlement`: the business day it was for and its high-water mark.

    The first run of a day fixes which of the day's transactions were on time (id up to its mark); one
    that arrives later is a late item, settled by the next run whatever its day (`services`). The
    largest mark of all runs is where the next run's search for late items starts.
    """

    business_date = models.DateField()
    max_transaction_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    actor_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("settlement run")
        indexes = [models.Index(fields=["business_date", "max_transaction_id"], name="run_day_mark_idx")]

    def __str__(self) -> str:
        return f"{self.business_date} <= {self.max_transaction_id}"


# A batch's amounts, in fen: what its statement row shows and the batch list totals.
BATCH_AMOUNTS = ("gross_fen", "refund_fen", "fee_fen", "held_fen", "net_fen", "payout_fen")


class SettlementBatch(models.Model):
    """One merchant's settlement of one business day (institution time), or of that day's late items.

    net = gross - refunds - fees; payout = net - held (open disputes kept back); a delayed merchant's
    batch is `held` and pays nothing until lifted. It covers the merchant's transactions of
    `business_date` with an id in (`after_transaction_id`, `max_transaction_id`]: the first run's range
    ends at its high-water mark; what arrives later goes into a `late` batch of the same day whose
    `run_date` sets the payout date. A merchant's ranges for a day never overlap.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="settlement_batches")
    business_date = models.DateField()
    mode = models.CharField(max_length=2, choices=SettlementMode.choices, default=SettlementMode.T1)
    payout_date = models.DateField()
    transaction_count = models.PositiveIntegerField(default=0)
    gross_fen = models.BigIntegerField(default=0)
    refund_fen = models.BigIntegerField(default=0)
    fee_fen = models.BigIntegerField(default=0)
    held_fen = models.BigIntegerField(default=0)
    net_fen = models.BigIntegerField(default=0)
    payout_fen = models.BigIntegerField(default=0)
    card_last4 = models.CharField(max_length=4, blank=True)
    state = models.CharField(max_length=8, choices=BatchState.choices, default=BatchState.SETTLED)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    max_transaction_id = models.BigIntegerField(
        default=0, help_text=_("Covers the merchant's transactions of the day with an id up to this")
    )
    after_transaction_id = models.BigIntegerField(
        default=0, help_text=_("Covers the merchant's transactions of the day with an id above this")
    )
    late = models.BooleanField(
        default=False, help_text=_("Transactions that arrived after their business day was settled")
    )
    run_date = models.DateField(null=True, blank=True, help_text=_("Business day of the run that made it"))

    class Meta:
        ordering = ["-business_date", "merchant_id", "max_transaction_id"]
        verbose_name = _("settlement batch")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "business_date"],
                condition=Q(late=False),
                name="batch_merchant_day_uniq",
            ),
            models.UniqueConstraint(
                fields=["merchant", "business_date", "max_transaction_id"],
                name="batch_merchant_day_mark_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["business_date"], name="batch_day_idx"),
            models.Index(fields=["state", "payout_date"], name="batch_state_payout_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}@{self.business_date}"

    @property
    def card_masked(self) -> str:
        return f"**** **** **** {self.card_last4}" if self.card_last4 else ""


class DisputeKind(models.TextChoices):
    RETRIEVAL_REQUEST = "retrieval_request", _("Retrieval request")
    CHARGEBACK = "chargeback", _("Chargeback")


class DisputeState(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


OPEN_DISPUTE_STATES = (DisputeState.OPEN, DisputeState.ANSWERED)


class AnswerChannel(models.TextChoices):
    """How a merchant gave the answer that staff recorded on its behalf (empty: the merchant itself)."""

    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    MAIL = "mail", _("Mail")
    FAX = "fax", _("Fax")
    BRANCH = "branch", _("At a branch")


class Dispute(models.Model):
    """A retrieval request (调单) or chargeback (拒付) on one transaction.

    While open or answered its amount is held back from the merchant's settlement (`held_fen` says how
    much has actually been kept back so far, in `held_batch`); resolving releases or forfeits it.
    """

    transaction = models.ForeignKey("money.Transaction", on_delete=models.PROTECT, related_name="disputes")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="disputes")
    kind = models.CharField(max_length=20, choices=DisputeKind.choices)
    amount_fen = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=DisputeState.choices, default=DisputeState.OPEN)
    reason = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    due = models.DateField(help_text=_("The merchant must answer by this date"))
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # Staff may record the merchant's answer only on its behalf, naming the channel; whoever did
    # may not resolve the dispute (separation of duties).
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer_channel = models.CharField(max_length=10, choices=AnswerChannel.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.TextField(blank=True)
    held_fen = models.BigIntegerField(default=0)
    held_batch = models.ForeignKey(
        SettlementBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="held_disputes"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("dispute")
        indexes = [
            models.Index(fields=["merchant", "state"], name="dispute_merchant_state_idx"),
            models.Index(fields=["state", "due"], name="dispute_state_due_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="dispute_amount_positive")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_DISPUTE_STATES

    @property
    def answered_on_behalf(self) -> bool:
        return bool(self.answer_channel)


class DisputeHold(models.Model):
    """The part of a dispute's amount one batch kept back (a dispute may be held across several days)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="holds")
    batch = models.ForeignKey(SettlementBatch, on_delete=models.PROTECT, related_name="dispute_holds")
    amount_fen = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        verbose_name = _("dispute hold")


class DisputeDocument(models.Model):
    """Evidence a merchant (or an agent for them) gave; the file lives under VAR_DIR, not the web root."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="documents")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=300, help_text=_("Relative to VAR_DIR/files/disputes"))
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("dispute document")

    def __str__(self) -> str:
        return self.name


class SettlementFreeze(models.Model):
    """A risk freeze that also holds its merchant's settlement: while the hold is in force the
    merchant's batches are `held`; once it is released or ends, the next run pays them."""

    hold = models.OneToOneField("lifecycle.Hold", on_delete=models.PROTECT, related_name="settlement_freeze")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="settlement_freezes")
    placed_at = models.DateTimeField(default=timezone.now)
    placed_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("settlement held by a risk freeze")

    def __str__(self) -> str:
        return f"settlement of {self.merchant_id} held by hold {self.hold_id}"
