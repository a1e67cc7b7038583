"""Registry endpoints: merchants, terminal models, terminals, CSV import, search and pagination."""

from __future__ import annotations

import pytest

from posfleet.audit.models import AuditEvent
from posfleet.registry.models import Merchant, Terminal
from tests import builders as b
from tests.api.builders import Api, merchant_body, terminal_body

pytestmark = pytest.mark.django_db


# --- merchants ----------------------------------------------------------------------------------------
def test_create_merchant_returns_201_with_id_and_masked_card():
    api = Api("agent")
    r = api.post("/merchants", merchant_body(address="1 Nanjing Rd"))
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["id"] == Merchant.objects.get().pk
    assert data["state"] == "applying"
    assert data["settlement_card"] == "**** **** **** 0128"
    assert b.VALID_CARD not in r.content.decode()
    assert data["contract_template"]
    assert r["ETag"] == '"1"'
    assert AuditEvent.objects.filter(object_type="merchant", action="merchant.create").count() == 1


def test_create_merchant_validation_is_422_with_field_details_and_writes_nothing():
    api = Api("agent")
    r = api.post("/merchants", merchant_body(kind="company", phone="x", email="nope"))
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert {"kind", "phone", "email"} <= set(details)
    assert not Merchant.objects.exists()


def test_create_merchant_missing_field_is_422():
    api = Api("agent")
    body = merchant_body()
    del body["name"]
    r = api.post("/merchants", body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


def test_create_merchant_unknown_template_is_422():
    r = Api("agent").post("/merchants", merchant_body(contract_template="NOPE"))
    assert r.status_code == 422
    assert "contract_template" in r.json()["error"]["details"]


def test_create_merchant_needs_permission():
    r = Api("technician").post("/merchants", merchant_body())
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


def test_get_merchant_and_404():
    api = Api("agent")
    m = b.merchant()
    r = api.get(f"/merchants/{m.pk}")
    assert r.status_code == 200
    assert r.json()["name"] == m.name
    assert r.json()["settlement_card"].endswith("0128")
    assert r["ETag"] == f'"{m.version}"'
    r = api.get("/merchants/999999")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_list_merchants_search_state_and_cursor(django_assert_max_num_queries):
    api = Api("agent")
    noodles = b.merchant(name="Noodle House")
    b.merchant(name="Tea Shop", state="applying")
    for _ in range(3):
        b.merchant()
    r = api.get("/merchants", {"q": "noodle"})
    assert [m["id"] for m in r.json()["items"]] == [noodles.pk]
    r = api.get("/merchants", {"state": "applying"})
    assert [m["name"] for m in r.json()["items"]] == ["Tea Shop"]
    seen = []
    cursor = None
    while True:
        with django_assert_max_num_queries(5):
            r = api.get("/merchants", {"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        seen += [m["id"] for m in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(Merchant.objects.values_list("id", flat=True))
    assert api.get("/merchants", {"state": "bogus"}).status_code == 422
    assert api.get("/merchants", {"cursor": "garbage!!"}).status_code == 422


# --- terminal models ----------------------------------------------------------------------------------
def test_terminal_models_lists_fields():
    b.terminal_model("P2000")
    b.terminal_model("OLD1", permitted=False)
    r = Api("warehouse").get("/terminal-models")
    assert r.status_code == 200
    items = {m["name"]: m for m in r.json()["items"]}
    assert items["OLD1"]["permitted"] is False
    assert set(items["P2000"]) >= {"name", "manufacturer", "permitted", "min_security_patch_level"}
    assert r.json()["next_cursor"] is None


# --- terminals ----------------------------------------------------------------------------------------
def test_create_terminal_201():
    api = Api("warehouse")
    r = api.post("/terminals", terminal_body("A0000001", accessories=["printer", "sim"]))
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["tid"] == "A0000001"
    assert data["state"] == "in_stock"
    assert data["merchant_id"] is None
    assert sorted(a["kind"] for a in data["accessories"]) == ["printer", "sim"]
    assert Terminal.objects.filter(tid="A0000001").exists()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"tid": "A001"}, "tid"),
        ({"tid": "A00000001"}, "tid"),
        ({"model": "NoSuchModel"}, "model"),
        ({"security_patch_level": "Jan 2026"}, "security_patch_level"),
        ({"accessories": ["teapot"]}, "accessories"),
    ],
)
def test_create_terminal_validation_422(override, field):
    api = Api("warehouse")
    r = api.post("/terminals", {**terminal_body("A0000001"), **override})
    assert r.status_code == 422
    assert field in r.json()["error"]["details"]
    assert not Terminal.objects.exists()


