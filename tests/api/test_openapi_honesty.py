"""The OpenAPI document states the rules the server applies (enums, bounds, patterns, statuses), and the
server refuses what the document refuses: dates only as ISO text, booleans only as booleans.
(`scripts/schemathesis`, run by CI, checks every operation against a real server.)"""

from __future__ import annotations

import json

import pytest

from tests import builders as b
from tests.api.builders import Api

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def doc():
    from posfleet.api.main import api

    return json.loads(json.dumps(api.get_openapi_schema()))


def _param(doc, method, path, name):
    return next(p for p in doc["paths"][path][method]["parameters"] if p["name"] == name)


def _component(doc, schema):
    ref = schema.get("$ref", "")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def test_query_parameters_state_enums_bounds_and_patterns(doc):
    state = _param(doc, "get", "/api/v1/terminals", "state")["schema"]
    assert set(_component(doc, state)["enum"]) == {
        "in_stock", "allocated", "active", "in_repair", "deactivated", "returned", "retired"
    }  # fmt: skip
    limit = _param(doc, "get", "/api/v1/terminals", "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 500)
    cursor = _param(doc, "get", "/api/v1/audit", "cursor")["schema"]
    assert cursor["pattern"] == r"^k[0-9a-f]{1,15}$"
    assert _param(doc, "get", "/api/v1/transactions", "date_from")["schema"]["format"] == "date"
    statement = doc["paths"]["/api/v1/merchants/{merchant_id}/statement.csv"]["get"]
    assert {p["name"] for p in statement["parameters"] if p.get("required")} >= {"from", "to"}


def test_no_query_parameter_is_documented_as_null(doc):
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for p in operation.get("parameters", []):
                assert '"null"' not in json.dumps(p["schema"]), (method, path, p["name"])


def test_bodies_state_enums_lengths_and_the_tid_pattern(doc):
    terminal_in = doc["components"]["schemas"]["TerminalIn"]["properties"]
    assert terminal_in["tid"]["pattern"] == r"^[0-9A-Z]{8}$"
    assert terminal_in["sn"]["maxLength"] == 40
    hold_in = doc["components"]["schemas"]["HoldIn"]["properties"]
    assert set(_component(doc, hold_in["kind"])["enum"]) == {
        "merchant_suspension", "maintenance", "risk_freeze", "compliance", "fault"
    }  # fmt: skip
    reason = doc["components"]["schemas"]["ReasonIn"]["properties"]["reason"]
    assert reason["minLength"] == 1 and reason["maxLength"] == 2000
    rates = doc["components"]["schemas"]["RatesIn"]
    assert set(rates["required"]) == {"credit", "debit", "wechat", "alipay", "unionpay_qr"}
    path_tid = _param(doc, "post", "/api/v1/terminals/{tid}/deactivate", "tid")["schema"]
    assert path_tid["pattern"] == r"^[0-9A-Z]{8}$"


def test_operations_that_read_a_body_declare_413(doc):
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)


def test_a_number_is_not_a_date_and_a_number_is_not_a_boolean():
    api = Api("finance")
    assert api.get("/transactions", {"date_to": "0"}).status_code == 422
    assert api.get("/transactions", {"flagged": "0"}).status_code == 422
    assert api.get("/transactions", {"flagged": "false"}).status_code == 200
    m = b.merchant()
    risk = Api("risk")
    r = risk.client.put(
        f"/api/v1/merchants/{m.pk}/settlement-profile",
        json.dumps({"delayed": 0, "reason": "check"}),
        content_type="application/json",
        headers=risk.headers(),
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"]["delayed"]


def test_schema_errors_are_reported_per_field_in_the_callers_language():
    r = Api("warehouse").post(
        "/terminals", {"tid": "a1", "sn": "", "model": "P2000"}, **{"Accept-Language": "en"}
    )
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert {"tid", "sn", "firmware_version", "security_patch_level"} <= set(details)
    assert details["firmware_version"] == ["This field is required."]
    r = Api("warehouse").post("/terminals", {"tid": "a1"}, **{"Accept-Language": "zh-hans"})
    assert r.json()["error"]["details"]["sn"] == ["此项为必填项。"]


def test_cursor_pages_still_chain():
    for _ in range(3):
        b.merchant()
    api = Api("admin")
    first = api.get("/merchants", {"limit": 2}).json()
    assert first["next_cursor"].startswith("k")
    rest = api.get("/merchants", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert {m["id"] for m in first["items"]}.isdisjoint(m["id"] for m in rest["items"])
