"""GET /audit: one object's history, permission, keyset pages."""

from __future__ import annotations

import pytest

from posfleet.audit.models import AuditEvent
from tests import builders as b
from tests.api.builders import Api

pytestmark = pytest.mark.django_db


def test_audit_of_one_terminal_in_chain_order(django_assert_max_num_queries):
    api = Api("admin")
    t = b.terminal("active")
    api.post(f"/terminals/{t.tid}/start_repair", {"reason": "screen"})
    api.post(f"/terminals/{t.tid}/finish_repair", {"reason": "fixed"})
    b.terminal("active")
    reviewer = Api("reviewer")
    with django_assert_max_num_queries(5):
        r = reviewer.get("/audit", {"object_type": "terminal", "object_id": t.tid})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [e["action"] for e in items] == [
        "terminal.build",
        "terminal.start_repair",
        "terminal.finish_repair",
    ]
    assert items[1]["reason"] == "screen"
    assert items[1]["channel"] == "api"
    assert items[1]["before"]["state"] == "active"
    assert items[1]["after"]["state"] == "in_repair"
    assert items[1]["actor_name"] == api.user.username
    desc = reviewer.get("/audit", {"object_type": "terminal", "object_id": t.tid, "order": "desc"})
    assert [e["seq"] for e in desc.json()["items"]] == [e["seq"] for e in reversed(items)]


def test_audit_pages_cover_everything_once():
    for _ in range(3):
        b.terminal("active")
    api = Api("finance")
    seqs, cursor = [], None
    while True:
        page = api.get("/audit", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seqs += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seqs == list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))


def test_audit_needs_view_audit():
    r = Api("technician").get("/audit")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


def test_audit_never_shows_card_numbers():
    api = Api("admin")
    from tests.api.builders import merchant_body

    api.post("/merchants", merchant_body())
    assert b.VALID_CARD not in api.get("/audit", {"object_type": "merchant"}).content.decode()
