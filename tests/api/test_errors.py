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


# --- errors Django raises while reading a request, and answers it gives before an operation runs ------
@pytest.mark.parametrize("path", ["/disputes/1/documents", "/cases/1/materials", "/terminals/import"])
def test_multipart_without_boundary_is_400_in_the_error_shape(path):
    r = Api("admin").post_raw(path, b"--x\r\nnot really multipart", "multipart/form-data")
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json; charset=utf-8"
    assert r.json()["error"]["code"] == "malformed_request"
    assert "Traceback" not in r.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_path_is_a_json_404_even_with_debug_on(settings, debug):
    settings.DEBUG = debug
    r = Api("admin").get("/nope")
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == "not_found"
    assert r["X-Request-Id"]


def test_a_method_the_path_does_not_take_is_a_json_405_naming_the_allowed_ones():
    r = Api("admin").client.delete("/api/v1/terminals")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert set(r["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_a_json_500_without_traceback(settings, monkeypatch, debug):
    settings.DEBUG = debug
    from posfleet.registry import filters

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(filters, "filter_merchants", boom)
    r = Api("admin").get("/merchants", **{"X-Request-Id": "req-500-test"})
    assert r.status_code == 500
    body = r.json()
    assert body["error"]["code"] == "server_error"
    assert body["error"]["details"] == {"request_id": "req-500-test"}
    assert "secret internals" not in r.content.decode()
    assert "Traceback" not in r.content.decode()


def test_a_body_over_the_size_limit_is_413_in_the_error_shape(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = Api("agent").post("/merchants", merchant_body(address="x" * 2000))
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"


def test_pages_outside_the_api_keep_their_html_errors(client):
    r = client.get("/console/no-such-page/")
    assert r.status_code == 404
    assert not r["Content-Type"].startswith("application/json")


def test_a_path_that_names_no_object_is_404_not_a_field_error():
    """`/merchants/None/close` (an id that is null elsewhere) names no merchant: 404, as an unknown id."""
    r = Api("admin").post("/merchants/None/close", {})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
