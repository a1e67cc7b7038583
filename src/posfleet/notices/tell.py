"""The one door through which other apps tell a merchant something (a decision, released money): a
notice with its verification code, sent over the merchant's channels (portal, SMS, e-mail, webhooks) by
the worker after commit. Stops and lifts have their own door (`stops.tell`), which says more."""

from __future__ import annotations

from posfleet.core.actor import Actor
from posfleet.notices import deliveries, services
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
    deliveries.plan(notice)
    return int(notice.pk)
