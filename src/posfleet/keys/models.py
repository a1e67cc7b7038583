"""Terminal keys: stored only wrapped; destruction by two custodians leaves a record (DESIGN.md §4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class KeyState(models.TextChoices):
    LIVE = "live", _("Live")
    DESTROYED = "destroyed", _("Destroyed")


class RequestState(models.TextChoices):
    PENDING = "pending_second_custodian", _("Waiting for a second custodian")
    DESTROYED = "destroyed", _("Destroyed")
    CANCELLED = "cancelled", _("Cancelled")


METHOD = "zeroized-wrapped-key"


class TerminalKey(models.Model):
    """A terminal master key. `wrapped_key` is AES-key-wrapped under the KEK and emptied on destruction."""

    terminal = models.ForeignKey("registry.Terminal", on_delete=models.PROTECT, related_name="keys")
    wrapped_key = models.BinaryField(editable=False)
    kcv = models.CharField(max_length=6)
    state = models.CharField(max_length=10, choices=KeyState.choices, default=KeyState.LIVE)
    created_at = models.DateTimeField(default=timezone.now)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("terminal key")
        constraints = [
            models.UniqueConstraint(
                fields=["terminal"], condition=models.Q(state="live"), name="one_live_key_per_terminal"
            )
        ]

    def __str__(self) -> str:  # never the key itself
        return f"TMK {self.kcv} ({self.state})"


class DestructionRequest(models.Model):
    """The first custodian's request; a different custodian confirms it (dual control)."""

    terminal = models.ForeignKey(
        "registry.Terminal", on_delete=models.PROTECT, related_name="key_destruction_requests"
    )
    key = models.ForeignKey(TerminalKey, on_delete=models.PROTECT, related_name="destruction_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=30, choices=RequestState.choices, default=RequestState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["terminal"],
                condition=models.Q(state="pending_second_custodian"),
                name="one_pending_destruction_per_terminal",
            )
        ]


class DestructionRecord(models.Model):
    """What was destroyed, by whom, when and how; kept for good (no key material in it)."""

    terminal = models.ForeignKey(
        "registry.Terminal", on_delete=models.PROTECT, related_name="key_destruction_records"
    )
    key = models.OneToOneField(TerminalKey, on_delete=models.PROTECT, related_name="destruction_record")
    request = models.OneToOneField(DestructionRequest, on_delete=models.PROTECT, related_name="record")
    sn = models.CharField(max_length=40)
    kcv = models.CharField(max_length=6)
    first_custodian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    second_custodian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    first_custodian_name = models.CharField(max_length=150)
    second_custodian_name = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=40, default=METHOD)

    class Meta:
        ordering = ["-at", "-id"]
