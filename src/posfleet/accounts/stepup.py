"""Step-up: re-verifying identity (password or TOTP) before sensitive actions (DESIGN.md §2).

The console records the time in the session; the API elevates a token for the same window when the
request carries a valid `X-OTP`. Services call `require_step_up(actor)`; the edges only record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from posfleet.core.actor import Actor
from posfleet.core.errors import StepUpRequired

SESSION_KEY = "posfleet_stepped_up_at"


def require_step_up(actor: Actor) -> None:
    if not actor.is_stepped_up:
        raise StepUpRequired()


def verify_totp(user: Any, code: str) -> bool:
    """True if `code` is a current TOTP of one of the user's confirmed devices and was not used before.

    django-otp remembers the last accepted time step per device, so a code is never accepted twice.
    """
    code = (code or "").strip()
    if not code.isdigit():
        return False
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, TOTPDevice) and device.verify_token(code):
            return True
    return False


def verify_secret(user: Any, secret: str, request: Any = None) -> bool:
    """Password or TOTP: either re-verifies the person."""
    if verify_totp(user, secret):
        return True
    return bool(secret) and bool(user.check_password(secret))


def mark_session(session: Any) -> None:
    session[SESSION_KEY] = timezone.now().isoformat()


def session_stepped_up_at(session: Any) -> Any:
    raw = session.get(SESSION_KEY)
    if not raw:
        return None
    from datetime import datetime

    return datetime.fromisoformat(raw)


def elevate_token(token: Any) -> None:
    token.elevated_until = timezone.now() + timedelta(seconds=settings.STEP_UP_SECONDS)
    token.save(update_fields=["elevated_until"])
