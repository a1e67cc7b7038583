"""API tokens: issue (the raw token is returned once, only its hash is stored), revoke, list.

Anyone may hold tokens for themselves; issuing or revoking another person's token is for administrators
(superusers and the `admin` role) and the CLI. Audit events name the token by id and prefix, never the secret.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.models import ApiToken
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


def is_admin(actor: Actor) -> bool:
    if actor.kind == "system":
        return True
    user = actor.user
    if user is None or not user.is_active:
        return False
    return bool(user.is_superuser or user.groups.filter(name="admin").exists())


def _may_manage(actor: Actor, owner_id: int) -> None:
    if actor.user_id != owner_id and not is_admin(actor):
        raise PermissionDenied()
    if actor.kind == "user" and (actor.user is None or not actor.user.is_active):
        raise PermissionDenied()


def issue(actor: Actor, user: Any, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns (token, raw). The raw value cannot be recovered later."""
    _may_manage(actor, user.pk)
    text = (name or "").strip()
    if not text:
        raise ValidationFailed(details={"name": [_("This field is required.")]})
    if len(text) > 100:
        raise ValidationFailed(details={"name": [_("At most 100 characters.")]})
    if not user.is_active:
        raise ValidationFailed(_("Tokens can only be issued to active users."))
    token, raw = ApiToken.issue(user, text)
    record(
        actor,
        Change(
            "api_token",
            str(token.pk),
            "token.issue",
            None,
            {"user": user.get_username(), "name": text, "prefix": token.key_prefix},
            "issued",
        ),
    )
    return token, raw


def revoke(actor: Actor, token_id: int, reason: str = "revoked") -> ApiToken:
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if token is None:
        raise NotFound(_("No token %(id)s.") % {"id": token_id})
    _may_manage(actor, token.user_id)
    if token.revoked_at is not None:
        raise Conflict(_("This token is already revoked."), code="token_revoked")
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=now, elevated_until=None)
    token.revoked_at = now
    record(
        actor,
        Change(
            "api_token",
            str(token.pk),
            "token.revoke",
            {"revoked": False},
            {"revoked": True, "user": token.user.get_username(), "prefix": token.key_prefix},
            (reason or "revoked").strip() or "revoked",
        ),
    )
    return token


def tokens_for(actor: Actor) -> QuerySet[ApiToken]:
    """Own tokens; administrators see everyone's."""
    qs = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if is_admin(actor):
        return qs
    return qs.filter(user_id=actor.user_id or 0)
