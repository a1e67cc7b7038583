"""The application API: filing by the applicant's kind, errors in the one shape, the whole way to 00."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from posfleet.cases.models import Case
from posfleet.registry.models import Merchant, Terminal
from tests import builders
from tests.cases import builders as cb
from tests.cases.test_api import api

INDIVIDUAL = ["id_card_front", "id_card_back", "settlement_card"]
ENTERPRISE = [
    "business_licence_copy",
    "corporate_account_proof",
    "legal_rep_id_front",
    "legal_rep_id_back",
    "settlement_card",
    "shop_photo_storefront",
    "shop_photo_interior",
    "shop_photo_cashier",
]


def _applicant(kind="individual", **changes):
    data = {
        "kind": kind,
        "name": "王五" if kind == "individual" else "杭州西湖茶业有限公司",
        "contact_name": "王五",
        "phone": "13700137000",
        "settlement_card": builders.VALID_CARD,
        "address": "杭州市西湖区龙井路1号",
    }
    if kind != "individual":
        data |= {"licence_no": "91330106MA27XXXX01", "legal_representative": "王五"}
    return data | changes


def _file(client, role="agent", **body):
    body = {"kind": "application", "install_address": "杭州市西湖区龙井路1号", **body}
    return api(client, role).post("/cases", body)


def _error(r, status):
    assert r.status_code == status, r.content
    return r.json()["error"]


@pytest.mark.django_db
class TestFile:
    def test_an_individual_is_asked_for_its_own_materials(self, client):
        r = _file(client, applicant=_applicant("individual"), channel="phone")
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["kind"] == "application" and body["state"] == "submitted"
        assert body["required_materials"] == body["missing_materials"] == INDIVIDUAL
        assert Merchant.objects.get(pk=body["merchant_id"]).state == "applying"

    def test_an_enterprise_is_asked_for_its_own_materials(self, client):
        r = _file(client, applicant=_applicant("enterprise"))
        assert r.status_code == 201, r.content
        assert r.json()["required_materials"] == ENTERPRISE
        detail = api(client, "reviewer").get(f"/cases/{r.json()['id']}").json()
        assert detail["required_materials"] == ENTERPRISE
        assert detail["application"] == {
            "new_merchant": True,
            "applicant_kind": "enterprise",
            "install_address": "杭州市西湖区龙井路1号",
            "terminal_model": None,
            "tid": None,
            "allocated_at": None,
            "carrier": None,
            "tracking_no": "",
            "shipped_on": None,
            "delivered_on": None,
            "activated_at": None,
        }

    def test_a_sole_proprietor_is_not_asked_for_a_corporate_account(self, client):
        m = builders.merchant(kind="sole_proprietor")
        r = _file(client, merchant_id=m.pk)
        assert r.status_code == 201, r.content
        assert "corporate_account_proof" not in r.json()["required_materials"]
        assert "shop_photo_cashier" in r.json()["required_materials"]

    def test_a_missing_address_is_422_and_nothing_is_written(self, client):
        error = _error(_file(client, applicant=_applicant(), install_address=""), 422)
        assert error["code"] == "validation_error"
        assert list(error["details"]) == ["install_address"]
        assert (Case.objects.count(), Merchant.objects.count()) == (0, 0)

    def test_a_bad_applicant_names_its_fields(self, client):
        error = _error(_file(client, applicant=_applicant("enterprise", licence_no="")), 422)
        assert "applicant.licence_no" in error["details"]
        error = _error(_file(client, applicant=_applicant("company")), 422)
        assert list(error["details"]) == ["applicant.kind"]
        assert builders.VALID_CARD not in str(error)
        assert Merchant.objects.count() == 0

    def test_an_applicant_is_checked_as_a_registered_merchant_is(self, client):
        error = _error(_file(client, applicant=_applicant(email="not-an-address")), 422)
        assert list(error["details"]) == ["applicant.email"]
        assert Merchant.objects.count() == 0

    def test_filing_needs_file_case(self, client):
        _error(_file(client, role="warehouse", applicant=_applicant()), 403)
        assert Merchant.objects.count() == 0


def _upload_all(client, case_id, kinds):
    agent = api(client, "agent")
    for kind in kinds:
        r = agent.post(
            f"/cases/{case_id}/materials",
            files={"type": kind, "file": SimpleUploadedFile(f"{kind}.png", cb.PNG)},
        )
        assert r.status_code == 201, r.content
    return r.json()


@pytest.mark.django_db
def test_the_whole_way_to_an_approved_transaction(client):
    terminal = cb.stock(1)[0]
    filed = _file(client, applicant=_applicant("individual"), terminal_model="P2000").json()
    case_id = filed["id"]
    assert _upload_all(client, case_id, INDIVIDUAL)["missing_materials"] == []
    reviewer, warehouse, technician = (
        api(client, "reviewer"),
        api(client, "warehouse"),
        api(client, "technician"),
    )

    r = reviewer.post(f"/cases/{case_id}/decision", {"decision": "approve", "reason": "资料齐全"})
    assert r.status_code == 200 and r.json()["state"] == "approved"
    r = warehouse.post(f"/cases/{case_id}/allocate", {})
    assert r.status_code == 200, r.content
    assert r.json()["application"]["tid"] == terminal.tid and r.json()["state"] == "in_progress"
    assert r.json()["terminals"] == [terminal.tid]
    today = timezone.localdate().isoformat()
    r = warehouse.post(
        f"/cases/{case_id}/ship",
        {"carrier": "jd_logistics", "tracking_no": "JD0099887766", "shipped_on": today},
    )
    assert r.status_code == 200 and r.json()["application"]["carrier"] == "jd_logistics"
    assert _error(technician.post(f"/cases/{case_id}/activate"), 409)["code"] == "not_delivered"
    r = technician.post(f"/cases/{case_id}/deliver", {"delivered_on": today})
    assert r.status_code == 200 and r.json()["application"]["delivered_on"] == today
    r = technician.post(f"/cases/{case_id}/activate", HTTP_IF_MATCH=f'"{r.json()["version"]}"')
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "completed" and r.json()["application"]["activated_at"]

    answer = technician.get(f"/terminals/{terminal.tid}/eligibility").json()
    assert answer["allowed"] and answer["iso_response_code"] == "00"
    assert Terminal.objects.get(pk=terminal.pk).install_address == "杭州市西湖区龙井路1号"


@pytest.mark.django_db
class TestSteps:
    def _approved(self, client, **body):
        case_id = _file(client, applicant=_applicant("individual"), **body).json()["id"]
        _upload_all(client, case_id, INDIVIDUAL)
        api(client, "reviewer").post(f"/cases/{case_id}/decision", {"decision": "approve", "reason": "ok"})
        return case_id

    def test_no_stock_is_409_no_stock(self, client):
        case_id = self._approved(client)
        error = _error(api(client, "warehouse").post(f"/cases/{case_id}/allocate"), 409)
        assert error["code"] == "no_stock"
        assert Case.objects.get(pk=case_id).state == "approved"

    def test_an_unknown_carrier_or_a_future_date_is_422(self, client):
        cb.stock(1)
        case_id = self._approved(client)
        warehouse = api(client, "warehouse")
        warehouse.post(f"/cases/{case_id}/allocate")
        error = _error(
            warehouse.post(f"/cases/{case_id}/ship", {"carrier": "pigeon", "shipped_on": "2026-01-01"}), 422
        )
        assert list(error["details"]) == ["carrier"]
        future = (timezone.localdate() + timedelta(days=2)).isoformat()
        error = _error(
            warehouse.post(
                f"/cases/{case_id}/ship", {"carrier": "ems", "tracking_no": "E1234567", "shipped_on": future}
            ),
            422,
        )
        assert list(error["details"]) == ["shipped_on"]

    def test_reject_then_resubmit(self, client):
        case_id = _file(client, applicant=_applicant("individual")).json()["id"]
        api(client, "reviewer").post(
            f"/cases/{case_id}/decision", {"decision": "reject", "reason": "地址不详"}
        )
        r = api(client, "agent").post(
            f"/cases/{case_id}/resubmit",
            {"note": "补充门牌号", "install_address": "杭州市西湖区龙井路1号2单元"},
        )
        assert r.status_code == 200, r.content
        assert r.json()["state"] == "submitted"
        assert r.json()["application"]["install_address"] == "杭州市西湖区龙井路1号2单元"
        assert _error(api(client, "agent").post(f"/cases/{case_id}/resubmit", {}), 409)["code"] == (
            "invalid_transition"
        )


def test_openapi_declares_the_steps_and_their_enums(client):
    doc = client.get("/api/v1/openapi.json").json()
    for step in ("resubmit", "allocate", "ship", "deliver", "activate"):
        responses = doc["paths"][f"/api/v1/cases/{{case_id}}/{step}"]["post"]["responses"]
        assert {"200", "400", "401", "403", "404", "409", "422"} <= set(responses)
    schemas = doc["components"]["schemas"]
    assert "application" in schemas["CaseKind"]["enum"]
    assert "sf_express" in schemas["Carrier"]["enum"]
    assert schemas["MerchantKind"]["enum"] == ["individual", "sole_proprietor", "enterprise"]
    assert schemas["CaseIn"]["properties"]["install_address"]["maxLength"] == 300