def test_create_terminal_duplicate_tid_is_422():
    api = Api("warehouse")
    b.terminal(tid="A0000001")
    r = api.post("/terminals", terminal_body("A0000001", sn="OTHER"))
    assert r.status_code == 422
    assert "tid" in r.json()["error"]["details"]


def test_create_terminal_needs_permission():
    r = Api("agent").post("/terminals", terminal_body())
    assert r.status_code == 403


def test_get_terminal_detail_with_holds_and_404():
    api = Api("risk")
    m = b.merchant()
    t = b.terminal(merchant_obj=m)
    from posfleet.lifecycle.holds import place_hold

    actor = b.actor("admin")
    place_hold(actor, kind="maintenance", reason="now", tid=t.tid)
    place_hold(actor, kind="fault", reason="later", tid=t.tid, **b.hold_window(60, 30))
    place_hold(actor, kind="merchant_suspension", reason="merchant", merchant_id=m.pk)
    released = place_hold(actor, kind="fault", reason="gone", tid=t.tid)
    from posfleet.lifecycle.holds import release_hold

    release_hold(actor, released.pk, reason="fixed")
    r = api.get(f"/terminals/{t.tid}")
    assert r.status_code == 200
    data = r.json()
    assert data["state"] == "active"
    assert data["version"] == t.version
    assert data["merchant_id"] == m.pk
    assert r["ETag"] == f'"{t.version}"'
    kinds = sorted((h["kind"], h["in_force"]) for h in data["holds"])
    assert kinds == [("fault", False), ("maintenance", True), ("merchant_suspension", True)]
    assert api.get("/terminals/ZZZZZZZZ").status_code == 404


def test_list_terminals_filters_and_keyset_pages(django_assert_max_num_queries):
    api = Api("warehouse")
    m = b.merchant()
    other = b.terminal_model("X9")
    active = [b.terminal(merchant_obj=m, tid=f"B000000{i}") for i in range(5)]
    stock = b.terminal("in_stock", tid="C0000001", model=other)
    with django_assert_max_num_queries(5):
        r = api.get("/terminals", {"state": "active", "limit": 2})
    page = r.json()
    assert [t["tid"] for t in page["items"]] == ["B0000000", "B0000001"]
    tids = [t["tid"] for t in page["items"]]
    while page["next_cursor"]:
        page = api.get("/terminals", {"state": "active", "limit": 2, "cursor": page["next_cursor"]}).json()
        tids += [t["tid"] for t in page["items"]]
    assert tids == [t.tid for t in active]
    assert [t["tid"] for t in api.get("/terminals", {"model": "X9"}).json()["items"]] == [stock.tid]
    assert len(api.get("/terminals", {"merchant_id": m.pk}).json()["items"]) == 5
    assert [t["tid"] for t in api.get("/terminals", {"q": "c000"}).json()["items"]] == ["C0000001"]
    assert [t["tid"] for t in api.get("/terminals", {"q": stock.sn}).json()["items"]] == ["C0000001"]
    assert api.get("/terminals", {"limit": 501}).status_code == 422
    assert api.get("/terminals", {"limit": 0}).status_code == 422
    assert api.get("/terminals", {"state": "lost"}).status_code == 422


def test_list_terminals_does_not_count(django_assert_max_num_queries, django_assert_num_queries):
    api = Api("warehouse")
    for _ in range(3):
        b.terminal("in_stock")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        api.get("/terminals", {"limit": 500})
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)


# --- import -------------------------------------------------------------------------------------------
HEADER = "tid,sn,model,firmware_version,security_patch_level,install_address,accessories\n"


