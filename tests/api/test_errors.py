"""Bad input the schema lets through is still 4xx, never 500 (NUL bytes, huge integers, bad JSON)."""

from __future__ import annotations

import pytest

from posfleet.registry.models import Merchant
from tests.api.builders import Api, merchant_body

pytestmark = pytest.mark.django_db


def test_nul_byte_in_query_is_not_a_server_error():
    api = Api("admin")
    r = api.get("/terminals", {"model": "P2\x000"})
    assert r.status_code in (200, 422)
    r = api.get("/merchants", {"q": "a\x00b"})
    assert r.status_code in (200, 422)


def test_nul_byte_in_body_is_not_a_server_error_and_writes_nothing():
    r = Api("agent").post("/merchants", merchant_body(name="Noodles\x00"))
    assert r.status_code in (201, 422)
    if r.status_code == 422:
        assert not Merchant.objects.exists()


def test_huge_integers_are_422_or_404():
    api = Api("admin")
    r = api.get(f"/merchants/{10**20}")
    assert r.status_code in (404, 422)
    r = api.get("/terminals", {"merchant_id": 10**20})
    assert r.status_code in (200, 422)


def test_malformed_json_is_4xx_in_the_error_shape():
    api = Api("agent")
    r = api.post_raw("/merchants", "{not json", "application/json")
    assert 400 <= r.status_code < 500
    assert "error" in r.json()


def test_unknown_route_is_404():
    assert Api("admin").get("/no-such-thing").status_code == 404


def test_errors_in_the_users_language():
    api = Api("admin")
    r = api.get("/terminals/NOPE0000", **{"Accept-Language": "zh-hans"})
    assert r.status_code == 404
    message = r.json()["error"]["message"]
    assert "NOPE0000" in message
    assert "终端" in message
    r = api.get("/terminals/NOPE0000", **{"Accept-Language": "en"})
    assert r.json()["error"]["message"] == "No terminal with TID NOPE0000."
