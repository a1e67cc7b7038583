"""The door (`tell.tell_merchant`): every notice it issues goes out over the merchant's channels, and
no app outside notices can issue one any other way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import transaction

from posfleet.core.actor import Actor
from posfleet.notices.models import Delivery, Notice, WebhookEndpoint
from posfleet.notices.tell import tell_merchant
from posfleet.registry.models import Merchant
from tests import builders

SRC = Path(__file__).resolve().parents[2] / "src" / "posfleet"
SERVICES = "posfleet.notices.services"
# What issues a notice without planning its deliveries (send_notice: the old way past the door).
CREATORS = {"_new_notice", "_audit_and_announce", "send_notice"}


def creator_uses(source: str) -> list[str]:
    """The notices' internal creators that `source` imports from, or reaches through, notices.services."""
    tree = ast.parse(source)
    aliases = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == SERVICES:
            found += [a.name for a in node.names if a.name in CREATORS]
        elif isinstance(node, ast.ImportFrom) and node.module == "posfleet.notices":
            aliases |= {a.asname or a.name for a in node.names if a.name == "services"}
        elif isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == SERVICES}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in CREATORS and ast.unparse(node.value) in aliases:
            found.append(node.attr)
    return found


def test_no_app_outside_notices_issues_a_notice_past_the_door():
    offenders = {
        str(path.relative_to(SRC)): uses
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] != "notices"
        and (uses := creator_uses(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    [
        "from posfleet.notices.services import _new_notice",
        "from posfleet.notices.services import send_notice as s",
        "from posfleet.notices import services\nservices._audit_and_announce(a, n, c)",
        "from posfleet.notices import services as ns\nns.send_notice(a)",
        "import posfleet.notices.services\nposfleet.notices.services._new_notice(a)",
    ],
)
def test_the_check_sees_each_way_in(source):
    assert creator_uses(source)


def test_the_check_lets_the_public_services_pass():
    assert not creator_uses(
        "from posfleet.notices import services\nservices.issue_letter(a)\nservices.verify(c, p)"
    )


@pytest.mark.django_db
def test_a_told_notice_is_planned_on_every_channel_of_the_merchant():
    m = builders.merchant()
    Merchant.objects.filter(pk=m.pk).update(email="shop@example.com")
    m.refresh_from_db()
    everything = WebhookEndpoint.objects.create(url="https://hooks.example/all", events=["*"], secret_enc="x")
    WebhookEndpoint.objects.create(url="https://hooks.example/stops", events=["notice.stop"], secret_enc="x")
    with transaction.atomic():
        notice_id = tell_merchant(Actor.system("worker"), m, "维护通知" * 60, "今晚 2-4 点")
    notice = Notice.objects.get(pk=notice_id)
    assert len(notice.title) == 200
    rows = {(d.channel, d.recipient, d.endpoint_id) for d in Delivery.objects.filter(notice=notice)}
    assert rows == {
        ("portal", "", None),
        ("sms", "13800138000", None),
        ("email", "shop@example.com", None),
        ("webhook", f"endpoint:{everything.pk}", everything.pk),
    }
    assert set(Delivery.objects.filter(notice=notice).values_list("state", flat=True)) == {"queued"}
