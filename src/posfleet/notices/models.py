"""Notices and letters the institution sends a merchant; each carries a verification code (DESIGN.md §4).

Only the SHA-256 of a code is stored (plus its last two characters as a hint), so a database
leak does not let anyone forge "genuine" answers for existing notices.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.notices.choices import (
    CallOutcome,
    CallState,
    Channel,
    DeliveryState,
    FraudChannel,
    FraudState,
    ReasonCategory,
)


class NoticeKind(models.TextChoices):
    LETTER = "letter", _("Letter")
    STATEMENT = "statement", _("Statement")
    REMINDER = "reminder", _("Reminder")
    NOTICE = "notice", _("Notice")
    STOP = "stop", _("Stop notice")
    LIFT = "lift", _("Lift notice")
    DEACTIVATION = "deactivation", _("Deactivation notice")


# Kinds that tell a merchant about a stop or a lift (`notices.stops`).
STOP_KINDS = (NoticeKind.STOP, NoticeKind.LIFT, NoticeKind.DEACTIVATION)


class Notice(models.Model):
    merchant = models.ForeignKey("registry.Merchant", on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    facts = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    code_hash = models.CharField(max_length=64, unique=True)
    code_hint = models.CharField(max_length=2)
    # The code encrypted under the KEK, for the worker that sends it later (SMS, e-mail, webhook);
    # verification reads only `code_hash`.
    code_enc = models.TextField(blank=True)
    phone_last4 = models.CharField(max_length=4)
    pdf_path = models.CharField(max_length=200, blank=True)  # relative to VAR_DIR/files/letters
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    # Stops and lifts (`notices.stops`): why in plain words, which terminals, which hold.
    reason_category = models.CharField(max_length=30, choices=ReasonCategory.choices, blank=True)
    terminals = models.JSONField(default=list, blank=True)
    hold_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # One notice per event per merchant (and terminal, for one released alone): issuing again is a no-op.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    # Announced (portal inbox, channels) from this time: a maintenance window is told a lead time ahead.
    publish_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        indexes = [models.Index(fields=["merchant", "-created_at"], name="notice_merchant_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def clear_code(self) -> str:
        """The verification code, for its merchant's own portal (empty for notices issued before it was kept)."""
        from posfleet.core import crypto

        return crypto.decrypt(self.code_enc) if self.code_enc else ""

    @property
    def materials(self) -> list[str]:
        """What to have ready, in the reader's language (the notice keeps them as sent)."""
        from posfleet.notices.choices import MATERIALS

        facts = self.facts or {}
        category = facts.get("reason_category") or ""
        if category in MATERIALS and facts.get("materials"):
            return [str(m) for m in MATERIALS[category]]
        return list(facts.get("materials") or [])

    @property
    def has_pdf(self) -> bool:
        return bool(self.pdf_path)

    @property
    def pdf_file(self) -> Any:
        from posfleet.notices.storage import letter_path

        return letter_path(self.pdf_path) if self.pdf_path else None

    @property
    def pdf_bytes(self) -> bytes | None:
        """The stored letter, checked against its SHA-256 (None when there is no PDF or it was altered)."""
        from posfleet.notices.storage import read_letter

        return read_letter(self) if self.pdf_path else None


class RateCounter(models.Model):
    """Attempts of one client in one fixed window of a rate limit (`notices.ratelimit`), in the
    database so every server process counts into the same row; rows past `expires_at` are purged by
    the worker."""

    key = models.CharField(max_length=200)
    bucket = models.BigIntegerField(help_text="Window number: Unix time // window length")
    count = models.PositiveIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True, help_text="Unix time after which the row is unused")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "bucket"], name="ratecounter_once")]

    def __str__(self) -> str:
        return f"{self.key}@{self.bucket}: {self.count}"


class Delivery(models.Model):
    """One channel's record of carrying one notice to one recipient (a number, an address, an
    endpoint). Unique per (notice, channel, recipient): a notice is sent once per number."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254, blank=True)
    endpoint = models.ForeignKey(
        "notices.WebhookEndpoint", on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries"
    )
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["notice_id", "id"]
        verbose_name = _("delivery")
        constraints = [
            models.UniqueConstraint(fields=["notice", "channel", "recipient"], name="delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} of notice {self.notice_id}: {self.state}"


class WebhookEndpoint(models.Model):
    """A merchant's (or, without one, a service provider's for every merchant) signed webhook."""

    merchant = models.ForeignKey(
        "registry.Merchant", on_delete=models.PROTECT, null=True, blank=True, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret_enc = models.TextField()
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook endpoint")

    def __str__(self) -> str:
        return self.url


class CallTask(models.Model):
    """An agent phones the merchant about a notice; the outcome is part of the evidence."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="call_tasks")
    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="call_task")
    merchant = models.ForeignKey("registry.Merchant", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=20)
    script = models.TextField()
    state = models.CharField(max_length=10, choices=CallState.choices, default=CallState.OPEN)
    outcome = models.CharField(max_length=20, choices=CallOutcome.choices, blank=True)
    note = models.TextField(blank=True)
    callback_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        verbose_name = _("call task")
        indexes = [models.Index(fields=["state", "id"], name="calltask_state_idx")]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.state})"


class FraudReport(models.Model):
    """A suspicious call or SMS claiming to come from us, for risk officers to review."""

    merchant = models.ForeignKey(
        "registry.Merchant", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    caller_number = models.CharField(max_length=30)
    channel = models.CharField(max_length=10, choices=FraudChannel.choices)
    claimed = models.TextField()
    asked_for = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10)  # portal, console, api
    state = models.CharField(max_length=10, choices=FraudState.choices, default=FraudState.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    reviewed_by_name = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("fraud report")
        indexes = [models.Index(fields=["state", "id"], name="fraudreport_state_idx")]

    def __str__(self) -> str:
        return f"fraud report {self.pk}"
