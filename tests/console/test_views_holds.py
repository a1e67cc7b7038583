"""Bulk work from the console: a bulk hold released as a whole (step-up), every terminal matching
the filter selected across pages with its count and a preview, and the list's total."""

from __future__ import annotations

import pytest
from django.db import transaction

from posfleet.lifecycle import eligibility
from posfleet.lifecycle import holds as hold_services
from posfleet.registry.models import Terminal
from tests import builders

pytestmark = pytest.mark.django_db


def _window(n: int) -> tuple[list[Terminal], int]:
    terminals = [builders.terminal(tid=f"WIN{i:05d}") for i in range(n)]
    with transaction.atomic():
        hold = hold_services.place_bulk(
            builders.actor("technician"), kind="maintenance", reason="upgrade window", terminals=terminals
        )
    return terminals, hold.pk


class TestBulkHoldsPage:
    def test_lists_the_window_with_its_terminal_count(self, en_client, login):
        _terminals, hold_id = _window(3)
        login("technician")
        body = en_client.get("/console/holds/").content.decode()
        assert "upgrade window" in body and "Release on all 3 terminals" in body
        assert f"/console/holds/{hold_id}/release/" in body

    def test_release_as_a_whole_needs_step_up_then_frees_every_terminal(self, en_client, login):
        terminals, hold_id = _window(3)
        assert not eligibility.may_transact(terminals[0].tid).allowed
        login("technician", username="tess", password="tess-pass-12")
        form = {"reason": "window over", "next": "/console/holds/"}
        r = en_client.post(f"/console/holds/{hold_id}/release/", form)
        assert r.status_code == 302 and r["Location"].startswith("/console/step-up/")
        assert not eligibility.may_transact(terminals[0].tid).allowed
        r = en_client.post(r["Location"], {"secret": "tess-pass-12"})
        assert f'action="/console/holds/{hold_id}/release/"' in r.content.decode()
        r = en_client.post(f"/console/holds/{hold_id}/release/", form)
        assert r.status_code == 302
        assert all(eligibility.may_transact(t.tid).allowed for t in terminals)


class TestSelectAcrossPages:
    def test_the_list_says_how_many_match_and_offers_them_all(self, en_client, login):
        for i in range(3):
            builders.terminal(tid=f"SEL{i:05d}")
        builders.terminal(tid="OTHER001", state="in_stock")
        login("technician")
        body = en_client.get("/console/terminals/", {"state": "active"}).content.decode()
        assert "3 terminals match." in body and 'id="all-matching"' in body

    def test_all_matching_goes_to_a_confirmation_with_count_and_preview(self, en_client, login):
        for i in range(3):
            builders.terminal(tid=f"SEL{i:05d}")
        builders.terminal(tid="OTHER001", state="in_stock")
        login("technician")
        r = en_client.post(
            "/console/terminals/bulk/",
            {
                "op": "hold:fault",
                "all_matching": "1",
                "filter_query": "state=active",
                "return": "/console/terminals/",
            },
        )
        assert r.status_code == 302
        body = en_client.get(r["Location"]).content.decode()
        assert "3 terminals selected." in body
        assert "SEL00000" in body and "SEL00002" in body and "OTHER001" not in body


def test_a_list_longer_than_a_page_is_counted(en_client, login, settings):
    from posfleet.console import queries

    for i in range(5):
        builders.terminal(tid=f"PAG{i:05d}")
    login("technician")
    original = queries.PAGE_SIZE
    queries.PAGE_SIZE = 2
    try:
        body = en_client.get("/console/terminals/", {"state": "active"}).content.decode()
    finally:
        queries.PAGE_SIZE = original
    assert "5 terminals match." in body