def _csv(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def test_import_csv_body_all_good():
    b.terminal_model("P2000")
    api = Api("warehouse")
    body = _csv(
        "D0000001,SND1,P2000,1.0,2026-01-01,Shanghai,printer;sim", "D0000002,SND2,P2000,1.0,2026-01-01,,"
    )
    r = api.post_raw("/terminals/import", body, "text/csv")
    assert r.status_code == 201, r.content
    assert r.json() == {"imported": 2, "rejected": []}
    assert Terminal.objects.count() == 2


def test_import_with_a_bad_row_imports_nothing_and_names_the_line():
    b.terminal_model("P2000")
    api = Api("warehouse")
    body = _csv(
        "D0000001,SND1,P2000,1.0,2026-01-01,,",
        "BAD,SND2,P2000,1.0,2026-01-01,,",
        "D0000003,SND3,NOPE,1.0,x,,",
    )
    r = api.post_raw("/terminals/import", body, "text/csv")
    assert r.status_code == 422
    rejected = r.json()["error"]["details"]["rejected"]
    assert [(x["line"], sorted(x["errors"])) for x in rejected] == [
        (3, ["tid"]),
        (4, ["model", "security_patch_level"]),
    ]
    assert not Terminal.objects.exists()


def test_import_good_only_as_multipart_file():
    b.terminal_model("P2000")
    api = Api("warehouse")
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = _csv("D0000001,SND1,P2000,1.0,2026-01-01,,", "BAD,SND2,P2000,1.0,2026-01-01,,")
    upload = SimpleUploadedFile("receipt.csv", body.encode(), content_type="text/csv")
    r = api.client.post("/api/v1/terminals/import?good_only=true", {"file": upload}, headers=api.headers())
    assert r.status_code == 201, r.content
    assert r.json()["imported"] == 1
    assert r.json()["rejected"][0]["line"] == 3
    assert list(Terminal.objects.values_list("tid", flat=True)) == ["D0000001"]


def test_import_missing_header_and_empty_and_not_utf8():
    api = Api("warehouse")
    r = api.post_raw("/terminals/import", "tid,sn\nA,B\n", "text/csv")
    assert r.status_code == 422
    assert "missing_columns" in r.json()["error"]["details"]
    assert api.post_raw("/terminals/import", HEADER, "text/csv").status_code == 422
    assert api.post_raw("/terminals/import", b"\xff\xfe\x00", "text/csv").status_code == 422
    r = api.client.post("/api/v1/terminals/import", {"other": "x"}, headers=api.headers())
    assert r.status_code == 422


def test_import_needs_permission():
    r = Api("agent").post_raw("/terminals/import", HEADER, "text/csv")
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("G0", ["G0000009", "G000000Z", "G0ZZZZZZ"]),
        ("G00000", ["G0000009", "G000000Z"]),
        ("g0000009", ["G0000009"]),
        ("G0Z", ["G0ZZZZZZ"]),
        ("H", []),
        ("G-", []),
        ("Z", ["ZZZZZZZ1"]),
    ],
)
def test_tid_prefix_search_handles_9_and_z(q, expected):
    for tid in ("G0000009", "G000000Z", "G0ZZZZZZ", "G1000000", "ZZZZZZZ1"):
        b.terminal("in_stock", tid=tid)
    r = Api("warehouse").get("/terminals", {"q": q})
    assert [t["tid"] for t in r.json()["items"]] == expected


def test_create_merchant_with_unknown_rate_plan_or_settlement_mode_writes_nothing():
    api = Api("agent")
    r = api.post("/merchants", merchant_body(rate_plan="NO-SUCH-PLAN"))
    assert r.status_code == 422, r.content
    r = api.post("/merchants", merchant_body(settlement_mode="T7"))
    assert r.status_code == 422, r.content
    assert "settlement_mode" in r.json()["error"]["details"]
    assert not Merchant.objects.exists()
    r = api.post("/merchants", merchant_body(settlement_mode="D0"))
    assert r.status_code == 201, r.content


def test_large_csv_body_is_413_but_multipart_file_is_fine(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    b.terminal_model("P2000")
    api = Api("warehouse")
    body = _csv(*[f"H{i:07d},SNH{i},P2000,1.0,2026-01-01,Shanghai Pudong New Area," for i in range(10)])
    assert len(body) > 200
    r = api.post_raw("/terminals/import", body, "text/csv")
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("r.csv", body.encode(), content_type="text/csv")
    r = api.client.post(
        "/api/v1/terminals/import", {"file": upload}, headers=api.headers({"Idempotency-Key": "big-1"})
    )
    assert r.status_code == 201, r.content
    assert r.json()["imported"] == 10


def test_merchant_shows_its_contract_terms():
    api = Api("agent")
    m = b.merchant()
    contract = api.get(f"/merchants/{m.pk}").json()["contract"]
    assert contract["template"]
    assert isinstance(contract["deposit_fen"], int)
    assert "terminal" in contract["damage_prices"]
