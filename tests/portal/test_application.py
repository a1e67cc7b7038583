"""Portal: a merchant applies for another terminal, sees what its kind must provide and what is still
missing, uploads by the checklist, follows the delivery, and resubmits after a rejection."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from posfleet.cases.models import Case
from tests import builders
from tests.cases import builders as cb
from tests.portal.builders import merchant_user

pytestmark = pytest.mark.django_db


def _shop(client, kind):
    m = builders.merchant(kind=kind)
    client.cookies["django_language"] = "en"
    client.force_login(merchant_user(m))
    return m


def _png(name="scan.png"):
    return SimpleUploadedFile(name, cb.PNG)


class TestApply:
    def test_the_choice_page_offers_an_application(self, client):
        _shop(client, "individual")
        page = client.get("/portal/requests/new/")
        assert b'href="?kind=application"' in page.content

    @pytest.mark.parametrize(
        ("kind", "asked", "never"),
        [
            ("individual", ["id_card_front", "id_card_back", "settlement_card"], "business_licence_copy"),
            ("sole_proprietor", ["business_licence_copy", "shop_photo_cashier"], "corporate_account_proof"),
            ("enterprise", ["corporate_account_proof", "legal_rep_id_back"], "id_card_front"),
        ],
    )
    def test_the_form_asks_for_my_kinds_materials(self, client, kind, asked, never):
        _shop(client, kind)
        page = client.get("/portal/requests/new/?kind=application")
        assert page.status_code == 200
        types = [row["type"] for row in page.context["required"]]
        assert set(asked) <= set(types) and never not in types
        assert "reason" in page.context["form"].fields and "channel" not in page.context["form"].fields

    def test_applying_with_two_files_leaves_the_rest_missing(self, client):
        m = _shop(client, "individual")
        response = client.post(
            "/portal/requests/new/",
            {
                "kind": "application",
                "reason": "applying_again",
                "install_address": "广州市天河区体育西路1号",
                "terminal_model": "",
                "file_id_card_front": _png("front.png"),
                "file_id_card_back": _png("back.png"),
            },
        )
        assert response.status_code == 302
        case = Case.objects.get()
        assert (case.merchant_id, case.channel, case.reason) == (m.pk, "portal", "applying_again")
        assert sorted(case.materials.values_list("type", flat=True)) == ["id_card_back", "id_card_front"]
        page = client.get(f"/portal/requests/{case.pk}/")
        assert [code for code, _label in page.context["missing"]] == ["settlement_card"]
        assert [r["ok"] for r in page.context["material_rows"]] == [True, True, False]
        assert "Settlement card" in page.content.decode()

    def test_a_missing_address_is_refused_and_nothing_is_kept(self, client):
        _shop(client, "individual")
        response = client.post(
            "/portal/requests/new/",
            {"kind": "application", "reason": "additional_terminal", "file_id_card_front": _png()},
        )
        assert response.status_code == 422
        assert response.context["form"].errors["install_address"]
        assert Case.objects.count() == 0

    def test_a_bad_file_names_the_material_and_rolls_back(self, client):
        _shop(client, "individual")
        response = client.post(
            "/portal/requests/new/",
            {
                "kind": "application",
                "reason": "additional_terminal",
                "install_address": "广州市",
                "file_settlement_card": SimpleUploadedFile("card.gif", b"GIF89a...."),
            },
        )
        assert response.status_code == 422
        assert "Settlement card:" in response.content.decode()
        assert Case.objects.count() == 0


class TestFollow:
    def test_upload_the_missing_ones_from_the_checklist(self, client):
        m = _shop(client, "individual")
        case = cb.apply_for(cb.portal_actor(m), merchant_id=m.pk)
        response = client.post(
            f"/portal/requests/{case.pk}/materials/",
            {"file_id_card_front": _png(), "file_id_card_back": _png(), "file_settlement_card": _png()},
        )
        assert response.status_code == 302
        assert case.missing_materials() == []
        page = client.get(f"/portal/requests/{case.pk}/")
        assert page.context["missing"] == []

    def test_one_bad_file_keeps_none_of_the_post(self, client):
        m = _shop(client, "individual")
        case = cb.apply_for(cb.portal_actor(m), merchant_id=m.pk)
        response = client.post(
            f"/portal/requests/{case.pk}/materials/",
            {"file_id_card_front": _png(), "file_id_card_back": SimpleUploadedFile("b.gif", b"GIF89a..")},
        )
        assert response.status_code == 422
        assert case.materials.count() == 0

    def test_the_delivery_shows_on_my_application(self, client):
        m = _shop(client, "individual")
        case = cb.apply_for(cb.portal_actor(m), merchant_id=m.pk)
        t = cb.stock(1)[0]
        cb.upload_required(case)
        cb.decide(case)
        from django.db import transaction
        from django.utils import timezone

        from posfleet.cases import services

        warehouse = builders.actor("warehouse")
        with transaction.atomic():
            services.allocate(warehouse, case.pk)
        with transaction.atomic():
            services.ship(
                warehouse,
                case.pk,
                carrier="ems",
                tracking_no="EM123456789CN",
                shipped_on=timezone.localdate(),
            )
        page = client.get(f"/portal/requests/{case.pk}/")
        text = page.content.decode()
        assert t.tid in text and "China Post EMS" in text and "EM123456789CN" in text

    def test_resubmit_after_a_rejection(self, client):
        m = _shop(client, "individual")
        case = cb.apply_for(cb.portal_actor(m), merchant_id=m.pk)
        cb.decide(case, "reject", reason="安装地址不完整")
        page = client.get(f"/portal/requests/{case.pk}/")
        assert page.context["can_resubmit"]
        assert "安装地址不完整" in page.content.decode()
        response = client.post(
            f"/portal/requests/{case.pk}/resubmit/",
            {"note": "补全门牌号", "install_address": "广州市天河区1号"},
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.state == "submitted" and case.application.install_address == "广州市天河区1号"

    def test_another_merchants_application_is_404(self, client):
        _shop(client, "individual")
        other = cb.apply_for()
        assert client.get(f"/portal/requests/{other.pk}/").status_code == 404
        assert (
            client.post(f"/portal/requests/{other.pk}/resubmit/", {"install_address": "x"}).status_code == 404
        )


def test_the_application_form_speaks_chinese(client):
    m = builders.merchant(kind="sole_proprietor")
    client.force_login(merchant_user(m))
    client.cookies["django_language"] = "zh-hans"
    text = client.get("/portal/requests/new/?kind=application").content.decode()
    assert "申请终端" in text and "门头照" in text and "收银台照" in text and "个体工商户" in text
    assert "对公账户证明" not in text and ">shop_photo" not in text
