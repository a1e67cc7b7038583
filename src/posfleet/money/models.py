"""Money: rate plans, the merchant's plan history, transactions and the double-entry ledger.

All amounts are integer fen. A rate plan is immutable (a new price is a new code), so the code on a
transaction names the exact rates of its fee. A `Journal` is one balanced movement of signed
`Posting`s; `Account.balance_fen` is the running total `ledger.post()` keeps and `ledger_check` proves.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.money.choices import CHANNELS, Channel, TxType
from posfleet.registry.models import Merchant

# The institution's time zone (settings.TIME_ZONE, POSFLEET_TIME_ZONE): business days and their cut-off.
INSTITUTION_TZ = ZoneInfo(settings.TIME_ZONE)


class RatePlan(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    credit_bp = models.PositiveIntegerField()
    credit_cap_fen = models.BigIntegerField(null=True, blank=True)
    debit_bp = models.PositiveIntegerField()
    debit_cap_fen = models.BigIntegerField(null=True, blank=True)
    wechat_bp = models.PositiveIntegerField()
    wechat_cap_fen = models.BigIntegerField(null=True, blank=True)
    alipay_bp = models.PositiveIntegerField()
    alipay_cap_fen = models.BigIntegerField(null=True, blank=True)
    unionpay_qr_bp = models.PositiveIntegerField()
    unionpay_qr_cap_fen = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("rate plan")

    def __str__(self) -> str:
        return self.code

    def rate(self, channel: str) -> tuple[int, int | None]:
        """(rate in basis points, cap in fen or None) for `channel`."""
        if channel not in CHANNELS:
            raise KeyError(channel)
        return int(getattr(self, f"{channel}_bp")), getattr(self, f"{channel}_cap_fen")

    def rates(self) -> dict[str, tuple[int, int | None]]:
        return {c: self.rate(c) for c in CHANNELS}

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "rates": {c: {"rate_bp": bp, "cap_fen": cap} for c, (bp, cap) in self.rates().items()},
        }


class MerchantPlan(models.Model):
    """One version of a merchant's plan; the history is never edited, only appended."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="plan_versions")
    plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["merchant_id", "effective_from", "id"]
        indexes = [models.Index(fields=["merchant", "effective_from"], name="merchantplan_eff_idx")]

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.plan_id} from {self.effective_from:%Y-%m-%d}"


class PlanNotice(models.Model):
    """The record that a merchant was told of a coming price increase (the 30-day rule counts from it)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="plan_notices")
    plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, related_name="+")
    notified_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)
    notice_id = models.BigIntegerField(null=True, blank=True, help_text=_("notices.Notice id when sent"))

    class Meta:
        ordering = ["-notified_at", "-id"]
        indexes = [models.Index(fields=["merchant", "plan", "notified_at"], name="plannotice_idx")]


class Transaction(models.Model):
    switch_id = models.CharField(max_length=64)
    tid = models.CharField("TID", max_length=8)
    # No single-column index: tx_merchant_day_idx starts with merchant_id. No foreign key in the
    # database either: it would check every ingested row on its own (decision 0008); ingest takes the
    # merchant from the terminal's binding, and a merchant is never deleted (PROTECT).
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="transactions", db_index=False, db_constraint=False
    )
    channel = models.CharField(max_length=12, choices=Channel.choices)
    type = models.CharField(max_length=10, choices=TxType.choices)
    amount_fen = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    fee_fen = models.BigIntegerField()
    net_fen = models.BigIntegerField()
    rate_plan_code = models.CharField(max_length=40)
    rate_bp = models.PositiveIntegerField(default=0)
    flagged = models.BooleanField(default=False)
    flag_reasons = models.JSONField(default=list, blank=True)
    # The business day (institution's time zone) of occurred_at, fixed at ingest: settlement groups by it, and a
    # transaction is settled when its merchant's batch for this day covers its id (no per-row stamp,
    # see posfleet.settlement.settled).
    business_date = models.DateField()
    ingested_at = models.DateTimeField(default=timezone.now)
    journal_id = models.BigIntegerField(null=True, blank=True)
    # A refund's or reversal's original sale (its switch id; ingest checks it exists, same merchant,
    # and that its refunds stay within its amount). Empty for a sale, also in the database (db_default):
    # bulk writers that leave the column out (COPY, the settlement benchmark) need not know it.
    original_switch_id = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("transaction")
        # Every index is paid on each ingested row and each row settlement stamps, so there are no
        # duplicates: explicit indexes and a UniqueConstraint instead of unique=/db_index=, which on
        # PostgreSQL would add a second `varchar_pattern_ops` (_like) index for each of these columns.
        indexes = [
            models.Index(fields=["tid"], name="tx_tid_idx"),
            # the flagged rows (few) by id: "the last flagged" reads the end of this index, never the table
            models.Index(fields=["id"], name="tx_flagged_id_idx", condition=Q(flagged=True)),
            # One index for the merchant's rows and for settlement: it serves the foreign key and every
            # per-merchant query, and settlement's GROUP BY (each merchant's range for day D, by type)
            # reads only it, since it covers every summed column. Day-wide queries reach it through
            # `merchant_id IN (all merchants)` (one range per merchant, see `for_days`). Ingest pays
            # for every index on every row, so there is no second one on (business_date, merchant) and
            # none on occurred_at.
            # The id is the last column so that a merchant's counts and "which rows does the day's batch
            # cover" (id <= its mark) are answered from the index alone on PostgreSQL too (SQLite keeps
            # the rowid in every index entry anyway).
            models.Index(
                fields=["merchant", "business_date", "type", "amount_fen", "fee_fen", "net_fen", "id"],
                name="tx_merchant_day_idx",
            ),
            # The refunds of a sale, summed when another refund of it comes in; only refund and reversal
            # rows are in it, so a sale costs ingest nothing here.
            models.Index(
                fields=["original_switch_id"], name="tx_original_idx", condition=~Q(original_switch_id="")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["switch_id"], name="tx_switch_id_unique"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="tx_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.switch_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Rows created through the ORM (tests, admin) get their business day like ingested ones."""
        if self.business_date is None and self.occurred_at is not None:
            self.business_date = business_date_of(self.occurred_at)
        super().save(*args, **kwargs)


