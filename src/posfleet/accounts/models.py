"""Accounts: the permission holder, API tokens and the step-up record."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Capability(models.Model):
    """Holds posfleet's permissions (see roles.PERMISSIONS); no rows are ever stored."""

    class Meta:
        managed = False
        default_permissions = ()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    PREFIX = "pf_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    elevated_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, user: object, name: str) -> tuple[ApiToken, str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_prefix=raw[:8], key_hash=cls.hash_key(raw))
        return token, raw

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class MerchantUser(models.Model):
    """A portal login: the user acts for exactly one merchant and sees only that merchant's data.

    Portal users belong to no staff role; services check ownership with `merchant_of(actor)`.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_link"
    )
    merchant = models.ForeignKey("registry.Merchant", on_delete=models.PROTECT, related_name="users")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "merchant user"

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant_id}"


def merchant_id_of(user: object) -> int | None:
    """The merchant a portal user acts for, or None for staff."""
    pk = getattr(user, "pk", None)
    if pk is None:
        return None
    link = MerchantUser.objects.filter(user_id=pk).only("merchant_id").first()
    return link.merchant_id if link else None
