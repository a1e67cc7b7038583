"""Channels: SMS through the file backend (no links, ever), e-mail through a real SMTP server on
loopback, sent once per number however often the job runs."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from posfleet.lifecycle import holds
from posfleet.notices import deliveries, sms
from posfleet.notices.choices import ReasonCategory
from posfleet.notices.models import Delivery
from tests import builders


def _stop(category: str, django_capture_on_commit_callbacks, **kw):
    t = builders.terminal()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        hold = holds.place_hold(
            builders.actor("admin"), kind="compliance", reason="internal", tid=t.tid,
            reason_category=category, **kw,
        )  # fmt: skip
    return hold.notices[0]


@pytest.mark.django_db
def test_every_category_makes_an_sms_without_a_link_or_a_reply_prompt(
    settings, django_capture_on_commit_callbacks
):
    for category in ReasonCategory.values:
        _stop(category, django_capture_on_commit_callbacks)
    files = sorted((Path(settings.VAR_DIR) / "sms").glob("*.json"))
    assert len(files) == len(ReasonCategory.values)
    for path in files:
        message = json.loads(path.read_text())
        text = message["text"]
        assert not sms.FORBIDDEN.search(text), text
        assert "http" not in text.lower() and "www" not in text.lower()
        assert message["to"] == "13800138000"


@pytest.mark.django_db
def test_a_link_in_the_staff_text_never_reaches_an_sms(django_capture_on_commit_callbacks):
    notice = _stop("policy", django_capture_on_commit_callbacks, merchant_message="see https://evil.example")
    text = sms.text(notice, "ABCD-EFGH-JKMN")
    assert "evil" not in text and not sms.FORBIDDEN.search(text)  # the SMS never carries the staff text


@pytest.mark.django_db
def test_running_a_delivery_again_sends_nothing_twice(settings, django_capture_on_commit_callbacks):
    notice = _stop("compliance", django_capture_on_commit_callbacks)
    d = Delivery.objects.get(notice=notice, channel="sms")
    assert d.state == "sent" and d.attempts == 1
    Delivery.objects.filter(pk=d.pk).update(state="sending")  # as a worker killed after the send leaves it
    result = deliveries.attempt(d.pk)
    assert result["recovered"] is True
    d.refresh_from_db()
    assert (d.state, d.attempts) == ("sent", 1)
    assert len(list((Path(settings.VAR_DIR) / "sms").glob("*.json"))) == 1


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.mark.django_db
def test_email_goes_through_a_real_smtp_server(smtp_server, django_capture_on_commit_callbacks):
    m = builders.merchant()
    m.email = "owner@shop.example"
    m.save(update_fields=["email"])
    t = builders.terminal(merchant_obj=m)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        hold = holds.place_hold(
            builders.actor("admin"), kind="risk_freeze", reason="internal", tid=t.tid,
            reason_category="account_anomaly",
        )  # fmt: skip
    d = Delivery.objects.get(notice=hold.notices[0], channel="email")
    assert d.state == "sent", d.error
    [(_sender, to, raw)] = smtp_server.messages
    assert to == ["owner@shop.example"]
    assert f"notice-delivery-{d.pk}@".encode() in raw
    assert t.tid.encode() in raw and b"internal" not in raw


@pytest.mark.django_db
def test_a_refusing_smtp_server_is_retried_later(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens: connection refused
    m = builders.merchant()
    m.email = "owner@shop.example"
    m.save(update_fields=["email"])
    t = builders.terminal(merchant_obj=m)
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        hold = holds.place_hold(builders.actor("admin"), kind="fault", reason="x", tid=t.tid)
    d = Delivery.objects.get(notice=hold.notices[0], channel="email")
    deliveries.attempt(d.pk)
    d.refresh_from_db()
    assert d.state == "queued" and d.attempts == 1 and d.next_attempt_at and d.error
