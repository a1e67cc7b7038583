"""The one door through which other apps tell a merchant something (a decision, released money).

Today it is the portal notice with its verification code (`services.send_notice`); when notices go out
over more channels, this is the function to point at them, and no caller changes.
"""

from __future__ import annotations

from posfleet.core.actor import Actor
from posfleet.notices import services
from posfleet.registry.models import Merchant


def tell_merchant(
    actor: Actor,
    merchant: Merchant,
    title: str,
    body: str,
    *,
    case_id: int | None = None,
    kind: str = "notice",
) -> int:
    """Send `merchant` a notice in the caller's transaction; returns its id."""
    notice = services.send_notice(
        actor, merchant=merchant, kind=kind, title=title[:200], body=body, case_id=case_id
    )
    return int(notice.pk)
