"""Bearer-token auth for the API and the Actor it yields; `X-OTP` step-up for sensitive calls.

A valid `X-OTP` (a current TOTP of the token's user, never accepted twice) elevates the token for
STEP_UP_SECONDS; while elevated, sensitive calls need no header and a repeated code is not an error.
Services decide what is sensitive (they raise StepUpRequired); this module only records elevation.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from posfleet.accounts.models import ApiToken
from posfleet.accounts.stepup import elevate_token, verify_totp
from posfleet.core.actor import Actor
from posfleet.core.errors import Unauthenticated


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if not token or len(token) > 200:
            return None
        api_token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash_key(token), revoked_at__isnull=True)
            .first()
        )
        if api_token is None or not api_token.user.is_active:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        otp = request.headers.get("X-OTP", "")
        elevated = api_token.elevated_until is not None and api_token.elevated_until > now
        if otp and not elevated and verify_totp(api_token.user, otp):
            elevate_token(api_token)
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token


def actor_of(request: HttpRequest) -> Actor:
    """The Actor for an authenticated API request (channel `api`)."""
    token: Any = getattr(request, "api_token", None) or getattr(request, "auth", None)
    if not isinstance(token, ApiToken):
        raise Unauthenticated()
    stepped = None
    if token.elevated_until is not None and token.elevated_until > timezone.now():
        stepped = timezone.now()
    return Actor.for_user(token.user, "api", stepped_up_at=stepped)
