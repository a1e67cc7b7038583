"""The one door through which other apps tell a merchant something (a decision, released money, a rate
plan change, a flagged transaction, a repair): a notice with its verification code, sent over the
merchant's channels (portal, SMS, e-mail, webhooks) by the worker after commit. Stops and lifts have
their own door (`stops.tell`), which says more; letters with a PDF are `services.issue_letter`."""

from __future__ import annotations

from posfleet.core.actor import Actor
from posfleet.notices import deliveries
from posfleet.notices.services import _audit_and_announce, _check, _new_notice
from posfleet.registry.models import Merchant

LANGUAGE = "zh-hans"  # merchants read zh-CN; callers write the text in it


def tell_merchant(
    actor: Actor,
    merchant: Merchant,
    title: str,
    body: str,
    *,
    case_id: int | None = None,
    kind: str = "notice",
) -> int:
    """Send `merchant` a notice in the caller's transaction, with one delivery per channel; returns
    its id. The title is cut to 200 characters; an unknown kind is refused."""
    title = _check(kind, title[:200], LANGUAGE)
    notice = _new_notice(
        actor,
        merchant=merchant,
        kind=kind,
        title=title,
        body=(body or "").strip(),
        facts={},
        case_id=case_id,
        language=LANGUAGE,
    )
    _audit_and_announce(actor, notice, notice.code)  # type: ignore[attr-defined]
    deliveries.plan(notice)
    return int(notice.pk)
