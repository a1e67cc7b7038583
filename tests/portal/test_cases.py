"""Portal requests: filing per kind, materials (errors in my language), following, ownership."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from posfleet.cases.models import Case
from tests import builders
from tests.cases import builders as cb
from tests.portal.builders import merchant_user

pytestmark = pytest.mark.django_db


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def shop(client):
    m = builders.merchant()
    terminals = [builders.terminal(merchant_obj=m) for _ in range(2)]
    client.force_login(merchant_user(m))
    return m, terminals


class TestFile:
    def test_choose_kind_page(self, client, shop):
        response = client.get("/portal/requests/new/")
        assert response.status_code == 200
        assert b"kind=suspension" in response.content

    def test_suspension_form_offers_its_reasons_and_my_terminals(self, client, shop):
        _m, terminals = shop
        other = builders.terminal()
        response = client.get("/portal/requests/new/?kind=suspension")
        assert response.status_code == 200
        body = response.content.decode()
        assert terminals[0].tid in body and other.tid not in body
        assert 'value="renovation_or_relocation"' in body
        assert 'value="technology_upgrade"' not in body

    def test_file_a_suspension_with_a_material(self, client, shop):
        m, terminals = shop
        start = timezone.now() + timedelta(hours=2)
        response = client.post(
            "/portal/requests/new/?kind=suspension",
            {
                "kind": "suspension",
                "terminals": [terminals[0].tid],
                "reason": "renovation_or_relocation",
                "starts_at": _local(start),
                "ends_at": _local(start + timedelta(days=3)),
                "note": "装修",
                "type": "application_form",
                "file": SimpleUploadedFile("form.pdf", cb.PDF, content_type="application/pdf"),
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        case = Case.objects.get()
        assert response["Location"] == f"/portal/requests/{case.pk}/"
        assert case.channel == "portal" and case.merchant_id == m.pk
        assert case.materials.count() == 1

    def test_end_before_start_is_refused_on_the_field(self, client, shop):
        _m, terminals = shop
        start = timezone.now() + timedelta(days=2)
        response = client.post(
            "/portal/requests/new/",
            {
                "kind": "suspension",
                "terminals": [terminals[0].tid],
                "reason": "maintenance",
                "starts_at": _local(start),
                "ends_at": _local(start - timedelta(days=1)),
            },
        )
        assert response.status_code == 422
        assert "ends_at" in response.context["form"].errors
        assert Case.objects.count() == 0

    def test_another_merchants_terminal_is_not_offered(self, client, shop):
        other = builders.terminal()
        start = timezone.now() + timedelta(hours=2)
        response = client.post(
            "/portal/requests/new/",
            {
                "kind": "suspension",
                "terminals": [other.tid],
                "reason": "maintenance",
                "starts_at": _local(start),
                "ends_at": _local(start + timedelta(days=1)),
            },
        )
        assert response.status_code == 422
        assert Case.objects.count() == 0

    def test_wrong_file_type_rolls_the_whole_request_back(self, client, shop):
        _m, terminals = shop
        start = timezone.now() + timedelta(hours=2)
        response = client.post(
            "/portal/requests/new/",
            {
                "kind": "suspension",
                "terminals": [terminals[0].tid],
                "reason": "maintenance",
                "starts_at": _local(start),
                "ends_at": _local(start + timedelta(days=1)),
                "type": "application_form",
                "file": SimpleUploadedFile("form.pdf", b"MZ not a pdf", content_type="application/pdf"),
            },
        )
        assert response.status_code == 422
        assert Case.objects.count() == 0

    def test_closure_has_no_terminal_choice(self, client, shop):
        response = client.get("/portal/requests/new/?kind=closure")
        assert response.status_code == 200
        assert "terminals" not in response.context["form"].fields
        assert "planned_date" in response.context["form"].fields


class TestFollow:
    def test_detail_shows_missing_materials_and_timeline(self, client, shop, django_assert_max_num_queries):
        m, terminals = shop
        case = cb.file(cb.portal_actor(m), kind="suspension", merchant_id=m.pk, terminals=[terminals[0].tid])
        with django_assert_max_num_queries(25):
            response = client.get(f"/portal/requests/{case.pk}/")
        assert response.status_code == 200
        assert len(response.context["missing"]) == 3
        assert response.context["timeline"]

    def test_upload_a_material(self, client, shop):
        m, terminals = shop
        case = cb.file(cb.portal_actor(m), kind="suspension", merchant_id=m.pk, terminals=[terminals[0].tid])
        response = client.post(
            f"/portal/requests/{case.pk}/materials/",
            {"type": "proof_of_identity", "file": SimpleUploadedFile("id.png", cb.PNG)},
        )
        assert response.status_code == 302
        assert case.materials.get().type == "proof_of_identity"

    def test_wrong_type_error_in_chinese(self, client, shop):
        m, terminals = shop
        case = cb.file(cb.portal_actor(m), kind="suspension", merchant_id=m.pk, terminals=[terminals[0].tid])
        from django.utils import translation

        client.cookies["django_language"] = "zh-hans"
        with translation.override("zh-hans"):
            response = client.post(
                f"/portal/requests/{case.pk}/materials/",
                {"type": "proof_of_identity", "file": SimpleUploadedFile("id.png", b"GIF89a....")},
                HTTP_ACCEPT_LANGUAGE="zh-hans",
            )
        assert response.status_code == 422
        assert case.materials.count() == 0
        assert "PDF、JPEG" in response.content.decode()

    def test_oversize_upload_is_refused(self, client, shop, settings):
        settings.CASE_MATERIAL_MAX_BYTES = 100
        m, terminals = shop
        case = cb.file(cb.portal_actor(m), kind="suspension", merchant_id=m.pk, terminals=[terminals[0].tid])
        response = client.post(
            f"/portal/requests/{case.pk}/materials/",
            {"type": "proof_of_identity", "file": SimpleUploadedFile("a.pdf", cb.PDF + b"x" * 200)},
        )
        assert response.status_code == 422
        assert case.materials.count() == 0

    def test_reviewers_reason_and_letter(self, client, shop):
        m, terminals = shop
        case = cb.file(cb.portal_actor(m), kind="suspension", merchant_id=m.pk, terminals=[terminals[0].tid])
        cb.upload_required(case)
        cb.decide(case, reason="批准，祝装修顺利")
        response = client.get(f"/portal/requests/{case.pk}/")
        assert "批准，祝装修顺利" in response.content.decode()
        if response.context["letter"] is not None:
            pdf = client.get(f"/portal/requests/{case.pk}/letter.pdf")
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    def test_list_shows_only_my_requests(self, client, shop, django_assert_max_num_queries):
        m, terminals = shop
        mine = cb.file(kind="suspension", merchant_id=m.pk, terminals=[terminals[0].tid])
        other_m = builders.merchant()
        theirs = cb.file(
            kind="suspension", merchant_id=other_m.pk, terminals=[builders.terminal(merchant_obj=other_m).tid]
        )
        with django_assert_max_num_queries(8):
            response = client.get("/portal/requests/")
        assert [c.pk for c in response.context["cases"]] == [mine.pk]
        assert theirs.pk not in [c.pk for c in response.context["cases"]]


class TestOwnership:
    @pytest.mark.parametrize("suffix", ["", "letter.pdf", "export.csv"])
    def test_another_merchants_case_is_not_found(self, client, shop, suffix):
        other_m = builders.merchant()
        theirs = cb.file(
            kind="suspension", merchant_id=other_m.pk, terminals=[builders.terminal(merchant_obj=other_m).tid]
        )
        assert client.get(f"/portal/requests/{theirs.pk}/{suffix}").status_code == 404

    def test_cannot_upload_to_another_merchants_case(self, client, shop):
        other_m = builders.merchant()
        theirs = cb.file(
            kind="suspension", merchant_id=other_m.pk, terminals=[builders.terminal(merchant_obj=other_m).tid]
        )
        response = client.post(
            f"/portal/requests/{theirs.pk}/materials/",
            {"type": "proof_of_identity", "file": SimpleUploadedFile("a.pdf", cb.PDF)},
        )
        assert response.status_code == 404
        assert theirs.materials.count() == 0


class TestActions:
    def test_comment_and_cancel(self, client, shop):
        m, terminals = shop
        case = cb.file(cb.portal_actor(m), kind="suspension", merchant_id=m.pk, terminals=[terminals[0].tid])
        r = client.post(f"/portal/requests/{case.pk}/comment/", {"text": "请尽快处理"})
        assert r.status_code == 302
        assert case.comments.get().body == "请尽快处理"
        r = client.post(f"/portal/requests/{case.pk}/cancel/", {"reason": ""})
        case.refresh_from_db()
        assert case.state == "submitted"
        r = client.post(f"/portal/requests/{case.pk}/cancel/", {"reason": "不需要了"})
        assert r.status_code == 302
        case.refresh_from_db()
        assert case.state == "cancelled"

    def test_cannot_comment_on_another_merchants_case(self, client, shop):
        other_m = builders.merchant()
        theirs = cb.file(
            kind="suspension", merchant_id=other_m.pk, terminals=[builders.terminal(merchant_obj=other_m).tid]
        )
        assert client.post(f"/portal/requests/{theirs.pk}/comment/", {"text": "x"}).status_code == 404
        assert client.post(f"/portal/requests/{theirs.pk}/cancel/", {"reason": "x"}).status_code == 404
        assert theirs.comments.count() == 0

    def test_request_my_export_on_an_approved_closure(self, client, shop, django_capture_on_commit_callbacks):
        m, _terminals = shop
        case = cb.approved("closure", m, [], reason="business_change")
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post(f"/portal/requests/{case.pk}/export/")
        assert r.status_code == 302
        download = client.get(f"/portal/requests/{case.pk}/export.csv")
        assert download.status_code == 200
        assert download["X-Content-SHA256"]
        listed = client.get("/portal/notices/")
        assert [e.case_id for e in listed.context["exports"]] == [case.pk]

    def test_statement_csv(self, client, shop):
        today = timezone.localdate()
        r = client.get(f"/portal/statement.csv?from={today - timedelta(days=7)}&to={today}")
        assert r.status_code == 200
        assert r["Content-Type"].startswith("text/csv")
        assert r.streaming and b"".join(r.streaming_content).startswith(b"date,kind")
