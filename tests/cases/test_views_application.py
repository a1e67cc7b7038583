"""Console screens of an application: filing for a walk-in (new or existing merchant), materials by the
merchant's kind, review, allocation, shipping, delivery and activation by the people whose job it is."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.cases.models import Application, Case
from posfleet.lifecycle.eligibility import may_transact
from posfleet.registry.models import Merchant
from tests import builders
from tests.cases import builders as cb

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(client):
    """The console speaks Chinese by default; these tests read it in English."""
    client.cookies["django_language"] = "en"


APPLICANT = {
    "applicant-kind": "individual",
    "applicant-name": "赵六",
    "applicant-contact_name": "赵六",
    "applicant-phone": "13600136000",
    "applicant-settlement_card": builders.VALID_CARD,
    "applicant-address": "南京市玄武区中山路1号",
    "install_address": "南京市玄武区中山路1号",
    "terminal_model": "",
    "note": "客户到网点办理",
    "channel": "branch",
}


def _approved_application(kind="individual"):
    case = cb.apply_for(applicant=cb.applicant(kind))
    cb.upload_required(case)
    return cb.decide(case)


class TestFileInTheConsole:
    def test_an_agent_files_a_new_individual_walk_in(self, client, login):
        login("agent")
        page = client.get("/console/cases/new/applicant/")
        assert page.status_code == 200
        assert "Shop photo: storefront" in page.content.decode()
        response = client.post("/console/cases/new/applicant/", APPLICANT)
        assert response.status_code == 302, response.content.decode()[:2000]
        case = Case.objects.get()
        assert (case.kind, case.channel, case.reason, case.merchant.state) == (
            "application",
            "branch",
            "new_merchant",
            "applying",
        )
        assert case.missing_materials() == ["id_card_front", "id_card_back", "settlement_card"]

    def test_a_bad_applicant_shows_the_fields_and_writes_nothing(self, client, login):
        login("agent")
        data = APPLICANT | {"applicant-kind": "enterprise", "install_address": ""}
        response = client.post("/console/cases/new/applicant/", data)
        assert response.status_code == 422
        assert response.context["applicant_form"].errors["licence_no"]
        assert response.context["form"].errors["install_address"]
        assert (Case.objects.count(), Merchant.objects.count()) == (0, 0)

    def test_filing_a_new_applicant_needs_file_case(self, client, login):
        login("warehouse")
        assert client.post("/console/cases/new/applicant/", APPLICANT).status_code == 403
        assert Merchant.objects.count() == 0

    def test_an_existing_sole_proprietor_is_asked_for_its_own_materials(self, client, login):
        m = builders.merchant(kind="sole_proprietor")
        login("agent")
        page = client.get(f"/console/cases/new/?merchant={m.pk}&kind=application")
        text = page.content.decode()
        assert "Shop photo: cashier counter" in text and "Corporate account proof" not in text
        response = client.post(
            "/console/cases/new/",
            {
                "merchant": m.pk,
                "kind": "application",
                "reason": "additional_terminal",
                "install_address": "第二家门店",
                "channel": "phone",
            },
        )
        assert response.status_code == 302
        assert Case.objects.get().application.install_address == "第二家门店"


class TestDetail:
    def test_the_materials_read_by_their_labels_and_an_agent_uploads_a_scan(self, client, login):
        case = cb.apply_for(applicant=cb.applicant("individual"))
        login("agent")
        page = client.get(f"/console/cases/{case.pk}/")
        text = page.content.decode()
        assert "ID card (front)" in text and "id_card_front</td>" not in text
        assert [r["ok"] for r in page.context["material_rows"]] == [False, False, False]
        response = client.post(
            f"/console/cases/{case.pk}/material/",
            {"type": "id_card_front", "file": SimpleUploadedFile("front.png", cb.PNG)},
        )
        assert response.status_code == 302
        page = client.get(f"/console/cases/{case.pk}/")
        assert [r["ok"] for r in page.context["material_rows"]] == [True, False, False]

    def test_a_refused_scan_is_explained_and_not_stored(self, client, login):
        case = cb.apply_for()
        login("agent")
        response = client.post(
            f"/console/cases/{case.pk}/material/",
            {"type": "business_licence_copy", "file": SimpleUploadedFile("a.pdf", b"MZ not a pdf")},
        )
        assert response.status_code == 422
        assert case.materials.count() == 0

    def test_detail_query_count_is_bounded(self, client, login, django_assert_max_num_queries):
        cb.stock(3)
        case = _approved_application()
        login("warehouse")
        with django_assert_max_num_queries(45):
            page = client.get(f"/console/cases/{case.pk}/")
        assert page.context["can_allocate"] and len(page.context["stock"]) == 3


class TestSteps:
    def test_warehouse_allocates_and_ships_the_technician_receives_and_activates(self, client, login):
        stock = cb.stock(2)
        case = _approved_application()
        today = timezone.localdate().isoformat()

        login("warehouse")
        page = client.get(f"/console/cases/{case.pk}/")
        assert page.context["can_allocate"] and not page.context["can_activate"]
        assert client.post(f"/console/cases/{case.pk}/allocate/", {"tid": stock[1].tid}).status_code == 302
        response = client.post(
            f"/console/cases/{case.pk}/ship/",
            {"carrier": "sf_express", "tracking_no": "SF1029384756", "shipped_on": today},
        )
        assert response.status_code == 302

        login("technician")
        page = client.get(f"/console/cases/{case.pk}/")
        assert page.context["can_deliver"] and not page.context["can_activate"]
        assert client.post(f"/console/cases/{case.pk}/deliver/", {"delivered_on": today}).status_code == 302
        assert client.post(f"/console/cases/{case.pk}/activate/").status_code == 302

        case.refresh_from_db()
        assert case.state == "completed"
        assert Application.objects.get(case=case).terminal_id == stock[1].pk
        assert may_transact(stock[1].tid).iso_response_code == "00"
        page = client.get(f"/console/cases/{case.pk}/")
        labels = [e["label"] for e in page.context["timeline"]]
        assert "Terminal shipped" in labels and "Terminal installed and activated" in labels

    def test_no_stock_is_explained_and_nothing_changes(self, client, login):
        case = _approved_application()
        login("warehouse")
        response = client.post(f"/console/cases/{case.pk}/allocate/")
        assert response.status_code == 409
        assert "No terminal of a permitted model is in stock." in response.content.decode()
        case.refresh_from_db()
        assert case.state == "approved"

    def test_activation_before_delivery_is_refused(self, client, login):
        cb.stock(1)
        case = _approved_application()
        login("warehouse")
        client.post(f"/console/cases/{case.pk}/allocate/")
        login("technician")
        response = client.post(f"/console/cases/{case.pk}/activate/")
        assert response.status_code == 409
        assert "has not been delivered yet" in response.content.decode()
        assert not AuditEvent.objects.filter(action="terminal.activate").exists()

    def test_a_bad_shipment_shows_the_field(self, client, login):
        cb.stock(1)
        case = _approved_application()
        login("warehouse")
        client.post(f"/console/cases/{case.pk}/allocate/")
        response = client.post(
            f"/console/cases/{case.pk}/ship/",
            {"carrier": "sf_express", "tracking_no": "", "shipped_on": timezone.localdate().isoformat()},
        )
        assert response.status_code == 422
        assert response.context["ship_form"].errors["tracking_no"]

    def test_an_agent_resubmits_a_rejected_application(self, client, login):
        case = cb.apply_for()
        cb.decide(case, "reject", reason="门店照片不清晰")
        login("agent")
        page = client.get(f"/console/cases/{case.pk}/")
        assert page.context["can_resubmit"]
        response = client.post(
            f"/console/cases/{case.pk}/resubmit/", {"note": "重新拍摄", "install_address": cb.ADDRESS}
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.state == "submitted"