def for_days(first: date, last: date) -> QuerySet[Transaction]:
    """All merchants' transactions of business days first..last, written so that the database walks
    tx_merchant_day_idx one merchant range at a time (the index leads with merchant_id)."""
    return Transaction.objects.filter(
        merchant_id__in=Merchant.objects.values("pk"), business_date__range=(first, last)
    )


def business_date_of(moment: datetime) -> date:
    """The business day (the institution's time zone, the settlement calendar) of an aware time."""
    return moment.astimezone(INSTITUTION_TZ).date()


class Account(models.Model):
    """A ledger account: per merchant (merchant set) or the institution's own (merchant null)."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )
    code = models.CharField(max_length=40)
    balance_fen = models.BigIntegerField(default=0, help_text=_("Sum of postings; debit positive"))

    class Meta:
        ordering = ["merchant_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "code"], name="account_merchant_code", condition=Q(merchant__isnull=False)
            ),
            models.UniqueConstraint(
                fields=["code"], name="account_institution_code", condition=Q(merchant__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id or 'institution'}:{self.code}"


class Journal(models.Model):
    kind = models.CharField(max_length=40)
    ref = models.CharField(max_length=120, db_index=True)
    memo = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"


class Posting(models.Model):
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount_fen = models.BigIntegerField(help_text=_("Debit positive, credit negative"))
    ref = models.CharField(max_length=120, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "at"], name="posting_account_at_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_fen}"


class DayTotal(models.Model):
    """The transactions of one business day and one bucket of merchants (merchant_id % BUCKETS), summed.

    The money and dashboard charts read 30 days × 16 buckets of these instead of summing millions of
    transactions. Ingest adds each chunk's new rows in its own transaction (`rollup.add`); buckets
    spread concurrent ingests over 16 rows a day instead of one; `rollup.rebuild` recomputes days from
    the transactions (bulk loads, repairs)."""

    business_date = models.DateField()
    bucket = models.SmallIntegerField()
    count = models.BigIntegerField(default=0)
    sales_fen = models.BigIntegerField(default=0)
    back_fen = models.BigIntegerField(default=0, help_text=_("Refunds and reversals"))
    fee_fen = models.BigIntegerField(default=0)
    flagged = models.BigIntegerField(default=0, help_text=_("Transactions recorded flagged"))

    class Meta:
        ordering = ["business_date", "bucket"]
        constraints = [
            models.UniqueConstraint(fields=["business_date", "bucket"], name="daytotal_day_bucket")
        ]
