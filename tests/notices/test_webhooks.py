"""Webhooks against a real HTTP receiver on loopback that checks the Standard Webhooks signature."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from posfleet.lifecycle import holds
from posfleet.notices import deliveries, webhooks
from posfleet.notices.models import Delivery, WebhookEndpoint
from tests import builders
from tests.api.builders import Api


class Receiver:
    """Answers each POST with the next status of `statuses` (then 200), after verifying the signature."""

    def __init__(self) -> None:
        self.secret = ""
        self.statuses: list[int] = []
        self.verified: list[dict] = []
        self.rejected = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                try:
                    receiver.verified.append(Webhook(receiver.secret).verify(body, dict(self.headers)))
                    receiver.verified[-1]["_id"] = self.headers["webhook-id"]
                except Exception:
                    receiver.rejected += 1
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _freeze(t, capture):
    with capture(execute=True), transaction.atomic():
        return holds.place_hold(
            builders.actor("admin"), kind="risk_freeze", reason="internal", tid=t.tid,
            reason_category="transaction_dispute",
        )  # fmt: skip


@pytest.mark.django_db
def test_a_signed_webhook_reaches_a_receiver_that_verifies_it(receiver, django_capture_on_commit_callbacks):
    t = builders.terminal()
    r = Api("admin").post(
        "/webhook-endpoints", {"merchant_id": t.merchant_id, "url": receiver.url, "events": ["notice.stop"]}
    )
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    receiver.secret = r.json()["secret"]
    assert "secret" not in Api("admin").get("/webhook-endpoints").json()["items"][0]
    hold = _freeze(t, django_capture_on_commit_callbacks)
    d = Delivery.objects.get(notice=hold.notices[0], channel="webhook")
    assert d.state == "sent", d.error
    assert receiver.rejected == 0
    [event] = receiver.verified
    assert event["type"] == "notice.stop" and event["data"]["terminals"] == [t.tid]
    assert event["data"]["reason_category"] == "transaction_dispute"
    assert event["data"]["verification_code"]  # the merchant's own endpoint
    assert event["_id"] == f"msg_delivery_{d.pk}"


@pytest.mark.django_db
def test_a_5xx_is_retried_with_the_same_id_and_a_410_disables_the_endpoint(
    receiver, django_capture_on_commit_callbacks
):
    t = builders.terminal()
    with transaction.atomic():
        ep, receiver.secret = webhooks.create_endpoint(
            builders.actor("admin"), url=receiver.url, events=["*"], merchant_id=None
        )
    receiver.statuses = [503]
    hold = _freeze(t, django_capture_on_commit_callbacks)
    d = Delivery.objects.get(notice=hold.notices[0], channel="webhook")
    assert d.state == "queued" and d.attempts == 1 and d.error == "HTTP 503" and d.next_attempt_at
    deliveries.attempt(d.pk)  # the retry (its job waits out the backoff)
    d.refresh_from_db()
    assert d.state == "sent" and d.attempts == 2
    assert [e["_id"] for e in receiver.verified] == [f"msg_delivery_{d.pk}"] * 2
    assert "verification_code" not in receiver.verified[0]["data"]  # a provider's endpoint: no codes
    receiver.statuses = [410]
    with transaction.atomic():
        webhooks.replay(builders.actor("admin"), d.pk)
    deliveries.attempt(d.pk)
    ep.refresh_from_db()
    assert not ep.active and ep.disabled_reason == "410 Gone"


@pytest.mark.django_db
def test_repeated_failures_disable_an_endpoint(settings, django_capture_on_commit_callbacks):
    settings.POSFLEET_WEBHOOK_DISABLE_AFTER = 2
    with transaction.atomic():
        ep, _secret = webhooks.create_endpoint(
            builders.actor("admin"), url="http://127.0.0.1:1/none", events=["*"], merchant_id=None
        )
    for _ in range(2):
        _freeze(builders.terminal(), django_capture_on_commit_callbacks)
    ep.refresh_from_db()
    assert not ep.active and ep.consecutive_failures == 2
    assert WebhookEndpoint.objects.filter(active=True).count() == 0


@pytest.mark.django_db
def test_a_merchant_registers_only_its_own_endpoint():
    from posfleet.accounts.models import MerchantUser

    m, other = builders.merchant(), builders.merchant()
    api = Api("agent")
    MerchantUser.objects.create(user=api.user, merchant=m)
    api.user.groups.clear()
    r = api.post(
        "/webhook-endpoints", {"merchant_id": other.pk, "url": "https://x.example/h", "events": ["*"]}
    )
    assert r.status_code == 403
    r = api.post("/webhook-endpoints", {"url": "https://x.example/h", "events": ["notice.lift"]})
    assert r.status_code == 201 and r.json()["merchant_id"] == m.pk
    assert json.dumps(r.json()).count("whsec_") == 1


@pytest.mark.django_db
def test_only_managers_of_webhooks_register_or_list_them_and_a_merchant_sees_its_own():
    from posfleet.accounts.models import MerchantUser

    m, other = builders.merchant(), builders.merchant()
    admin = Api("admin")
    for merchant in (m, other):
        r = admin.post(
            "/webhook-endpoints", {"merchant_id": merchant.pk, "url": "https://x.example/h", "events": ["*"]}
        )
        assert r.status_code == 201
    assert len(admin.get("/webhook-endpoints").json()["items"]) == 2
    for role in ("technician", "agent", "risk"):
        api = Api(role)
        assert api.get("/webhook-endpoints").status_code == 403, role
        r = api.post(
            "/webhook-endpoints", {"merchant_id": m.pk, "url": "https://y.example/h", "events": ["*"]}
        )
        assert r.status_code == 403, role
    merchant = Api("agent")
    MerchantUser.objects.create(user=merchant.user, merchant=m)
    merchant.user.groups.clear()
    assert [e["merchant_id"] for e in merchant.get("/webhook-endpoints").json()["items"]] == [m.pk]
    assert WebhookEndpoint.objects.count() == 2
