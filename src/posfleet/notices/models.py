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


class NoticeKind(models.TextChoices):
    LETTER = "letter", _("Letter")
    STATEMENT = "statement", _("Statement")
    REMINDER = "reminder", _("Reminder")
    NOTICE = "notice", _("Notice")


class Notice(models.Model):
    merchant = models.ForeignKey("registry.Merchant", on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=10, choices=NoticeKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    facts = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    code_hash = models.CharField(max_length=64, unique=True)
    code_hint = models.CharField(max_length=2)
    phone_last4 = models.CharField(max_length=4)
    pdf_path = models.CharField(max_length=200, blank=True)  # relative to VAR_DIR/files/letters
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        indexes = [models.Index(fields=["merchant", "-created_at"], name="notice_merchant_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

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
