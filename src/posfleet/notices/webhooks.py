"""Webhooks signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).

An endpoint belongs to a merchant (its own notices) or, without one, to a service provider (every
merchant's notices, without the verification code). Its secret (`whsec_…`) is shown once and stored
encrypted. A delivery keeps its `webhook-id` across attempts, so a receiver that saw it drops a repeat;
transient failures (a connection error, a timeout, 429, 5xx) are tried again over hours. An endpoint
is disabled after POSFLEET_WEBHOOK_DISABLE_AFTER failed deliveries in a row, at once on 410 Gone.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from posfleet.accounts.models import merchant_id_of
from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core import crypto
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed
from posfleet.notices.channel import Outcome, enqueue
from posfleet.notices.choices import Channel, DeliveryState
from posfleet.notices.models import Delivery, Notice, NoticeKind, WebhookEndpoint
from posfleet.registry.models import Merchant

EVENTS = tuple(f"notice.{k}" for k in (NoticeKind.STOP, NoticeKind.LIFT, NoticeKind.DEACTIVATION))


def _own(actor: Actor) -> int | None:
    return merchant_id_of(actor.user) if actor.user is not None else None


def _may_manage(actor: Actor, merchant_id: int | None) -> int | None:
    """The merchant the endpoint is for: a merchant's user manages its own; staff need the right."""
    own = _own(actor)
    if own is not None:
        if merchant_id not in (None, own):
            raise PermissionDenied()
        return own
    if not actor.has_perm(perm("manage_webhooks")):
        raise PermissionDenied()
    return merchant_id


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def create_endpoint(
    actor: Actor, *, url: str, events: list[str], merchant_id: int | None = None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret, which is never shown again."""
    merchant_id = _may_manage(actor, merchant_id)
    errors: dict[str, list[str]] = {}
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        errors["url"] = [_("An http(s) URL is required.")]
    events = list(dict.fromkeys(events or []))
    if not events or any(e not in (*EVENTS, "*") for e in events):
        errors["events"] = [_("Name one or more of: %(e)s.") % {"e": ", ".join((*EVENTS, "*"))}]
    if merchant_id is not None and not Merchant.objects.filter(pk=merchant_id).exists():
        errors["merchant_id"] = [_("No such merchant.")]
    if errors:
        raise ValidationFailed(details=errors)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        merchant_id=merchant_id,
        url=url,
        events=events,
        secret_enc=crypto.encrypt(secret),
        created_by_name=actor.name,
    )
    after = {"merchant_id": merchant_id, "url": url, "events": events}
    record(actor, Change("webhook_endpoint", str(endpoint.pk), "webhook.create", None, after, url))
    return endpoint, secret


def endpoints(actor: Actor) -> list[WebhookEndpoint]:
    """A merchant's user sees its own endpoints; staff only with the right to manage them (an endpoint's
    URL is a merchant's integration, not fleet data)."""
    own = _own(actor)
    qs = WebhookEndpoint.objects.order_by("id")
    if own is not None:
        return list(qs.filter(merchant_id=own))
    if not actor.has_perm(perm("manage_webhooks")):
        raise PermissionDenied()
    return list(qs)


def payload(delivery: Delivery, code: str) -> dict[str, Any]:
    notice: Notice = delivery.notice
    endpoint = delivery.endpoint
    data: dict[str, Any] = {
        "notice_id": notice.pk,
        "merchant_id": notice.merchant_id,
        "kind": notice.kind,
        "reason_category": notice.reason_category,
        "terminals": notice.terminals,
        "title": notice.title,
        "text": notice.body,
        "facts": notice.facts,
        "issued_at": notice.created_at.isoformat(),
    }
    if endpoint is not None and endpoint.merchant_id == notice.merchant_id:
        data["verification_code"] = code  # the merchant's own system only
    return {"type": f"notice.{notice.kind}", "timestamp": notice.created_at.isoformat(), "data": data}


def message_id(delivery: Delivery) -> str:
    return f"msg_delivery_{delivery.pk}"


def signed_headers(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
        "content-type": "application/json",
        "user-agent": "posfleet-webhooks",
    }


def send(delivery: Delivery, code: str) -> Outcome:
    endpoint = delivery.endpoint
    if endpoint is None or not endpoint.active:
        return Outcome(ok=False, error="endpoint disabled")
    body = json.dumps(payload(delivery, code), ensure_ascii=False, separators=(",", ":"), default=str)
    headers = signed_headers(crypto.decrypt(endpoint.secret_enc), message_id(delivery), timezone.now(), body)
    request = urllib.request.Request(endpoint.url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=settings.POSFLEET_WEBHOOK_TIMEOUT) as response:  # noqa: S310
            return Outcome(ok=True, provider_id=f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
        transient = status == 429 or status >= 500 or status == 408
        return Outcome(ok=False, error=f"HTTP {status}", transient=transient, gone=status == 410)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(ok=False, error=f"{type(exc).__name__}: {reason}"[:500], transient=True)


def sent_before(delivery: Delivery) -> str | None:
    return None  # a repeat keeps its webhook-id: receivers drop what they have seen


def count(endpoint: WebhookEndpoint, outcome: Outcome) -> None:
    """Keep the endpoint's run of failures (locked with the delivery's result); disable it when the run
    reaches the limit or the receiver says 410 Gone."""
    ep = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if outcome.ok:
        if ep.consecutive_failures:
            ep.consecutive_failures = 0
            ep.save(update_fields=["consecutive_failures"])
        return
    ep.consecutive_failures += 1
    fields = ["consecutive_failures"]
    if ep.active and (outcome.gone or ep.consecutive_failures >= settings.POSFLEET_WEBHOOK_DISABLE_AFTER):
        ep.active, ep.disabled_at = False, timezone.now()
        ep.disabled_reason = "410 Gone" if outcome.gone else f"{ep.consecutive_failures} failures in a row"
        fields += ["active", "disabled_at", "disabled_reason"]
        record(
            Actor.system("worker", name="webhooks"),
            Change(
                "webhook_endpoint", str(ep.pk), "webhook.disable", {"active": True}, {"active": False},
                ep.disabled_reason,
            ),
        )  # fmt: skip
    ep.save(update_fields=fields)


def set_active(actor: Actor, endpoint_id: int, active: bool) -> WebhookEndpoint:
    ep = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if ep is None:
        raise NotFound(_("No webhook endpoint %(id)s.") % {"id": endpoint_id})
    _may_manage(actor, ep.merchant_id)
    before = {"active": ep.active}
    ep.active, ep.consecutive_failures = active, 0
    ep.disabled_at = None if active else timezone.now()
    ep.disabled_reason = "" if active else "disabled by a person"
    ep.save(update_fields=["active", "consecutive_failures", "disabled_at", "disabled_reason"])
    action = "webhook.enable" if active else "webhook.disable"
    record(actor, Change("webhook_endpoint", str(ep.pk), action, before, {"active": active}, action))
    return ep


def replay(actor: Actor, delivery_id: int) -> Delivery:
    """Send a webhook delivery again (console): it keeps its webhook-id."""
    if not actor.has_perm(perm("manage_webhooks")):
        raise PermissionDenied()
    d = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if d is None or d.channel != Channel.WEBHOOK:
        raise NotFound(_("No webhook delivery %(id)s.") % {"id": delivery_id})
    if d.endpoint is not None and not d.endpoint.active:
        raise ValidationFailed(_("The endpoint is disabled; enable it first."), code="endpoint_disabled")
    before = {"state": d.state, "attempts": d.attempts}
    d.state, d.error, d.next_attempt_at = DeliveryState.QUEUED, "", None
    d.updated_at = timezone.now()
    d.save(update_fields=["state", "error", "next_attempt_at", "updated_at"])
    enqueue(d, f"replay:{d.updated_at.timestamp()}")
    record(
        actor, Change("notice", str(d.notice_id), "webhook.replay", before, {"delivery_id": d.pk}, "replay")
    )
    return d
